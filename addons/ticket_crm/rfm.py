"""RFM scores: recency, frequency and monetary quintiles of the buyers.

``Score.compute`` replaces a company's scores with one set-based statement
(window functions ``ntile(5)``): no row goes through Python. 5 is the best
quintile: the most recent, most frequent, biggest spenders. The nightly
cron and the "Compute Scores" button call it."""
from sql import Cast, Literal, Null, Window
from sql.aggregate import Count, Max, Sum
from sql.conditionals import Coalesce
from sql.functions import CurrentTimestamp, DatePart, Ntile

from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import StateAction, StateTransition, Wizard

from guichet.ticket_event.common import now


class Score(ModelSQL, ModelView):
    "The RFM score of a buyer"
    __name__ = 'ticket.crm.rfm'
    party = fields.Many2One(
        'party.party', "Customer", required=True, readonly=True,
        ondelete='CASCADE', context={'company': Eval('company', -1)},
        depends={'company'})
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True,
        ondelete='CASCADE')
    last_purchase = fields.DateTime("Last Purchase", readonly=True)
    recency = fields.Integer("Days Since Last Purchase", readonly=True)
    frequency = fields.Integer("Paid Orders", readonly=True)
    monetary = Monetary(
        "Amount Spent", currency='currency', digits='currency',
        readonly=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    r = fields.Integer("R", readonly=True,
        help="Recency quintile: 5 for the most recent buyers.")
    f = fields.Integer("F", readonly=True,
        help="Frequency quintile: 5 for the most frequent buyers.")
    m = fields.Integer("M", readonly=True,
        help="Monetary quintile: 5 for the biggest spenders.")
    score = fields.Function(fields.Char("Score"), 'get_score')
    computed_at = fields.DateTime("Computed At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('party_company_unique', Unique(t, t.company, t.party),
                'ticket_crm.msg_rfm_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.company, Index.Equality()), (t.r, Index.Range()),
                (t.f, Index.Range()), (t.m, Index.Range())))
        cls._order = [
            ('r', 'DESC'), ('f', 'DESC'), ('m', 'DESC'), ('id', 'ASC')]

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_rec_name(self, name):
        return f'{self.party.rec_name}: {self.score}'

    def get_score(self, name):
        return f'R{self.r} F{self.f} M{self.m}'

    @classmethod
    def compute(cls, companies=None):
        """Replace the scores of companies (all by default) from their paid
        orders, in one statement per company"""
        pool = Pool()
        Company = pool.get('company.company')
        if companies is None:
            companies = Company.search([])
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        at = now()
        for company in companies:
            stats = cls._stats(company)
            cursor.execute(*table.delete(where=table.company == company.id))
            cursor.execute(*table.insert(
                    [table.create_uid, table.create_date, table.party,
                        table.company, table.last_purchase, table.recency,
                        table.frequency, table.monetary, table.r, table.f,
                        table.m, table.computed_at],
                    stats.select(
                        Cast(Literal(Transaction().user), 'INTEGER'),
                        CurrentTimestamp(),
                        stats.party, Cast(Literal(company.id), 'INTEGER'),
                        stats.last,
                        DatePart('day',
                            Cast(Literal(at), 'TIMESTAMP') - stats.last),
                        stats.frequency, stats.monetary,
                        Ntile(5, window=Window([],
                                order_by=[stats.last.asc])),
                        Ntile(5, window=Window([],
                                order_by=[stats.frequency.asc,
                                    stats.monetary.asc])),
                        Ntile(5, window=Window([],
                                order_by=[stats.monetary.asc])),
                        Cast(Literal(at), 'TIMESTAMP'))))
        Transaction().counter += 1

    @classmethod
    def _stats(cls, company):
        """Per buyer of company: last (purchase), frequency (paid orders)
        and monetary (their amount), each aggregated once per party"""
        pool = Pool()
        Order = pool.get('ticket.order')
        Line = pool.get('ticket.order.line')
        order, order2 = Order.__table__(), Order.__table__()
        line = Line.__table__()

        def paid(table):
            return ((table.state == 'paid') & (table.party != Null)
                & (table.company == company.id))
        counts = order.select(order.party.as_('party'),
            Max(order.paid_at).as_('last'),
            Count().as_('frequency'),
            where=paid(order), group_by=[order.party])
        amounts = order2.join(line, condition=line.order == order2.id
            ).select(order2.party.as_('party'),
            Sum(Coalesce(line.total_amount,
                    line.unit_price * line.quantity)).as_('monetary'),
            where=paid(order2), group_by=[order2.party])
        return counts.join(amounts, 'LEFT',
            condition=amounts.party == counts.party).select(
            counts.party.as_('party'), counts.last.as_('last'),
            counts.frequency.as_('frequency'),
            Coalesce(amounts.monetary, Literal(0)).as_('monetary'))

    @classmethod
    def compute_all(cls):
        "Compute the scores of every company (cron)"
        cls.compute()


class Compute(Wizard):
    "Compute the RFM scores now"
    __name__ = 'ticket.crm.rfm.compute'
    start = StateTransition()
    open_ = StateAction('ticket_crm.act_rfm_form')

    def transition_start(self):
        Company = Pool().get('company.company')
        company = Transaction().context.get('company')
        Score = Pool().get('ticket.crm.rfm')
        Score.compute([Company(company)] if company else None)
        return 'open_'
