"""Public JSON API v1 of the price engine: tariffs, quotes, carts, orders.

A thin edge over ``PriceEngine.quote``, ``Hold.reserve_quote`` and
``Order.create_from_quote``, with the conventions of the event core's API
(``guichet.ticket_event.routes``): one transaction per request, a JSON error
``{"error": {"code", "message"}}`` and nothing written on a refusal.

A cart (``POST /carts``) quotes lines of tariffs and holds their places in
one transaction, so that a hold counts in every pool of its tariffs (session,
category, tariff); ``POST /orders`` turns carts into a reserved order priced
by the engine. Holds made by ``POST /holds`` name no tariff and cannot be
ordered here. Amounts are strings of decimal numbers in the currency
(``"24.00"``), exact to the cent.

A refusal of the engine (``PricingError.code``) answers (see PRICING_ERRORS):
400 for a malformed candidate (invalid_request, invalid_quantity,
invalid_amount, promo_code_invalid, credit_invalid), 403 restricted (access
lists), 409 for what the state of the sale forbids (tariff_not_for_session,
tariff_not_for_channel, tariff_window_closed, sale_closed,
capacity_exceeded, promo_code_exhausted).
"""
import contextlib
import re
import urllib.parse
from decimal import Decimal

from trytond.pool import Pool
from trytond.protocols.wrappers import HTTPStatus
from trytond.transaction import Transaction
from trytond.wsgi import app

from guichet.ticket_event.routes import (
    MAX_ID, MAX_ITEMS, PREFIX, PUBLIC_CHANNELS, ApiError, api, bad_request,
    find_hold, hold_json, is_int, json_body, json_response, not_found,
    public_sessions)

from .engine import MAX_LINE_QUANTITY, LineRequest, QuoteRequest
from .exceptions import PricingError
from .fee import DELIVERIES
from .openapi import describe_api

MAX_HOLDS = 10
MAX_CODES = 10
AMOUNT = re.compile(r'[0-9]{1,9}(\.[0-9]{1,6})?')
EMAIL = re.compile(r'[^@\s]+@[^@\s]+\.[^@\s]+')
# PricingError.code: (HTTP status, API error code); others answer 409.
PRICING_ERRORS = {
    'invalid': (HTTPStatus.BAD_REQUEST, 'invalid_request'),
    'quantity': (HTTPStatus.BAD_REQUEST, 'invalid_quantity'),
    'amount': (HTTPStatus.BAD_REQUEST, 'invalid_amount'),
    'code_invalid': (HTTPStatus.BAD_REQUEST, 'promo_code_invalid'),
    'credit_invalid': (HTTPStatus.BAD_REQUEST, 'credit_invalid'),
    'restricted': (HTTPStatus.FORBIDDEN, 'restricted'),
    'not_for_session': (HTTPStatus.CONFLICT, 'tariff_not_for_session'),
    'not_for_channel': (HTTPStatus.CONFLICT, 'tariff_not_for_channel'),
    'window_closed': (HTTPStatus.CONFLICT, 'tariff_window_closed'),
    'sale_closed': (HTTPStatus.CONFLICT, 'sale_closed'),
    'capacity': (HTTPStatus.CONFLICT, 'capacity_exceeded'),
    'code_exhausted': (HTTPStatus.CONFLICT, 'promo_code_exhausted'),
    }
LISTED_TARIFFS = 'online'


@contextlib.contextmanager
def pricing_errors():
    "Answer the engine's refusals as API errors"
    try:
        yield
    except PricingError as error:
        status, code = PRICING_ERRORS.get(
            error.code, (HTTPStatus.CONFLICT, error.code))
        raise ApiError(status, code, error.message)


def money(currency, amount):
    return str(currency.round(amount)) if amount is not None else None


# Input


def _strings(body, name, maximum, length):
    values = body.get(name, [])
    if (not isinstance(values, list) or len(values) > maximum
            or not all(isinstance(v, str) and 0 < len(v) <= length
                for v in values)):
        raise bad_request('invalid_body',
            f"{name} must be a list of at most {maximum} strings of 1 to "
            f"{length} characters.")
    return tuple(values)


def _optional_string(body, name, length, pattern=None):
    value = body.get(name)
    if value is None:
        return None
    if (not isinstance(value, str) or not 0 < len(value) <= length
            or (pattern and not pattern.fullmatch(value))):
        raise bad_request('invalid_body',
            f"{name} must be a valid string of 1 to {length} characters.")
    return value


def _id(value, name):
    if not is_int(value) or not 0 < value <= MAX_ID:
        raise bad_request('invalid_body', f"{name} must be an id.")
    return value


def _amount(value, name):
    "A price chosen by the buyer: a JSON integer or a decimal string"
    if is_int(value) and 0 <= value < 10 ** 9:
        return Decimal(value)
    if isinstance(value, str) and AMOUNT.fullmatch(value):
        return Decimal(value)
    raise bad_request('invalid_amount',
        f"{name} must be a positive amount, as a string like \"12.50\".")


def pricing_options(body, members):
    "The checked options of a quote (promo code, credits, ...) in body"
    if not isinstance(body, dict):
        raise bad_request('invalid_body', "The body must be a JSON object.")
    unknown = sorted(set(body) - members)
    if unknown:
        raise bad_request('invalid_body',
            "Unknown member(s): %s." % ', '.join(unknown))
    options = {
        'promo_code': _optional_string(body, 'promo_code', 64),
        'credit_codes': _strings(body, 'credit_codes', MAX_CODES, 64),
        }
    if 'passwords' in members:
        options['passwords'] = _strings(body, 'passwords', MAX_CODES, 128)
    if 'email' in members:
        options['email'] = _optional_string(body, 'email', 254, EMAIL)
    delivery = body.get('delivery', 'e_ticket')
    if delivery not in dict(DELIVERIES):
        raise bad_request('invalid_body', "delivery must be one of: %s." % (
                ', '.join(dict(DELIVERIES))))
    options['delivery'] = delivery
    if 'channel' in members:
        channel = body.get('channel', 'web')
        if not isinstance(channel, str) or channel not in PUBLIC_CHANNELS:
            raise bad_request('invalid_channel',
                "channel must be one of: %s." % ', '.join(PUBLIC_CHANNELS))
        options['channel'] = channel
    return options


def request_lines(body, required, optional=()):
    """The lines of body, a list of 1 to MAX_ITEMS objects with the
    required members (and some of the optional ones) and a whole quantity
    of 1 to MAX_LINE_QUANTITY, as (index, line, quantity); else a 400"""
    lines = body.get('lines')
    if not isinstance(lines, list) or not 0 < len(lines) <= MAX_ITEMS:
        raise bad_request('invalid_body',
            f"lines must be a list of 1 to {MAX_ITEMS} lines.")
    members = (f"{', '.join(required)} and optionally "
        f"{' and '.join(optional)}" if optional
        else f"{', '.join(required[:-1])} and {required[-1]}")
    result = []
    for index, line in enumerate(lines):
        if (not isinstance(line, dict) or not set(required) <= set(line)
                or set(line) - set(required) - set(optional)):
            raise bad_request('invalid_body',
                f"lines[{index}] must be an object with {members}.")
        quantity = line['quantity']
        if not is_int(quantity) or not 0 < quantity <= MAX_LINE_QUANTITY:
            raise bad_request('invalid_quantity',
                f"lines[{index}].quantity must be a whole number between 1 "
                f"and {MAX_LINE_QUANTITY}.")
        result.append((index, line, quantity))
    return result


def quote_request(pool, body):
    "Return the company and the QuoteRequest of a quote or cart body"
    options = pricing_options(body, {
            'lines', 'promo_code', 'credit_codes', 'email', 'passwords',
            'delivery', 'channel'})
    wanted = []
    for index, line, quantity in request_lines(
            body, ('tariff', 'quantity'), ('session', 'amount')):
        session = line.get('session')
        wanted.append((
                _id(line['tariff'], f'lines[{index}].tariff'),
                (_id(session, f'lines[{index}].session')
                    if session is not None else None),
                quantity,
                (_amount(line['amount'], f'lines[{index}].amount')
                    if line.get('amount') is not None else None)))
    tariffs = public_tariffs(pool, [w[0] for w in wanted])
    session_ids = [w[1] for w in wanted if w[1] is not None]
    sessions = dict(zip(session_ids, public_sessions(pool, session_ids)))
    companies = {t.event.company.id for t in tariffs}
    companies.update(s.event.company.id for s in sessions.values())
    if len(companies) != 1:
        raise bad_request('mixed_companies',
            "An order takes tariffs of one organizer only.")
    company, = companies
    return company, QuoteRequest(lines=[
            LineRequest(tariff=tariff, session=sessions.get(session),
                quantity=quantity, amount=amount)
            for tariff, (_, session, quantity, amount) in zip(
                tariffs, wanted)], **options)


def public_tariffs(pool, ids):
    "The active tariffs of ids of published public events, or a 404"
    Tariff = pool.get('ticket.tariff')
    tariffs = {t.id: t for t in Tariff.search([
                ('id', 'in', list(set(ids))),
                ('event.state', '=', 'published'),
                ('event.visibility', '=', 'public'),
                ])}
    for id_ in ids:
        if id_ not in tariffs:
            raise not_found('tariff_not_found',
                f"Tariff {id_} does not exist or is not on sale.")
    return [tariffs[i] for i in ids]


# Output


def tax_included_price(tariff, at):
    "The unit price of tariff with its taxes"
    Tax = Pool().get('account.tax')
    if tariff.event.price_display == 'tax_included':
        return tariff.price
    rows = Tax.compute(tariff.taxes, tariff.price, 1, at.date())
    return tariff.price + sum(
        (tariff.currency.round(r['amount']) for r in rows), Decimal(0))


def tariff_json(tariff, session):
    from guichet.ticket_event.common import now
    currency = tariff.currency
    pools = (list(session.pools) if not tariff.excluded_from_capacity
        else []) + tariff.pools_for(session)
    available = min((p.available for p in pools), default=None)
    if available is not None and tariff.issues_ticket:
        available = max(available, 0) // tariff.tickets_per_unit
    return {
        'id': tariff.id,
        'name': tariff.name,
        'description': tariff.description or None,
        'category': ({'id': tariff.category.id,
                'name': tariff.category.name} if tariff.category else None),
        'price': money(currency, tariff.price),
        'price_tax_included': money(
            currency, tax_included_price(tariff, now())),
        'min_quantity': tariff.min_quantity,
        'max_quantity': tariff.max_quantity,
        'pay_what_you_want': bool(tariff.pay_what_you_want),
        'minimum_price': (money(currency, tariff.minimum_price)
            if tariff.pay_what_you_want else None),
        'maximum_price': (money(currency, tariff.maximum_price)
            if tariff.pay_what_you_want else None),
        'issues_ticket': bool(tariff.issues_ticket),
        'tickets_per_unit': tariff.tickets_per_unit,
        'available': available,
        }


def amount_line(currency, kind, tariff, session, description, quantity,
        unit_price, discount, untaxed, tax, total, notes=()):
    return {
        'kind': kind,
        'tariff': tariff.id if tariff else None,
        'session': session.id if session else None,
        'description': description or '',
        'quantity': quantity,
        'unit_price': money(currency, unit_price),
        'discount': money(currency, discount or 0),
        'untaxed': money(currency, untaxed),
        'tax': money(currency, tax),
        'total': money(currency, total),
        'notes': list(notes),
        }


def taxes_json(currency, tax_lines):
    return [{
            'name': t.tax.name,
            'rate': (str(t.tax.rate.normalize())
                if t.tax.type == 'percentage' else None),
            'base': money(currency, t.base),
            'amount': money(currency, t.amount),
            } for t in tax_lines]


def quote_json(quote):
    currency = quote.currency
    lines = [amount_line(currency, l.kind, l.tariff, l.session,
            l.description, l.quantity, l.unit_price, l.discount, l.untaxed,
            l.tax, l.total, l.notes) for l in quote.lines]
    return {
        'currency': currency.code,
        'price_display': quote.price_display,
        'lines': [l for l in lines if l['kind'] != 'fee'],
        'fees': [l for l in lines if l['kind'] == 'fee'],
        'taxes': taxes_json(currency, quote.tax_lines),
        'untaxed': money(currency, quote.untaxed),
        'tax': money(currency, quote.tax),
        'total': money(currency, quote.total),
        'discount': money(currency, quote.discount),
        'promo_code': (getattr(quote.promo_code, 'code', None)
            or (quote.promo_code if isinstance(quote.promo_code, str)
                else None)),
        'credit': money(currency, quote.credit_amount),
        'to_pay': money(currency, quote.to_pay),
        }


def order_json(order, quote):
    from guichet.ticket_event.common import UTC
    currency = order.currency
    lines = [amount_line(currency, l.kind, l.tariff, l.session,
            l.description, l.quantity, l.unit_price, l.discount,
            l.untaxed_amount, l.tax_amount, l.amount) for l in order.lines]
    return {
        'number': order.number,
        'state': order.state,
        'channel': order.channel,
        'email': order.email,
        'reserved_until': (order.reserved_until.replace(
                tzinfo=UTC).isoformat() if order.reserved_until else None),
        'currency': currency.code,
        'lines': [l for l in lines if l['kind'] != 'fee'],
        'fees': [l for l in lines if l['kind'] == 'fee'],
        'taxes': taxes_json(currency, order.tax_lines),
        'untaxed': money(currency, order.untaxed_amount),
        'tax': money(currency, order.tax_amount),
        'total': money(currency, order.total),
        'credit': money(currency, quote.credit_amount),
        'to_pay': money(currency, quote.to_pay),
        }


# Routes


@app.route(f'{PREFIX}/sessions/<int:session_id>/tariffs', methods=['GET'])
@api()
def list_tariffs(request, pool, session_id):
    "The tariffs offered for a session on a public channel"
    Tariff = pool.get('ticket.tariff')
    channel = request.args.get('channel', 'web')
    if channel not in PUBLIC_CHANNELS:
        raise bad_request('invalid_channel',
            "channel must be one of: %s." % ', '.join(PUBLIC_CHANNELS))
    session, = public_sessions(pool, [session_id])
    event = session.event
    with Transaction().set_context(company=event.company.id):
        tariffs = []
        for tariff in Tariff.search([('event', '=', event.id)]):
            if LISTED_TARIFFS not in (tariff.channels or []):
                continue
            try:
                tariff.check_sale(session, channel)
            except PricingError:
                continue
            tariffs.append(tariff_json(tariff, session))
        return {
            'session': session.id,
            'channel': channel,
            'currency': event.company.currency.code,
            'price_display': event.price_display,
            'tariffs': tariffs,
            }


@app.route(f'{PREFIX}/quotes', methods=['POST'])
@api()
def create_quote(request, pool):
    "Price a candidate order; nothing is held nor written"
    PriceEngine = pool.get('ticket.price_engine')
    company, quote_request_ = quote_request(pool, json_body(request))
    with Transaction().set_context(company=company), pricing_errors():
        return quote_json(PriceEngine.quote(quote_request_))


@app.route(f'{PREFIX}/carts', methods=['POST'])
@api(readonly=False, read_committed=True)
def create_cart(request, pool):
    "Quote lines of tariffs and hold their places in every pool, all or none"
    PriceEngine = pool.get('ticket.price_engine')
    Hold = pool.get('ticket.hold')
    company, quote_request_ = quote_request(pool, json_body(request))
    with Transaction().set_context(company=company), pricing_errors():
        quote = PriceEngine.quote(quote_request_)
        hold = Hold.reserve_quote(quote)
        location = '%s/%s/ticket/api/v1/holds/%s' % (
            request.script_root,
            urllib.parse.quote(pool.database_name), hold.token)
        return json_response(
            {'hold': hold_json(hold), 'quote': quote_json(quote)},
            HTTPStatus.CREATED, {'Location': location})


def buyer_values(body):
    buyer = body.get('buyer')
    if not isinstance(buyer, dict) or not {'name', 'email'} <= set(buyer) \
            or set(buyer) - {'name', 'email', 'phone'}:
        raise bad_request('invalid_body',
            "buyer must be an object with name, email and optionally "
            "phone.")
    name = _optional_string(buyer, 'name', 200)
    email = _optional_string(buyer, 'email', 254, EMAIL)
    phone = _optional_string(buyer, 'phone', 50)
    if not name or not name.strip() or not email:
        raise bad_request('invalid_body',
            "buyer.name and buyer.email must be given.")
    return name.strip(), email, phone


def find_party(pool, name, email):
    "The party of the buyer's e-mail, created if needed (buyer.find_party)"
    from .buyer import find_party
    return find_party(name, email)


@app.route(f'{PREFIX}/orders', methods=['POST'])
@api(readonly=False, read_committed=True)
def create_order(request, pool):
    "Create a reserved order over carts, priced by the engine"
    Order = pool.get('ticket.order')
    PriceEngine = pool.get('ticket.price_engine')
    body = json_body(request)
    options = pricing_options(body, {
            'holds', 'buyer', 'promo_code', 'credit_codes', 'passwords',
            'delivery'})
    tokens = body.get('holds')
    if (not isinstance(tokens, list) or not 0 < len(tokens) <= MAX_HOLDS
            or not all(isinstance(t, str) for t in tokens)
            or len(set(tokens)) != len(tokens)):
        raise bad_request('invalid_body',
            f"holds must be a list of 1 to {MAX_HOLDS} distinct hold "
            "tokens.")
    name, email, phone = buyer_values(body)
    holds = [find_hold(pool, t, lock=True) for t in tokens]
    companies = {h.company.id for h in holds}
    if len(companies) != 1:
        raise bad_request('mixed_companies',
            "An order takes the holds of one organizer only.")
    company, = companies
    channels = {h.channel for h in holds}
    if len(channels) != 1 or not channels <= set(PUBLIC_CHANNELS):
        raise bad_request('invalid_channel',
            "The holds must come from one public channel.")
    with Transaction().set_context(company=company), pricing_errors():
        pool.get('ticket.hold').check_live(holds)
        quote = PriceEngine.quote(Order.quote_request(
                holds, email=email, **options))
        order = Order.create_from_quote(quote, holds,
            party=find_party(pool, name, email), email=email, phone=phone)
        return json_response(
            order_json(Order(order.id), quote), HTTPStatus.CREATED)


describe_api()
