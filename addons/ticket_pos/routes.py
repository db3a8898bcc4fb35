"""JSON API of the box office terminal: ``/ticket/api/v1/pos/...``.

A thin edge over ``ticket.pos.service`` with the conventions of the core's
API (``guichet.ticket_event.routes``): one transaction per request, JSON
errors ``{"error": {"code", "message"}}``, nothing written on a refusal.

The operator logs in with a Tryton login and password (``POST
/pos/login``); the answer's token is Tryton's session, sent back as
``Authorization: Session base64(login:user id:session)`` as Tryton's own
clients do. Every other route runs as that user, who must belong to the
box office group, on a point of sale marked as a box office
(``/pos/points/{point_id}/...``). Amounts are decimal strings ("12.50").
"""
import base64
import contextlib
import datetime as dt
import logging
import re
from decimal import Decimal
from functools import wraps

from trytond import security
from trytond.exceptions import LoginException, RateLimitException
from trytond.i18n import gettext
from trytond.protocols.wrappers import HTTPStatus, Response
from trytond.transaction import Transaction
from trytond.wsgi import app

from guichet.ticket_event.common import now, to_local
from guichet.ticket_event.routes import (
    MAX_BODY, MAX_ID, MAX_ITEMS, PREFIX, ApiError, bad_request, busy,
    is_int, json_body, json_response, load_pool, not_found,
    run_in_transaction)
from guichet.ticket_event import routes as core_routes
from guichet.ticket_pricing.routes import (
    AMOUNT, EMAIL, money, pricing_errors, quote_json)

from .exceptions import PosError
from .openapi import describe_api

logger = logging.getLogger(__name__)
POS = f'{PREFIX}/pos'
POINT = f'{POS}/points/<int:point_id>'
PRINTERS = ('thermal', 'a4')
# PosError.code: HTTP status
POS_ERRORS = {
    'invalid': HTTPStatus.BAD_REQUEST,
    'payment_short': HTTPStatus.BAD_REQUEST,
    'payment_invalid': HTTPStatus.BAD_REQUEST,
    'seat_invalid': HTTPStatus.BAD_REQUEST,
    'not_found': HTTPStatus.NOT_FOUND,
    'session_closed': HTTPStatus.CONFLICT,
    'session_open': HTTPStatus.CONFLICT,
    'order_state': HTTPStatus.CONFLICT,
    'not_configured': HTTPStatus.CONFLICT,
    }
MAX_TEXT = 100
PHONE = re.compile(r'[0-9+() .-]{4,30}')


def unauthorized(message="Log in as a box office operator."):
    return ApiError(HTTPStatus.UNAUTHORIZED, 'unauthorized', message,
        {'WWW-Authenticate': 'Session'})


def forbidden(message):
    return ApiError(HTTPStatus.FORBIDDEN, 'forbidden', message)


@contextlib.contextmanager
def service_errors():
    "Answer the refusals of the services as API errors"
    with pricing_errors(), seating_errors():
        try:
            yield
        except PosError as error:
            raise ApiError(POS_ERRORS.get(error.code, HTTPStatus.CONFLICT),
                error.code, error.message)


@contextlib.contextmanager
def seating_errors():
    try:
        from guichet.ticket_seating.routes import seating_errors as errors
    except ImportError:
        yield
        return
    with errors():
        yield


def authenticate(request):
    "The id of the Tryton user of the request's session, or a 401"
    try:
        user_id = request.user_id
    except Exception:
        user_id = None
    if not user_id:
        raise unauthorized()
    return user_id


def pos_api(readonly=True, point=True, after=None):
    """Run a route as the logged-in operator in its own transaction.

    The route gets the operator's pool and, with point, the box office
    point of the path; it returns JSON data or a Response. after, if given,
    is called with the route's result in a second, read-only transaction
    once the first is committed and returns the result to answer."""
    def decorator(func):
        @wraps(func)
        def wrapper(request, database_name, **kwargs):
            try:
                pool = load_pool(request, database_name)
                user_id = authenticate(request)

                def call(request, pool, **kwargs):
                    with as_operator(pool, user_id, kwargs, point):
                        with service_errors():
                            return func(request, pool, **kwargs)
                result = run_in_transaction(call, request, pool, kwargs,
                    readonly, not readonly)
                if after is not None and not isinstance(result, Response):
                    def then(request, pool, **kwargs):
                        with as_operator(pool, user_id, kwargs, point,
                                checked=True):
                            return after(request, pool, result, **kwargs)
                    try:
                        result = run_in_transaction(then, request, pool,
                            kwargs, True, False)
                    except Exception:
                        # what is committed is answered all the same
                        logger.exception("After %s", request.path)
                        result = after.fallback(result)
            except ApiError as error:
                return error.response()
            except core_routes.backend.DatabaseOperationalError:
                return busy().response()
            if isinstance(result, Response):
                return result
            return json_response(result)
        wrapper.max_request_size = MAX_BODY
        return wrapper
    return decorator


@contextlib.contextmanager
def as_operator(pool, user_id, kwargs, with_point, checked=False):
    """Switch the transaction to the operator and the company of the point
    (checked: the operator and the point were checked earlier in the
    request)"""
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    Point = pool.get('sale.point')
    transaction = Transaction()
    with transaction.set_user(user_id):
        user = User(user_id)
        group = ModelData.get_id('ticket_event', 'group_ticket_box_office')
        if not checked and group not in {g.id for g in user.groups}:
            raise forbidden(gettext('ticket_pos.msg_operator_not_allowed',
                    user=user.rec_name))
        context = User.get_preferences(context_only=True)
        with transaction.set_context(context):
            if with_point:
                point_id = kwargs.pop('point_id')
                if checked:
                    points = [Point(point_id)]
                else:
                    companies = {c.id for c in user.companies}
                    points = Point.search([
                            ('id', '=', point_id),
                            ('ticket_box_office', '=', True),
                            ('company', 'in', list(companies)),
                            ]) if point_id <= MAX_ID else []
                if not points:
                    raise not_found('point_not_found',
                        "Unknown box office point of sale.")
                kwargs['point'], = points
                with transaction.set_context(
                        company=points[0].company.id):
                    yield
            else:
                yield


# Input


def _object(body, required=(), optional=()):
    if not isinstance(body, dict):
        raise bad_request('invalid_body', "The body must be a JSON object.")
    unknown = sorted(set(body) - set(required) - set(optional))
    if unknown:
        raise bad_request('invalid_body',
            "Unknown member(s): %s." % ', '.join(unknown))
    missing = [m for m in required if m not in body]
    if missing:
        raise bad_request('invalid_body',
            "Missing member(s): %s." % ', '.join(missing))
    return body


def _id(value, name):
    if not is_int(value) or not 0 < value <= MAX_ID:
        raise bad_request('invalid_body', f"{name} must be an id.")
    return value


def _amount(value, name):
    if isinstance(value, str) and AMOUNT.fullmatch(value):
        return Decimal(value)
    if is_int(value) and 0 <= value < 10 ** 9:
        return Decimal(value)
    raise bad_request('invalid_amount',
        f"{name} must be an amount as a string like \"12.50\".")


def _text(body, name, length, pattern=None, required=False):
    value = body.get(name)
    if value is None or (value == '' and not required):
        if required:
            raise bad_request('invalid_body', f"{name} is required.")
        return None
    if (not isinstance(value, str) or not value.strip()
            or len(value) > length
            or (pattern and not pattern.fullmatch(value.strip()))):
        raise bad_request('invalid_body',
            f"{name} must be a valid text of 1 to {length} characters.")
    return value.strip()


def _codes(body, name):
    values = body.get(name, [])
    if (not isinstance(values, list) or len(values) > 10
            or not all(isinstance(v, str) and 0 < len(v) <= 64
                for v in values)):
        raise bad_request('invalid_body',
            f"{name} must be a list of at most 10 codes.")
    return tuple(values)


def _records(pool, model, ids, code, message):
    Model = pool.get(model)
    found = {r.id: r for r in Model.search([('id', 'in', list(set(ids)))])}
    for id_ in ids:
        if id_ not in found:
            raise not_found(code, message % id_)
    return [found[i] for i in ids]


def sale_lines(pool, point, body):
    "The (tariff, session, quantity) of the lines of body"
    lines = body.get('lines')
    if not isinstance(lines, list) or not 0 < len(lines) <= MAX_ITEMS:
        raise bad_request('invalid_body',
            f"lines must be a list of 1 to {MAX_ITEMS} lines.")
    wanted = []
    for index, line in enumerate(lines):
        _object(line, ['tariff', 'quantity'], ['session'])
        quantity = line['quantity']
        if not is_int(quantity) or not 0 < quantity <= 1000:
            raise bad_request('invalid_quantity',
                f"lines[{index}].quantity must be between 1 and 1000.")
        session = line.get('session')
        wanted.append((_id(line['tariff'], f'lines[{index}].tariff'),
                _id(session, f'lines[{index}].session')
                if session is not None else None, quantity))
    tariffs = _records(pool, 'ticket.tariff', [w[0] for w in wanted],
        'tariff_not_found', "Unknown tariff %s.")
    ids = [w[1] for w in wanted if w[1] is not None]
    sessions = dict(zip(ids, _records(pool, 'ticket.session', ids,
                'session_not_found', "Unknown session %s.")))
    for tariff in tariffs:
        if tariff.event.company != point.company:
            raise not_found('tariff_not_found', "Unknown tariff.")
    return [(t, sessions.get(w[1]), w[2]) for t, w in zip(tariffs, wanted)]


def payments_value(pool, point, body, name='payments'):
    "The (method, amount) of the payments of body"
    Service = pool.get('ticket.pos.service')
    values = body.get(name, [])
    if not isinstance(values, list) or len(values) > 10:
        raise bad_request('invalid_body',
            f"{name} must be a list of at most 10 payments.")
    methods = {m.id: m for m in Service.methods(point)}
    result = []
    for index, value in enumerate(values):
        _object(value, ['method', 'amount'])
        method = methods.get(_id(value['method'], f'{name}[{index}].method'))
        if method is None:
            raise bad_request('invalid_method',
                f"{name}[{index}].method is not a method of the point.")
        amount = _amount(value['amount'], f'{name}[{index}].amount')
        if amount <= 0:
            raise bad_request('invalid_amount',
                f"{name}[{index}].amount must be positive.")
        result.append((method, amount))
    return result


def seats_value(body):
    "The seats picked per session: {session id: [seat ids]}"
    value = body.get('seats')
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise bad_request('invalid_body',
            "seats must be a list of {session, seats}.")
    result = {}
    for index, item in enumerate(value):
        _object(item, ['session', 'seats'])
        seats = item['seats']
        if (not isinstance(seats, list) or not 0 < len(seats) <= 1000
                or not all(is_int(s) and 0 < s <= MAX_ID for s in seats)
                or len(set(seats)) != len(seats)):
            raise bad_request('invalid_body',
                f"seats[{index}].seats must be a list of distinct seat ids.")
        result[_id(item['session'], f'seats[{index}].session')] = seats
    return result


def buyer_value(pool, body):
    "The party, e-mail and phone of the buyer of body"
    Party = pool.get('party.party')
    Service = pool.get('ticket.pos.service')
    buyer = body.get('buyer')
    if buyer is None:
        return None, None, None
    _object(buyer, [], ['party', 'name', 'email', 'phone'])
    email = _text(buyer, 'email', 254, EMAIL)
    phone = _text(buyer, 'phone', 30, PHONE)
    name = _text(buyer, 'name', 200)
    if buyer.get('party') is not None:
        party, = _records(pool, 'party.party',
            [_id(buyer['party'], 'buyer.party')], 'party_not_found',
            "Unknown customer %s.")
        return Party(party.id), email or party.email, phone
    if not (name or email or phone):
        return None, None, None
    return Service.find_party(name, email, phone), email, phone


# Output


def iso(value, zone='UTC'):
    local = to_local(value, zone)
    return local.isoformat() if local else None


def session_json(session, tariffs=None):
    event = session.event
    result = {
        'id': session.id,
        'event': {'id': event.id, 'name': event.name},
        'name': session.name or None,
        'start': iso(session.start, event.timezone),
        'venue': session.effective_venue.name,
        'available': max(session.available, 0),
        'seated': bool(getattr(session, 'seat_map', None)),
        }
    if tariffs is not None:
        result['tariffs'] = tariffs
    return result


def ticket_json(ticket):
    seat = getattr(ticket, 'seat', None)
    return {
        'id': ticket.id,
        'number': ticket.number,
        'state': ticket.state,
        'holder_name': ticket.holder_name or None,
        'type': ticket.type_label or None,
        'session': ticket.session.id if ticket.session else None,
        'seat': seat.rec_name if seat else None,
        }


def order_json(order):
    currency = order.currency
    return {
        'id': order.id,
        'number': order.number,
        'state': order.state,
        'channel': order.channel,
        'buyer': order.party.rec_name if order.party else None,
        'email': order.email or None,
        'total': money(currency, order.total),
        'paid': money(currency, order.amount_paid),
        'created': iso(order.create_date),
        'lines': [{
                'description': l.description or '',
                'quantity': l.quantity,
                'session': l.session.id if l.session else None,
                'session_start': (iso(l.session.start,
                        l.session.event.timezone) if l.session else None),
                'total': money(currency, l.amount),
                } for l in order.lines],
        'tickets': [ticket_json(t) for t in order.tickets],
        }


def operation_json(operation):
    currency = operation.company.currency
    return {
        'id': operation.id,
        'kind': operation.kind,
        'operator': operation.operator.rec_name,
        'order': order_json(operation.order),
        'new_order': (order_json(operation.new_order)
            if operation.new_order else None),
        'sale': operation.sale.number if operation.sale else None,
        'amount': money(currency, operation.amount or 0),
        'change': money(currency, operation.change or 0),
        'credit': operation.credit.code if operation.credit else None,
        'ticket': operation.ticket.number if operation.ticket else None,
        }


def method_json(method):
    return {'id': method.id, 'name': method.name, 'cash': bool(method.cash),
        'kind': method.ticket_method}


def cash_session_json(pool, point, session):
    Service = pool.get('ticket.pos.service')
    currency = point.company.currency
    result = {
        'id': session.id,
        'state': session.state,
        'opened_by': (session.ticket_opened_by.rec_name
            if session.ticket_opened_by else None),
        'opened_at': iso(session.ticket_opened_at),
        'float': money(currency, session.ticket_float or 0),
        'operations': len(session.ticket_operations),
        }
    if session.state == 'open':
        result['expected'] = [{
                'method': m.id, 'name': m.name,
                'amount': money(currency, a),
                } for m, a in Service.expected_amounts(session).items()]
    else:
        result['counts'] = [{
                'method': c.method.id, 'name': c.method.name,
                'expected': money(currency, c.expected),
                'counted': money(currency, c.counted),
                'difference': money(currency, c.difference),
                } for c in session.ticket_counts]
    return result


def pdf_response(content, name):
    return Response(content, content_type='application/pdf', headers={
            'Content-Disposition': f'inline; filename="{name}.pdf"',
            'Cache-Control': 'no-store'})


def printer_value(request, point):
    printer = request.args.get('printer', point.ticket_printer or 'thermal')
    if printer not in PRINTERS:
        raise bad_request('invalid_parameter',
            "printer must be thermal or a4.")
    return printer


# Login


@app.route(f'{POS}/login', methods=['POST'])
def login(request, database_name):
    "Log an operator in with a Tryton login and password"
    try:
        pool = load_pool(request, database_name)
        body = _object(json_body(request), ['login', 'password'])
        name, password = body['login'], body['password']
        if not (isinstance(name, str) and isinstance(password, str)
                and 0 < len(name) <= 100 and 0 < len(password) <= 200):
            raise bad_request('invalid_body',
                "login and password must be given.")
        try:
            result = security.login(database_name, name,
                {'password': password}, context={'_request': request.context})
        except RateLimitException:
            raise ApiError(HTTPStatus.TOO_MANY_REQUESTS, 'too_many_requests',
                "Too many attempts, try again later.")
        except LoginException:
            result = None
        if not result:
            raise unauthorized("Wrong login or password.")
        user_id, key = result
        token = base64.b64encode(
            f'{name}:{user_id}:{key}'.encode()).decode()

        def points(request, pool):
            User = pool.get('res.user')
            Point = pool.get('sale.point')
            ModelData = pool.get('ir.model.data')
            user = User(user_id)
            group = ModelData.get_id(
                'ticket_event', 'group_ticket_box_office')
            if group not in {g.id for g in user.groups}:
                raise forbidden(gettext(
                        'ticket_pos.msg_operator_not_allowed',
                        user=user.rec_name))
            return {
                'token': token,
                'user': {'id': user.id, 'name': user.name,
                    'language': user.language.code[:2]
                    if user.language else None},
                'points': [{'id': p.id, 'name': p.name,
                        'printer': p.ticket_printer}
                    for p in Point.search([
                            ('ticket_box_office', '=', True),
                            ('company', 'in',
                                [c.id for c in user.companies]),
                            ])],
                }
        return json_response(run_in_transaction(
                points, request, pool, {}, True, False))
    except ApiError as error:
        return error.response()


@app.route(f'{POS}/logout', methods=['POST'])
def logout(request, database_name):
    "End the operator's Tryton session"
    try:
        load_pool(request, database_name)
        user_id = authenticate(request)
        security.logout(database_name, user_id, request.session.token,
            context={'_request': request.context})
    except ApiError as error:
        return error.response()
    return json_response({'logged_out': True})


# Cash session


@app.route(f'{POINT}/cash-session', methods=['GET'])
@pos_api()
def get_cash_session(request, pool, point):
    "The point, its payment methods and its open cash session"
    Service = pool.get('ticket.pos.service')
    session = point.current_cash_session()
    return {
        'point': {'id': point.id, 'name': point.name,
            'printer': point.ticket_printer,
            'currency': point.company.currency.code},
        'methods': [method_json(m) for m in Service.methods(point)],
        'session': (cash_session_json(pool, point, session)
            if session else None),
        }


@app.route(f'{POINT}/cash-session', methods=['POST'])
@pos_api(readonly=False)
def open_cash_session(request, pool, point):
    "Open the cash session with the float counted"
    Service = pool.get('ticket.pos.service')
    body = _object(json_body(request), ['float'])
    session = Service.open_session(point, _amount(body['float'], 'float'))
    return json_response(cash_session_json(pool, point, session),
        HTTPStatus.CREATED)


@app.route(f'{POINT}/cash-session/close', methods=['POST'])
@pos_api(readonly=False)
def close_cash_session(request, pool, point):
    "Close the cash session with the amount counted per method"
    Service = pool.get('ticket.pos.service')
    body = _object(json_body(request), ['counts'])
    counts = body['counts']
    if not isinstance(counts, list) or not 0 < len(counts) <= 20:
        raise bad_request('invalid_body',
            "counts must be a list of {method, amount}.")
    methods = {m.id: m for m in Service.methods(point)}
    values = {}
    for index, count in enumerate(counts):
        _object(count, ['method', 'amount'])
        method = methods.get(_id(count['method'], f'counts[{index}].method'))
        if method is None or method in values:
            raise bad_request('invalid_method',
                f"counts[{index}].method is not a method of the point "
                "or is counted twice.")
        values[method] = _amount(count['amount'], f'counts[{index}].amount')
    session = Service.close_session(point, values)
    return cash_session_json(pool, point, session)


@app.route(f'{POINT}/cash-sessions/<int:session_id>/z-report.pdf',
    methods=['GET'])
@pos_api()
def z_report(request, pool, point, session_id):
    "The Z report of a cash session of the point"
    from .report import z_report_pdf
    Session = pool.get('sale.point.cash.session')
    sessions = Session.search([
            ('id', '=', session_id), ('point', '=', point.id)]
        ) if session_id <= MAX_ID else []
    if not sessions:
        raise not_found('cash_session_not_found', "Unknown cash session.")
    return pdf_response(z_report_pdf(sessions[0],
            printer_value(request, point)), f'z-{session_id}')


# Sale


@app.route(f'{POINT}/catalogue', methods=['GET'])
@pos_api()
def catalogue(request, pool, point):
    """The sessions the box office sells, today's first, with their
    tariffs for the box office"""
    Session = pool.get('ticket.session')
    Tariff = pool.get('ticket.tariff')
    from guichet.ticket_pricing.exceptions import PricingError
    from guichet.ticket_pricing.routes import tariff_json
    at = now()
    sessions = Session.search([
            ('event.company', '=', point.company.id),
            ('event.state', '=', 'published'),
            ('end', '>=', at - dt.timedelta(hours=1)),
            ], order=[('start', 'ASC'), ('id', 'ASC')], limit=100)
    result = []
    tariffs_of = {}
    for session in sessions:
        try:
            session.check_on_sale('box_office')
        except Exception:
            continue
        event = session.event
        if event not in tariffs_of:
            tariffs_of[event] = Tariff.search([('event', '=', event.id)])
        tariffs = []
        for tariff in tariffs_of[event]:
            if not tariff.issues_ticket or getattr(tariff, 'pass_kind', None):
                continue
            try:
                tariff.check_sale(session, 'box_office', at)
            except PricingError:
                continue
            tariffs.append(tariff_json(tariff, session))
        if tariffs:
            result.append(session_json(session, tariffs))
    return {'sessions': result[:50]}


@app.route(f'{POINT}/sessions/<int:session_id>/seats', methods=['GET'])
@pos_api()
def seats(request, pool, point, session_id):
    "The seats of a seated session for the box office"
    Session = pool.get('ticket.session')
    sessions = Session.search([
            ('id', '=', session_id),
            ('event.company', '=', point.company.id),
            ]) if session_id <= MAX_ID else []
    if not sessions or not getattr(sessions[0], 'seat_map', None):
        raise not_found('seat_map_not_found', "No seat map for this session.")
    from guichet.ticket_seating.routes import seat_map_json
    return seat_map_json(pool, sessions[0], 'box_office', 'pick')


@app.route(f'{POINT}/quote', methods=['POST'])
@pos_api()
def quote(request, pool, point):
    "Price a sale on the box office channel; nothing is held"
    Service = pool.get('ticket.pos.service')
    body = _object(json_body(request), ['lines'],
        ['promo_code', 'credit_codes'])
    result = Service.quote(point, sale_lines(pool, point, body),
        promo_code=_text(body, 'promo_code', 64),
        credit_codes=_codes(body, 'credit_codes'))
    return quote_json(result)


def sold(request, pool, result, point):
    """After the sale is committed: the places left in its sessions and,
    when asked, the PDF of its tickets (base64) to print at once"""
    from .report import ticket_pdf
    Operation = pool.get('ticket.pos.operation')
    result = dict(result)
    operation = Operation(result['id'])
    order = operation.order
    result['sessions'] = [{'id': s.id, 'available': max(s.available, 0)}
        for s in sorted({l.session for l in order.lines if l.session},
            key=lambda s: s.id)]
    if result.pop('print', None):
        result['tickets_pdf'] = base64.b64encode(ticket_pdf(order.tickets,
                result['printer'])).decode()
    result.pop('printer', None)
    return json_response(result, HTTPStatus.CREATED)


def _sold_fallback(result):
    "The sale answered without what sold could not add"
    return json_response({k: v for k, v in result.items()
            if k not in {'print', 'printer'}}, HTTPStatus.CREATED)


sold.fallback = _sold_fallback


@app.route(f'{POINT}/sales', methods=['POST'])
@pos_api(readonly=False, after=sold)
def sell(request, pool, point):
    """Sell: hold, order and pay in one go; answer the order, its change,
    the places left in its sessions and, with print, its tickets' PDF"""
    Service = pool.get('ticket.pos.service')
    body = _object(json_body(request), ['lines', 'payments'],
        ['seats', 'buyer', 'promo_code', 'credit_codes', 'print'])
    printer = body.get('print')
    if printer is not None and printer not in PRINTERS:
        raise bad_request('invalid_body', "print must be thermal or a4.")
    lines = sale_lines(pool, point, body)
    payments = payments_value(pool, point, body)
    seats = seats_value(body)
    party, email, phone = buyer_value(pool, body)
    operation = Service.sell(point, lines, payments, party=party,
        email=email, phone=phone,
        promo_code=_text(body, 'promo_code', 64),
        credit_codes=_codes(body, 'credit_codes'), seats=seats)
    return dict(operation_json(operation), print=bool(printer),
        printer=printer)


@app.route(f'{POINT}/customers', methods=['GET'])
@pos_api()
def customers(request, pool, point):
    "Customers whose name, e-mail or phone contain q"
    Party = pool.get('party.party')
    text = (request.args.get('q') or '').strip()
    if not 2 <= len(text) <= MAX_TEXT:
        raise bad_request('invalid_parameter',
            "q must have 2 to 100 characters.")
    parties = Party.search(['OR',
            ('name', 'ilike', f'%{text}%'),
            ('contact_mechanisms.value', 'ilike', f'%{text}%'),
            ], limit=10, order=[('name', 'ASC')])
    return {'customers': [{
                'id': p.id, 'name': p.name, 'email': p.email or None,
                'phone': p.phone or None} for p in parties]}


# After-sale


def find_order(pool, point, order_id):
    Order = pool.get('ticket.order')
    orders = Order.search([
            ('id', '=', order_id), ('company', '=', point.company.id),
            ]) if order_id <= MAX_ID else []
    if not orders:
        raise not_found('order_not_found', "Unknown order.")
    return orders[0]


@app.route(f'{POINT}/orders', methods=['GET'])
@pos_api()
def search_orders(request, pool, point):
    "Orders by number, buyer name, e-mail or ticket number"
    Service = pool.get('ticket.pos.service')
    text = request.args.get('q') or ''
    if not 2 <= len(text.strip()) <= MAX_TEXT:
        raise bad_request('invalid_parameter',
            "q must have 2 to 100 characters.")
    return {'orders': [order_json(o)
            for o in Service.find_orders(point, text)]}


@app.route(f'{POINT}/orders/<int:order_id>', methods=['GET'])
@pos_api()
def get_order(request, pool, point, order_id):
    return order_json(find_order(pool, point, order_id))


@app.route(f'{POINT}/orders/<int:order_id>/refund', methods=['POST'])
@pos_api(readonly=False)
def refund(request, pool, point, order_id):
    "Cancel a paid order and give its money back in cash or as a credit"
    Service = pool.get('ticket.pos.service')
    body = _object(json_body(request), ['mode'])
    if body['mode'] not in ('cash', 'credit'):
        raise bad_request('invalid_body', "mode must be cash or credit.")
    operation = Service.refund(point, find_order(pool, point, order_id),
        body['mode'])
    return json_response(operation_json(operation), HTTPStatus.CREATED)


@app.route(f'{POINT}/orders/<int:order_id>/exchange', methods=['POST'])
@pos_api(readonly=False)
def exchange(request, pool, point, order_id):
    "Exchange the tickets of an order for another session of its event"
    Service = pool.get('ticket.pos.service')
    body = _object(json_body(request), ['session'], ['payments', 'seats'])
    session, = _records(pool, 'ticket.session',
        [_id(body['session'], 'session')], 'session_not_found',
        "Unknown session %s.")
    operation = Service.exchange(point, find_order(pool, point, order_id),
        session, payments_value(pool, point, body), seats=seats_value(body))
    return json_response(operation_json(operation), HTTPStatus.CREATED)


def find_ticket(pool, point, ticket_id):
    Ticket = pool.get('ticket.ticket')
    tickets = Ticket.search([
            ('id', '=', ticket_id), ('company', '=', point.company.id),
            ]) if ticket_id <= MAX_ID else []
    if not tickets:
        raise not_found('ticket_not_found', "Unknown ticket.")
    return tickets[0]


@app.route(f'{POINT}/tickets/<int:ticket_id>/holder', methods=['POST'])
@pos_api(readonly=False)
def change_holder(request, pool, point, ticket_id):
    "Print another holder name on a ticket"
    Service = pool.get('ticket.pos.service')
    body = _object(json_body(request), ['name'])
    ticket = find_ticket(pool, point, ticket_id)
    if not isinstance(body['name'], str):
        raise bad_request('invalid_body', "name must be a text.")
    operation = Service.change_holder(point, ticket, body['name'])
    return json_response(operation_json(operation), HTTPStatus.CREATED)


@app.route(f'{POINT}/tickets/<int:ticket_id>/refund', methods=['POST'])
@pos_api(readonly=False)
def refund_ticket(request, pool, point, ticket_id):
    "Cancel one ticket and give its part back in cash or as a credit"
    Service = pool.get('ticket.pos.service')
    body = _object(json_body(request), ['mode'])
    if body['mode'] not in ('cash', 'credit'):
        raise bad_request('invalid_body', "mode must be cash or credit.")
    operation = Service.refund_ticket(point,
        find_ticket(pool, point, ticket_id), body['mode'])
    return json_response(operation_json(operation), HTTPStatus.CREATED)


# Output


@app.route(f'{POINT}/orders/<int:order_id>/tickets.pdf', methods=['GET'])
@pos_api()
def tickets_pdf(request, pool, point, order_id):
    "The tickets of an order for the thermal printer or A4"
    from .report import ticket_pdf
    order = find_order(pool, point, order_id)
    return pdf_response(ticket_pdf(order.tickets,
            printer_value(request, point)), f'tickets-{order.number}')


@app.route(f'{POINT}/operations/<int:operation_id>/receipt.pdf',
    methods=['GET'])
@pos_api()
def receipt(request, pool, point, operation_id):
    "The receipt of an operation of the point"
    from .report import receipt_pdf
    Operation = pool.get('ticket.pos.operation')
    operations = Operation.search([
            ('id', '=', operation_id), ('point', '=', point.id),
            ]) if operation_id <= MAX_ID else []
    if not operations:
        raise not_found('operation_not_found', "Unknown operation.")
    return pdf_response(receipt_pdf(operations[0],
            printer_value(request, point)), f'receipt-{operation_id}')


@app.route(f'{POINT}/orders/<int:order_id>/email', methods=['POST'])
@pos_api(readonly=False)
def email_tickets(request, pool, point, order_id):
    "E-mail the tickets of an order (A4 PDF) to its buyer"
    from .report import ticket_pdf
    from trytond.sendmail import send_message_transactional
    from email.message import EmailMessage
    from trytond.config import config
    body = _object(json_body(request), [], ['email'])
    order = find_order(pool, point, order_id)
    address = _text(body, 'email', 254, EMAIL) or order.email
    if not address:
        raise bad_request('no_email', gettext('ticket_pos.msg_no_email'))
    message = EmailMessage()
    message['From'] = config.get('email', 'from')
    message['To'] = address
    message['Subject'] = gettext('ticket_pos.msg_ticket_email_subject',
        order=order.number)
    message.set_content(gettext('ticket_pos.msg_ticket_email_body',
            order=order.number))
    message.add_attachment(ticket_pdf(order.tickets, 'a4'),
        maintype='application', subtype='pdf',
        filename=f'tickets-{order.number}.pdf')
    send_message_transactional(message)
    return {'sent_to': address}


describe_api()
