"""The partner API: a reseller sells paid orders in one request.

``Authorization: Bearer <key>`` of an active partner (``ticket.partner``)
on every route; an unknown or revoked key is a 401.

- ``POST /ticket/api/v1/partner/orders``: lines of (session, tariff,
  quantity) on the "Partners" channel, the buyer and the partner's own
  reference of the order. The engine prices the lines and the capacity
  service holds their places (a full session is a 409
  ``capacity_exceeded`` and nothing is written); then the order is created
  and paid by the partner and its tickets are issued (a failure gives the
  places back): 201 with the order and its tickets (number, holder, the
  content of their QR code). The same
  reference again answers 200 with the first order: a partner that did not
  get the answer sends the request again without selling twice.
- ``GET /ticket/api/v1/partner/orders/<reference>``: that order again.
- ``GET /ticket/api/v1/partner/orders/<reference>/tickets.pdf``: its PDF
  tickets, for the partner to hand over.
"""
import re
from decimal import Decimal
from types import SimpleNamespace

from trytond import backend
from trytond.protocols.wrappers import HTTPStatus, Response
from trytond.transaction import Transaction
from trytond.wsgi import app

from guichet.ticket_event.routes import (
    MAX_BODY, PREFIX, ApiError, api, bad_request, busy, find_hold,
    json_body, json_response, load_pool, not_found, run_in_transaction)

from .engine import LineRequest, QuoteRequest
from .partner import PROVIDER
from .partner_openapi import describe_api
from .routes import (
    _id, _optional_string, amount_line, buyer_values, find_party, money,
    order_json, pricing_errors, request_lines, taxes_json)

PARTNER = f'{PREFIX}/partner'
CHANNEL = 'partner'
REFERENCE = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}')
LANGUAGES = ('fr', 'en')
ORDER_MEMBERS = {
    'lines', 'buyer', 'reference', 'send_email', 'language', 'promo_code'}


def authenticate(pool, request):
    "The (partner id, company id, [event ids]) of the request's key or a 401"
    Partner = pool.get('ticket.partner')
    header = request.headers.get('Authorization', '')
    scheme, _, key = header.partition(' ')
    found = None
    if scheme.lower() == 'bearer' and key.strip():
        found = Partner.authenticate(key.strip())
    if not found:
        raise ApiError(HTTPStatus.UNAUTHORIZED, 'unauthorized',
            "A valid partner key is required "
            "(Authorization: Bearer <key>).",
            {'WWW-Authenticate': 'Bearer'})
    return found


def reference_value(value):
    if not isinstance(value, str) or not REFERENCE.fullmatch(value):
        raise bad_request('invalid_reference',
            "reference must be 1 to 64 letters, digits or _ . : / -, "
            "starting with a letter or a digit.")
    return value


def order_lines(body):
    "The (session id, tariff id, quantity) of the lines of body"
    wanted = []
    for index, line, quantity in request_lines(
            body, ('session', 'tariff', 'quantity')):
        wanted.append((_id(line['session'], f'lines[{index}].session'),
                _id(line['tariff'], f'lines[{index}].tariff'), quantity))
    return wanted


def partner_records(pool, company, event_ids, wanted):
    """The sessions and tariffs of wanted, of published events of the
    partner's company (and of its events when it has a list), or a 404"""
    Session = pool.get('ticket.session')
    Tariff = pool.get('ticket.tariff')
    domain = [
        ('event.company', '=', company),
        ('event.state', '=', 'published'),
        ]
    if event_ids:
        domain.append(('event', 'in', event_ids))
    session_ids = {w[0] for w in wanted}
    sessions = {s.id: s for s in Session.search(
            [('id', 'in', list(session_ids))] + domain)}
    tariff_ids = {w[1] for w in wanted}
    tariffs = {t.id: t for t in Tariff.search(
            [('id', 'in', list(tariff_ids))] + domain)}
    for index, (session, tariff, _) in enumerate(wanted):
        if session not in sessions:
            raise not_found('session_not_found',
                f"lines[{index}].session: session {session} does not exist "
                "or is not for sale by this partner.")
        if tariff not in tariffs:
            raise not_found('tariff_not_found',
                f"lines[{index}].tariff: tariff {tariff} does not exist or "
                "is not for sale by this partner.")
    return [(sessions[s], tariffs[t], q) for s, t, q in wanted]


def lock_reference(partner_id, reference):
    """Wait for a concurrent request of the same partner and reference
    (until its transaction ends): the second finds the first's order"""
    cursor = Transaction().connection.cursor()
    cursor.execute('SELECT pg_advisory_xact_lock(%s, hashtext(%s))',
        (partner_id, reference))


def find_order(pool, partner_id, reference):
    Order = pool.get('ticket.order')
    orders = Order.search([
            ('partner', '=', partner_id),
            ('partner_reference', '=', reference),
            ], limit=1)
    return orders[0] if orders else None


def requested_order(pool, request, reference):
    "The order of the request's partner and reference, or a 4xx"
    partner_id, _, _ = authenticate(pool, request)
    order = find_order(pool, partner_id, reference_value(reference))
    if not order:
        raise not_found('order_not_found', "No order of yours has this "
            "reference.")
    return order


def partner_order_json(order):
    "The order (order_json, paid: nothing left to pay) with its tickets"
    data = order_json(order, SimpleNamespace(
            credit_amount=Decimal(0), to_pay=Decimal(0)))
    data['reference'] = order.partner_reference
    data['tickets'] = tickets_json(sorted(order.tickets, key=lambda t: t.id))
    return data


def tickets_json(tickets):
    return [{
            'number': t.number,
            'session': t.session.id,
            'type': t.type_label or None,
            'holder': t.holder_name or None,
            'state': t.state,
            'code': t.qr_data,
            } for t in tickets]


def sold_order_json(order, quote, reference):
    """The JSON of a new partner's order as partner_order_json gives it
    once paid, from the quote it was created from (its lines, taxes and
    totals are the quote's) instead of reading it back; without its
    tickets"""
    currency = quote.currency
    lines = [amount_line(currency, l.kind, l.tariff, l.session,
            l.description, l.quantity, l.unit_price, l.discount, l.untaxed,
            l.tax, l.total) for l in quote.lines]
    return {
        'number': order.number,
        'state': 'paid',
        'channel': quote.request.channel,
        'email': quote.request.email,
        'reserved_until': None,
        'currency': currency.code,
        'lines': [l for l in lines if l['kind'] != 'fee'],
        'fees': [l for l in lines if l['kind'] == 'fee'],
        'taxes': taxes_json(currency, quote.tax_lines),
        'untaxed': money(currency, quote.untaxed),
        'tax': money(currency, quote.tax),
        'total': money(currency, quote.total),
        'credit': money(currency, Decimal(0)),
        'to_pay': money(currency, Decimal(0)),
        'reference': reference,
        }


def order_request(request, pool):
    "The checked (partner, values) of an order request, or a 4xx"
    Order = pool.get('ticket.order')
    partner_id, company, event_ids = authenticate(pool, request)
    body = json_body(request)
    if not isinstance(body, dict):
        raise bad_request('invalid_body', "The body must be a JSON object.")
    unknown = sorted(set(body) - ORDER_MEMBERS)
    if unknown:
        raise bad_request('invalid_body',
            "Unknown member(s): %s." % ', '.join(unknown))
    reference = reference_value(body.get('reference'))
    wanted = order_lines(body)
    name, email, phone = buyer_values(body)
    send_email = body.get('send_email', False)
    if not isinstance(send_email, bool):
        raise bad_request('invalid_body', "send_email must be a boolean.")
    language = body.get('language', LANGUAGES[0])
    if language not in LANGUAGES:
        raise bad_request('invalid_body',
            "language must be one of: %s." % ', '.join(LANGUAGES))
    values = Order.partner_order_values(send_email, language)
    if values is None:
        raise bad_request('email_unavailable',
            "This server cannot e-mail the tickets (send_email).")
    return {
        'partner': partner_id, 'company': company, 'events': event_ids,
        'reference': reference, 'wanted': wanted, 'name': name,
        'email': email, 'phone': phone, 'values': values,
        'promo_code': _optional_string(body, 'promo_code', 64),
        }


def hold_places(request, pool):
    """First transaction: check the request, then hold its places (the
    session's pool row is locked from the hold to the commit, a moment);
    return the order request and the hold's token, or the partner's order
    of this reference as JSON"""
    PriceEngine = pool.get('ticket.price_engine')
    Hold = pool.get('ticket.hold')
    wanted = order_request(request, pool)
    lock_reference(wanted['partner'], wanted['reference'])
    existing = find_order(pool, wanted['partner'], wanted['reference'])
    if existing:
        return wanted, partner_order_json(existing)
    lines = partner_records(
        pool, wanted['company'], wanted['events'], wanted['wanted'])
    with Transaction().set_context(company=wanted['company']), \
            pricing_errors():
        quote = PriceEngine.quote(QuoteRequest(
                lines=[LineRequest(tariff=t, session=s, quantity=q)
                    for s, t, q in lines],
                channel=CHANNEL, promo_code=wanted['promo_code'],
                email=wanted['email']))
        return wanted, Hold.reserve_quote(quote).token


def sell_held(request, pool, wanted, token):
    """Second transaction: the order of the held places, paid by the partner
    and its tickets issued (the pools' rows are locked from the sale to the
    commit); or, when a request of the same reference sold first, the held
    places given back and that order; return the order's id and, when it
    is new, its JSON but for its tickets (None otherwise)"""
    Order = pool.get('ticket.order')
    Payment = pool.get('ticket.order.payment')
    Partner = pool.get('ticket.partner')
    PriceEngine = pool.get('ticket.price_engine')
    Hold = pool.get('ticket.hold')
    partner_id, reference = wanted['partner'], wanted['reference']
    lock_reference(partner_id, reference)
    hold = find_hold(pool, token, lock=True)
    existing = find_order(pool, partner_id, reference)
    if existing:
        Hold.release([hold])
        return existing.id, None
    email = wanted['email']
    with Transaction().set_context(company=wanted['company']), \
            pricing_errors():
        Hold.check_live([hold])
        quote = PriceEngine.quote(Order.quote_request([hold], email=email,
                promo_code=wanted['promo_code']))
        order = Order.create_from_quote(quote, [hold],
            party=find_party(pool, wanted['name'], email), email=email,
            phone=wanted['phone'], values=dict(wanted['values'],
                partner=partner_id, partner_reference=reference))
        # before the sale: the pools' rows are locked from it to the commit
        data = sold_order_json(order, quote, reference)
        if quote.to_pay > 0:
            Payment.record(order, PROVIDER,
                Partner.payment_reference(partner_id, reference),
                quote.to_pay, method='other')
        else:
            Order.pay([Order(order.id)])
        if Order(order.id).state != 'paid':
            raise bad_request('not_paid',
                "The order could not be paid in full.")
        return order.id, data


def order_data(request, pool, order_id, data):
    """Third transaction, read only: the JSON of the order sold (of its
    tickets only, when data has the rest)"""
    if data is None:
        return partner_order_json(pool.get('ticket.order')(order_id))
    Ticket = pool.get('ticket.ticket')
    return dict(data, tickets=tickets_json(Ticket.search(
                [('order', '=', order_id)], order=[('id', 'ASC')])))


def release(request, pool, token):
    "After a failed sale: give the held places back"
    Hold = pool.get('ticket.hold')
    Hold.release([find_hold(pool, token, lock=True)])


@app.route(f'{PARTNER}/orders', methods=['POST'])
def create_partner_order(request, database_name):
    """Sell a paid order: price and hold its places, then order, pay and
    issue its tickets.

    Two transactions, so that the session's pool row is locked for the
    hold and for the sale only, not for the whole request: the partners'
    orders of a rush sell side by side. A sale that fails gives its places
    back at once. The answer is read in a third, read-only one."""
    try:
        pool = load_pool(request, database_name)
        wanted, held = run_in_transaction(
            hold_places, request, pool, {}, False, True)
        if not isinstance(held, str):
            return json_response(held)
        try:
            order_id, data = run_in_transaction(sell_held, request, pool,
                {'wanted': wanted, 'token': held}, False, True)
        except BaseException:
            run_in_transaction(release, request, pool, {'token': held},
                False, True)
            raise
        # read once committed: the pools' rows are not locked meanwhile
        new = data is not None
        data = run_in_transaction(order_data, request, pool,
            {'order_id': order_id, 'data': data}, True, False)
    except ApiError as error:
        return error.response()
    except backend.DatabaseOperationalError:
        return busy().response()
    return json_response(data, HTTPStatus.CREATED if new else HTTPStatus.OK)


create_partner_order.max_request_size = MAX_BODY


@app.route(f'{PARTNER}/orders/<reference>', methods=['GET'])
@api()
def get_partner_order(request, pool, reference):
    "An order of the partner, by its reference"
    return partner_order_json(requested_order(pool, request, reference))


@app.route(f'{PARTNER}/orders/<reference>/tickets.pdf', methods=['GET'])
@api()
def get_partner_tickets(request, pool, reference):
    "The PDF tickets of an order of the partner"
    order = requested_order(pool, request, reference)
    Report = pool.get('ticket.order.tickets', type='report')
    content = Report.orders_pdf([order])
    return Response(content, HTTPStatus.OK, headers={
            'Content-Type': 'application/pdf',
            'Content-Disposition':
                f'inline; filename="tickets-{order.number}.pdf"',
            })


describe_api()
