"""Check-in API for scanner devices: ``/<db>/ticket/api/v1/checkin/...``.

A thin edge over the scan service (``Scan.scan``) and the offline bundles
(``Bundle.build``, ``Bundle.upload``), with the conventions of the event
core's API (``guichet.ticket_event.routes``): one short transaction per
request (READ COMMITTED for the scans), JSON errors
``{"error": {"code", "message"}}`` with a 4xx status, nothing written on a
refusal. Every request carries the device's key
(``Authorization: Bearer <key>``): an unknown or revoked key is a 401, a
list the device may not use a 403. A scan is always answered 200 with its
result (``ok``, ``already_used``, ...): a refused ticket is not an error of
the request.
"""
import datetime as dt
import re

from trytond.protocols.wrappers import HTTPStatus
from trytond.transaction import Transaction
from trytond.wsgi import app

from guichet.ticket_event.common import UTC, now
from guichet.ticket_event.routes import (
    MAX_ID, PREFIX, ApiError, api, bad_request, is_int, json_body, not_found)

from .offline import MAX_UPLOAD
from .openapi import describe_api
from .scan import MAX_SECRET, RESULTS
from .signing import MAX_CODE

CHECKIN = f'{PREFIX}/checkin'
MAX_SEARCH = 20
TOKEN = re.compile(r'[0-9]{1,20}')
CLIENT_ID = re.compile(r'[A-Za-z0-9_.:-]{1,64}')
MAX_SKEW = dt.timedelta(minutes=10)
MAX_AGE = dt.timedelta(days=60)


class DeviceContext:
    "The authenticated device of a request"

    def __init__(self, pool, request):
        try:
            self.Device = pool.get('ticket.access.device')
        except KeyError:
            raise not_found('not_found', "No such endpoint.")
        self.pool = pool
        header = request.headers.get('Authorization', '')
        scheme, _, key = header.partition(' ')
        found = None
        if scheme.lower() == 'bearer' and key.strip():
            found = self.Device.authenticate(key.strip())
        if not found:
            raise ApiError(HTTPStatus.UNAUTHORIZED, 'unauthorized',
                "A valid device key is required "
                "(Authorization: Bearer <key>).",
                {'WWW-Authenticate': 'Bearer'})
        self.id, self.company, self.list_ids = found

    def rules(self, list_id=None):
        "The rules of a list of the device (or of all its lists)"
        CheckinList = self.pool.get('ticket.access.list')
        if list_id is not None and list_id not in self.list_ids:
            raise ApiError(HTTPStatus.FORBIDDEN, 'list_not_allowed',
                "This device may not scan for this list.")
        if list_id is None:
            return CheckinList.rules(self.list_ids)
        rules = CheckinList.cached_rules(list_id)
        if rules is None:
            raise ApiError(HTTPStatus.FORBIDDEN, 'list_not_allowed',
                "This check-in list is closed.")
        return {list_id: rules}

    def seen(self, sync=False):
        "Note when the device was last seen (and synced)"
        table = self.Device.__table__()
        columns, values = [table.last_seen], [now()]
        if sync:
            columns.append(table.last_sync)
            values.append(values[0])
        Transaction().connection.cursor().execute(*table.update(
                columns, values, where=table.id == self.id))


def id_value(value, name):
    if not is_int(value) or not 0 < value <= MAX_ID:
        raise bad_request('invalid_body', f"{name} must be an id.")
    return value


def object_body(request, allowed, required):
    body = json_body(request)
    if not isinstance(body, dict):
        raise bad_request('invalid_body', "The body must be a JSON object.")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise bad_request('invalid_body',
            "Unknown member(s): %s." % ', '.join(unknown))
    missing = sorted(set(required) - set(body))
    if missing:
        raise bad_request('invalid_body',
            "Missing member(s): %s." % ', '.join(missing))
    return body


def scan_values(item, prefix=''):
    "Check the code or ticket, direction and session of a scan request"
    values = {'list': id_value(item['list'], f'{prefix}list')}
    if ('code' in item) == ('ticket' in item):
        raise bad_request('invalid_body',
            f"{prefix}code or {prefix}ticket must be given, not both.")
    if 'code' in item:
        code = item['code']
        if (not isinstance(code, str) or not code
                or len(code) > max(MAX_CODE, MAX_SECRET)):
            raise bad_request('invalid_code',
                f"{prefix}code must be the text of a ticket's QR code.")
        values['code'] = code
    else:
        values['ticket'] = id_value(item['ticket'], f'{prefix}ticket')
    direction = item.get('direction')
    if direction not in {None, 'in', 'out'}:
        raise bad_request('invalid_body',
            f"{prefix}direction must be in or out.")
    values['direction'] = direction
    if item.get('session') is not None:
        values['session'] = id_value(item['session'], f'{prefix}session')
    return values


def scan_json(outcome, rules):
    ticket = outcome.ticket
    admission = outcome.admission
    if ticket and not any(a.event == rules.event for a in ticket.admissions):
        # A ticket of another event: a device must not read it (its holder,
        # number and tariff), whether scanned by code or by id.
        ticket = admission = None
    session = None
    if admission:
        session = {'id': admission.session,
            'start': admission.start.replace(tzinfo=UTC).isoformat()}
    return {
        'scan': outcome.scan,
        'result': outcome.result,
        'ok': outcome.ok,
        'direction': outcome.direction,
        'message': outcome.message,
        'list': rules.id,
        'ticket': {
            'id': ticket.id,
            'number': ticket.number,
            'holder_name': ticket.holder_name,
            'tariff': ticket.type_label,
            'session': session,
            } if ticket else None,
        'fields': {name: ticket.show(name, session)
            for name in rules.show_fields} if ticket else {},
        }


@app.route(f'{CHECKIN}/device', methods=['GET'])
@api(readonly=False)
def get_device(request, pool):
    "The device and the rules of its lists"
    device = DeviceContext(pool, request)
    record = device.Device(device.id)
    rules = device.rules()
    device.seen()
    return {'id': record.id, 'name': record.name,
        'lists': [r.json() for r in rules.values()]}


@app.route(f'{CHECKIN}/scan', methods=['POST'])
@api(readonly=False, read_committed=True)
def scan(request, pool):
    "Scan a ticket on a list: one round trip, exactly one ok per entry"
    Scan = pool.get('ticket.access.scan')
    device = DeviceContext(pool, request)
    body = object_body(request,
        {'list', 'code', 'ticket', 'direction', 'session'}, {'list'})
    values = scan_values(body)
    rules = device.rules(values['list'])[values['list']]
    with Transaction().set_context(company=device.company):
        outcome = Scan.scan(rules, code=values.get('code'),
            ticket_id=values.get('ticket'), direction=values['direction'],
            session=values.get('session'), device=device.id)
    return scan_json(outcome, rules)


@app.route(f'{CHECKIN}/search', methods=['GET'])
@api()
def search(request, pool):
    "Tickets of a list's event by holder name, ticket or order number"
    Ticket = pool.get('ticket.ticket')
    device = DeviceContext(pool, request)
    list_id = request.args.get('list', '')
    if not re.fullmatch(r'[0-9]{1,10}', list_id):
        raise bad_request('invalid_parameter', "list must be a list id.")
    query = (request.args.get('q') or '').strip()
    if not 2 <= len(query) <= 100:
        raise bad_request('invalid_parameter',
            "q must have between 2 and 100 characters.")
    rules = device.rules(int(list_id))[int(list_id)]
    escaped = query.replace('\\', '\\\\').replace('%', '\\%').replace(
        '_', '\\_')
    tickets = Ticket.search([
            ('company', '=', device.company),
            ['OR',
                ('session.event', '=', rules.event),
                ] + Ticket._access_search_event(rules.event),
            ['OR',
                ('holder_name', 'ilike', f'%{escaped}%'),
                ('number', '=', query),
                ('order.number', '=', query),
                ],
            ], limit=MAX_SEARCH, order=[('holder_name', 'ASC'), ('id', 'ASC')])
    return {'tickets': [{
                'id': t.id,
                'number': t.number,
                'holder_name': t.holder_name,
                'tariff': t.type_label,
                'state': t.state,
                'order': t.order.number,
                'entries': [{'session': e.session.id, 'state': e.state}
                    for e in t.access_entries if e.list.id == rules.id],
                } for t in tickets]}


@app.route(f'{CHECKIN}/bundle', methods=['GET'])
@api(readonly=False)
def bundle(request, pool):
    "The whole offline bundle of the device's lists"
    Bundle = pool.get('ticket.access.bundle')
    device = DeviceContext(pool, request)
    result = Bundle.build(list(device.rules().values()))
    device.seen(sync=True)
    return result


@app.route(f'{CHECKIN}/sync', methods=['GET'])
@api(readonly=False)
def sync(request, pool):
    "The changes of the bundle since a sync token"
    Bundle = pool.get('ticket.access.bundle')
    device = DeviceContext(pool, request)
    since = request.args.get('since', '')
    if not TOKEN.fullmatch(since) or int(since) >= 2 ** 63:
        raise bad_request('invalid_parameter',
            "since must be the sync_token of a bundle.")
    result = Bundle.build(list(device.rules().values()), since=int(since))
    device.seen(sync=True)
    return result


def scanned_at(value, index):
    "The naive UTC time of an offline scan"
    message = (f"scans[{index}].scanned_at must be a date-time with its "
        "offset, not in the future.")
    if not isinstance(value, str) or len(value) > 40:
        raise bad_request('invalid_body', message)
    try:
        value = dt.datetime.fromisoformat(value)
    except ValueError:
        raise bad_request('invalid_body', message)
    if value.tzinfo is None:
        raise bad_request('invalid_body', message)
    value = value.astimezone(UTC).replace(tzinfo=None)
    if not now() - MAX_AGE <= value <= now() + MAX_SKEW:
        raise bad_request('invalid_body', message)
    return value


@app.route(f'{CHECKIN}/offline-scans', methods=['POST'])
@api(readonly=False, read_committed=True)
def upload_offline_scans(request, pool):
    "Record the scans a device made offline, oldest first"
    Bundle = pool.get('ticket.access.bundle')
    device = DeviceContext(pool, request)
    body = object_body(request, {'scans'}, {'scans'})
    items = body['scans']
    if not isinstance(items, list) or not 0 < len(items) <= MAX_UPLOAD:
        raise bad_request('invalid_body',
            f"scans must be a list of 1 to {MAX_UPLOAD} scans.")
    scans = []
    for index, item in enumerate(items):
        prefix = f'scans[{index}].'
        if not isinstance(item, dict):
            raise bad_request('invalid_body', f"scans[{index}] must be an "
                "object.")
        allowed = {'id', 'list', 'code', 'ticket', 'direction', 'session',
            'scanned_at', 'result'}
        unknown = sorted(set(item) - allowed)
        missing = sorted({'id', 'list', 'scanned_at'} - set(item))
        if unknown or missing:
            raise bad_request('invalid_body', f"scans[{index}] must have "
                "id, list, scanned_at and code or ticket.")
        values = scan_values(item, prefix)
        if not isinstance(item['id'], str) or not CLIENT_ID.fullmatch(
                item['id']):
            raise bad_request('invalid_body', f"{prefix}id must be 1 to 64 "
                "letters, digits or _.:-")
        if item.get('result') not in {None} | {r for r, _ in RESULTS}:
            raise bad_request('invalid_body', f"{prefix}result is unknown.")
        values.update(id=item['id'], result=item.get('result'),
            scanned_at=scanned_at(item['scanned_at'], index))
        scans.append(values)
    rules = device.rules()
    for values in scans:
        device.rules(values['list'])
    with Transaction().set_context(company=device.company):
        results = Bundle.upload(rules, device.id, scans)
    return {'results': results}


@app.route(f'{CHECKIN}/scans/<int:scan_id>/undo', methods=['POST'])
@api(readonly=False, read_committed=True)
def undo_scan(request, pool, scan_id):
    "Undo an admitting scan of this device (a mistake at the gate)"
    Scan = pool.get('ticket.access.scan')
    device = DeviceContext(pool, request)
    scans = Scan.search([
            ('id', '=', scan_id), ('device', '=', device.id),
            ]) if scan_id <= MAX_ID else []
    if not scans:
        raise not_found('scan_not_found', "Unknown scan.")
    scan, = scans
    if scan.result != 'ok' or scan.undone:
        raise ApiError(HTTPStatus.CONFLICT, 'not_undoable',
            "Only an admitting scan not yet undone can be undone.")
    with Transaction().set_context(company=device.company):
        Scan.undo([scan])
    return {'scan': scan.id, 'undone': True}


describe_api()
