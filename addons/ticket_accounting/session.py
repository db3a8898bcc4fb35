"""Revenue recognition: a session's deferred revenue becomes revenue once
it has taken place; a cancelled session recognizes nothing.

Once recognized, a session is settled: its levies and, when sold for a
producer, the company's commission are booked on its ticket revenue
excluding VAT. Settling is cumulative (what is due now less what was
booked), so a refund after the session settles again and the books follow
to the cent."""
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Sum

from trytond.i18n import gettext
from trytond.model import fields
from trytond.transaction import Transaction, without_check_access
from trytond.pool import Pool, PoolMeta

from guichet.ticket_event.common import now

from .exceptions import AccountingError
from .posting import ZERO, local_date


def session_sums(session, company):
    """The sums of the entry lines of session booked by company, in SQL:
    rows of (kind, levy, tax, product, tariff, amount, base)"""
    pool = Pool()
    Line = pool.get('ticket.accounting.posting.line')
    Posting = pool.get('ticket.accounting.posting')
    line = Line.__table__()
    posting = Posting.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*line.join(posting, condition=line.posting == posting.id
            ).select(line.kind, line.levy, line.tax, line.product,
            line.tariff, Sum(line.amount), Sum(line.base),
            where=(line.session == session.id)
            & (posting.company == company.id),
            group_by=[line.kind, line.levy, line.tax, line.product,
                line.tariff]))
    return [row[:-2] + (Decimal(row[-2]), Decimal(row[-1] or 0))
        for row in cursor]


class Session(metaclass=PoolMeta):
    __name__ = 'ticket.session'
    revenue_recognized = fields.Boolean(
        "Revenue Recognized", readonly=True,
        help="The session took place and its deferred revenue moved to "
        "revenue; later entries of the session go to revenue directly.")

    @classmethod
    def default_revenue_recognized(cls):
        return False

    @classmethod
    def copy(cls, sessions, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('revenue_recognized', False)
        return super().copy(sessions, default=default)

    @classmethod
    def recognize_revenue(cls, at=None):
        """Recognize the revenue of the sessions that have taken place by
        at (now by default) and are not cancelled (cron); return them"""
        at = at or now()
        sessions = cls.search([
                ('revenue_recognized', '=', False),
                ('state', '!=', 'cancelled'),
                ['OR',
                    ('end', '<=', at),
                    [('end', '=', None), ('start', '<=', at)],
                    ],
                ], order=[('start', 'ASC'), ('id', 'ASC')])
        cls.lock(sessions)
        sessions = [s for s in cls.browse(sessions)
            if not s.revenue_recognized and s.state != 'cancelled']
        for session in sessions:
            cls._recognize(session, at)
        cls.write(sessions, {'revenue_recognized': True})
        cls.settle(sessions, at=at)
        return sessions

    @classmethod
    @without_check_access
    def _recognize(cls, session, at):
        pool = Pool()
        Configuration = pool.get('ticket.accounting.configuration')
        Posting = pool.get('ticket.accounting.posting')
        Product = pool.get('product.product')
        company = session.event.company
        configuration = Configuration.for_company(company)
        if configuration is None:
            return
        balances = defaultdict(lambda: ZERO)
        for kind, _, _, product, tariff, amount, _ in session_sums(
                session, company):
            if kind == 'deferred':
                balances[product, tariff] += amount
        lines = []
        for (product, tariff), balance in sorted(balances.items(),
                key=lambda i: (i[0][0] or 0, i[0][1] or 0)):
            if not balance or product is None:
                continue
            values = {'session': session.id, 'tariff': tariff,
                'product': product}
            lines.append((configuration.deferred_revenue, -balance,
                    dict(values, kind='deferred')))
            lines.append((Product(product).account_revenue_used, balance,
                    dict(values, kind='revenue')))
        Posting.book(configuration, 'recognition', lines,
            local_date(company, at), session=session.id,
            description=session.rec_name)

    @classmethod
    @without_check_access
    def settle(cls, sessions, at=None):
        """Book what the levies and commission of sessions recognized are
        due beyond what was booked; return the postings"""
        postings = []
        for session in sessions:
            posting = cls._settle(session, at)
            if posting:
                postings.append(posting)
        return postings

    @classmethod
    def _settle(cls, session, at):
        pool = Pool()
        Configuration = pool.get('ticket.accounting.configuration')
        Date = pool.get('ir.date')
        Posting = pool.get('ticket.accounting.posting')
        Tax = pool.get('account.tax')
        Levy = pool.get('ticket.accounting.levy')
        event = session.event
        company = event.company
        configuration = Configuration.for_company(company)
        producer = event.producer
        if configuration is None or not (event.levies or producer):
            return None
        round_ = company.currency.round
        base = ZERO
        booked = defaultdict(lambda: ZERO)
        for kind, levy, tax, _, tariff, amount, line_base in session_sums(
                session, company):
            if kind in {'deferred', 'revenue', 'mandate'} and tariff:
                base -= amount
            if kind == 'levy':
                booked[kind, Levy(levy)] -= amount
                booked['levy_base', Levy(levy)] += line_base
            elif kind == 'commission':
                booked[kind, None] -= amount
            elif kind == 'commission_tax':
                booked[kind, Tax(tax)] -= amount
        lines = []
        values = {'session': session.id}
        charge = (configuration.producers_account if producer else None,
            'producer', producer.id if producer else None)
        for levy in event.levies:
            due = round_(base * levy.rate) - booked[('levy', levy)]
            # the base of the line is what it adds to the levy's base, so
            # that the levies statement sums the lines
            lines.append((levy.liability_account, -due, dict(values,
                        kind='levy', levy=levy.id,
                        base=base - booked[('levy_base', levy)],
                        party=levy.collector.id if levy.collector
                        else None)))
            lines.append((charge[0] if producer else levy.expense_account,
                    due, dict(values, kind='levy_charge', levy=levy.id,
                        party=charge[2])))
        if producer and event.commission_rate:
            product = configuration.commission_product
            if not product:
                raise AccountingError(gettext(
                        'ticket_accounting.msg_commission_product_missing',
                        event=event.rec_name))
            commission = round_(base * event.commission_rate)
            due = commission - booked[('commission', None)]
            lines.append((product.account_revenue_used, -due, dict(values,
                        kind='commission', product=product.id)))
            total = due
            today = at.date() if at else Date.today()
            for tax in Tax.compute(
                    product.customer_taxes_used, commission, 1, today):
                vat = round_(tax['amount']) - booked[
                    ('commission_tax', tax['tax'])]
                lines.append((tax['tax'].invoice_account, -vat, dict(values,
                            kind='commission_tax', tax=tax['tax'].id,
                            base=due)))
                total += vat
            lines.append((charge[0], total, dict(values, kind='producer',
                        party=charge[2])))
        return Posting.book(configuration, 'settlement', lines,
            local_date(company, at), session=session.id,
            description=session.rec_name)
