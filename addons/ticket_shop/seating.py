"""The seat picker of the shop, when ticket_seating is activated (an
extras_depend): the session's map drawn in the page, the best available
seats for a quantity (in a category or any), or the seats picked on the
map, as the event's seating mode for the web allows.

Every seat is chosen and held by ticket_seating's ``ticket.seat.service``
(``SeatService.hold``), priced by the engine through each seat category's
default tariff. The map is an inline SVG drawn by the shop's template (the
seats' colors are presentation attributes, so that the pages keep their
strict Content-Security-Policy); the free seats are also checkboxes listed
by section and row, which is what the form sends: the page works without
script, and the script only lets the buyer click or press Space on the
seats of the map to tick them."""
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from guichet.ticket_pricing.exceptions import PricingError

from .checkout import pricing_error
from .exceptions import ShopError

# What the web may do in each seating mode of ticket_seating
PICK_MODES = {'pick'}
MAP_MODES = {'pick', 'auto_view', 'auto_change'}
MAX_SEATS = 20
TAKEN_COLOR = '#c8c8c8'
# SeatingError codes that mean "not possible now" rather than a bad request
CONFLICTS = {'seats_unavailable', 'seats_not_together', 'isolated_seat',
    'seat_taken', 'tariff_seat'}


def service():
    "ticket_seating's service, or None when the module is not activated"
    try:
        return Pool().get('ticket.seat.service')
    except KeyError:
        return None


def is_seated(session):
    "Whether the session is sold by seat"
    return service() is not None and bool(getattr(session, 'seat_map', None))


def seat_mode(session):
    "The event's seating mode for the web, or None for free seating"
    if not is_seated(session):
        return None
    return session.seat_mode('web')


def seat_labels(item):
    "The seats of a hold item, or None"
    return getattr(item, 'seat_labels', None)


def picker_values(session):
    """The seats of session as the web sees them: free or taken, by section
    and row, with the categories and their default tariff's price"""
    from guichet.ticket_pricing.routes import tax_included_price
    from guichet.ticket_seating.allocation import FREE, GAP
    from guichet.ticket_seating.pricing import default_tariffs
    from guichet.ticket_seating.service import Availability
    from guichet.ticket_seating.svg import bounds, labels

    from guichet.ticket_event.common import now
    availability = Availability(session, 'web')
    layout, states = availability.layout, availability.states
    names = labels(layout)
    seat_map = session.seat_map
    categories = {c.id: c for c in seat_map.categories}
    with Transaction().set_context(company=session.event.company.id):
        try:
            defaults = default_tariffs(session, 'web', 1) or {}
        except PricingError:
            defaults = {}
    free = {}
    sections = []
    seats = []
    for row, state in zip(layout.rows, states):
        row_seats = []
        for position, seat_id in enumerate(row.seat_ids):
            if seat_id is None or not state or state[position] == GAP:
                continue
            section_name, row_name, label = names.get(
                seat_id, ('', '', ''))
            category = categories.get(row.categories[position])
            is_free = state[position] == FREE and (
                category is not None and category.id in defaults)
            if is_free:
                free[category.id] = free.get(category.id, 0) + 1
            seat = {
                'id': seat_id,
                'x': row.xs[position],
                'y': row.ys[position],
                'free': is_free,
                'color': (category.color if is_free and category.color
                    else TAKEN_COLOR),
                'category': category,
                'name': gettext('ticket_seating.msg_seat_label',
                    section=section_name, row=row_name, seat=label),
                'label': label,
                'wheelchair': row.access[position] == 'w',
                }
            seats.append(seat)
            row_seats.append(seat)
        if any(s['free'] for s in row_seats):
            if not sections or sections[-1]['id'] != row.section:
                sections.append({'id': row.section,
                        'name': names.get(row_seats[0]['id'],
                            ('', '', ''))[0], 'rows': []})
            sections[-1]['rows'].append({
                    'name': names.get(row_seats[0]['id'], ('', '', ''))[1],
                    'seats': [s for s in row_seats if s['free']]})
    x, y, width, height = bounds(layout)
    offers = []
    for category in seat_map.categories:
        tariff = defaults.get(category.id)
        if tariff is None:
            continue
        offers.append({
                'category': category,
                'tariff': tariff,
                'price': tax_included_price(tariff, now()),
                'free': free.get(category.id, 0),
                })
    return {
        'seats': seats,
        'sections': sections,
        'offers': offers,
        'free': sum(free.values()),
        'viewbox': f'{x:.2f} {y:.2f} {width:.2f} {height:.2f}',
        'focal': layout.focal,
        'radius': 0.42,
        }


def hold_seats(session, quantity=None, category=None, seats=None):
    """Hold the best available seats (quantity, in category or any) or the
    seats picked; return the hold. Raise ShopError next to the field."""
    from guichet.ticket_seating.exceptions import SeatingError
    Service = service()
    field = 'seats' if seats is not None else 'quantity'
    mode = seat_mode(session)
    if seats is not None and mode not in PICK_MODES:
        raise ShopError(gettext('ticket_shop.msg_seat_pick_not_allowed'),
            'seats', status=403)
    with Transaction().set_context(company=session.event.company.id):
        try:
            hold, _, _ = Service.hold(session, channel='web',
                quantity=quantity, seats=seats, category=category)
        except SeatingError as error:
            raise ShopError(error.message, field,
                status=409 if error.code in CONFLICTS else 400)
        except PricingError as error:
            refusal = pricing_error(error)
            raise ShopError(refusal.message, field, status=refusal.status)
    return hold
