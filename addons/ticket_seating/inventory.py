"""The seat inventory of a session: the one mechanism that takes and gives
back seats.

Two tables hold it:

- ``ticket.seat.row_state``: per session and row, a string with one
  character per position (``allocation.STATES``). Best available reads a
  whole session with one query; every change of a seat's status is a
  conditional UPDATE of its row's string (``Inventory.set``), which also
  locks the row until the end of the transaction.
- ``ticket.seat.booking``: per seat of a session that is not free, who has
  it (hold, order, ticket, contingent). A unique index on (session, seat)
  over the bookings in force makes a second sale of a seat impossible in
  PostgreSQL, whatever the code that tries.

Order of the locks, everywhere: the session's seating lock (an advisory
lock taken by whoever chooses or blocks seats, ``Inventory.lock``), then the
capacity pools (``ticket.pool``), then the rows' strings and the bookings.
"""
import datetime as dt
import zlib
from collections import defaultdict

from sql import Null
from sql.conditionals import Case
from sql.functions import Overlay, Substring

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from guichet.ticket_event.common import forget_records

from . import allocation
from .allocation import BLOCKED, CONTINGENT, FREE, HELD, SOLD
from .exceptions import SeatingError

BOOKING_STATES = [
    ('held', "Held"),
    ('sold', "Sold"),
    ('blocked', "Blocked"),
    ('contingent', "Contingent"),
    ('released', "Released"),
    ]
IN_FORCE = ('held', 'sold', 'blocked', 'contingent')
CHAR = {'held': HELD, 'sold': SOLD, 'blocked': BLOCKED,
    'contingent': CONTINGENT, 'released': FREE}
# The first key of the advisory locks of seating (crc32 of the name).
LOCK_SPACE = zlib.crc32(b'ticket_seating') & 0x7fffffff
UNIQUE_INDEX = 'ticket_seat_booking_seat_once'


class RowState(ModelSQL):
    "The statuses of the seats of a row for a session"
    __name__ = 'ticket.seat.row_state'
    session = fields.Many2One(
        'ticket.session', "Session", required=True, ondelete='CASCADE')
    row = fields.Many2One(
        'ticket.seat.row', "Row", required=True, ondelete='RESTRICT')
    states = fields.Char("States", required=True, strip=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('session_row_unique', Unique(t, t.session, t.row),
                'ticket_seating.msg_row_state_unique'),
            ]


class Booking(ModelSQL, ModelView):
    "A seat of a session that is not free"
    __name__ = 'ticket.seat.booking'
    session = fields.Many2One(
        'ticket.session', "Session", required=True, readonly=True,
        ondelete='CASCADE')
    seat = fields.Many2One(
        'ticket.seat', "Seat", required=True, readonly=True,
        ondelete='RESTRICT')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'get_company', searcher='search_company')
    state = fields.Selection(
        BOOKING_STATES, "State", required=True, readonly=True)
    hold = fields.Many2One(
        'ticket.hold', "Hold", readonly=True, ondelete='SET NULL')
    hold_item = fields.Many2One(
        'ticket.hold.item', "Hold Item", readonly=True, ondelete='SET NULL')
    order = fields.Many2One(
        'ticket.order', "Order", readonly=True, ondelete='RESTRICT')
    ticket = fields.Many2One(
        'ticket.ticket', "Ticket", readonly=True, ondelete='SET NULL')
    contingent = fields.Many2One(
        'ticket.seat.contingent', "Contingent", readonly=True,
        ondelete='RESTRICT')
    tariff = fields.Function(
        fields.Many2One('ticket.tariff', "Tariff"), 'get_tariff')
    holder = fields.Function(
        fields.Char("Holder", help="Who has the seat."), 'get_holder')
    note = fields.Char("Note", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.session, Index.Range()),
                    (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.hold, Index.Range())),
                Index(t, (t.order, Index.Range())),
                Index(t, (t.ticket, Index.Range())),
                Index(t, (t.contingent, Index.Range())),
                })
        cls._order = [('session', 'DESC'), ('seat', 'ASC'), ('id', 'DESC')]

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # A seat is sold (held, blocked...) at most once per session.
        Transaction().connection.cursor().execute(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{UNIQUE_INDEX}" '
            f'ON "{cls._table}" (session, seat) '
            "WHERE state IN ('held', 'sold', 'blocked', 'contingent')")

    def get_company(self, name):
        return self.session.event.company.id

    @classmethod
    def search_company(cls, name, clause):
        return [('session.event.company',) + tuple(clause[1:])]

    def get_tariff(self, name):
        if self.hold_item and getattr(self.hold_item, 'tariff', None):
            return self.hold_item.tariff.id

    def get_holder(self, name):
        if self.ticket and self.ticket.holder_name:
            return self.ticket.holder_name
        if self.order:
            if self.order.party:
                return self.order.party.rec_name
            return self.order.email or self.order.number
        if self.hold and self.state == 'held':
            return gettext('ticket_seating.msg_holder_cart',
                hold=self.hold.token[:8])
        if self.contingent:
            return self.contingent.rec_name
        return self.note

    def get_rec_name(self, name):
        return f'{self.seat.rec_name} @ {self.session.rec_name}'


class Inventory:
    "The service that reads and changes the seats of sessions"

    @staticmethod
    def lock(sessions):
        """Take the seating lock of sessions (in id order) until the end of
        the transaction: whoever chooses or blocks seats holds it"""
        cursor = Transaction().connection.cursor()
        for session_id in sorted({int(s) for s in sessions}):
            cursor.execute(
                'SELECT pg_advisory_xact_lock(%s, %s)',
                (LOCK_SPACE, session_id))

    @staticmethod
    def setup(sessions):
        "Create the row strings of sessions on their map, all seats free"
        RowState = Pool().get('ticket.seat.row_state')
        table = RowState.__table__()
        cursor = Transaction().connection.cursor()
        user = Transaction().user
        now = dt.datetime.now()
        values = []
        for session in sessions:
            if not session.seat_map:
                continue
            layout = session.seat_map.get_layout()
            values.extend([session.id, row.id, row.template, user, now]
                for row in layout.rows)
        for sub in grouped_slice(values, 1000):
            cursor.execute(*table.insert(
                    [table.session, table.row, table.states,
                        table.create_uid, table.create_date], list(sub)))

    @staticmethod
    def teardown(sessions):
        "Drop the seat inventory of sessions that have no booking in force"
        pool = Pool()
        RowState = pool.get('ticket.seat.row_state')
        Booking = pool.get('ticket.seat.booking')
        ids = [int(s) for s in sessions]
        if not ids:
            return
        if Booking.search([
                    ('session', 'in', ids),
                    ('state', 'in', IN_FORCE),
                    ], limit=1):
            session, = Booking.search([
                    ('session', 'in', ids),
                    ('state', 'in', IN_FORCE),
                    ], limit=1)
            raise SeatingError(gettext(
                    'ticket_seating.msg_session_map_booked',
                    session=session.session.rec_name))
        table = RowState.__table__()
        booking = Booking.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.delete(where=table.session.in_(ids)))
        cursor.execute(*booking.delete(where=booking.session.in_(ids)))

    @staticmethod
    def states(session, layout):
        "The row strings of session, in the order of layout.rows"
        RowState = Pool().get('ticket.seat.row_state')
        table = RowState.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.row, table.states,
                where=table.session == int(session)))
        states = [None] * len(layout.rows)
        index = layout.row_index
        for row_id, value in cursor:
            position = index.get(row_id)
            if position is not None:
                states[position] = value
        return states

    @staticmethod
    def set(session, layout, changes):
        """Change the status of seats of session: changes maps a seat id to
        (expected status character, new character). Each row changes by
        one UPDATE conditional on the expected characters; return the
        seats whose row did not match (nothing of those rows changed)"""
        RowState = Pool().get('ticket.seat.row_state')
        table = RowState.__table__()
        cursor = Transaction().connection.cursor()
        by_row = defaultdict(dict)
        for seat_id, change in changes.items():
            index, position = layout.position(seat_id)
            by_row[index][position] = change
        failed = []
        for index in sorted(by_row, key=lambda i: layout.rows[i].id):
            positions = by_row[index]
            value = table.states
            where = (table.session == int(session)) & (
                table.row == layout.rows[index].id)
            for start, expected, new in _runs(positions):
                length = len(new)
                where &= Substring(table.states, start + 1, length) == (
                    expected)
                value = Overlay(value, new, start + 1, length)
            cursor.execute(*table.update([table.states], [value],
                    where=where, returning=[table.id]))
            if cursor.fetchone() is None:
                row = layout.rows[index]
                failed.extend(row.seat_ids[p] for p in positions)
        return failed

    @classmethod
    def book(cls, session, layout, seats, hold=None, items=None,
            state='held', contingent=None, note=None, allowed=None):
        """Take seats of session (free, or in a contingent of allowed) for
        hold (each seat's hold item in items), or block them or put them in
        contingent. Raise SeatingError 'seat_taken' naming the seats gone."""
        pool = Pool()
        Booking = pool.get('ticket.seat.booking')
        Seat = pool.get('ticket.seat')
        table = Booking.__table__()
        cursor = Transaction().connection.cursor()
        seats = list(dict.fromkeys(int(s) for s in seats))
        from_contingent = {}
        if allowed:
            cursor.execute(*table.select(table.seat, table.id,
                    where=(table.session == int(session))
                    & (table.state == 'contingent')
                    & table.contingent.in_([int(c) for c in allowed])
                    & table.seat.in_(seats)))
            from_contingent = dict(cursor)
        char = CHAR[state]
        failed = cls.set(session, layout, {
                s: (CONTINGENT if s in from_contingent else FREE, char)
                for s in seats})
        if failed:
            raise SeatingError(gettext('ticket_seating.msg_seat_taken',
                    seats=', '.join(
                        s.rec_name for s in Seat.browse(failed[:5]))),
                'seat_taken')
        now = dt.datetime.now()
        user = Transaction().user
        items = items or {}
        hold_id = int(hold) if hold else None
        inserts = []
        for seat_id in seats:
            item = items.get(seat_id)
            item = int(item) if item else None
            if seat_id in from_contingent:
                cursor.execute(*table.update(
                        [table.state, table.hold, table.hold_item,
                            table.write_uid, table.write_date],
                        [state, hold_id, item, user, now],
                        where=(table.id == from_contingent[seat_id])
                        & (table.state == 'contingent')))
            else:
                inserts.append([int(session), seat_id, state, hold_id, item,
                        int(contingent) if contingent else None, note, user,
                        now])
        try:
            for sub in grouped_slice(inserts, 1000):
                cursor.execute(*table.insert(
                        [table.session, table.seat, table.state, table.hold,
                            table.hold_item, table.contingent, table.note,
                            table.create_uid, table.create_date],
                        list(sub)))
        except backend.DatabaseIntegrityError:
            raise SeatingError(gettext('ticket_seating.msg_seat_taken',
                    seats=', '.join(s.rec_name for s in Seat.browse(
                            seats[:5]))), 'seat_taken')

    @classmethod
    def release(cls, where, states=('held',)):
        """End the bookings in states matching where (a function giving a
        condition on the booking table): a seat of an active contingent
        returns to it, the others to sale; return the bookings ended"""
        pool = Pool()
        Booking = pool.get('ticket.seat.booking')
        Contingent = pool.get('ticket.seat.contingent')
        table = Booking.__table__()
        contingent = Contingent.__table__()
        cursor = Transaction().connection.cursor()
        back = table.contingent.in_(contingent.select(
                contingent.id, where=contingent.state == 'active'))
        cursor.execute(*table.update(
                [table.state, table.hold, table.hold_item, table.order,
                    table.ticket, table.write_date],
                [Case((back, 'contingent'), else_='released'),
                    Case((back, Null), else_=table.hold),
                    Case((back, Null), else_=table.hold_item),
                    Case((back, Null), else_=table.order),
                    Case((back, Null), else_=table.ticket),
                    dt.datetime.now()],
                where=where(table) & table.state.in_(list(states)),
                returning=[table.id, table.session, table.seat,
                    table.state]))
        ended = list(cursor)
        cls._apply(ended, expected=None)
        forget_records(Booking, [b[0] for b in ended])
        return [b[0] for b in ended]

    @classmethod
    def move(cls, where, from_state, to_state):
        """Move the bookings in from_state matching where (a function
        giving a condition on the booking table) to to_state"""
        Booking = Pool().get('ticket.seat.booking')
        table = Booking.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.state, table.write_date],
                [to_state, dt.datetime.now()],
                where=where(table) & (table.state == from_state),
                returning=[table.id, table.session, table.seat,
                    table.state]))
        moved = list(cursor)
        cls._apply(moved, expected=CHAR[from_state])
        forget_records(Booking, [b[0] for b in moved])
        return [b[0] for b in moved]

    @classmethod
    def _apply(cls, bookings, expected=None):
        """Write the state of bookings (id, session, seat, state) into the
        row strings; expected is the character each had, None for any"""
        Session = Pool().get('ticket.session')
        by_session = defaultdict(dict)
        for _, session, seat, state in bookings:
            by_session[session][seat] = CHAR[state]
        for session in Session.browse(sorted(by_session)):
            layout = session.seat_map.get_layout()
            changes = {}
            for seat, char in by_session[session.id].items():
                changes[seat] = (expected, char)
            cls._overwrite(session, layout, changes)

    @classmethod
    def _overwrite(cls, session, layout, changes):
        "Set characters whatever they were (expected None) or checked"
        if all(e is not None for e, _ in changes.values()):
            failed = cls.set(session, layout, changes)
            if failed:
                raise SeatingError(gettext(
                        'ticket_seating.msg_inventory_drift',
                        session=session.rec_name), 'seat_taken')
            return
        RowState = Pool().get('ticket.seat.row_state')
        table = RowState.__table__()
        cursor = Transaction().connection.cursor()
        by_row = defaultdict(dict)
        for seat_id, (_, new) in changes.items():
            index, position = layout.position(seat_id)
            by_row[index][position] = (None, new)
        for index in sorted(by_row, key=lambda i: layout.rows[i].id):
            value = table.states
            for start, _, new in _runs(by_row[index]):
                value = Overlay(value, new, start + 1, len(new))
            cursor.execute(*table.update([table.states], [value],
                    where=(table.session == session.id)
                    & (table.row == layout.rows[index].id)))

    @staticmethod
    def counts(sessions):
        """The number of seats per status of sessions: {session id: {status
        name: count}}"""
        RowState = Pool().get('ticket.seat.row_state')
        table = RowState.__table__()
        cursor = Transaction().connection.cursor()
        result = {int(s): dict.fromkeys(allocation.STATES.values(), 0)
            for s in sessions}
        for sub in grouped_slice(list(result)):
            cursor.execute(*table.select(table.session, table.states,
                    where=table.session.in_(list(sub))))
            for session, states in cursor:
                for char, name in allocation.STATES.items():
                    result[session][name] += states.count(char)
        return result

    @staticmethod
    def check(session):
        """The seats whose status in the row strings differs from the
        bookings in force, as (seat id, string status, booking status)"""
        pool = Pool()
        Booking = pool.get('ticket.seat.booking')
        layout = session.seat_map.get_layout()
        states = Inventory.states(session, layout)
        table = Booking.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.seat, table.state,
                where=(table.session == session.id)
                & table.state.in_(list(IN_FORCE))))
        booked = {seat: CHAR[state] for seat, state in cursor}
        drift = []
        for index, row in enumerate(layout.rows):
            state = states[index]
            for position, seat_id in enumerate(row.seat_ids):
                if seat_id is None:
                    continue
                char = state[position] if state else None
                expected = booked.get(seat_id, FREE)
                if char != expected:
                    drift.append((seat_id, char, expected))
        return drift


def _runs(positions):
    """Group {position: (expected, new)} into runs of consecutive positions
    as (start, expected string or None, new string)"""
    runs = []
    for position in sorted(positions):
        expected, new = positions[position]
        if runs and runs[-1][0] + len(runs[-1][2]) == position and (
                (runs[-1][1] is None) == (expected is None)):
            start, exp, value = runs[-1]
            runs[-1] = (start, exp + expected if exp is not None else None,
                value + new)
        else:
            runs.append((position, expected, new))
    return runs
