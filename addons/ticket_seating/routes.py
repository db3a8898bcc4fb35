"""Public JSON API v1 of numbered seating: the seat map of a session, its
SVG picture, holds of seats picked on the map or best available, and the
change of the seats of a hold.

A thin edge over ``SeatService`` with the conventions of the event core's
API (``guichet.ticket_event.routes``): one transaction per request (READ
COMMITTED for holds), JSON errors ``{"error": {"code", "message"}}``,
nothing written on a refusal. A seat hold is a cart: it is priced by the
engine (each seat's category gives its tariff unless the request names the
tariffs), ordered by ``POST /orders`` and released by ``DELETE
/holds/{token}`` like any hold.

What each channel may do follows the event's seating mode (403
seat_choice_not_allowed, seat_map_hidden): pick on the map (everything),
automatic with the map shown (best available only), automatic that the
buyer may change (best available, then PUT the seats), automatic only (no
map).
"""
import contextlib
import urllib.parse

from trytond.i18n import gettext
from trytond.protocols.wrappers import HTTPStatus, Response
from trytond.transaction import Transaction
from trytond.wsgi import app

from guichet.ticket_event.routes import (
    MAX_ID, PREFIX, PUBLIC_CHANNELS, ApiError, api, bad_request, find_hold,
    hold_json, is_int, json_body, json_response, not_found, public_sessions)
from guichet.ticket_pricing.routes import (
    money, pricing_errors, public_tariffs, quote_json)

from .exceptions import SeatingError
from .openapi import MAX_SEATS, describe_api

SEATS = f'{PREFIX}/sessions/<int:session_id>/seats'
# SeatingError.code: (HTTP status, API error code)
SEATING_ERRORS = {
    'seat_invalid': (HTTPStatus.BAD_REQUEST, 'invalid_seat'),
    'tariff_seat': (HTTPStatus.CONFLICT, 'tariff_not_for_seat'),
    'seats_unavailable': (HTTPStatus.CONFLICT, 'seats_unavailable'),
    'seats_not_together': (HTTPStatus.CONFLICT, 'seats_not_together'),
    'isolated_seat': (HTTPStatus.CONFLICT, 'isolated_seat'),
    'seat_taken': (HTTPStatus.CONFLICT, 'seat_taken'),
    }
# What each seating mode lets a public channel do
PICK_MODES = {'pick'}
CHANGE_MODES = {'pick', 'auto_change'}
MAP_MODES = {'pick', 'auto_view', 'auto_change'}


@contextlib.contextmanager
def seating_errors():
    "Answer the seating service's refusals as API errors"
    with pricing_errors():
        try:
            yield
        except SeatingError as error:
            status, code = SEATING_ERRORS.get(
                error.code, (HTTPStatus.CONFLICT, error.code))
            raise ApiError(status, code, error.message)


def forbidden(code, message):
    return ApiError(HTTPStatus.FORBIDDEN, code, message)


def seated_session(pool, session_id):
    "The public seated session of session_id or a 404"
    try:
        pool.get('ticket.seat.service')
    except KeyError:
        raise not_found('not_found', "No such endpoint.")
    session, = public_sessions(pool, [session_id])
    if not session.seat_map:
        raise not_found('seat_map_not_found',
            f"Session {session_id} has no seat map (free seating).")
    return session


def channel_value(value):
    if value is None:
        return 'web'
    if not isinstance(value, str) or value not in PUBLIC_CHANNELS:
        raise bad_request('invalid_channel',
            "channel must be one of: %s." % ', '.join(PUBLIC_CHANNELS))
    return value


def check_mode(session, channel, allowed, code):
    mode = session.seat_mode(channel)
    if mode not in allowed:
        raise forbidden(code, gettext(
                f'ticket_seating.msg_mode_{code}', mode=mode))
    return mode


def _ids(value, name, maximum):
    if (not isinstance(value, list) or not 0 < len(value) <= maximum
            or not all(is_int(v) and 0 < v <= MAX_ID for v in value)
            or len(set(value)) != len(value)):
        raise bad_request('invalid_body',
            f"{name} must be a list of 1 to {maximum} distinct ids.")
    return value


def _flag(body, name, default):
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise bad_request('invalid_body', f"{name} must be true or false.")
    return value


def hold_request(pool, session, body):
    "The checked arguments of SeatService.hold from a request body"
    Category = pool.get('ticket.seat.category')
    Contingent = pool.get('ticket.seat.contingent')
    if not isinstance(body, dict):
        raise bad_request('invalid_body', "The body must be a JSON object.")
    unknown = sorted(set(body) - {
            'channel', 'seats', 'quantity', 'category', 'tariffs',
            'wheelchair', 'allow_split', 'contingent'})
    if unknown:
        raise bad_request('invalid_body',
            "Unknown member(s): %s." % ', '.join(unknown))
    values = {'channel': channel_value(body.get('channel'))}
    seats = body.get('seats')
    quantity = body.get('quantity')
    tariffs = body.get('tariffs')
    if seats is not None:
        if quantity is not None or body.get('category') is not None:
            raise bad_request('invalid_body',
                "Give either seats or quantity (and category), not both.")
        values['seats'] = _ids(seats, 'seats', MAX_SEATS)
    elif quantity is None and tariffs is None:
        raise bad_request('invalid_body',
            "Give the seats picked, a quantity or tariffs.")
    if quantity is not None:
        if not is_int(quantity) or not 0 < quantity <= MAX_SEATS:
            raise bad_request('invalid_quantity',
                f"quantity must be a whole number between 1 and "
                f"{MAX_SEATS}.")
        values['quantity'] = quantity
    if tariffs is not None:
        if (not isinstance(tariffs, list)
                or not 0 < len(tariffs) <= MAX_SEATS
                or not all(isinstance(t, dict)
                    and set(t) == {'tariff', 'quantity'}
                    and is_int(t['tariff']) and 0 < t['tariff'] <= MAX_ID
                    and is_int(t['quantity'])
                    and 0 < t['quantity'] <= MAX_SEATS for t in tariffs)):
            raise bad_request('invalid_body',
                "tariffs must be a list of objects with tariff and "
                "quantity.")
        records = public_tariffs(pool, [t['tariff'] for t in tariffs])
        values['tariffs'] = [(r, t['quantity'])
            for r, t in zip(records, tariffs)]
    category = body.get('category')
    if category is not None:
        if not is_int(category) or not 0 < category <= MAX_ID:
            raise bad_request('invalid_body', "category must be an id.")
        categories = Category.search([
                ('id', '=', category),
                ('map', '=', session.seat_map.id),
                ])
        if not categories:
            raise not_found('category_not_found',
                "Unknown seat category for this session.")
        values['category'] = categories[0]
    contingent = body.get('contingent')
    if contingent is not None:
        if not is_int(contingent) or not 0 < contingent <= MAX_ID:
            raise bad_request('invalid_body', "contingent must be an id.")
        contingents = Contingent.search([
                ('id', '=', contingent),
                ('sessions', '=', session.id),
                ])
        if not contingents:
            raise not_found('contingent_not_found',
                "Unknown contingent for this session.")
        values['contingent'] = contingents[0]
    values['wheelchair'] = _flag(body, 'wheelchair', False)
    values['allow_split'] = _flag(body, 'allow_split', True)
    return values


def held_seats_json(pool, hold):
    "The seats of a hold, by session and position"
    Booking = pool.get('ticket.seat.booking')
    bookings = Booking.search([
            ('hold', '=', hold.id),
            ('state', '=', 'held'),
            ])
    bookings.sort(key=lambda b: (b.session.id, b.seat.row.id,
            b.seat.position or 0))
    return [{
            'id': b.seat.id,
            'session': b.session.id,
            'section': b.seat.row.section.name,
            'row': b.seat.row.name,
            'label': b.seat.label,
            'name': b.seat.rec_name,
            'category': ({'id': b.seat.category.id,
                    'name': b.seat.category.name}
                if b.seat.category else None),
            'tariff': b.tariff.id if b.tariff else None,
            } for b in bookings]


def seat_map_json(pool, session, channel, mode, section=None):
    "The seats of a session with their public status, by section and row"
    from .pricing import default_tariffs  # noqa: F401
    from .service import Availability
    from .svg import bounds, labels
    Tariff = pool.get('ticket.tariff')
    from guichet.ticket_pricing.exceptions import PricingError
    seat_map = session.seat_map
    availability = Availability(session, channel)
    layout, states = availability.layout, availability.states
    names = labels(layout)
    free = {}
    sections = []
    by_id = {}
    for row, state in zip(layout.rows, states):
        if section is not None and row.section != section:
            continue
        if row.section not in by_id:
            by_id[row.section] = {'id': row.section, 'rows': []}
            sections.append(by_id[row.section])
        seats = []
        row_name = None
        for position, seat_id in enumerate(row.seat_ids):
            if seat_id is None:
                continue
            section_name, row_name, label = names[seat_id]
            by_id[row.section]['name'] = section_name
            status = 'free' if state and state[position] == 'F' else 'taken'
            category = row.categories[position]
            if status == 'free':
                free[category] = free.get(category, 0) + 1
            access = row.access[position]
            seats.append({
                    'id': seat_id,
                    'label': label,
                    'x': row.xs[position],
                    'y': row.ys[position],
                    'category': category,
                    'status': status,
                    'wheelchair': access == 'w',
                    'companion': access == 'c',
                    'restricted_view': bool(row.extra[position]),
                    })
        by_id[row.section]['rows'].append(
            {'id': row.id, 'name': row_name or '', 'seats': seats})
    if section is not None and not sections:
        raise not_found('section_not_found', "Unknown section of the map.")
    tariffs = []
    for tariff in Tariff.search([('event', '=', session.event.id)]):
        if not tariff.issues_ticket or tariff.pass_kind:
            continue
        try:
            tariff.check_sale(session, channel)
        except PricingError:
            continue
        tariffs.append(tariff)
    categories = []
    for category in seat_map.categories:
        categories.append({
                'id': category.id,
                'name': category.name,
                'color': category.color,
                'free': free.get(category.id, 0),
                'tariffs': [{
                        'id': t.id, 'name': t.name,
                        'price': money(t.currency, t.price),
                        } for t in tariffs
                    if t.sells_seat_category(category)],
                })
    x, y, width, height = bounds(layout)
    fx, fy = layout.focal
    return {
        'session': session.id,
        'channel': channel,
        'mode': mode,
        'map': {
            'id': seat_map.id,
            'name': seat_map.name,
            'focal_point': {'x': fx, 'y': fy},
            'bounds': {'x': x, 'y': y, 'width': width, 'height': height},
            },
        'categories': categories,
        'free': sum(free.values()),
        'sections': sections,
        }


@app.route(SEATS, methods=['GET'])
@api()
def get_seat_map(request, pool, session_id):
    "The seats of a session with their status for a channel"
    session = seated_session(pool, session_id)
    channel = channel_value(request.args.get('channel'))
    mode = check_mode(session, channel, MAP_MODES, 'seat_map_hidden')
    section = request.args.get('section')
    if section is not None:
        if not section.isdigit() or not 0 < int(section) <= MAX_ID:
            raise bad_request('invalid_parameter',
                "section must be a section id.")
        section = int(section)
    return seat_map_json(pool, session, channel, mode, section)


@app.route(f'{PREFIX}/sessions/<int:session_id>/seats.svg', methods=['GET'])
@api()
def get_seat_map_svg(request, pool, session_id):
    "The picture of the seat map of a session for a channel"
    from .svg import session_svg
    session = seated_session(pool, session_id)
    channel = channel_value(request.args.get('channel'))
    check_mode(session, channel, MAP_MODES, 'seat_map_hidden')
    return Response(session_svg(session, channel),
        status=HTTPStatus.OK, content_type='image/svg+xml; charset=utf-8',
        headers={'Cache-Control': 'no-store'})


@app.route(f'{SEATS}/holds', methods=['POST'])
@api(readonly=False, read_committed=True)
def hold_seats(request, pool, session_id):
    "Hold seats picked on the map or the best available, priced"
    Service = pool.get('ticket.seat.service')
    session = seated_session(pool, session_id)
    values = hold_request(pool, session, json_body(request))
    channel = values['channel']
    if 'seats' in values:
        check_mode(session, channel, PICK_MODES, 'seat_choice_not_allowed')
    with Transaction().set_context(company=session.event.company.id), \
            seating_errors():
        hold, quote, choice = Service.hold(session, **values)
        location = '%s/%s/ticket/api/v1/holds/%s' % (
            request.script_root,
            urllib.parse.quote(pool.database_name), hold.token)
        message = None
        if choice.split:
            message = gettext('ticket_seating.msg_split',
                pieces=len(choice.pieces))
        return json_response({
                'hold': hold_json(hold),
                'quote': quote_json(quote),
                'seats': held_seats_json(pool, hold),
                'split': choice.split,
                'message': message,
                }, HTTPStatus.CREATED, {'Location': location})


@app.route(f'{SEATS}/holds/<token>', methods=['PUT'])
@api(readonly=False, read_committed=True)
def change_seats(request, pool, session_id, token):
    "Move the seats of a hold to those picked on the map"
    Service = pool.get('ticket.seat.service')
    Hold = pool.get('ticket.hold')
    session = seated_session(pool, session_id)
    body = json_body(request)
    if not isinstance(body, dict) or set(body) != {'seats'}:
        raise bad_request('invalid_body',
            "The body must be an object with seats only.")
    seats = _ids(body['seats'], 'seats', MAX_SEATS)
    hold = find_hold(pool, token, lock=True)
    if not hold.is_live:
        raise ApiError(HTTPStatus.CONFLICT, 'hold_not_active', gettext(
                'ticket_event.msg_hold_not_active', hold=token[:8]))
    check_mode(session, hold.channel, CHANGE_MODES,
        'seat_change_not_allowed')
    with Transaction().set_context(company=session.event.company.id), \
            seating_errors():
        Service.change(hold, session, seats)
        hold = Hold(hold.id)
        return {'hold': hold_json(hold), 'seats': held_seats_json(pool, hold)}


describe_api()
