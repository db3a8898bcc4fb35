"""RFM scores: recency, frequency and monetary quintiles of the buyers.

``Score.compute`` replaces a company's scores with one INSERT ... SELECT
over the customer summary (``ticket.crm.party.stat``, stat.py) using the
window function ``ntile(5)``: no row goes through Python. The scores are
stored in a narrow table without foreign keys (``ticket.crm.party.score``)
that ``ticket.crm.rfm`` shows. 5 is the best quintile: the most
recent, most frequent, biggest spenders. The "Compute Scores" button calls
it; the nightly cron rebuilds the summary first."""
from trytond.model import ModelSQL, ModelView, fields
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
        cls._order = [
            ('r', 'DESC'), ('f', 'DESC'), ('m', 'DESC'), ('id', 'ASC')]

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # The scores were stored in their own table before the summary
        Transaction().connection.cursor().execute(
            'DROP TABLE IF EXISTS ticket_crm_rfm')

    @classmethod
    def table_query(cls):
        "The scores stored by compute"
        Score = Pool().get('ticket.crm.party.score')
        score = Score.__table__()
        return score.select(score.id, score.create_uid, score.create_date,
            score.write_uid, score.write_date, score.party, score.company,
            score.last_purchase, score.recency, score.frequency,
            score.monetary, score.r, score.f, score.m, score.computed_at)

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_rec_name(self, name):
        return f'{self.party.rec_name}: {self.score}'

    def get_score(self, name):
        return f'R{self.r} F{self.f} M{self.m}'

    @classmethod
    def compute(cls, companies=None):
        """Replace the scores of companies (all by default) from the
        customer summary, in one INSERT ... SELECT per company"""
        pool = Pool()
        Company = pool.get('company.company')
        if companies is None:
            companies = Company.search([])
        cursor = Transaction().connection.cursor()
        for company in companies:
            params = {'company': company.id, 'at': now(),
                'user': Transaction().user}
            cursor.execute('DELETE FROM ticket_crm_party_score '
                'WHERE company = %(company)s', params)
            cursor.execute(cls._COMPUTE, params)
        Transaction().counter += 1

    _COMPUTE = '''
        INSERT INTO ticket_crm_party_score (create_uid, create_date, party,
            company, last_purchase, recency, frequency, monetary, r, f, m,
            computed_at)
        SELECT %(user)s, CURRENT_TIMESTAMP, party, company, last_purchase,
            date_part('day', %(at)s::TIMESTAMP - last_purchase),
            orders, amount,
            ntile(5) OVER (ORDER BY last_purchase),
            ntile(5) OVER (ORDER BY orders, amount),
            ntile(5) OVER (ORDER BY amount),
            %(at)s
        FROM ticket_crm_party_stat
        WHERE company = %(company)s AND orders > 0'''

    @classmethod
    def compute_all(cls):
        """Rebuild the customer summary and compute the scores of every
        company (nightly cron)"""
        Pool().get('ticket.crm.party.stat').rebuild()
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
