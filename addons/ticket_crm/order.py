"""Keep the customer summary (stat.py) in step with the orders, their lines
and the admissions of their passes."""
from trytond.model import Index
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

# The order fields that change what a customer bought
WATCHED = {'state', 'party', 'paid_at', 'company'}


def _stat():
    return Pool().get('ticket.crm.party.stat')


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.party, Index.Range()),
                    (t.state, Index.Equality(cardinality='low'))),
                })

    # the context only spares the refresh of the lines created with the
    # orders by the ORM: those of ticket_event Order.insert_plain have none
    _plain_insert_skips_create = True

    @classmethod
    def create(cls, vlist):
        # the lines created with the orders are summed with them (by
        # on_modification)
        with Transaction().set_context(_crm_orders_created=True):
            return super().create(vlist)

    @classmethod
    def on_modification(cls, mode, orders, field_names=None):
        # (on the creation of the ORM and on that of insert_plain)
        super().on_modification(mode, orders, field_names=field_names)
        if mode != 'create':
            return
        # A new order is usually not paid: its buyer only becomes a customer
        cls._add_customers(orders)
        _stat().refresh(orders=[o for o in orders
                if o.state == 'paid' and o.party])

    @classmethod
    def _add_customers(cls, orders):
        """Add the summary rows that the buyers of orders lack (as
        PartyStat.add_customers) from the orders' rows: their party field
        (of a company context) would be read again, not taken from the
        transaction's cache"""
        ids = [o.id for o in orders]
        if not ids:
            return
        cursor = Transaction().connection.cursor()
        cursor.execute('''
            INSERT INTO ticket_crm_party_stat AS st (create_uid, create_date,
                party, company, orders, amount)
            SELECT DISTINCT %s, CURRENT_TIMESTAMP, o.party, o.company, 0, 0
            FROM ticket_order o
            WHERE o.id = ANY(%s) AND o.party IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM ticket_crm_party_stat s
                    WHERE s.party = o.party AND s.company = o.company)
            ORDER BY o.party, o.company
            ON CONFLICT (company, party) DO NOTHING''',
            (Transaction().user, ids))

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        changed, paid = [], []
        for records, values in zip(actions, actions):
            watched = WATCHED & set(values)
            if not watched:
                continue
            for order in records:
                if (values.get('state') == 'paid'
                        and watched <= {'state', 'paid_at'}
                        and order.state != 'paid'):
                    # The payment (with its date or not): added to the sums
                    paid.append(order)
                elif (order.state == 'paid' or values.get('state') == 'paid'
                        or {'party', 'company'} & watched):
                    # Only paid orders have detail rows; the buyer or the
                    # company of any order makes a customer
                    changed.append(order)
        if changed:
            # The buyers before the change (those of unpaid orders are not
            # in the detail rows)
            parties = [o.party for o in changed if o.party]
        super().write(*args)
        if paid:
            _stat().add_paid(paid)
        if changed:
            _stat().refresh(orders=changed, parties=parties)

    @classmethod
    def _write_paid(cls, orders, values):
        "The orders just paid by SQL (not through write): added to the sums"
        written = super()._write_paid(orders, values)
        if written:
            _stat().add_paid(orders)
        return written

    @classmethod
    def delete(cls, orders):
        parties = [o.party for o in orders if o.party]
        super().delete(orders)
        _stat().refresh(parties=parties)


class _RefreshPaidOrders:
    "Refresh the paid orders of the records created, changed or deleted"
    __slots__ = ()
    # the lines of a new order (ticket_event Order.insert_plain) need no
    # refresh: a new order is not paid (and they are created with it)
    _plain_insert_skips_create = True

    @classmethod
    def create(cls, vlist):
        records = super().create(vlist)
        if not Transaction().context.get('_crm_orders_created'):
            _stat().refresh(orders=_stat().orders_of(cls.__name__, records))
        return records

    _crm_watched = set()

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        records = [r for records, values in zip(actions, actions)
            if cls._crm_watched & set(values) for r in records]
        if not records:
            return super().write(*args)
        before = _stat().orders_of(cls.__name__, records)
        super().write(*args)
        _stat().refresh(orders=before + _stat().orders_of(
                cls.__name__, records))

    @classmethod
    def delete(cls, records):
        orders = _stat().orders_of(cls.__name__, records)
        super().delete(records)
        _stat().refresh(orders=orders)


class OrderLine(_RefreshPaidOrders, metaclass=PoolMeta):
    __name__ = 'ticket.order.line'
    _crm_watched = {'order', 'session', 'tariff', 'quantity', 'unit_price',
        'total_amount'}


class Admission(_RefreshPaidOrders, metaclass=PoolMeta):
    __name__ = 'ticket.ticket.admission'
    _crm_watched = {'ticket', 'session'}
