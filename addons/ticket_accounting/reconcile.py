"""Bank statements: provider payouts matched to the clearing accounts.

A bank statement's line (an ``account.statement.origin``: amount, date,
number) that is a payment provider's payout is matched to what the
provider owes from the clearing account: the provider payout of its
reference (number) if one waits, else the provider's open payments and
refunds, oldest first, up to the statement's date, whose total less the
provider's commission is the amount received. The line is then split into
statement lines: the gross on the provider's clearing account and the
commission on bank charges, so that the statement's move is the payout's
entry (the bank debited with what arrived); the provider payout records
the payments it covers and is done once the statement is validated.

What remains open is listed: the clearing lines of payments no payout
matched ("Unmatched Clearing Lines") and the statement lines not fully
accounted ("Unmatched Statement Lines")."""
from decimal import Decimal

from sql import Null

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import without_check_access

from guichet.ticket_event.payment import METHODS
from guichet.ticket_pricing.partner import PROVIDER as PARTNER

from .exceptions import AccountingError
from .payout import day_end

ZERO = Decimal(0)


class StatementOrigin(metaclass=PoolMeta):
    __name__ = 'account.statement.origin'
    ticket_provider = fields.Selection(
        'get_ticket_providers', "Payment Provider",
        states={'readonly': Eval('statement_state') != 'draft'},
        help="The payment provider whose payout the line is, to match it "
        "to the provider's payments on the clearing account.")
    provider_fees = Monetary(
        "Provider Fees", currency='currency', digits='currency',
        domain=[['OR',
                ('provider_fees', '=', None),
                ('provider_fees', '>=', 0)]],
        states={'readonly': Eval('statement_state') != 'draft'},
        help="The commission the provider kept on the payout.")
    provider_payout = fields.Many2One(
        'ticket.accounting.provider_payout', "Provider Payout",
        readonly=True, ondelete='RESTRICT')

    @classmethod
    def get_ticket_providers(cls):
        return [(None, '')] + Pool().get(
            'ticket.order.payment').get_providers()

    @classmethod
    def copy(cls, origins, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('provider_payout', None)
        return super().copy(origins, default=default)


class Statement(metaclass=PoolMeta):
    __name__ = 'account.statement'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update(
            match_provider_payouts={
                'invisible': Eval('state') != 'draft',
                'icon': 'tryton-search',
                'depends': ['state'],
                },
            )

    @classmethod
    @ModelView.button
    def match_provider_payouts(cls, statements):
        "Match the lines without statement lines to provider payouts"
        cls.match_payouts(statements)

    @classmethod
    def match_payouts(cls, statements):
        """Match the lines without statement lines of statements to
        provider payouts; return the provider payouts matched"""
        ProviderPayout = Pool().get('ticket.accounting.provider_payout')
        payouts = []
        for statement in statements:
            for origin in statement.origins:
                if not origin.lines and not origin.provider_payout:
                    payout = ProviderPayout.match_origin(origin)
                    if payout:
                        payouts.append(payout)
        return payouts

    @classmethod
    def validate_statement(cls, statements):
        ProviderPayout = Pool().get('ticket.accounting.provider_payout')
        super().validate_statement(statements)
        payouts = cls._provider_payouts(statements)
        if payouts:
            ProviderPayout.write(payouts, {'state': 'done'})

    @classmethod
    def cancel(cls, statements):
        ProviderPayout = Pool().get('ticket.accounting.provider_payout')
        super().cancel(statements)
        payouts = cls._provider_payouts(statements)
        if payouts:
            ProviderPayout.write(payouts, {'state': 'draft'})

    @classmethod
    def _provider_payouts(cls, statements):
        return [o.provider_payout for s in statements for o in s.origins
            if o.provider_payout]


class ProviderPayout(metaclass=PoolMeta):
    __name__ = 'ticket.accounting.provider_payout'
    statement_origin = fields.Many2One(
        'account.statement.origin', "Statement Line", readonly=True,
        ondelete='RESTRICT',
        help="The bank statement line that received the payout: its "
        "statement books the payout.")

    @classmethod
    def copy(cls, payouts, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('statement_origin', None)
        return super().copy(payouts, default=default)

    @classmethod
    def book(cls, payouts):
        for payout in payouts:
            if payout.statement_origin:
                raise AccountingError(gettext(
                        'ticket_accounting.msg_provider_payout_statement',
                        payout=payout.rec_name,
                        statement=payout.statement_origin.statement.rec_name))
        super().book(payouts)

    @classmethod
    @without_check_access
    def match_origin(cls, origin):
        """Match the statement line origin to a provider payout (by its
        reference, else by the provider's open payments that make its
        amount); create its statement lines; return the payout or None"""
        pool = Pool()
        Configuration = pool.get('ticket.accounting.configuration')
        Line = pool.get('account.statement.line')
        configuration = Configuration.for_company(origin.company)
        if configuration is None or not origin.amount:
            return None
        payout = cls._match_reference(origin) or cls._match_payments(origin)
        if payout is None:
            return None
        clearing = configuration.clearing_account(
            payout.method, payout.provider)
        description = ' '.join(filter(None, [
                    payout.provider, payout.reference]))
        values = {
            'statement': origin.statement.id,
            'origin': origin.id,
            'date': origin.date,
            'number': origin.number,
            'description': description,
            }
        lines = [dict(values, amount=payout.gross, account=clearing.id)]
        if payout.fees:
            lines.append(dict(values, amount=-payout.fees,
                    account=configuration.fees_account(payout.provider).id))
        Line.create(lines)
        cls.write([payout], {'statement_origin': origin.id})
        origin.provider_payout = payout
        origin.save()
        return payout

    @classmethod
    def _match_reference(cls, origin):
        """The draft provider payout whose reference is the line's number
        and whose net is its amount"""
        if not origin.number:
            return None
        fees = origin.provider_fees
        for payout in cls.search([
                    ('company', '=', origin.company.id),
                    ('reference', '=', origin.number),
                    ('state', '=', 'draft'),
                    ('statement_origin', '=', None),
                    ]):
            if fees and not payout.fees:
                payout.fees = fees
                payout.save()
            if payout.payments and payout.net == origin.amount:
                return payout
        return None

    @classmethod
    def _match_payments(cls, origin):
        """A new provider payout of the provider's open payments and
        refunds (booked, the refunded ones too: the provider took them),
        oldest first up to the line's date, whose total less the line's
        fees is its amount (the longest such run)"""
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Posting = pool.get('ticket.accounting.posting')
        if not origin.ticket_provider:
            return None
        fees = origin.provider_fees or ZERO
        payments = Payment.search([
                ('company', '=', origin.company.id),
                ('provider', '=', origin.ticket_provider),
                ('provider_payout', '=', None),
                ('state', 'in', ['succeeded', 'refunded', 'refund_due']),
                ('date', '<', day_end(origin.company, origin.date)),
                ], order=[('date', 'ASC'), ('id', 'ASC')])
        booked = {p.payment.id for p in Posting.search([
                    ('payment', 'in', [p.id for p in payments]),
                    ])}
        # a payout is of one method, and of one partner for the partners'
        # sales: each group in turn, the one of the oldest payment first
        groups = {}
        for payment in payments:
            if payment.id in booked:
                partner = (payment.order.partner
                    if payment.provider == PARTNER else None)
                groups.setdefault((payment.method, partner), []).append(
                    payment)
        for (method, partner), group in groups.items():
            total, run = ZERO, None
            for i, payment in enumerate(group):
                total += -payment.amount if payment.kind == 'refund' else (
                    payment.amount)
                if total - fees == origin.amount:
                    run = group[:i + 1]
            if run is None:
                continue
            payout, = cls.create([{
                        'company': origin.company.id,
                        'provider': origin.ticket_provider,
                        'partner': partner.id if partner else None,
                        'method': method,
                        'reference': origin.number,
                        'date': origin.date,
                        'fees': fees,
                        }])
            Payment.write(run, {'provider_payout': payout.id})
            return cls(payout.id)
        return None


class ClearingOpenLine(ModelSQL, ModelView):
    "Unmatched clearing line"
    __name__ = 'ticket.accounting.clearing.open_line'
    company = fields.Many2One('company.company', "Company", readonly=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    date = fields.Date("Date", readonly=True)
    account = fields.Many2One('account.account', "Account", readonly=True)
    provider = fields.Selection('get_providers', "Provider", readonly=True)
    method = fields.Selection(METHODS, "Method", readonly=True)
    payment = fields.Many2One(
        'ticket.order.payment', "Payment", readonly=True)
    order = fields.Many2One('ticket.order', "Order", readonly=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', readonly=True,
        help="Positive for a payment the provider owes, negative for a "
        "refund.")
    posting = fields.Many2One(
        'ticket.accounting.posting', "Entry", readonly=True, required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('posting')
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def get_providers(cls):
        return Pool().get('ticket.order.payment').get_providers()

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @classmethod
    def table_query(cls):
        pool = Pool()
        Line = pool.get('ticket.accounting.posting.line')
        Payment = pool.get('ticket.order.payment')
        Posting = pool.get('ticket.accounting.posting')
        line = Line.__table__()
        posting = Posting.__table__()
        payment = Payment.__table__()
        return (line
            .join(posting, condition=line.posting == posting.id)
            .join(payment, condition=posting.payment == payment.id)
            .select(
                line.id.as_('id'),
                posting.company.as_('company'),
                posting.date.as_('date'),
                line.account.as_('account'),
                payment.provider.as_('provider'),
                payment.method.as_('method'),
                payment.id.as_('payment'),
                posting.order.as_('order'),
                line.amount.as_('amount'),
                posting.id.as_('posting'),
                line.create_uid.as_('create_uid'),
                line.create_date.as_('create_date'),
                line.write_uid.as_('write_uid'),
                line.write_date.as_('write_date'),
                where=(line.kind == 'clearing')
                & (payment.provider_payout == Null)))

