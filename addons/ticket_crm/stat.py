"""The customer summary the segments and the RFM scores read.

Counting a segment of a 500,000-customer database from the orders, their
lines and the passes' admissions means scanning millions of rows each time.
Three tables, kept in step with the orders, make it a scan of one narrow
table plus an indexed look-up per filter:

- ``ticket.crm.purchase``: one row per session bought in a paid order with
  a buyer (the sessions of the lines and those a pass admits to), with the
  order's party, company, payment date and the tariff (the purchase filters
  of the segments read it, joining the small session and event tables);
- ``ticket.crm.spend``: one row per paid order with a buyer: party,
  company, payment date and amount (the sum of its lines), for the order
  count and amount filters between dates;
- ``ticket.crm.party.stat``: one row per customer of a company (a party
  with an order, whatever its state, or a consent there) with its paid
  orders, amount spent, first and last purchase: the base of every segment,
  the order count and amount filters without dates, and the RFM input.

``PartyStat.refresh`` rebuilds the rows of some orders or parties in a few
set-based statements. It is called when an order is paid, cancelled,
refunded, deleted or changes buyer (a new order only adds its buyer's
summary row, ``add_customers``), when the lines or
pass admissions of a paid order change, when a consent is recorded and
when two parties are merged: counts stay exact in the transaction that
changes the orders. ``PartyStat.rebuild`` recomputes everything (at
installation and by the nightly RFM cron, as a safety net for changes made
outside the ORM)."""
from trytond import backend
from trytond.model import Index, ModelSQL, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pyson import Eval
from trytond.transaction import Transaction

# The first key of the advisory locks taken on the parties refreshed
LOCK_KEY = 0x6372_6d00  # 'crm\0'


def _ids(records):
    return sorted({int(r) for r in records if r is not None})


class Purchase(ModelSQL):
    "A session bought by a customer"
    __name__ = 'ticket.crm.purchase'
    # Plain ids, no foreign keys: the rows are rebuilt in bulk and
    # deleted with their order or party by PartyStat.refresh
    order = fields.Integer("Order", required=True)
    party = fields.Integer("Customer", required=True)
    company = fields.Integer("Company", required=True)
    paid_at = fields.DateTime("Paid At")
    session = fields.Integer("Session", required=True)
    tariff = fields.Integer("Tariff")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.company, Index.Equality()),
                    (t.session, Index.Equality()),
                    (t.paid_at, Index.Range()),
                    include=[t.party, t.tariff]),
                Index(t, (t.company, Index.Equality()),
                    (t.paid_at, Index.Range()),
                    include=[t.party, t.session, t.tariff]),
                Index(t, (t.party, Index.Equality())),
                })


class Spend(ModelSQL):
    "A paid order of a customer"
    __name__ = 'ticket.crm.spend'
    # Plain ids, no foreign keys: the rows are rebuilt in bulk and
    # deleted with their order or party by PartyStat.refresh
    order = fields.Integer("Order", required=True)
    party = fields.Integer("Customer", required=True)
    company = fields.Integer("Company", required=True)
    paid_at = fields.DateTime("Paid At")
    amount = fields.Numeric("Amount")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('order_unique', Unique(t, t.order),
                'ticket_crm.msg_spend_order_unique'),
            ]
        cls._sql_indexes.update({
                # read in party order: the orders and amounts between
                # dates are summed per party without a hash table
                Index(t, (t.company, Index.Equality()),
                    (t.party, Index.Range()), (t.paid_at, Index.Range()),
                    include=[t.amount]),
                Index(t, (t.party, Index.Equality())),
                })


class PartyStat(ModelSQL):
    "The purchases of a customer, summed up"
    __name__ = 'ticket.crm.party.stat'
    party = fields.Many2One(
        'party.party', "Customer", required=True, ondelete='CASCADE',
        context={'company': Eval('company', -1)}, depends={'company'})
    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='CASCADE')
    orders = fields.Integer("Paid Orders")
    amount = Monetary("Amount Spent", currency='currency', digits='currency')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    first_purchase = fields.DateTime("First Purchase")
    last_purchase = fields.DateTime("Last Purchase")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('company_party_unique', Unique(t, t.company, t.party),
                'ticket_crm.msg_party_stat_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.party, Index.Equality())))

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @classmethod
    def __register__(cls, module):
        exists = backend.TableHandler.table_exist(cls._table)
        super().__register__(module)
        if not exists:
            cls.rebuild()

    # The statements, filtered by a condition on the order (alias o) or
    # on the party (alias p); ``{where}`` is replaced by the condition.
    _PURCHASES = '''
        INSERT INTO ticket_crm_purchase (create_uid, create_date, "order",
            party, company, paid_at, session, tariff)
        SELECT %(user)s, CURRENT_TIMESTAMP, o.id, o.party, o.company,
            o.paid_at, l.session, l.tariff
        FROM ticket_order o JOIN ticket_order_line l ON l."order" = o.id
        WHERE o.state = 'paid' AND o.party IS NOT NULL
            AND l.session IS NOT NULL AND {where}
        UNION ALL
        SELECT %(user)s, CURRENT_TIMESTAMP, o.id, o.party, o.company,
            o.paid_at, a.session, l.tariff
        FROM ticket_order o
        JOIN ticket_ticket t ON t."order" = o.id
        JOIN ticket_ticket_admission a ON a.ticket = t.id
        JOIN ticket_order_line l ON l.id = t.line
        WHERE o.state = 'paid' AND o.party IS NOT NULL AND {where}'''
    _SPENDS = '''
        INSERT INTO ticket_crm_spend (create_uid, create_date, "order",
            party, company, paid_at, amount)
        SELECT %(user)s, CURRENT_TIMESTAMP, o.id, o.party, o.company,
            o.paid_at, COALESCE((SELECT SUM(COALESCE(l.total_amount,
                            l.unit_price * l.quantity))
                    FROM ticket_order_line l WHERE l."order" = o.id), 0)
        FROM ticket_order o
        WHERE o.state = 'paid' AND o.party IS NOT NULL AND {where}'''
    # The same for every order: the lines summed in one pass
    _ALL_SPENDS = '''
        INSERT INTO ticket_crm_spend (create_uid, create_date, "order",
            party, company, paid_at, amount)
        SELECT %(user)s, CURRENT_TIMESTAMP, o.id, o.party, o.company,
            o.paid_at, COALESCE(l.amount, 0)
        FROM ticket_order o
        LEFT JOIN (SELECT l."order", SUM(COALESCE(l.total_amount,
                        l.unit_price * l.quantity)) AS amount
                FROM ticket_order_line l GROUP BY l."order") AS l
            ON l."order" = o.id
        WHERE o.state = 'paid' AND o.party IS NOT NULL'''
    _STATS = '''
        INSERT INTO ticket_crm_party_stat AS st (create_uid, create_date,
            party, company, orders, amount, first_purchase, last_purchase)
        SELECT %(user)s, CURRENT_TIMESTAMP, c.party, c.company,
            COALESCE(s.orders, 0), COALESCE(s.amount, 0), s.first, s.last
        FROM (
            SELECT o.party, o.company FROM ticket_order o
            WHERE o.party IS NOT NULL AND {where_order}
            UNION
            SELECT c.party, c.company FROM ticket_crm_consent c
            WHERE {where_consent}) AS c
        LEFT JOIN (
            SELECT s.party, s.company, COUNT(*) AS orders,
                SUM(s.amount) AS amount, MIN(s.paid_at) AS first,
                MAX(s.paid_at) AS last
            FROM ticket_crm_spend s WHERE {where_spend}
            GROUP BY s.party, s.company) AS s
            ON s.party = c.party AND s.company = c.company
        ON CONFLICT (company, party) DO UPDATE SET
            orders = EXCLUDED.orders, amount = EXCLUDED.amount,
            first_purchase = EXCLUDED.first_purchase,
            last_purchase = EXCLUDED.last_purchase,
            write_uid = EXCLUDED.create_uid,
            write_date = EXCLUDED.create_date
        WHERE (st.orders, st.amount, st.first_purchase, st.last_purchase)
            IS DISTINCT FROM (EXCLUDED.orders, EXCLUDED.amount,
                EXCLUDED.first_purchase, EXCLUDED.last_purchase)'''
    _NOT_CUSTOMERS = '''
        DELETE FROM ticket_crm_party_stat st
        WHERE {where}
            AND NOT EXISTS (SELECT 1 FROM ticket_order o
                WHERE o.party = st.party AND o.company = st.company)
            AND NOT EXISTS (SELECT 1 FROM ticket_crm_consent c
                WHERE c.party = st.party AND c.company = st.company)'''

    @classmethod
    def refresh(cls, orders=None, parties=None):
        """Bring the rows of orders (ids or records) and of parties up to
        date: the detail rows of the orders (or of every order of the
        parties) and the summary of their buyers, old and new"""
        order_ids, party_ids = _ids(orders or []), _ids(parties or [])
        if not order_ids and not party_ids:
            return
        cursor = Transaction().connection.cursor()
        # The buyers concerned: those of the detail rows and of the orders
        cursor.execute('''
            SELECT party FROM ticket_order
                WHERE id = ANY(%(orders)s) AND party IS NOT NULL
            UNION SELECT party FROM ticket_crm_spend
                WHERE "order" = ANY(%(orders)s)
            UNION SELECT party FROM ticket_crm_purchase
                WHERE "order" = ANY(%(orders)s)
            UNION SELECT unnest(%(parties)s::INTEGER[])''',
            {'orders': order_ids, 'parties': party_ids})
        party_ids = sorted(r[0] for r in cursor)
        # Two transactions refreshing a party wait for each other, so that
        # each statement below sees the other's orders (READ COMMITTED);
        # the locks are taken in a fixed order
        cursor.execute('SELECT pg_advisory_xact_lock(%s, p) '
            'FROM (SELECT p FROM unnest(%s::INTEGER[]) AS p ORDER BY p) AS s',
            (LOCK_KEY, party_ids))
        cursor.fetchall()
        params = {'user': Transaction().user, 'orders': order_ids,
            'parties': party_ids}
        for table in ['ticket_crm_purchase', 'ticket_crm_spend']:
            cursor.execute(f'DELETE FROM {table} '
                'WHERE "order" = ANY(%(orders)s) OR party = ANY(%(parties)s)',
                params)
        where = '(o.id = ANY(%(orders)s) OR o.party = ANY(%(parties)s))'
        cursor.execute(cls._PURCHASES.format(where=where), params)
        cursor.execute(cls._SPENDS.format(where=where), params)
        cursor.execute(cls._STATS.format(
                where_order='o.party = ANY(%(parties)s)',
                where_consent='c.party = ANY(%(parties)s)',
                where_spend='s.party = ANY(%(parties)s)'), params)
        cursor.execute(cls._NOT_CUSTOMERS.format(
                where='st.party = ANY(%(parties)s)'), params)

    @classmethod
    def add_paid(cls, orders):
        """Sum up orders just paid in fewer statements than refresh (the
        payment is on the buyers' critical path): their detail rows are
        added and their amounts added to their buyers' summary rows, in
        one statement.

        The buyers' advisory locks (as refresh takes them) come first: each
        write of the statement waits for them (a one-time filter on the
        locks' row count), so that a refresh of a buyer running at the same
        time either sees this payment committed or is waited for; the
        summary rows are added to (not recomputed), so the statement's
        snapshot taken before the wait does not matter."""
        order_ids = _ids(orders)
        if not order_ids:
            return
        cursor = Transaction().connection.cursor()
        params = {'user': Transaction().user, 'orders': order_ids,
            'key': LOCK_KEY}
        where = ('o.id = ANY(%(orders)s) '
            'AND (SELECT COUNT(*) FROM locked) >= 0')
        purchases = cls._PURCHASES.format(where=where)
        spends = cls._SPENDS.format(where=where)
        cursor.execute(f'''
            WITH locked AS MATERIALIZED (
                SELECT pg_advisory_xact_lock(%(key)s, p)
                FROM (SELECT DISTINCT party AS p FROM ticket_order
                    WHERE id = ANY(%(orders)s) AND party IS NOT NULL
                    ORDER BY party) AS s),
            purchases AS ({purchases}),
            spends AS ({spends}
                RETURNING party, company, amount, paid_at)
            INSERT INTO ticket_crm_party_stat AS st (create_uid,
                create_date, party, company, orders, amount, first_purchase,
                last_purchase)
            SELECT %(user)s, CURRENT_TIMESTAMP, s.party, s.company,
                COUNT(*), SUM(s.amount), MIN(s.paid_at), MAX(s.paid_at)
            FROM spends s
            WHERE (SELECT COUNT(*) FROM locked) >= 0
            GROUP BY s.party, s.company
            ON CONFLICT (company, party) DO UPDATE SET
                orders = st.orders + EXCLUDED.orders,
                amount = st.amount + EXCLUDED.amount,
                first_purchase = LEAST(
                    st.first_purchase, EXCLUDED.first_purchase),
                last_purchase = GREATEST(
                    st.last_purchase, EXCLUDED.last_purchase),
                write_uid = EXCLUDED.create_uid,
                write_date = EXCLUDED.create_date''', params)

    @classmethod
    def add_customers(cls, keys):
        "Add the summary rows of (party, company) keys that lack one"
        keys = sorted(set(keys))
        if not keys:
            return
        cursor = Transaction().connection.cursor()
        cursor.execute('''
            INSERT INTO ticket_crm_party_stat AS st (create_uid, create_date,
                party, company, orders, amount)
            SELECT %s, CURRENT_TIMESTAMP, k.party, k.company, 0, 0
            FROM unnest(%s::INTEGER[], %s::INTEGER[]) AS k (party, company)
            WHERE NOT EXISTS (SELECT 1 FROM ticket_crm_party_stat s
                WHERE s.party = k.party AND s.company = k.company)
            ON CONFLICT (company, party) DO NOTHING''',
            (Transaction().user, [p for p, _ in keys], [c for _, c in keys]))

    @classmethod
    def rebuild(cls):
        "Recompute every row from the orders and the consents"
        cursor = Transaction().connection.cursor()
        params = {'user': Transaction().user}
        # Emptied at once (the segments wait for the rebuild to commit)
        cursor.execute('TRUNCATE ticket_crm_purchase, ticket_crm_spend')
        cursor.execute(cls._PURCHASES.format(where='TRUE'), params)
        cursor.execute(cls._ALL_SPENDS, params)
        cursor.execute('ANALYZE ticket_crm_purchase, ticket_crm_spend')
        cursor.execute(cls._STATS.format(
                where_order='TRUE', where_consent='TRUE', where_spend='TRUE'),
            params)
        cursor.execute(cls._NOT_CUSTOMERS.format(where='TRUE'), params)
        cursor.execute('ANALYZE ticket_crm_party_stat')
        Transaction().counter += 1

    @classmethod
    def orders_of(cls, model, records):
        """The ids of the paid orders of records of model
        ('ticket.order.line' or 'ticket.ticket.admission')"""
        ids = _ids(records)
        if not ids:
            return []
        cursor = Transaction().connection.cursor()
        if model == 'ticket.order.line':
            cursor.execute('SELECT DISTINCT o.id FROM ticket_order_line l '
                'JOIN ticket_order o ON o.id = l."order" '
                "WHERE l.id = ANY(%s) AND o.state = 'paid'", (ids,))
        else:
            cursor.execute('SELECT DISTINCT o.id '
                'FROM ticket_ticket_admission a '
                'JOIN ticket_ticket t ON t.id = a.ticket '
                'JOIN ticket_order o ON o.id = t."order" '
                "WHERE a.id = ANY(%s) AND o.state = 'paid'", (ids,))
        return [r[0] for r in cursor]


class PartyScore(ModelSQL):
    "The RFM score of a customer (rfm.py)"
    __name__ = 'ticket.crm.party.score'
    # Plain ids, no foreign keys: Score.compute replaces a company's rows
    # in one statement
    party = fields.Integer("Customer", required=True)
    company = fields.Integer("Company", required=True)
    last_purchase = fields.DateTime("Last Purchase")
    recency = fields.Integer("Days Since Last Purchase")
    frequency = fields.Integer("Paid Orders")
    monetary = fields.Numeric("Amount Spent")
    r = fields.Integer("R")
    f = fields.Integer("F")
    m = fields.Integer("M")
    computed_at = fields.DateTime("Computed At")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('company_party_unique', Unique(t, t.company, t.party),
                'ticket_crm.msg_rfm_unique'),
            ]
