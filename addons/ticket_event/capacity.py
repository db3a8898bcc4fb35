"""Capacity pools and the one mechanism that takes and returns places.

Every change of a pool's ``held`` or ``sold`` counter goes through
``CapacityPool.move_places``: one conditional UPDATE per pool, pools taken in
ascending id order so that concurrent transactions lock them in the same
order, and a CHECK constraint in PostgreSQL that makes an oversell impossible
even for code that would bypass this service.
"""
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import Check, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import forget_records
from .exceptions import CapacityError
from .session import SaleValuesCacheMixin


class CapacityPool(SaleValuesCacheMixin, ModelSQL, ModelView):
    "A quota of places shared by one or more sessions"
    __name__ = 'ticket.pool'
    name = fields.Char("Name", required=True)
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    capacity = fields.Integer(
        "Capacity", required=True, domain=[('capacity', '>=', 0)])
    sessions = fields.Many2Many(
        'ticket.pool-ticket.session', 'pool', 'session', "Sessions",
        domain=[('event', '=', Eval('event', -1))])
    sold = fields.Integer("Sold", readonly=True, required=True)
    held = fields.Integer(
        "Held", readonly=True, required=True,
        help="Places in carts and in reserved orders awaiting payment.")
    available = fields.Function(
        fields.Integer("Available"), 'get_available')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('counts_positive', Check(t, (t.sold >= 0) & (t.held >= 0)),
                'ticket_event.msg_pool_counts_positive'),
            ('no_oversell', Check(t, t.sold + t.held <= t.capacity),
                'ticket_event.msg_pool_no_oversell'),
            ]
        cls._order = [('event', 'DESC'), ('id', 'ASC')]

    @classmethod
    def default_sold(cls):
        return 0

    @classmethod
    def default_held(cls):
        return 0

    @fields.depends('event', '_parent_event.company')
    def on_change_with_company(self, name=None):
        return self.event.company if self.event else None

    @classmethod
    def search_company(cls, name, clause):
        return [('event.company',) + tuple(clause[1:])]

    def get_available(self, name):
        return self.capacity - self.sold - self.held

    def get_rec_name(self, name):
        return f'{self.name} ({self.available}/{self.capacity})'

    @classmethod
    def copy(cls, pools, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('sold', 0)
        default.setdefault('held', 0)
        return super().copy(pools, default=default)

    @classmethod
    def move_places(cls, quantities, take=None, give=None):
        """Move places between the counters of pools.

        quantities maps a pool id to a number of places. Places are taken
        from the free capacity into the counter named by take ('held' or
        'sold') and given back from the counter named by give. Either all
        pools change or none does and CapacityError is raised.
        """
        assert take in {None, 'held', 'sold'}
        assert give in {None, 'held', 'sold'}
        moved = []
        try:
            for pool_id in sorted(quantities):
                quantity = quantities[pool_id]
                if not quantity:
                    continue
                if not cls._move(pool_id, quantity, take, give):
                    for moved_id, moved_quantity in reversed(moved):
                        cls._move(
                            moved_id, -moved_quantity, take, give,
                            check=False)
                    forget_records(cls, quantities)
                    pool = cls(pool_id)
                    raise CapacityError(gettext(
                            'ticket_event.msg_pool_full',
                            pool=pool.name,
                            available=max(pool.available, 0),
                            quantity=quantity))
                moved.append((pool_id, quantity))
        finally:
            forget_records(cls, quantities)

    @classmethod
    def _move(cls, pool_id, quantity, take, give, check=True):
        """Move quantity places of one pool by a conditional UPDATE (which
        locks the row); return whether the pool had them.

        Without check, the UPDATE is unconditional: it undoes a move of the
        same transaction when given the opposite quantity."""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns, values = [], []
        where = table.id == pool_id
        if take:
            column = getattr(table, take)
            columns.append(column)
            values.append(column + quantity)
            if check and give is None:
                where &= table.capacity - table.sold - table.held >= quantity
        if give:
            column = getattr(table, give)
            columns.append(column)
            values.append(column - quantity)
            if check:
                where &= column >= quantity
        cursor.execute(*table.update(
                columns, values, where=where, returning=[table.id]))
        return cursor.fetchone() is not None

    @classmethod
    def quantities_for(cls, items):
        """Return the places per pool that hold items consume.

        items is an iterable of dict with 'session', 'quantity', optional
        'places_per_unit' (default 1; 2 for a couple rate), 'pools' (extra
        pools the places count in, e.g. a category's or a tariff's) and
        'in_session_capacity' (default True; False for admissions outside
        the session's capacity such as press or parking).
        """
        quantities = defaultdict(int)
        for item in items:
            places = item['quantity'] * item.get('places_per_unit', 1)
            pools = set()
            if item.get('in_session_capacity', True):
                # the session's pools, kept per process (Session.sale_values)
                pools.update(item['session'].sale_values['pools'])
            pools.update(p if isinstance(p, int) else p.id
                for p in (item.get('pools') or []))
            for pool_id in pools:
                quantities[pool_id] += places
        return {p: q for p, q in quantities.items() if q}

    @classmethod
    def check_counts(cls, pools=None):
        """Return the pools whose counters differ from their allocations,
        as (pool, held, sold, expected held, expected sold)"""
        Allocation = Pool().get('ticket.allocation')
        if pools is None:
            pools = cls.search([])
        expected = {p.id: {'held': 0, 'sold': 0} for p in pools}
        for allocation in Allocation.search([
                    ('pool', 'in', [p.id for p in pools]),
                    ('state', 'in', ['held', 'sold']),
                    ]):
            expected[allocation.pool.id][allocation.state] += (
                allocation.quantity)
        return [(p, p.held, p.sold, expected[p.id]['held'],
                expected[p.id]['sold'])
            for p in pools
            if (p.held, p.sold) != (
                expected[p.id]['held'], expected[p.id]['sold'])]


class PoolSession(SaleValuesCacheMixin, ModelSQL):
    __name__ = 'ticket.pool-ticket.session'
    pool = fields.Many2One(
        'ticket.pool', "Pool", required=True, ondelete='CASCADE')
    session = fields.Many2One(
        'ticket.session', "Session", required=True, ondelete='CASCADE')
