"""Postings: what the ticketing books, before and as account moves.

A posting is one business fact in balance (a payment, a refund, a voucher
sold, a credit spent, a session's revenue recognized); its lines say which
account, and for which session, tariff, product and tax. A posting becomes
an ``account.move``, posted at once (per payment) or with the other
postings of its day and channel (per day), whose lines add up the postings'
lines by account. Posted moves are never edited: a correction is a new
posting."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql import For, Literal, Null, Values
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case, Coalesce

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.model.fields import SQL_OPERATORS
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from guichet.ticket_event.common import forget_records
from guichet.ticket_event.hold import CHANNELS
from guichet.ticket_event.payment import METHODS

from .exceptions import AccountingError

ZERO = Decimal(0)
in_ids = SQL_OPERATORS['in']

KINDS = [
    ('payment', "Payment"),
    ('refund', "Refund"),
    ('credit', "Credit Spent"),
    ('credit_back', "Credit Given Back"),
    ('voucher', "Voucher Issued"),
    ('refund_credit', "Refund as Credit"),
    ('recognition', "Revenue Recognition"),
    ('settlement', "Commission and Levies"),
    ('payout', "Producer Payout"),
    ('provider_payout', "Provider Payout"),
    ]

LINE_KINDS = [
    ('clearing', "Clearing"),
    ('deferred', "Deferred Revenue"),
    ('revenue', "Revenue"),
    ('fee', "Fee"),
    ('tax', "VAT"),
    ('credit', "Credits and Vouchers"),
    ('advance', "Customer Advance"),
    ('expense', "Expense"),
    ('mandate', "Producer Receipts"),
    ('mandate_tax', "Producer VAT"),
    ('commission', "Commission"),
    ('commission_tax', "Commission VAT"),
    ('levy', "Levy"),
    ('levy_charge', "Levy Charge"),
    ('producer', "Producer"),
    ('bank', "Bank"),
    ('bank_charges', "Bank Charges"),
    ]
# The kinds of posting booked at once whatever the configuration
IMMEDIATE_KINDS = {'recognition', 'settlement', 'payout', 'provider_payout'}
# The kinds of line that are VAT the company collects (on its tax returns)
TAX_KINDS = {'tax', 'commission_tax'}


def local_date(company, at):
    "The date of the datetime at in the time zone of company"
    if at is None:
        return Pool().get('ir.date').today()
    timezone = getattr(company, 'timezone', None)
    if timezone:
        from zoneinfo import ZoneInfo
        return at.replace(tzinfo=dt.timezone.utc).astimezone(
            ZoneInfo(timezone)).date()
    return at.date()


class Posting(Workflow, ModelSQL, ModelView):
    "A ticketing entry to book"
    __name__ = 'ticket.accounting.posting'
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    date = fields.Date("Date", required=True, readonly=True)
    channel = fields.Selection(
        [(None, "")] + CHANNELS, "Channel", readonly=True)
    method = fields.Selection(
        [(None, "")] + METHODS, "Method", readonly=True)
    order = fields.Many2One(
        'ticket.order', "Order", readonly=True, ondelete='RESTRICT')
    order_amount = Monetary(
        "Order Amount", currency='currency', digits='currency',
        readonly=True,
        help="What the posting adds to what the order's money covers "
        "(negative for a refund).")
    payment = fields.Many2One(
        'ticket.order.payment', "Payment", readonly=True,
        ondelete='RESTRICT')
    credit = fields.Many2One(
        'ticket.credit', "Credit", readonly=True, ondelete='RESTRICT')
    session = fields.Many2One(
        'ticket.session', "Session", readonly=True, ondelete='RESTRICT')
    payout = fields.Many2One(
        'ticket.accounting.payout', "Payout", readonly=True,
        ondelete='RESTRICT')
    description = fields.Char("Description", readonly=True)
    lines = fields.One2Many(
        'ticket.accounting.posting.line', 'posting', "Lines", readonly=True)
    move = fields.Many2One(
        'account.move', "Move", readonly=True, ondelete='RESTRICT')
    state = fields.Selection([
            ('draft', "To Post"),
            ('posted', "Posted"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.order, Index.Range())),
                Index(t, (t.session, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state == 'draft'),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'posted')}
        cls._buttons.update(
            post={
                'invisible': Eval('state') != 'draft',
                'icon': 'tryton-ok',
                'depends': ['state'],
                },
            )

    @classmethod
    def default_state(cls):
        return 'draft'

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_rec_name(self, name):
        kinds = dict(self.fields_get(['kind'])['kind']['selection'])
        return ' '.join(filter(None, [
                    kinds.get(self.kind), self.order and self.order.rec_name,
                    str(self.date)]))

    @classmethod
    def check_modification(cls, mode, postings, values=None, external=False):
        super().check_modification(
            mode, postings, values=values, external=external)
        if mode == 'delete' or (mode == 'write' and external):
            raise AccountingError(gettext(
                    'ticket_accounting.msg_posting_modify'))

    @classmethod
    @without_check_access
    def book(cls, configuration, kind, lines, date, **values):
        """Create a posting of lines, a list of (account, amount, values)
        with amount positive for a debit; post it at once if the company
        posts per payment; return it, or None if all amounts are zero"""
        currency = configuration.company.currency
        lines = [(a, currency.round(m), v) for a, m, v in lines]
        lines = [l for l in lines if l[1]]
        if not lines:
            return None
        total = sum((m for _, m, _ in lines), ZERO)
        if total:
            raise AccountingError(gettext(
                    'ticket_accounting.msg_posting_unbalanced',
                    amount=total))
        posting, = cls.create([{
                    'company': configuration.company.id,
                    'kind': kind,
                    'date': date,
                    'lines': [('create', [{
                                    'account': account.id,
                                    'amount': amount,
                                    **line_values,
                                    } for account, amount, line_values
                                in lines])],
                    **values,
                    }])
        if configuration.posting == 'payment' or kind in IMMEDIATE_KINDS:
            cls.post([posting])
        return posting

    @classmethod
    @ModelView.button
    @Workflow.transition('posted')
    def post(cls, postings):
        """Book postings: one move per company, date, channel and journal
        when several are posted together, else one move each"""
        Configuration = Pool().get('ticket.accounting.configuration')
        groups = defaultdict(list)
        for posting in postings:
            configuration = Configuration.for_company(posting.company)
            if configuration is None:
                raise AccountingError(gettext(
                        'ticket_accounting.msg_no_configuration',
                        company=posting.company.rec_name))
            key = (posting.company, posting.date,
                posting.channel if len(postings) > 1 else posting.id,
                configuration.journal)
            groups[key].append(posting)
        for (company, date, _, journal), group in groups.items():
            if len(group) == 1:
                description, origin = group[0].rec_name, str(group[0])
            else:
                description, origin = cls._batch_description(
                    date, [p.channel for p in group]), None
            cls._move(company, date, journal, [p.id for p in group],
                description, origin)

    @classmethod
    def _batch_description(cls, date, channels):
        return gettext('ticket_accounting.msg_move_batch',
            date=date, channel=', '.join(sorted(set(filter(None, channels)))),
            count=len(channels))

    @classmethod
    @without_check_access
    def _move(cls, company, date, journal, ids, description, origin=None):
        """Create and post the move of the postings ids, their lines summed
        by account, tax and party in SQL; link the postings to it"""
        pool = Pool()
        Account = pool.get('account.account')
        Line = pool.get('ticket.accounting.posting.line')
        Move = pool.get('account.move')
        line = Line.__table__()
        account = Account.__table__()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        amounts = defaultdict(lambda: ZERO)
        tax = Case((line.kind.in_(list(TAX_KINDS)), line.tax), else_=Null)
        party = Case((account.party_required == Literal(True), line.party),
            else_=Null)
        for sub_ids in grouped_slice(ids):
            query = line.join(account,
                condition=line.account == account.id).select(
                line.account.as_('account'), tax.as_('tax'),
                party.as_('party'), line.amount.as_('amount'),
                where=in_ids(line.posting, list(sub_ids)))
            cursor.execute(*query.select(
                    query.account, query.tax, query.party,
                    Sum(query.amount),
                    group_by=[query.account, query.tax, query.party]))
            for account_id, tax_id, party_id, amount in cursor:
                amounts[account_id, tax_id, party_id] += Decimal(amount)
        with Transaction().set_context(company=company.id):
            move, = Move.create([cls._move_values(
                        company, date, journal, amounts, description,
                        origin)])
            Move.post([move])
        for sub_ids in grouped_slice(ids):
            cursor.execute(*table.update([table.move], [move.id],
                    where=in_ids(table.id, list(sub_ids))))
        forget_records(cls, ids)
        return move

    def settle_sessions(self):
        "Settle again the sessions already recognized that the posting changes"
        Session = Pool().get('ticket.session')
        sessions = {l.session for l in self.lines
            if l.session and l.session.revenue_recognized}
        if sessions:
            Session.settle(sorted(sessions, key=lambda s: s.id))

    @classmethod
    @without_check_access
    def post_pending(cls, date=None):
        """Post the draft postings of the days before date (today by
        default): one move per company, day and channel (cron); return the
        number of postings posted.

        Set-based: the postings are locked, their lines summed by company,
        day, channel, account, tax and party in one query, the moves
        created and posted together, and the postings linked to their move
        by one UPDATE; the transaction's snapshot (Tryton's REPEATABLE
        READ) keeps the three queries on the same postings."""
        pool = Pool()
        Account = pool.get('account.account')
        Company = pool.get('company.company')
        Configuration = pool.get('ticket.accounting.configuration')
        Date = pool.get('ir.date')
        Line = pool.get('ticket.accounting.posting.line')
        date = date or Date.today()
        table = cls.__table__()
        line = Line.__table__()
        account = Account.__table__()
        cursor = Transaction().connection.cursor()
        where = (table.state == 'draft') & (table.date < date)

        locked = table.select(table.id.as_('id'), where=where,
            for_=For('UPDATE'))
        cursor.execute(*locked.select(Count(locked.id)))
        count, = cursor.fetchone()
        if not count:
            return 0
        cursor.execute(*table.select(table.company, table.date,
                table.channel, Count(table.id), Min(table.id),
                where=where,
                group_by=[table.company, table.date, table.channel]))
        groups = {(c, d, ch or None): (n, first)
            for c, d, ch, n, first in cursor}

        tax = Case((line.kind.in_(list(TAX_KINDS)), line.tax), else_=Null)
        party = Case((account.party_required == Literal(True), line.party),
            else_=Null)
        query = (line
            .join(table, condition=line.posting == table.id)
            .join(account, condition=line.account == account.id)
            .select(table.company.as_('company'), table.date.as_('date'),
                table.channel.as_('channel'), line.account.as_('account'),
                tax.as_('tax'), party.as_('party'),
                line.amount.as_('amount'),
                where=where))
        cursor.execute(*query.select(query.company, query.date,
                query.channel, query.account, query.tax, query.party,
                Sum(query.amount),
                group_by=[query.company, query.date, query.channel,
                    query.account, query.tax, query.party]))
        amounts = defaultdict(dict)
        for company, day, channel, account_id, tax_id, party_id, amount in (
                cursor):
            if amount:
                amounts[company, day, channel or None][
                    account_id, tax_id, party_id] = Decimal(amount)

        keys = sorted(groups, key=lambda k: (k[0], k[1], k[2] or ''))
        companies = {c.id: c for c in Company.browse({k[0] for k in keys})}
        journals = {}
        for company_id, company in companies.items():
            configuration = Configuration.for_company(company)
            if configuration is None:
                raise AccountingError(gettext(
                        'ticket_accounting.msg_no_configuration',
                        company=company.rec_name))
            journals[company_id] = configuration.journal
        moves = []
        for key in keys:
            company_id, day, channel = key
            number, first = groups[key]
            if number == 1:
                posting = cls(first)
                description, origin = posting.rec_name, str(posting)
            else:
                description, origin = cls._batch_description(
                    day, [channel] * number), None
            moves.append(cls._move_values(companies[company_id], day,
                    journals[company_id], amounts[key], description,
                    origin))
        moves = cls._create_moves(moves)

        values = Values([(c, d, ch or '', m.id)
                for (c, d, ch), m in zip(keys, moves)])
        group = values.select(values.column1.as_('company'),
            values.column2.as_('date'), values.column3.as_('channel'),
            values.column4.as_('move'))
        cursor.execute(*table.update([table.move, table.state],
                [group.move, 'posted'],
                from_=[group],
                where=where & (table.company == group.company)
                & (table.date == group.date)
                & (Coalesce(table.channel, '') == group.channel)))
        cls._forget_all()
        return count

    @classmethod
    def _move_values(cls, company, date, journal, amounts, description,
            origin=None):
        """The values of the move of amounts by (account, tax, party):
        a line per key, the tax line of VAT"""
        pool = Pool()
        Account = pool.get('account.account')
        Period = pool.get('account.period')
        accounts = {a.id: a for a in Account.browse({k[0] for k in amounts})}
        lines = []
        for (account_id, tax_id, party_id), amount in sorted(
                amounts.items(), key=lambda i: (
                    accounts[i[0][0]].code or '', i[0][1] or 0,
                    i[0][2] or 0)):
            if not amount:
                continue
            values = {
                'account': account_id,
                'party': party_id,
                'debit': amount if amount > 0 else ZERO,
                'credit': -amount if amount < 0 else ZERO,
                }
            if tax_id:
                values['tax_lines'] = [('create', [{
                                'tax': tax_id,
                                'type': 'tax',
                                'amount': -amount,
                                }])]
            lines.append(values)
        with Transaction().set_context(company=company.id):
            period = Period.find(company, date=date)
        return {
            'company': company.id,
            'journal': journal.id,
            'period': period.id if hasattr(period, 'id') else period,
            'date': date,
            'description': description,
            'origin': origin,
            'lines': [('create', lines)],
            }

    @classmethod
    def _create_moves(cls, vlist):
        "Create and post the moves of vlist, per company"
        Move = Pool().get('account.move')
        moves = []
        for company in sorted({v['company'] for v in vlist}):
            with Transaction().set_context(company=company):
                created = Move.create([v for v in vlist
                        if v['company'] == company])
                Move.post(created)
            moves.extend(created)
        order = {id(v): i for i, v in enumerate(vlist)}
        by_company = [v for c in sorted({v['company'] for v in vlist})
            for v in vlist if v['company'] == c]
        result = [None] * len(vlist)
        for values, move in zip(by_company, moves):
            result[order[id(values)]] = move
        return result

    @classmethod
    def _forget_all(cls):
        "Forget the transaction's cached postings after a write in SQL"
        transaction = Transaction()
        transaction.counter += 1
        for cache in transaction.cache.values():
            cache.pop(cls.__name__, None)

class PostingLine(ModelSQL, ModelView):
    "A line of a ticketing entry"
    __name__ = 'ticket.accounting.posting.line'
    posting = fields.Many2One(
        'ticket.accounting.posting', "Posting", required=True,
        ondelete='CASCADE', readonly=True)
    kind = fields.Selection(LINE_KINDS, "Kind", required=True, readonly=True)
    account = fields.Many2One(
        'account.account', "Account", required=True, readonly=True,
        ondelete='RESTRICT')
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        readonly=True, help="Positive for a debit, negative for a credit.")
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    session = fields.Many2One(
        'ticket.session', "Session", readonly=True, ondelete='RESTRICT')
    tariff = fields.Many2One(
        'ticket.tariff', "Tariff", readonly=True, ondelete='RESTRICT')
    product = fields.Many2One(
        'product.product', "Product", readonly=True, ondelete='RESTRICT')
    tax = fields.Many2One(
        'account.tax', "Tax", readonly=True, ondelete='RESTRICT')
    party = fields.Many2One(
        'party.party', "Party", readonly=True, ondelete='RESTRICT',
        help="The producer of a mandate's line, the collector of a levy.")
    levy = fields.Many2One(
        'ticket.accounting.levy', "Levy", readonly=True,
        ondelete='RESTRICT')
    quantity = fields.Integer(
        "Quantity", readonly=True,
        help="The tickets the line's share of a ticket line covers "
        "(negative for a refund).")
    base = Monetary(
        "Base", currency='currency', digits='currency', readonly=True,
        help="The amount excluding VAT that the VAT of the line is on "
        "(positive for VAT collected, negative for VAT given back).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('posting')
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.posting, Index.Range())),
                Index(t, (t.session, Index.Equality()),
                    (t.kind, Index.Equality())),
                Index(t, (t.party, Index.Equality()),
                    where=t.party != Null),
                })

    @fields.depends('posting', '_parent_posting.company')
    def on_change_with_currency(self, name=None):
        if self.posting and self.posting.company:
            return self.posting.company.currency


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['ticket.accounting.posting']
