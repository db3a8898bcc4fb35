"""Public JSON API v1: events, sessions and holds.

A thin edge over the services of the event core (``Hold.reserve``,
``Hold.release``): each route checks its input, runs in one short
transaction and answers JSON. Every error answers
``{"error": {"code": ..., "message": ...}}`` with a 4xx status (503 when the
database stays busy after retries) once the transaction is rolled back, so a
refused request changes nothing. ``openapi.py`` describes every route.

An unknown session, event or hold is a 404, including a session that exists
but is not public (draft, private or box-office-only event or session); a
malformed body or parameter is a 400; a valid request that the state of the
session or hold forbids is a 409.
"""
import datetime as dt
import json
import logging
import random
import re
import time
import urllib.parse
from functools import wraps

from psycopg import IsolationLevel
from psycopg.errors import LockNotAvailable
from psycopg.pq import TransactionStatus
from psycopg.sql import SQL, Identifier
from psycopg_pool import PoolTimeout
from sql import For, Literal, Table

from trytond import backend
from trytond.config import config
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.protocols.wrappers import HTTPStatus, Response, exceptions
from trytond.transaction import Transaction, TransactionError
from trytond.wsgi import app
from werkzeug.routing import PathConverter

from . import openapi
from .common import UTC, to_local
from .exceptions import CapacityError, HoldError, SaleClosedError
from .hold import MAX_QUANTITY

logger = logging.getLogger(__name__)

PREFIX = '/<database_name>/ticket/api/v1'
MAX_BODY = 64 * 1024
MAX_ID = openapi.MAX_ID
MAX_ITEMS = openapi.MAX_ITEMS
TOKEN = re.compile(r'[A-Za-z0-9_-]{16,64}')
DATE = re.compile(r'[0-9]{4}-[0-9]{2}-[0-9]{2}')
ID = re.compile(r'[0-9]{1,10}')
PUBLIC_CHANNELS = ('web', 'api')
LISTED = ['online']
REACHABLE = ['online', 'link']
METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
# Service errors in the order they are matched (subclasses first).
SERVICE_ERRORS = [
    (SaleClosedError, HTTPStatus.CONFLICT, 'sale_closed'),
    (CapacityError, HTTPStatus.CONFLICT, 'capacity_exceeded'),
    (HoldError, HTTPStatus.CONFLICT, 'hold_not_active'),
    (UserError, HTTPStatus.BAD_REQUEST, 'invalid_request'),
    ]


class ApiError(Exception):
    "A refused request, answered as a JSON error"

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers

    def response(self):
        return json_response(
            {'error': {'code': self.code, 'message': self.message}},
            self.status, self.headers)


def json_response(data, status=HTTPStatus.OK, headers=None):
    return Response(
        json.dumps(data, separators=(',', ':'), ensure_ascii=False),
        status=int(status), headers=headers,
        content_type='application/json')


def bad_request(code, message):
    return ApiError(HTTPStatus.BAD_REQUEST, code, message)


def not_found(code, message):
    return ApiError(HTTPStatus.NOT_FOUND, code, message)


def api(readonly=True, read_committed=False):
    """Run a route in its own transaction and answer JSON.

    The route returns JSON data (answered 200) or a Response, and raises
    ApiError to refuse the request. A service's UserError becomes a 4xx
    answer; every error rolls the transaction back."""
    def decorator(func):
        @wraps(func)
        def wrapper(request, database_name, **kwargs):
            try:
                pool = load_pool(request, database_name)
                result = run_in_transaction(
                    func, request, pool, kwargs, readonly, read_committed)
            except ApiError as error:
                return error.response()
            except backend.DatabaseOperationalError:
                return busy().response()
            if isinstance(result, Response):
                return result
            return json_response(result)
        wrapper.max_request_size = MAX_BODY
        return wrapper
    return decorator


def load_pool(request, database_name):
    "Return the initialised pool of the database or raise a 404"
    # Pool(name) registers name: check the database exists first.
    if database_name in Pool.database_list():
        return Pool(database_name)
    with Transaction().start(None, 0, readonly=True) as transaction:
        names = transaction.database.list(
            hostname=config.get_hostname(request.host))
    if database_name not in names:
        raise not_found('database_not_found', "Unknown database.")
    pool = Pool(database_name)
    with Transaction().start(database_name, 0, readonly=True):
        pool.init()
    return pool


def run_in_transaction(func, request, pool, kwargs, readonly, read_committed):
    """Call func in a transaction, retried on operational errors.

    With read_committed the transaction runs at READ COMMITTED: the capacity
    service's conditional updates are correct there, and contending writers
    wait for each other instead of failing to serialize. The record and
    table locks that Tryton asks for by restarting the transaction
    (ModelSQL.lock) are taken here once the isolation level is set: taken by
    Transaction.start they would begin the transaction at REPEATABLE READ.
    Any error rolls the transaction back before it leaves."""
    from trytond.worker import run_task
    retry = config.getint('database', 'retry')
    extras = {}
    for count in range(retry + 1):
        if count:
            time.sleep(0.01 * count * (1 + random.random()))
        locks = {}
        if read_committed:
            locks = {k: extras[k] for k in LOCK_EXTRAS if k in extras}
        try:
            with Transaction().start(
                    pool.database_name, 0, readonly=readonly,
                    context={'_request': request.context},
                    **{k: v for k, v in extras.items()
                        if k not in locks}) as transaction:
                connection = transaction.connection
                if (read_committed and connection.info.transaction_status
                        == TransactionStatus.IDLE):
                    connection.isolation_level = (
                        IsolationLevel.READ_COMMITTED)
                try:
                    take_locks(transaction, locks)
                    result = func(request, pool, **kwargs)
                    if not readonly:
                        transaction.commit()
                    else:
                        end_read_only(transaction)
                except BaseException:
                    transaction.rollback()
                    transaction.tasks.clear()
                    raise
        except TransactionError as error:
            error.fix(extras)
        except PoolTimeout:
            break
        except backend.DatabaseOperationalError as error:
            if isinstance(error, LockNotAvailable):
                # waited LOCK_TIMEOUT for a lock already: busy, at once
                break
            logger.debug("Retry %s: %i", request, count + 1)
        except UserError as error:
            raise service_error(error) from error
        else:
            while transaction.tasks:
                run_task(pool, transaction.tasks.pop())
            return result
    raise busy()


def end_read_only(transaction):
    """End the read-only transaction on the database by a COMMIT (it wrote
    nothing: the same end as a ROLLBACK). psycopg forgets the statements it
    prepared on the connection at each ROLLBACK (and deallocates them on the
    server), so a connection whose GET requests rolled back never reached
    the executions that make it prepare a statement: PostgreSQL parsed and
    planned every statement of every request again. Tryton's own end of
    the transaction then finds the connection idle and sends nothing."""
    connection = transaction.connection
    if (connection is not None and connection.read_only
            and connection.info.transaction_status
            == TransactionStatus.INTRANS):
        connection.commit()


LOCK_EXTRAS = ('_lock_tables', '_lock_records')
# How long a route waits for a lock held by another transaction (seconds)
# before it is tried again (and answered busy after the last try)
LOCK_TIMEOUT = 10


def take_locks(transaction, locks):
    """Take the locks Transaction.start would have taken, waiting for them
    (up to LOCK_TIMEOUT, for the transaction's statements) rather than
    failing at once: taken first thing, before any other lock of the
    transaction, they cannot deadlock, and a payment notified three times
    at once then records one payment and answers the others with it"""
    if not locks:
        return
    connection = transaction.connection
    cursor = connection.cursor()
    cursor.execute('SELECT set_config(\'lock_timeout\', %s, true)',
        (f'{int(LOCK_TIMEOUT * 1000)}ms',))
    for table in locks.get('_lock_tables', []):
        cursor.execute(SQL('LOCK {} IN EXCLUSIVE MODE').format(
                Identifier(table)))
        transaction._locked_tables.add(table)
    for table, ids in locks.get('_lock_records', {}).items():
        sql_table = Table(table)
        cursor.execute(*sql_table.select(Literal(1),
                where=sql_table.id.in_(list(ids)), for_=For('UPDATE')))
        transaction._locked_records[table].update(ids)


def busy():
    return ApiError(
        HTTPStatus.SERVICE_UNAVAILABLE, 'busy',
        "The database is busy, please try again.", {'Retry-After': '1'})


def service_error(error):
    "Return the ApiError answering a service's UserError"
    for class_, status, code in SERVICE_ERRORS:
        if isinstance(error, class_):
            return ApiError(status, code, error.message)


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def iso(value, zone):
    local = to_local(value, zone)
    return local.isoformat() if local else None


def public_domain(visibility):
    "The domain of the sessions of published public events on visibility"
    return [
        ('event.state', '=', 'published'),
        ('event.visibility', '=', 'public'),
        ('visibility', 'in', visibility),
        ]


def is_on_sale(session, channel='web'):
    try:
        session.check_on_sale(channel)
    except SaleClosedError:
        return False
    return True


def venue_json(venue):
    return {'id': venue.id, 'name': venue.name}


def session_json(session):
    event = session.event
    return {
        'id': session.id,
        'event': {'id': event.id, 'name': event.name},
        'name': session.name or None,
        'start': iso(session.start, event.timezone),
        'end': iso(session.end, event.timezone),
        'timezone': event.timezone,
        'state': session.state,
        'capacity': session.capacity,
        'sold': session.sold,
        'held': session.held,
        'available': max(session.available, 0),
        'on_sale': is_on_sale(session),
        'venue': venue_json(session.effective_venue),
        }


def event_json(event, sessions):
    return {
        'id': event.id,
        'name': event.name,
        'description': event.description or None,
        'timezone': event.timezone,
        'hide_dates': bool(event.hide_dates),
        'venue': venue_json(event.venue),
        'tags': [t.name for t in event.tags],
        'sessions': [session_json(s) for s in sessions],
        }


def hold_json(hold):
    items = [{
            'session': i.session.id,
            'quantity': i.quantity,
            'description': i.description or None,
            } for i in hold.items]
    return {
        'token': hold.token,
        'state': hold.state,
        'channel': hold.channel,
        'expires_at': hold.expires_at.replace(tzinfo=UTC).isoformat(),
        'live': hold.is_live,
        'quantity': sum(i['quantity'] for i in items),
        'items': items,
        }


class EventFilters:
    "The query parameters of the event list, checked"

    def __init__(self, args):
        self.tag = args.get('tag')
        if self.tag is not None:
            self.tag = self.tag.strip()
            if not 0 < len(self.tag) <= 100:
                raise bad_request('invalid_parameter',
                    "tag must have between 1 and 100 characters.")
        self.from_ = self._date(args, 'from')
        self.to = self._date(args, 'to')
        if self.from_ and self.to and self.to < self.from_:
            raise bad_request(
                'invalid_parameter', "to must not be before from.")
        self.venue = args.get('venue')
        if self.venue is not None:
            if not ID.fullmatch(self.venue) or not (
                    0 < int(self.venue) <= MAX_ID):
                raise bad_request(
                    'invalid_parameter', "venue must be a venue id.")
            self.venue = int(self.venue)

    @staticmethod
    def _date(args, name):
        value = args.get(name)
        if value is None:
            return None
        try:
            if not DATE.fullmatch(value):
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            raise bad_request('invalid_parameter',
                f"{name} must be a date as YYYY-MM-DD.")

    def domain(self):
        domain = []
        if self.tag:
            domain.append(('event.tags.name', '=', self.tag))
        if self.venue:
            domain.append(['OR',
                    ('venue', '=', self.venue),
                    [('venue', '=', None), ('event.venue', '=', self.venue)],
                    ])
        return domain

    def match(self, session):
        "Whether the local start day of session is within the dates"
        day = to_local(session.start, session.event.timezone).date()
        return ((not self.from_ or day >= self.from_)
            and (not self.to or day <= self.to))


@app.route(f'{PREFIX}/events', methods=['GET'])
@api()
def list_events(request, pool):
    "Published public events with their sessions listed online"
    Session = pool.get('ticket.session')
    filters = EventFilters(request.args)
    by_event = {}
    for session in Session.search(
            public_domain(LISTED) + filters.domain(),
            order=[('start', 'ASC'), ('id', 'ASC')]):
        if filters.match(session):
            by_event.setdefault(session.event, []).append(session)
    return {'events': [event_json(e, s) for e, s in by_event.items()]}


@app.route(f'{PREFIX}/events/<int:event_id>', methods=['GET'])
@api()
def get_event(request, pool, event_id):
    Event = pool.get('ticket.event')
    Session = pool.get('ticket.session')
    events = Event.search([
            ('id', '=', event_id),
            ('state', '=', 'published'),
            ('visibility', '=', 'public'),
            ]) if event_id <= MAX_ID else []
    if not events:
        raise not_found('event_not_found', "Unknown event.")
    event, = events
    sessions = Session.search(
        [('event', '=', event.id)] + public_domain(LISTED),
        order=[('start', 'ASC'), ('id', 'ASC')])
    return event_json(event, sessions)


@app.route(f'{PREFIX}/sessions/<int:session_id>', methods=['GET'])
@api()
def get_session(request, pool, session_id):
    session, = public_sessions(pool, [session_id])
    return session_json(session)


def public_sessions(pool, ids):
    "Return the public sessions of ids, in order, or raise a 404"
    Session = pool.get('ticket.session')
    valid = [i for i in ids if i <= MAX_ID]
    sessions = {s.id: s for s in Session.search(
            [('id', 'in', valid)] + public_domain(REACHABLE))}
    for id_ in ids:
        if id_ not in sessions:
            raise not_found('session_not_found',
                f"Session {id_} does not exist or is not public.")
    return [sessions[i] for i in ids]


def json_body(request):
    "Return the decoded JSON body of request"
    if request.mimetype != 'application/json':
        raise ApiError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            'unsupported_media_type',
            "The body must be JSON (Content-Type: application/json).")
    if request.content_encoding not in {None, '', 'identity'}:
        raise ApiError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            'unsupported_media_type', "The body must not be encoded.")
    too_large = ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        'body_too_large', f"The body must not exceed {MAX_BODY} bytes.")
    if (request.content_length or 0) > MAX_BODY:
        raise too_large
    try:
        data = request.get_data(cache=True)
    except exceptions.RequestEntityTooLarge:
        raise too_large
    if len(data) > MAX_BODY:
        raise too_large

    def reject(constant):
        raise ValueError(f"{constant} is not JSON")
    try:
        return json.loads(data.decode('utf-8'), parse_constant=reject)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request('invalid_json', "The body is not valid JSON.")


def hold_request(body):
    "Return the channel and the (session id, quantity) of a hold request"
    if not isinstance(body, dict):
        raise bad_request('invalid_body', "The body must be a JSON object.")
    unknown = sorted(set(body) - {'items', 'channel'})
    if unknown:
        raise bad_request('invalid_body',
            "Unknown member(s): %s." % ', '.join(unknown))
    channel = body.get('channel', 'web')
    if not isinstance(channel, str) or channel not in PUBLIC_CHANNELS:
        raise bad_request('invalid_channel',
            "channel must be one of: %s." % ', '.join(PUBLIC_CHANNELS))
    items = body.get('items')
    if not isinstance(items, list) or not 0 < len(items) <= MAX_ITEMS:
        raise bad_request('invalid_body',
            f"items must be a list of 1 to {MAX_ITEMS} items.")
    wanted = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {'session', 'quantity'}:
            raise bad_request('invalid_body',
                f"items[{index}] must be an object with exactly session "
                "and quantity.")
        session, quantity = item['session'], item['quantity']
        if not is_int(session) or not 0 < session <= MAX_ID:
            raise bad_request('invalid_body',
                f"items[{index}].session must be a session id.")
        if not is_int(quantity) or not 0 < quantity <= MAX_QUANTITY:
            raise bad_request('invalid_quantity', gettext(
                    'ticket_event.msg_hold_quantity', maximum=MAX_QUANTITY))
        wanted.append((session, quantity))
    return channel, wanted


def find_hold(pool, token, lock=False):
    """Return the hold of token or raise a 404.

    With lock, wait for the transactions changing the hold and lock it, so
    that its state stays as read until the end of the transaction."""
    Hold = pool.get('ticket.hold')
    table = Hold.__table__()
    cursor = Transaction().connection.cursor()
    if TOKEN.fullmatch(token):
        cursor.execute(*table.select(table.id,
                where=table.token == token,
                for_=For('UPDATE') if lock else None))
        row = cursor.fetchone()
        if row:
            return Hold(row[0])
    raise not_found('hold_not_found', "Unknown hold.")


@app.route(f'{PREFIX}/holds', methods=['POST'])
@api(readonly=False, read_committed=True)
def create_hold(request, pool):
    "Hold the places asked, all or none"
    Hold = pool.get('ticket.hold')
    channel, wanted = hold_request(json_body(request))
    sessions = public_sessions(pool, [s for s, _ in wanted])
    companies = {s.event.company.id for s in sessions}
    if len(companies) != 1:
        raise bad_request('mixed_companies',
            "A hold takes places of one organizer's sessions only.")
    company, = companies
    with Transaction().set_context(company=company):
        hold = Hold.reserve([{'session': s, 'quantity': q}
                for s, (_, q) in zip(sessions, wanted)], channel=channel)
        location = '%s/%s/ticket/api/v1/holds/%s' % (
            request.script_root,
            urllib.parse.quote(pool.database_name), hold.token)
        return json_response(hold_json(hold), HTTPStatus.CREATED,
            {'Location': location})


@app.route(f'{PREFIX}/holds/<token>', methods=['GET'])
@api()
def get_hold(request, pool, token):
    return hold_json(find_hold(pool, token))


@app.route(f'{PREFIX}/holds/<token>', methods=['DELETE'])
@api(readonly=False, read_committed=True)
def release_hold(request, pool, token):
    "Give the places of an active hold back"
    Hold = pool.get('ticket.hold')
    hold = find_hold(pool, token, lock=True)
    if hold.state != 'active':
        raise ApiError(HTTPStatus.CONFLICT, 'hold_not_active', gettext(
                'ticket_event.msg_hold_not_active', hold=token[:8]))
    Hold.release([hold])
    return hold_json(Hold(hold.id))


@app.route(f'{PREFIX}/openapi.json', methods=['GET'])
def openapi_document(request, database_name):
    return json_response(
        openapi.document(urllib.parse.quote(database_name)))


class AnyPathConverter(PathConverter):
    "A path that may hold any character, line breaks included"
    regex = r'[^/][\s\S]*?'


app.url_map.converters['anypath'] = AnyPathConverter


@app.route(f'{PREFIX}/<anypath:rest>', methods=METHODS)
def unknown_endpoint(request, database_name, rest):
    "Answer JSON for the paths and methods the API does not have"
    adapter = app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in METHODS:
        try:
            endpoint, _ = adapter.match(method=method)
        except exceptions.HTTPException:
            continue
        if endpoint is not unknown_endpoint:
            allowed.append(method)
    if allowed:
        return ApiError(HTTPStatus.METHOD_NOT_ALLOWED, 'method_not_allowed',
            f"{request.method} is not allowed here.",
            {'Allow': ', '.join(allowed)}).response()
    return not_found('not_found', "No such endpoint.").response()


openapi_document.max_request_size = unknown_endpoint.max_request_size = (
    MAX_BODY)
