"""Seats through the core hold service: holds take seats with their places,
orders sell them, tickets carry them, and every way a hold or an order ends
gives them back.

``Hold.reserve`` takes the seats given with the items of a seated session
(``item['seats']``), or chooses the best available ones; the seats are
claimed in the hold's transaction, after its places
(``SeatService.plan`` / ``SeatService.claim``).
"""
import contextvars
from collections import defaultdict

from sql import Null
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import Exclude, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .inventory import Inventory


# The orders being paid (Order._pay) whose lines may have seats, gathered
# by Ticket.issue
_seated = contextvars.ContextVar('ticket_seating_seated', default=None)


def _may_be_seated(line):
    """Whether seats may be booked for order line: a session with a seat
    map, or a pass (its sessions' seats), from the values kept per process
    (Session.sale_values, Tariff.catalogue); the seats are booked for the
    sessions of the hold items the lines are made from, never for a line
    without a session (a fee, an add-on) but through a pass"""
    tariff = getattr(line, 'tariff', None)
    if tariff is not None and tariff.catalogue['pass_kind']:
        return True
    session = line.session
    return session is not None and session.sale_values['seat_map'] is not None


class Hold(metaclass=PoolMeta):
    __name__ = 'ticket.hold'
    seats = fields.One2Many(
        'ticket.seat.booking', 'hold', "Seats", readonly=True)

    @classmethod
    def reserve(cls, items, channel='web', delay=None, company=None):
        """Hold places and, for a seated session, seats: those of
        item['seats'] (seat ids) or the best available ones"""
        Service = Pool().get('ticket.seat.service')
        plan = Service.plan(items, channel)
        hold = super().reserve(
            items, channel=channel, delay=delay, company=company)
        if plan:
            Service.claim(hold, plan, channel)
        return hold

    @classmethod
    def reserve_quote(cls, quote, delay=None):
        "A renewed season pass keeps the seat of the pass it renews"
        seats = [r.map_seat.id for line in quote.lines
            for r in getattr(line, 'renewals', []) or [] if r.map_seat]
        with Transaction().set_context(seat_preference=seats or None):
            return super().reserve_quote(quote, delay=delay)

    @classmethod
    def convert(cls, holds, order):
        Booking = Pool().get('ticket.seat.booking')
        allocations = super().convert(holds, order)
        table = Booking.__table__()
        Transaction().connection.cursor().execute(*table.update(
                [table.order], [order.id],
                where=table.hold.in_([h.id for h in holds])
                & (table.state == 'held')))
        return allocations

    @classmethod
    def _end(cls, holds, state):
        "The seats of an ended hold return to sale (or to their contingent)"
        ended = super()._end(holds, state)
        if ended:
            ids = [h.id for h in ended]
            Inventory.release(
                lambda t: t.hold.in_(ids) & (t.order == Null))
        return ended


class HoldItem(metaclass=PoolMeta):
    __name__ = 'ticket.hold.item'
    seats = fields.One2Many(
        'ticket.seat.booking', 'hold_item', "Seats", readonly=True)
    seat_labels = fields.Function(
        fields.Char("Seats"), 'get_seat_labels')

    def get_seat_labels(self, name):
        return ', '.join(b.seat.rec_name for b in self.seats
            if b.state in {'held', 'sold'}) or None


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'
    seat_bookings = fields.One2Many(
        'ticket.seat.booking', 'order', "Seats", readonly=True)

    @classmethod
    def _pay(cls, orders):
        "The seats of a paid order are sold"
        # the tickets issued by the payment tell whether its orders may
        # have seats (Ticket.issue): none for the sessions without a map
        token = _seated.set(set())
        try:
            super()._pay(orders)
            seated = _seated.get()
        finally:
            _seated.reset(token)
        ids = [o.id for o in orders if o.id in seated]
        if ids:
            Inventory.move(lambda t: t.order.in_(ids), 'held', 'sold')

    @classmethod
    def cancel(cls, orders):
        super().cancel(orders)
        cls._release_seats(orders)

    @classmethod
    def expire(cls, orders):
        super().expire(orders)
        cls._release_seats(orders)

    @classmethod
    def _release_seats(cls, orders):
        "The seats of ended orders return to sale (or their contingent)"
        ended = [o.id for o in cls.browse(orders)
            if o.state in {'cancelled', 'expired'}]
        if ended:
            Inventory.release(lambda t: t.order.in_(ended),
                states=('held', 'sold'))


class Ticket(metaclass=PoolMeta):
    __name__ = 'ticket.ticket'
    seat = fields.Many2One(
        'ticket.seat', "Seat", readonly=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('seat_once',
                Exclude(t, (t.session, Equal), (t.seat, Equal),
                    where=(t.seat != Null) & (t.state != 'cancelled')),
                'ticket_seating.msg_ticket_seat_once'),
            ]

    @classmethod
    def issue(cls, lines):
        "Each ticket of a seated session carries one of its order's seats"
        Subscription = Pool().get('ticket.subscription')
        seated = _seated.get()
        if seated is not None:
            # paying orders: only the orders whose lines may have seats
            # have bookings to sell and to give to their tickets
            seated.update(l.order.id for l in lines if _may_be_seated(l))
        tickets = super().issue(lines)
        cls.assign_seats([t for t in tickets
                if seated is None or t.order.id in seated])
        Subscription.set_seats(tickets)
        return tickets

    @classmethod
    def assign_seats(cls, tickets):
        """Give each ticket a seat booked by its order for its session and
        tariff; the seat of a pass holds for all its sessions"""
        pool = Pool()
        Booking = pool.get('ticket.seat.booking')
        orders = list({t.order.id for t in tickets})
        if not orders:
            return
        bookings = Booking.search([
                ('order', 'in', orders),
                ('state', 'in', ['held', 'sold']),
                ('ticket', '=', None),
                ])
        if not bookings:
            return
        bookings.sort(key=lambda b: (b.seat.row.id, b.seat.position or 0,
                b.seat.id))
        free = defaultdict(list)
        others = defaultdict(list)
        for booking in bookings:
            tariff = booking.tariff.id if booking.tariff else None
            free[(booking.order.id, booking.session.id, tariff)].append(
                booking)
            others[(booking.order.id, booking.seat.id, tariff)].append(
                booking)
        table = Booking.__table__()
        cursor = Transaction().connection.cursor()
        seated = []
        for ticket in sorted(tickets, key=lambda t: t.id):
            line = ticket.line
            tariff = getattr(line, 'tariff', None) if line else None
            key = (ticket.order.id, ticket.session.id if ticket.session
                else None, tariff.id if tariff else None)
            if not free.get(key):
                continue
            booking = free[key].pop(0)
            ticket.seat = booking.seat
            seated.append(ticket)
            same = [booking]
            if tariff and tariff.pass_kind:
                sessions = {c.admission_session.id
                    for c in getattr(line, 'components', [])}
                same += [b for b in others[(ticket.order.id,
                            booking.seat.id, key[2])]
                    if b is not booking and b.ticket is None
                    and b.session.id in sessions]
            for other in same:
                other.ticket = ticket
                if other is not booking:
                    rest = free[(other.order.id, other.session.id, key[2])]
                    if other in rest:
                        rest.remove(other)
            cursor.execute(*table.update([table.ticket], [ticket.id],
                    where=table.id.in_([b.id for b in same])))
        cls.save(seated)

    @property
    def admission_labels(self):
        "The seat prints above the admissions"
        labels = super().admission_labels
        if self.seat:
            labels = [gettext('ticket_seating.msg_ticket_seat',
                    seat=self.seat.rec_name)] + labels
        return labels
