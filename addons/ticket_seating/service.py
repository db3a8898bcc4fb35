"""The seating service: the one place where seats are chosen and held.

``SeatService.hold`` is what the shop, the POS and the API call: it holds
the seats picked on the map or the best available ones, priced by the price
engine (seat category -> tariff), through the core hold service.
``Hold.reserve`` calls ``plan`` and ``claim`` for any hold of a seated
session, so that a hold made without seats (a cart, a renewal, the box
office) gets the best available ones.

Every choice is made under the seating lock of its sessions
(``Inventory.lock``) on their current states, then claimed by conditional
UPDATEs after the hold took its places.
"""
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import Model
from trytond.pool import Pool
from trytond.transaction import Transaction

from guichet.ticket_event.hold import MAX_QUANTITY

from . import allocation
from .allocation import FREE, HELD, NoSeatsError
from .exceptions import SeatingError
from .inventory import Inventory
from .pricing import default_tariffs

PUBLIC_CHANNELS = {'web', 'api'}
# NoSeatsError.reason: (message, SeatingError code)
NO_SEATS = {
    'not_enough': ('ticket_seating.msg_no_seats', 'seats_unavailable'),
    'not_together': (
        'ticket_seating.msg_seats_not_together', 'seats_not_together'),
    'isolated': ('ticket_seating.msg_seats_isolated', 'isolated_seat'),
    }


def is_quantity(value, minimum=1):
    return (isinstance(value, int) and not isinstance(value, bool)
        and minimum <= value <= MAX_QUANTITY)


class Availability:
    """The seats of a session that a channel may take: the row strings with
    the seats of its contingents FREE (or only those of one contingent).
    read=False leaves the strings unread (states None) for who only claims
    seats given."""

    def __init__(self, session, channel, contingent=None, read=True):
        Contingent = Pool().get('ticket.seat.contingent')
        self.session = session
        self.map = session.seat_map
        self.layout = self.map.get_layout()
        self.only = contingent
        self.states = None
        self.taken = []
        if contingent is not None:
            if (contingent.state != 'active' or contingent.channel != channel
                    or session not in contingent.sessions):
                raise SeatingError(gettext(
                        'ticket_seating.msg_contingent_not_for_sale',
                        contingent=contingent.rec_name), 'seat_invalid')
            self.allowed = [contingent.id]
        else:
            self.allowed = [c.id for c in Contingent.search([
                        ('sessions', '=', session.id),
                        ('state', '=', 'active'),
                        ('channel', '=', channel),
                        ])]
        if read:
            self.read()

    def read(self):
        "Read the row strings of the session (one query)"
        Booking = Pool().get('ticket.seat.booking')
        states = Inventory.states(self.session, self.layout)
        if self.only is not None:
            states = [s.replace(FREE, HELD) if s else s for s in states]
        if self.allowed:
            bookings = Booking.search([
                    ('session', '=', self.session.id),
                    ('state', '=', 'contingent'),
                    ('contingent', 'in', self.allowed),
                    ])
            states = patch(self.layout, states, [b.seat.id for b in bookings],
                FREE)
        self.states = patch(self.layout, states, self.taken, HELD)
        return self.states

    def take(self, seats):
        "Mark seats taken (for the next choice)"
        self.taken.extend(seats)
        if self.states is not None:
            self.states = patch(self.layout, self.states, seats, HELD)


def patch(layout, states, seats, char):
    "The row strings with the positions of seats set to char"
    by_row = defaultdict(list)
    for seat in seats:
        index, position = layout.position(int(seat))
        by_row[index].append(position)
    states = list(states)
    for index, positions in by_row.items():
        if states[index] is None:
            continue
        chars = list(states[index])
        for position in positions:
            chars[position] = char
        states[index] = ''.join(chars)
    return states


def no_seats(error, quantity):
    message, code = NO_SEATS[error.reason]
    return SeatingError(gettext(message, quantity=quantity,
            available=error.available), code)


class SeatService(Model):
    "Seating Service"
    __name__ = 'ticket.seat.service'

    # Hold.reserve

    @classmethod
    def plan(cls, items, channel):
        """Take the seats out of items (item['seats']), lock the seated
        sessions and choose the best seats of the items without; return the
        plan for claim, None when no item is seated"""
        seated = []
        for index, item in enumerate(items):
            seats = item.pop('seats', None)
            session = item.get('session')
            if not session or not getattr(session, 'seat_map', None):
                if seats:
                    raise SeatingError(gettext(
                            'ticket_seating.msg_session_not_seated',
                            session=session.rec_name if session else ''),
                        'seat_invalid')
                continue
            quantity = item.get('quantity')
            per_unit = item.get('places_per_unit', 1)
            if not is_quantity(quantity) or not is_quantity(
                    per_unit, minimum=0):
                # the hold service refuses the item
                return None
            if quantity * per_unit:
                seated.append((index, item, seats, quantity * per_unit))
        if not seated:
            return None
        for _, item, _, _ in seated:
            item['session'].check_on_sale(channel)
        Inventory.lock([item['session'] for _, item, _, _ in seated])
        plan = Plan(channel)
        choose = []
        for index, item, seats, places in seated:
            if seats is not None:
                plan.check(index, item, seats, places)
            else:
                choose.append((index, item, places))
        for group in cls.groups(choose):
            plan.choose(group)
        return plan

    @classmethod
    def groups(cls, choose):
        """The items to seat together: the places of one session, or the
        admissions of one line of passes (the same seats in each session)"""
        Tariff = Pool().get('ticket.tariff')
        groups = {}
        for index, item, places in choose:
            if item.get('component'):
                key = ('pass', item.get('pass_line'), item.get('tariff'))
            else:
                key = ('session', item['session'].id)
            groups.setdefault(key, []).append((index, item, places))
        result = []
        for key, members in groups.items():
            categories = None
            split = False
            for _, item, _ in members:
                tariff = item.get('tariff')
                allowed = (Tariff(tariff).allowed_seat_categories
                    if tariff else None)
                if allowed is not None:
                    categories = (allowed if categories is None
                        else categories & allowed)
                    split |= not categories
            if split:
                for member in members:
                    result.append(Group(key[0], [member], None))
            else:
                result.append(Group(key[0], members, categories))
        return result

    @classmethod
    def claim(cls, hold, plan, channel):
        "Book the seats of the plan for hold (its items in the given order)"
        items = sorted(hold.items, key=lambda i: i.id)
        for session_id, seats in plan.by_session().items():
            availability = plan.availability[session_id]
            Inventory.book(availability.session, availability.layout,
                list(seats), hold=hold,
                items={s: items[i].id for s, i in seats.items()},
                allowed=availability.allowed)

    # The API, the shop and the box office

    @classmethod
    def hold(cls, session, channel='web', quantity=None, seats=None,
            category=None, tariffs=None, wheelchair=False, allow_split=True,
            contingent=None, delay=None, public=True):
        """Hold seats of session priced by the engine: seats (picked on the
        map) or the best available ones for quantity, in category; tariffs
        is a list of (tariff, quantity), by default each seat's category's
        default tariff. public applies the isolated-seat rule to a pick.
        Return (hold, quote, choice); raise SeatingError or PricingError."""
        pool = Pool()
        Hold = pool.get('ticket.hold')
        PriceEngine = pool.get('ticket.price_engine')
        from guichet.ticket_pricing.engine import LineRequest, QuoteRequest
        if not session.seat_map:
            raise SeatingError(gettext(
                    'ticket_seating.msg_session_not_seated',
                    session=session.rec_name), 'seat_invalid')
        tariffs = list(tariffs or [])
        places = sum(q * t.tickets_per_unit for t, q in tariffs)
        sessions = [session]
        for tariff, _ in tariffs:
            if tariff.pass_kind:
                for component in tariff.components:
                    if component.admission_session not in sessions:
                        sessions.append(component.admission_session)
        size = len(seats) if seats is not None else quantity
        if tariffs and size is None:
            size = places
        if not is_quantity(size) or (tariffs and places != size):
            raise SeatingError(gettext(
                    'ticket_seating.msg_seat_quantity',
                    maximum=MAX_QUANTITY), 'seat_invalid')
        for other in sessions:
            if other.seat_map != session.seat_map:
                raise SeatingError(gettext(
                        'ticket_seating.msg_pass_maps',
                        session=other.rec_name), 'seat_invalid')
            other.check_on_sale(channel)
        Inventory.lock(sessions)
        availabilities = [Availability(s, channel, contingent)
            for s in sessions]
        layout = availabilities[0].layout
        states = allocation.combine(*(a.states for a in availabilities))
        defaults = None
        if not tariffs:
            defaults = default_tariffs(session, channel, size)
            if not defaults:
                raise SeatingError(gettext(
                        'ticket_seating.msg_no_tariff',
                        session=session.rec_name), 'tariff_seat')
        if seats is not None:
            choice = cls.check_pick(
                layout, states, seats, session, public, wheelchair)
        else:
            categories = None
            if tariffs:
                for tariff, _ in tariffs:
                    allowed = tariff.allowed_seat_categories
                    if allowed is not None:
                        categories = (allowed if categories is None
                            else categories & allowed)
            else:
                categories = frozenset(defaults)
            if category is not None:
                categories = (frozenset([category.id]) if categories is None
                    else categories & {category.id})
            seat_map = session.seat_map
            try:
                choice = allocation.choose(layout, states, allocation.Request(
                        quantity=size, categories=categories,
                        wheelchair=wheelchair,
                        isolated_rule=not seat_map.allow_isolated,
                        trigger=seat_map.isolated_trigger,
                        allow_split=allow_split))
            except NoSeatsError as error:
                raise no_seats(error, size)
        by_tariff = cls.assign_tariffs(choice.seats, tariffs, defaults)
        lines = [LineRequest(tariff=t, session=None if t.pass_kind
                else session, quantity=len(s) // t.tickets_per_unit)
            for t, s in by_tariff.items()]
        quote = PriceEngine.quote(QuoteRequest(lines=lines, channel=channel))
        items = quote.hold_items()
        for item in items:
            tariff = pool.get('ticket.tariff')(item['tariff'])
            item['seats'] = list(by_tariff[tariff])
        context = {'seat_preference': None}
        if contingent is not None:
            context['seat_contingent'] = contingent.id
        with Transaction().set_context(**context):
            hold = Hold.reserve(items, channel=channel, delay=delay,
                company=quote.company)
        return hold, quote, choice

    @classmethod
    def check_pick(cls, layout, states, seats, session, public, wheelchair):
        "The choice of seats picked on the map; raise SeatingError"
        Seat = Pool().get('ticket.seat')
        seat_map = session.seat_map
        ids = []
        for seat in seats:
            seat_id = int(seat)
            if seat_id in ids or seat_id not in layout.seat_index:
                raise SeatingError(gettext(
                        'ticket_seating.msg_seat_not_of_map',
                        map=seat_map.rec_name), 'seat_invalid')
            ids.append(seat_id)
        taken = [s for s in ids if _char(layout, states, s) != FREE]
        if taken:
            raise SeatingError(gettext('ticket_seating.msg_seat_taken',
                    seats=', '.join(s.rec_name
                        for s in Seat.browse(taken[:5]))), 'seat_taken')
        free = sum(s.count(FREE) for s in states if s)
        if (public and not seat_map.allow_isolated
                and free - len(ids) >= seat_map.isolated_trigger):
            single = isolated_by(layout, states, ids)
            if single:
                raise SeatingError(gettext(
                        'ticket_seating.msg_pick_isolates',
                        seat=Seat(single[0]).rec_name), 'isolated_seat')
        return allocation.Choice([ids])

    @classmethod
    def assign_tariffs(cls, seats, tariffs, defaults):
        """{tariff: [seat ids]}: the seats in order to the tariffs given in
        order (each to the first that sells its category and has places
        left), or each to its category's default tariff"""
        Seat = Pool().get('ticket.seat')
        result = {}
        left = [[t, q * t.tickets_per_unit] for t, q in tariffs]
        for seat in Seat.browse(seats):
            category = seat.category
            if tariffs:
                for entry in left:
                    tariff, count = entry
                    if count and tariff.sells_seat_category(category):
                        entry[1] -= 1
                        break
                else:
                    raise SeatingError(gettext(
                            'ticket_seating.msg_seat_tariff',
                            seat=seat.rec_name), 'tariff_seat')
            else:
                tariff = defaults.get(category.id) if category else None
                if tariff is None:
                    raise SeatingError(gettext(
                            'ticket_seating.msg_seat_no_tariff',
                            seat=seat.rec_name), 'tariff_seat')
            result.setdefault(tariff, []).append(seat.id)
        return result

    @classmethod
    def change(cls, hold, session, seats, public=True):
        """Give hold the seats picked instead of those it has in session,
        as many, each sold by the tariff of the seat it replaces"""
        pool = Pool()
        Booking = pool.get('ticket.seat.booking')
        Seat = pool.get('ticket.seat')
        Hold = pool.get('ticket.hold')
        Hold.check_live([hold])
        Inventory.lock([session])
        current = Booking.search([
                ('hold', '=', hold.id),
                ('session', '=', session.id),
                ('state', '=', 'held'),
                ])
        if not current or any(b.hold_item and b.hold_item.component
                for b in current):
            raise SeatingError(gettext(
                    'ticket_seating.msg_change_not_possible'),
                'seat_invalid')
        if len(seats) != len(current):
            raise SeatingError(gettext(
                    'ticket_seating.msg_change_count', count=len(current)),
                'seat_invalid')
        availability = Availability(session, hold.channel)
        layout = availability.layout
        mine = {b.seat.id for b in current}
        states = patch(layout, availability.states, mine, FREE)
        choice = cls.check_pick(layout, states, seats, session, public,
            False)
        current.sort(key=lambda b: layout.position(b.seat.id))
        new = choice.seats
        for booking, seat in zip(current, Seat.browse(new)):
            tariff = booking.tariff
            if tariff and not tariff.sells_seat_category(seat.category):
                raise SeatingError(gettext('ticket_seating.msg_seat_tariff',
                        seat=seat.rec_name), 'tariff_seat')
        ids = [b.id for b in current]
        Inventory.release(lambda t: t.id.in_(ids))
        Inventory.book(session, layout, new, hold=hold,
            items={s: b.hold_item.id if b.hold_item else None
                for b, s in zip(current, new)},
            allowed=availability.allowed)
        return hold


class Group:
    "Items seated together"

    def __init__(self, kind, members, categories):
        self.kind = kind
        self.members = members
        self.categories = categories

    @property
    def size(self):
        if self.kind == 'pass':
            return self.members[0][2]
        return sum(places for _, _, places in self.members)

    @property
    def sessions(self):
        return list(dict.fromkeys(item['session']
                for _, item, _ in self.members))


class Plan:
    "The seats of the items of a hold, chosen or given"

    def __init__(self, channel):
        self.channel = channel
        self.items = {}
        self.sessions = {}
        self.availability = {}

    def _availability(self, session, read=True):
        "The Availability of session, its strings read if read"
        availability = self.availability.get(session.id)
        if availability is None:
            contingent = Transaction().context.get('seat_contingent')
            Contingent = Pool().get('ticket.seat.contingent')
            availability = self.availability[session.id] = Availability(
                session, self.channel,
                Contingent(contingent) if contingent else None, read=False)
        if read and availability.states is None:
            availability.read()
        return availability

    def check(self, index, item, seats, places):
        "Check the seats given for an item (the claim checks they are free)"
        Tariff = Pool().get('ticket.tariff')
        Seat = Pool().get('ticket.seat')
        session = item['session']
        availability = self._availability(session, read=False)
        layout = availability.layout
        ids = [int(s) for s in seats]
        if len(ids) != places or len(set(ids)) != len(ids):
            raise SeatingError(gettext(
                    'ticket_seating.msg_seat_count', places=places),
                'seat_invalid')
        for seat_id in ids:
            if seat_id not in layout.seat_index:
                raise SeatingError(gettext(
                        'ticket_seating.msg_seat_not_of_map',
                        map=session.seat_map.rec_name), 'seat_invalid')
        for other, other_seats in self.items.items():
            if (self.sessions.get(other) == session.id
                    and set(other_seats) & set(ids)):
                raise SeatingError(gettext(
                        'ticket_seating.msg_seat_count', places=places),
                    'seat_invalid')
        tariff = item.get('tariff')
        if tariff:
            tariff = Tariff(tariff)
            for seat in Seat.browse(ids):
                if not tariff.sells_seat_category(seat.category):
                    raise SeatingError(gettext(
                            'ticket_seating.msg_seat_tariff',
                            seat=seat.rec_name), 'tariff_seat')
        self.items[index] = ids
        self.sessions[index] = session.id
        availability.take(ids)

    def choose(self, group):
        "Choose the best seats of a group of items"
        sessions = group.sessions
        availabilities = [self._availability(s) for s in sessions]
        first = sessions[0]
        for session in sessions[1:]:
            if session.seat_map != first.seat_map:
                raise SeatingError(gettext(
                        'ticket_seating.msg_pass_maps',
                        session=session.rec_name), 'seat_invalid')
        layout = availabilities[0].layout
        seat_map = first.seat_map
        size = group.size
        preferred = Transaction().context.get('seat_preference') or ()
        try:
            choice = allocation.choose(layout, allocation.combine(
                    *(a.states for a in availabilities)), allocation.Request(
                    quantity=size, categories=group.categories,
                    wheelchair=bool(
                        Transaction().context.get('seat_wheelchair')),
                    isolated_rule=not seat_map.allow_isolated,
                    trigger=seat_map.isolated_trigger,
                    preferred=tuple(preferred)))
        except NoSeatsError as error:
            raise no_seats(error, size)
        seats = choice.seats
        for availability in availabilities:
            availability.take(seats)
        if group.kind == 'pass':
            for index, item, _ in group.members:
                self.items[index] = list(seats)
                self.sessions[index] = item['session'].id
        else:
            start = 0
            for index, item, places in group.members:
                self.items[index] = seats[start:start + places]
                self.sessions[index] = item['session'].id
                start += places

    def by_session(self):
        "{session id: {seat id: item index}}"
        result = defaultdict(dict)
        for index, seats in self.items.items():
            for seat in seats:
                result[self.sessions[index]][seat] = index
        return result


def _char(layout, states, seat_id):
    index, position = layout.position(seat_id)
    state = states[index]
    return state[position] if state else None


def isolated_by(layout, states, seats):
    "The free seats that taking seats would leave single"
    by_row = defaultdict(set)
    for seat in seats:
        index, position = layout.position(seat)
        by_row[index].add(position)
    single = []
    for index, positions in by_row.items():
        row = layout.rows[index]
        for position in allocation.isolated_positions(
                states[index], positions):
            single.append(row.seat_ids[position])
    return single
