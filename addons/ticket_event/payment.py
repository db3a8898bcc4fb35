"""Payments of orders, whoever takes them: the web shop's providers, the box
office, a bank transfer the organizer records.

``Payment.record`` is the one service that books money received for an
order. It is idempotent per (provider, reference), enforced by a unique
constraint in PostgreSQL: a provider that notifies the same payment twice
gets the first payment back and nothing changes. The order is paid once its
payments cover what it costs; a payment arriving after the order expired
takes its places again through the capacity service if they are still free,
otherwise the payment is marked to be refunded, so that a late payment never
oversells.
"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql import Conflict, Literal
from sql.aggregate import Sum
from sql.conditionals import Case
from sql.functions import CurrentTimestamp

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    Check, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .common import forget_records, lock_now, now
from .exceptions import CapacityError, OrderError

METHODS = [
    ('card', "Card"),
    ('transfer', "Bank Transfer"),
    ('cheque', "Cheque"),
    ('cash', "Cash"),
    ('voucher', "Voucher"),
    ('other', "Other"),
    ]
ZERO = Decimal(0)
# How long a revived order waits for the rest of its payment
REVIVE_DELAY = dt.timedelta(minutes=30)


class PaymentError(UserError):
    "The payment cannot be recorded or refunded"


class Payment(Workflow, ModelSQL, ModelView):
    "A payment or a refund of a ticket order"
    __name__ = 'ticket.order.payment'
    _rec_name = 'reference'
    order = fields.Many2One(
        'ticket.order', "Order", required=True, readonly=True,
        ondelete='RESTRICT')
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    kind = fields.Selection([
            ('payment', "Payment"),
            ('refund', "Refund"),
            ], "Kind", required=True, readonly=True)
    provider = fields.Selection(
        'get_providers', "Provider", required=True, readonly=True,
        help="Who took the money: a payment service of the shop, the box "
        "office or the organizer by hand.")
    method = fields.Selection(METHODS, "Method", required=True,
        readonly=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        readonly=True)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)
    reference = fields.Char(
        "Reference", readonly=True, strip=False,
        help="The provider's reference of the payment; one payment per "
        "provider and reference.")
    date = fields.DateTime("Date", required=True, readonly=True)
    refund_of = fields.Many2One(
        'ticket.order.payment', "Refund Of", readonly=True,
        ondelete='RESTRICT',
        domain=[('kind', '=', 'payment'), ('order', '=', Eval('order', -1))],
        states={'invisible': Eval('kind') != 'refund'})
    refunds = fields.One2Many(
        'ticket.order.payment', 'refund_of', "Refunds", readonly=True,
        states={'invisible': Eval('kind') != 'payment'})
    note = fields.Text("Note")
    state = fields.Selection([
            ('pending', "Pending"),
            ('succeeded', "Succeeded"),
            ('failed', "Failed"),
            ('refund_due', "To Refund"),
            ('refunded', "Refunded"),
            ], "State", required=True, readonly=True, sort=False,
        help="A payment 'To Refund' arrived for an order that could not "
        "take it (cancelled, or expired and its places sold since).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('provider_reference_unique', Unique(t, t.provider, t.reference),
                'ticket_event.msg_payment_reference_unique'),
            ('amount_positive', Check(t, t.amount > 0),
                'ticket_event.msg_payment_amount_positive'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.order, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state.in_(['pending', 'refund_due'])),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('pending', 'succeeded'),
            ('pending', 'failed'),
            ('succeeded', 'refund_due'),
            ('refund_due', 'refunded'),
            ('succeeded', 'refunded'),
            }
        cls._buttons.update(
            mark_refunded={
                'invisible': Eval('state') != 'refund_due',
                'icon': 'tryton-undo',
                'depends': ['state'],
                },
            confirm_refund={
                'invisible': ((Eval('kind') != 'refund')
                    | (Eval('state') != 'pending')),
                'icon': 'tryton-ok',
                'depends': ['kind', 'state'],
                },
            )

    @classmethod
    def get_providers(cls):
        "The providers of payments; other modules add theirs"
        return [
            ('manual', "Manual"),
            ('box_office', "Box Office"),
            ]

    @classmethod
    def default_kind(cls):
        return 'payment'

    @classmethod
    def default_state(cls):
        return 'succeeded'

    @classmethod
    def default_date(cls):
        return now()

    @classmethod
    def check_modification(cls, mode, payments, values=None, external=False):
        super().check_modification(
            mode, payments, values=values, external=external)
        if mode == 'delete':
            for payment in payments:
                if payment.state != 'failed':
                    raise PaymentError(gettext(
                            'ticket_event.msg_payment_delete',
                            payment=payment.rec_name or payment.id))

    @classmethod
    def record(cls, order, provider, reference, amount, method='card',
            date=None, note=None):
        """Book amount received by provider for order; return the payment
        and whether it is new.

        The same (provider, reference) twice returns the first payment and
        changes nothing. A new payment pays the order once the payments
        cover it; a payment for a cancelled order, or for an expired order
        whose places are gone, is marked to be refunded (state refund_due).
        """
        Order = Pool().get('ticket.order')
        # read once: the lock below empties the caches
        currency = order.currency
        amount = cls._check_amount(order, amount)
        if reference is not None and not (
                isinstance(reference, str) and 0 < len(reference) <= 200):
            raise PaymentError(gettext('ticket_event.msg_payment_reference'))
        # The order is locked first: two payments of one order settle one
        # after the other (in place at READ COMMITTED: no restart). A
        # reference known already is found by the insert's conflict below
        # (no search before: the notification of a new payment is the rush's
        # case).
        lock_now(Order, [order])
        order = Order(order.id)
        payment_id = cls._insert(order, provider, reference, amount, method,
            date or now(), note, currency=currency)
        if payment_id is None:
            # The same payment notified before (or concurrently)
            existing, = cls.search([
                    ('provider', '=', provider),
                    ('reference', '=', reference),
                    ], limit=1)
            return existing, False
        state = cls.settle(order, cls(payment_id))
        payment = cls(payment_id)
        if state == 'succeeded':
            # its values kept in the transaction's cache as its read would
            # give them (settle wrote nothing to it)
            payment._cache[payment_id]._update({
                    'order': order.id, 'kind': 'payment',
                    'provider': provider, 'method': method,
                    'amount': amount, 'currency': currency.id,
                    'reference': reference, 'state': state})
        return payment, True

    @classmethod
    def _check_amount(cls, order, amount):
        if (not isinstance(amount, (Decimal, int)) or isinstance(amount, bool)
                or not Decimal(amount).is_finite()
                or order.currency.round(Decimal(amount)) <= 0):
            raise PaymentError(gettext(
                    'ticket_event.msg_payment_amount_positive'))
        return order.currency.round(Decimal(amount))

    @classmethod
    def _insert(cls, order, provider, reference, amount, method, date, note,
            kind='payment', state='succeeded', refund_of=None,
            currency=None):
        """Insert a payment unless (provider, reference) exists; return its
        id or None. currency is the order's (read again when None).

        INSERT ... ON CONFLICT DO NOTHING waits for a concurrent insert of
        the same reference and then does nothing, instead of failing on the
        unique constraint."""
        if provider not in dict(cls.get_providers()):
            raise PaymentError(gettext(
                    'ticket_event.msg_payment_provider', provider=provider))
        if method not in dict(METHODS):
            raise PaymentError(gettext(
                    'ticket_event.msg_payment_method', method=method))
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [table.create_uid, table.create_date, table.order,
            table.company, table.kind, table.provider, table.method,
            table.amount, table.currency, table.reference, table.date,
            table.state, table.note, table.refund_of]
        values = [Transaction().user, CurrentTimestamp(), order.id,
            order.company.id, kind, provider, method, amount,
            (currency or order.currency).id, reference, date, state, note,
            refund_of]
        cursor.execute(*table.insert(columns, [values],
                on_conflict=Conflict(
                    table, indexed_columns=[table.provider, table.reference]),
                returning=[table.id]))
        row = cursor.fetchone()
        return row[0] if row else None

    @classmethod
    def settle(cls, order, payment):
        """Apply a new succeeded payment to its (locked) order: pay it when
        covered, revive it if it expired, or mark the payment to refund;
        return the payment's state"""
        Order = Pool().get('ticket.order')
        if order.state == 'expired':
            if not Order.try_revive(order):
                cls.write([payment], {'state': 'refund_due', 'note': '\n'.join(
                            filter(None, [payment.note, gettext(
                                        'ticket_event.msg_payment_late')]))})
                return 'refund_due'
            order = Order(order.id)
        if order.state == 'reserved':
            if order.amount_paid >= order.payable_amount:
                Order.pay([order])
        elif order.state == 'cancelled':
            cls.write([payment], {'state': 'refund_due', 'note': '\n'.join(
                        filter(None, [payment.note, gettext(
                                    'ticket_event.msg_payment_cancelled')]))})
            return 'refund_due'
        return 'succeeded'

    @classmethod
    def refund(cls, payment, amount=None, reference=None, date=None,
            note=None, state='succeeded'):
        """Record that amount (all that is left by default) of payment goes
        back to the buyer; return the refund.

        A refund is pending while someone has to send the money by hand
        (confirm_refund); the payment becomes refunded once its succeeded
        refunds cover it."""
        Order = Pool().get('ticket.order')
        order = payment.order
        Order.lock([order])
        payment = cls(payment.id)
        if payment.kind != 'payment' or payment.state not in {
                'succeeded', 'refund_due'}:
            raise PaymentError(gettext(
                    'ticket_event.msg_payment_not_refundable',
                    payment=payment.rec_name or payment.id))
        left = payment.refundable_amount
        amount = left if amount is None else cls._check_amount(order, amount)
        if amount <= 0 or amount > left:
            raise PaymentError(gettext(
                    'ticket_event.msg_payment_refund_amount',
                    amount=amount, left=left))
        assert state in {'pending', 'succeeded'}
        refund_id = cls._insert(order, payment.provider, reference, amount,
            payment.method, date or now(), note, kind='refund',
            state=state, refund_of=payment.id)
        if refund_id is None:
            existing, = cls.search([
                    ('provider', '=', payment.provider),
                    ('reference', '=', reference),
                    ], limit=1)
            return existing
        forget_records(cls, [payment.id])
        cls._update_refunded([cls(payment.id)])
        return cls(refund_id)

    @property
    def refundable_amount(self):
        "What is left to refund of a payment"
        return self.amount - sum((r.amount for r in self.refunds
                if r.state in {'pending', 'succeeded'}), ZERO)

    @classmethod
    def _update_refunded(cls, payments):
        "Mark refunded the payments that their succeeded refunds cover"
        cls._set_refunded([p for p in payments
                if p.state in {'succeeded', 'refund_due'}
                and sum((r.amount for r in p.refunds
                        if r.state == 'succeeded'), ZERO) >= p.amount])

    @classmethod
    @ModelView.button
    @Workflow.transition('succeeded')
    def confirm_refund(cls, refunds):
        "Confirm that the money of pending refunds was sent back"
        for refund in refunds:
            if refund.kind != 'refund':
                raise PaymentError(gettext(
                        'ticket_event.msg_payment_not_refund',
                        payment=refund.rec_name or refund.id))
        forget_records(cls, [r.id for r in refunds])
        cls._update_refunded(list({r.refund_of for r in refunds}))

    @classmethod
    @Workflow.transition('refunded')
    def _set_refunded(cls, payments):
        pass

    @classmethod
    @ModelView.button
    def mark_refunded(cls, payments):
        "Record that the payments to refund were given back by hand"
        for payment in payments:
            if payment.state == 'refund_due' and payment.refundable_amount:
                cls.refund(payment, note=gettext(
                        'ticket_event.msg_payment_refunded_by_hand'))

    @classmethod
    @Workflow.transition('refund_due')
    def require_refund(cls, payments):
        "Mark succeeded payments to be given back"


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'
    payments = fields.One2Many(
        'ticket.order.payment', 'order', "Payments", readonly=True,
        filter=[('kind', '=', 'payment')])
    refunds = fields.One2Many(
        'ticket.order.payment', 'order', "Refunds", readonly=True,
        filter=[('kind', '=', 'refund')])
    amount_paid = fields.Function(Monetary(
            "Paid", currency='currency', digits='currency',
            help="Payments received and kept, less their refunds."),
        'get_money')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # A payment received after the expiry takes the places back
        cls._transitions |= {('expired', 'reserved')}
        cls._buttons.update(
            record_payment={
                'invisible': ~Eval('state').in_(['reserved', 'expired']),
                'icon': 'tryton-ok',
                'depends': ['state'],
                },
            )

    @classmethod
    def _amount_queries(cls, ids, width):
        """The amount paid: the succeeded payments less the succeeded
        refunds of succeeded payments"""
        Payment = Pool().get('ticket.order.payment')
        payment = Payment.__table__()
        origin = Payment.__table__()
        query = payment.join(origin, 'LEFT',
            condition=payment.refund_of == origin.id
            ).select(payment.order, Literal('paid'),
            Sum(Case((payment.kind == 'payment', payment.amount),
                    else_=-payment.amount)),
            *[Literal(None)] * (width - 1),
            where=payment.order.in_(ids)
            & (payment.state == 'succeeded')
            & ((payment.kind == 'payment') | (origin.state == 'succeeded')),
            group_by=[payment.order])
        return super()._amount_queries(ids, width) + [query]

    @classmethod
    def _amounts_of(cls, order, total, sums):
        figures = super()._amounts_of(order, total, sums)
        figures['amount_paid'] = sums.get('paid', ZERO)
        return figures

    @property
    def payable_amount(self):
        """What the buyer pays by payments: the total, less what other
        means (credits) paid"""
        return self.total

    @property
    def amount_due(self):
        "What is left to pay"
        return max(self.payable_amount - self.amount_paid, ZERO)

    @classmethod
    def copy(cls, orders, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('payments', None)
        default.setdefault('refunds', None)
        return super().copy(orders, default=default)

    @classmethod
    def try_revive(cls, order):
        """Take the places of an expired order again; return whether it is
        reserved again. Changes nothing when a place is gone."""
        Hold = Pool().get('ticket.hold')
        if order.state != 'expired' or not order.can_revive():
            return False
        try:
            hold = Hold.retake(order)
        except CapacityError:
            return False
        cls.revive([order], hold)
        return True

    def can_revive(self):
        "Whether the sessions of the order may still be sold"
        at = now()
        for line in self.lines:
            session = line.session
            if session is None:
                continue
            if (session.state not in {'scheduled', 'on_sale', 'sold_out'}
                    or session.event.state != 'published'
                    or session.start <= at):
                return False
        return True

    @classmethod
    @Workflow.transition('reserved')
    def revive(cls, orders, hold):
        "Reserve expired orders again over the places of hold"
        Hold = Pool().get('ticket.hold')
        order, = orders
        Hold.convert([hold], order)
        cls.write([order], {'reserved_until': now() + REVIVE_DELAY})

    @classmethod
    @ModelView.button_action('ticket_event.wizard_order_record_payment')
    def record_payment(cls, orders):
        pass


class Hold(metaclass=PoolMeta):
    __name__ = 'ticket.hold'

    @classmethod
    def retake(cls, order):
        """Hold again the places an expired order gave back, in the same
        pools, all or none (CapacityError); return the hold"""
        pool = Pool()
        CapacityPool = pool.get('ticket.pool')
        HoldItem = pool.get('ticket.hold.item')
        quantities = defaultdict(int)
        for allocation in order.allocations:
            if allocation.state == 'returned':
                quantities[allocation.pool.id] += allocation.quantity
        if not quantities:
            raise CapacityError(gettext(
                    'ticket_event.msg_payment_no_places',
                    order=order.rec_name))
        CapacityPool.move_places(dict(quantities), take='held')
        skip = {'id', 'hold', 'create_uid', 'create_date', 'write_uid',
            'write_date', 'rec_name'}
        items = []
        for old in order.holds:
            for item in old.items:
                values = {}
                for name, field in HoldItem._fields.items():
                    if name in skip or isinstance(field, (
                                fields.Function, fields.One2Many,
                                fields.Many2Many)):
                        continue
                    value = getattr(item, name)
                    values[name] = value.id if isinstance(
                        value, ModelSQL) else value
                items.append(HoldItem(**values))
        hold = cls(company=order.company, channel=order.channel,
            expires_at=now() + REVIVE_DELAY, state='active')
        hold.items = items
        hold.allocations = [{'pool': pool_id, 'quantity': quantity,
                'state': 'held'}
            for pool_id, quantity in sorted(quantities.items())]
        hold.save()
        return hold


class RecordPaymentStart(ModelView):
    __name__ = 'ticket.order.record_payment.start'
    order = fields.Many2One('ticket.order', "Order", readonly=True)
    currency = fields.Many2One('currency.currency', "Currency", readonly=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        domain=[('amount', '>', 0)])
    method = fields.Selection(METHODS, "Method", required=True)
    reference = fields.Char(
        "Reference", help="The bank or cheque reference, if any.")
    date = fields.DateTime("Date", required=True)


class RecordPayment(Wizard):
    "Record a payment received by the organizer (transfer, cheque)"
    __name__ = 'ticket.order.record_payment'
    start = StateView(
        'ticket.order.record_payment.start',
        'ticket_event.order_record_payment_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Record", 'register', 'tryton-ok', default=True),
            ])
    register = StateTransition()

    def default_start(self, fields):
        order = self.record
        return {
            'order': order.id,
            'currency': order.currency.id,
            'amount': order.amount_due,
            'method': 'transfer',
            'date': now(),
            }

    def transition_register(self):
        Payment = Pool().get('ticket.order.payment')
        if self.record.state not in {'reserved', 'expired'}:
            raise OrderError(gettext(
                    'ticket_event.msg_order_not_reserved',
                    order=self.record.rec_name))
        Payment.record(self.record, 'manual', self.start.reference or None,
            self.start.amount, method=self.start.method, date=self.start.date)
        return 'end'

