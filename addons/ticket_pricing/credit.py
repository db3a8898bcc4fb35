"""Credits and gift vouchers: a balance that pays orders until spent.

A credit is a means of payment, not a discount: the order's lines, taxes
and total stay as they are and the credit pays part of the total. Its
balance is debited when the order is created, by a conditional UPDATE that
never takes it below zero, and credited back when the order is cancelled
or expires; every movement is a credit line."""
import secrets
from collections import defaultdict
from decimal import Decimal

from sql import Literal
from sql.aggregate import Sum

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    Check, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import AccessError, ValidationError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from guichet.ticket_event.common import forget_records, now

from .engine import ZERO
from .exceptions import PricingError
from .promotion import CODE_ALPHABET

CODE_LENGTH = 16            # 80 random bits
MAX_CREDITS = 10000


def new_code():
    return ''.join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(value):
    "A credit code as stored: capitals, without blanks nor dashes"
    return ''.join(c for c in (value or '').upper() if c not in ' -\t')


class Credit(Workflow, ModelSQL, ModelView):
    "A credit or a gift voucher"
    __name__ = 'ticket.credit'
    _rec_name = 'code'
    _states = {'readonly': Eval('state') != 'draft'}
    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    code = fields.Char("Code", readonly=True,
        help="What the holder types to pay with the credit; drawn at "
        "random when the credit is created.")
    kind = fields.Selection([
            ('voucher', "Gift Voucher"),
            ('credit', "Credit"),
            ], "Kind", required=True, states=_states)
    party = fields.Many2One(
        'party.party', "Holder", states=_states,
        context={'company': Eval('company', -1)}, depends={'company'})
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        states=_states, domain=[('amount', '>', 0)])
    balance = Monetary(
        "Balance", currency='currency', digits='currency', required=True,
        readonly=True)
    valid_from = fields.DateTime("Valid From", states=_states)
    valid_until = fields.DateTime(
        "Valid Until",
        domain=[If(Bool(Eval('valid_from')) & Bool(Eval('valid_until')),
                ('valid_until', '>=', Eval('valid_from')), ())],
        states={'readonly': Eval('state') == 'cancelled'})
    origin_order = fields.Many2One(
        'ticket.order', "Refunded Order", readonly=True,
        ondelete='RESTRICT',
        help="The order refunded by the credit.")
    lines = fields.One2Many(
        'ticket.credit.line', 'credit', "Movements", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('active', "Active"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'ticket_pricing.msg_credit_code_unique'),
            ('balance_positive', Check(t, t.balance >= 0),
                'ticket_pricing.msg_credit_balance_positive'),
            ]
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'active'),
            ('active', 'cancelled'),
            ('draft', 'cancelled'),
            }
        cls._buttons.update(
            activate={
                'invisible': Eval('state') != 'draft',
                'icon': 'tryton-ok',
                'depends': ['state'],
                },
            cancel={
                'invisible': Eval('state') == 'cancelled',
                'icon': 'tryton-cancel',
                'depends': ['state'],
                },
            )

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_kind(cls):
        return 'voucher'

    @classmethod
    def default_balance(cls):
        return Decimal(0)

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            values['code'] = normalize_code(values.get('code')) or new_code()
        return values

    @classmethod
    def check_modification(cls, mode, credits, values=None, external=False):
        super().check_modification(
            mode, credits, values=values, external=external)
        if mode == 'delete':
            for credit in credits:
                if credit.state != 'draft':
                    raise AccessError(gettext(
                            'ticket_pricing.msg_credit_delete',
                            credit=credit.rec_name))

    @classmethod
    def copy(cls, credits, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('lines', None)
        default.setdefault('origin_order', None)
        default.setdefault('balance', Decimal(0))
        return super().copy(credits, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def activate(cls, credits):
        "Make the credits usable for their amount"
        for credit in credits:
            credit.balance = credit.amount
        cls.save(credits)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, credits):
        "The credits can no longer pay"

    @classmethod
    def issue(cls, amount, count=1, party=None, kind='voucher',
            valid_from=None, valid_until=None, origin_order=None,
            company=None):
        "Create count active credits of amount (for the context's company)"
        Company = Pool().get('company.company')
        if not 1 <= count <= MAX_CREDITS:
            raise ValidationError(gettext(
                    'ticket_pricing.msg_credit_issue_count',
                    maximum=MAX_CREDITS))
        company = company or Company(cls.default_company())
        credits = cls.create([{
                    'company': company.id,
                    'amount': company.currency.round(amount),
                    'party': party.id if party else None,
                    'kind': kind,
                    'valid_from': valid_from,
                    'valid_until': valid_until,
                    'origin_order': origin_order.id if origin_order else None,
                    } for _ in range(count)])
        cls.activate(credits)
        return credits

    @classmethod
    def find(cls, value, company):
        "The credit that value names for company; PricingError if none"
        credits = cls.search([
                ('code', '=', normalize_code(value)),
                ('company', '=', company.id),
                ], limit=1)
        if not credits:
            raise PricingError(gettext(
                    'ticket_pricing.msg_credit_unknown', code=value),
                'credit_invalid')
        return credits[0]

    def check_usable(self, at):
        "Raise PricingError unless the credit may pay at the date"
        if self.state != 'active':
            raise PricingError(gettext(
                    'ticket_pricing.msg_credit_inactive',
                    code=self.code), 'credit_invalid')
        if ((self.valid_from and at < self.valid_from)
                or (self.valid_until and at > self.valid_until)):
            raise PricingError(gettext(
                    'ticket_pricing.msg_credit_expired',
                    code=self.code), 'credit_invalid')
        if self.balance <= 0:
            raise PricingError(gettext(
                    'ticket_pricing.msg_credit_spent',
                    code=self.code), 'credit_invalid')

    @classmethod
    def move(cls, credit_id, amount, check=True):
        """Add amount (negative to debit) to the balance by a conditional
        UPDATE that locks the row; return whether the credit covered it"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        where = table.id == credit_id
        if check:
            where &= (table.balance + amount >= 0) & (
                table.state == 'active')
        cursor.execute(*table.update(
                [table.balance], [table.balance + amount],
                where=where, returning=[table.id]))
        moved = cursor.fetchone() is not None
        forget_records(cls, [credit_id])
        return moved

    @classmethod
    def debit(cls, credits):
        """Debit the (credit, amount) of credits, all or none; of two
        orders racing for a balance, one gets it and the other gets
        PricingError"""
        done = []
        for credit, amount in credits:
            if not cls.move(credit.id, -amount):
                for credit_id, debited in reversed(done):
                    cls.move(credit_id, debited, check=False)
                raise PricingError(gettext(
                        'ticket_pricing.msg_credit_spent',
                        code=credit.code), 'credit_invalid')
            done.append((credit.id, amount))


class CreditLine(ModelSQL, ModelView):
    "A movement of a credit"
    __name__ = 'ticket.credit.line'
    credit = fields.Many2One(
        'ticket.credit', "Credit", required=True, ondelete='RESTRICT')
    order = fields.Many2One(
        'ticket.order', "Order", ondelete='RESTRICT')
    date = fields.DateTime("Date", required=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        help="Negative when an order spends the credit, positive when the "
        "amount comes back.")
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('credit')
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_date(cls):
        return now()

    @fields.depends('credit', '_parent_credit.company')
    def on_change_with_currency(self, name=None):
        if self.credit and self.credit.company:
            return self.credit.company.currency


class IssueStart(ModelView):
    __name__ = 'ticket.credit.issue.start'
    company = fields.Many2One('company.company', "Company", readonly=True)
    currency = fields.Many2One('currency.currency', "Currency",
        readonly=True)
    count = fields.Integer("Number of Vouchers", required=True,
        domain=[('count', '>=', 1), ('count', '<=', MAX_CREDITS)])
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        domain=[('amount', '>', 0)])
    valid_from = fields.DateTime("Valid From")
    valid_until = fields.DateTime(
        "Valid Until",
        domain=[If(Bool(Eval('valid_from')) & Bool(Eval('valid_until')),
                ('valid_until', '>=', Eval('valid_from')), ())])

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_currency(cls):
        Company = Pool().get('company.company')
        company = Transaction().context.get('company')
        if company is not None and company >= 0:
            return Company(company).currency.id

    @classmethod
    def default_count(cls):
        return 1


class Issue(Wizard):
    "Issue gift vouchers in bulk"
    __name__ = 'ticket.credit.issue'
    start = StateView(
        'ticket.credit.issue.start',
        'ticket_pricing.credit_issue_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Issue", 'issue', 'tryton-ok', default=True),
            ])
    issue = StateTransition()

    def transition_issue(self):
        Credit = Pool().get('ticket.credit')
        Credit.issue(self.start.amount, count=self.start.count,
            valid_from=self.start.valid_from,
            valid_until=self.start.valid_until)
        return 'end'


class PriceEngine(metaclass=PoolMeta):
    __name__ = 'ticket.price_engine'

    @classmethod
    def apply_credits(cls, quote):
        super().apply_credits(quote)
        Credit = Pool().get('ticket.credit')
        remaining = quote.total - quote.credit_amount
        codes = dict.fromkeys(
            normalize_code(c) for c in quote.request.credit_codes or ())
        for code in codes:
            credit = Credit.find(code, quote.company)
            credit.check_usable(quote.request.at)
            amount = min(credit.balance, remaining)
            if amount > 0:
                quote.credits.append((credit, amount))
                remaining -= amount


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'
    credit_lines = fields.One2Many(
        'ticket.credit.line', 'order', "Credits Used", readonly=True)
    credit_amount = fields.Function(Monetary(
            "Paid by Credit", currency='currency', digits='currency'),
        'get_money')
    amount_to_pay = fields.Function(Monetary(
            "To Pay", currency='currency', digits='currency'),
        'get_money')
    refund_credit = fields.Many2One(
        'ticket.credit', "Refund Credit", readonly=True,
        ondelete='RESTRICT',
        help="The credit the order was refunded as.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update(
            refund_as_credit={
                'invisible': (~Eval('state').in_(['paid', 'cancelled'])
                    | ~Eval('paid_at') | Bool(Eval('refund_credit'))),
                'icon': 'tryton-undo',
                'depends': ['state', 'paid_at', 'refund_credit'],
                },
            )

    @classmethod
    def copy(cls, orders, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('credit_lines', None)
        default.setdefault('refund_credit', None)
        return super().copy(orders, default=default)

    @classmethod
    def _amount_queries(cls, ids, width):
        "What credits paid: the sum of the order's credit lines"
        CreditLine = Pool().get('ticket.credit.line')
        line = CreditLine.__table__()
        query = line.select(line.order, Literal('credit'), Sum(line.amount),
            *[Literal(None)] * (width - 1),
            where=line.order.in_(ids),
            group_by=[line.order])
        return super()._amount_queries(ids, width) + [query]

    @classmethod
    def _amounts_of(cls, order, total, sums):
        figures = super()._amounts_of(order, total, sums)
        credit = -sums.get('credit', ZERO)
        figures['credit_amount'] = credit
        figures['amount_to_pay'] = figures['total'] - credit
        return figures

    @property
    def credit_paid(self):
        "What credits paid of the order, even if given back since"
        return -sum((l.amount for l in self.credit_lines if l.amount < 0),
            ZERO)

    @classmethod
    def create_from_quote(cls, quote, holds, **kwargs):
        pool = Pool()
        Credit = pool.get('ticket.credit')
        CreditLine = pool.get('ticket.credit.line')
        Credit.debit(quote.credits)
        try:
            order = super().create_from_quote(quote, holds, **kwargs)
        except UserError:
            for credit, amount in quote.credits:
                Credit.move(credit.id, amount, check=False)
            raise
        if quote.credits:
            CreditLine.create([{
                        'credit': credit.id,
                        'order': order.id,
                        'amount': -amount,
                        } for credit, amount in quote.credits])
        return order

    @classmethod
    def cancel(cls, orders):
        super().cancel(orders)
        cls.give_back_credits(orders)

    @classmethod
    def expire(cls, orders):
        super().expire(orders)
        cls.give_back_credits(orders)

    @classmethod
    def give_back_credits(cls, orders):
        "Credit back what the orders now cancelled or expired spent"
        pool = Pool()
        Credit = pool.get('ticket.credit')
        CreditLine = pool.get('ticket.credit.line')
        if not orders:
            return
        cls.lock(orders)
        orders = [o for o in cls.browse([o.id for o in orders])
            if o.state in {'cancelled', 'expired'}]
        net = defaultdict(lambda: ZERO)
        for line in CreditLine.search([
                    ('order', 'in', [o.id for o in orders]),
                    ]):
            net[line.order.id, line.credit.id] += line.amount
        back = [(k, -a) for k, a in sorted(net.items()) if a < 0]
        for (_, credit_id), amount in back:
            Credit.move(credit_id, amount, check=False)
        CreditLine.create([{
                    'credit': credit_id,
                    'order': order_id,
                    'amount': amount,
                    } for (order_id, credit_id), amount in back])

    @classmethod
    @ModelView.button
    def refund_as_credit(cls, orders):
        """Refund paid orders (cancelled first if need be) as credits of
        what the buyer paid other than by credit; return the credits"""
        Credit = Pool().get('ticket.credit')
        cls.lock(orders)
        orders = cls.browse([o.id for o in orders])
        for order in orders:
            if not order.paid_at or order.state not in {'paid', 'cancelled'}:
                raise UserError(gettext(
                        'ticket_pricing.msg_credit_refund_unpaid',
                        order=order.rec_name))
            if order.refund_credit:
                raise UserError(gettext(
                        'ticket_pricing.msg_credit_refund_twice',
                        order=order.rec_name,
                        credit=order.refund_credit.rec_name))
            if order.total - order.credit_paid <= 0:
                raise UserError(gettext(
                        'ticket_pricing.msg_credit_refund_nothing',
                        order=order.rec_name))
        cls.cancel([o for o in orders if o.state == 'paid'])
        credits = []
        for order in orders:
            credit, = Credit.issue(
                order.total - order.credit_paid, party=order.party,
                kind='credit', origin_order=order, company=order.company)
            cls.write([order], {'refund_credit': credit.id})
            credits.append(credit)
        return credits
