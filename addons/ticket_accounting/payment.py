"""Payments and refunds of orders in the ledger.

A succeeded payment debits its method's clearing account and books the
order's share through ``Order.book_money``; a payment no order can take
(to refund) waits on the customer advances account. A refund is booked once
it succeeded and reverses what its payment booked. A provider configured as
"posted elsewhere" (the box-office terminal, whose cash session posts its
money) makes no entry; a provider may have its own clearing account."""
from trytond.transaction import Transaction, without_check_access
from trytond.pool import Pool, PoolMeta

from .posting import local_date


class Payment(metaclass=PoolMeta):
    __name__ = 'ticket.order.payment'

    @classmethod
    def record(cls, order, provider, reference, amount, method='card',
            date=None, note=None):
        Configuration = Pool().get('ticket.accounting.configuration')
        payment, new = super().record(order, provider, reference, amount,
            method=method, date=date, note=note)
        # a new payment is of the order's company: nothing to book (and the
        # payment not to read) when that company books nothing
        if new:
            with Transaction().set_context(_check_access=False):
                books = Configuration.for_company(order.company) is not None
            if books:
                cls.book([payment])
        return payment, new

    @classmethod
    def refund(cls, payment, *args, **kwargs):
        refund = super().refund(payment, *args, **kwargs)
        cls.book([refund])
        return refund

    @classmethod
    def confirm_refund(cls, refunds):
        "Book the refunds waiting to be sent once confirmed (if supported)"
        super().confirm_refund(refunds)
        cls.book(cls.browse([r.id for r in refunds]))

    @classmethod
    @without_check_access
    def book(cls, payments):
        "Book the succeeded payments and refunds not booked yet"
        pool = Pool()
        Configuration = pool.get('ticket.accounting.configuration')
        Order = pool.get('ticket.order')
        Posting = pool.get('ticket.accounting.posting')
        for payment in payments:
            configuration = Configuration.for_company(payment.company)
            if (configuration is None
                    or payment.state not in {'succeeded', 'refund_due'}
                    or (payment.kind == 'refund'
                        and payment.state != 'succeeded')
                    or not configuration.books_provider(payment.provider)
                    or Posting.search([('payment', '=', payment.id)],
                        limit=1)):
                continue
            clearing = configuration.clearing_account(
                payment.method, payment.provider)
            values = {'payment': payment.id, 'method': payment.method}
            amount = payment.amount
            if payment.kind == 'refund':
                amount = -amount
                origin = payment.refund_of
                on_advance = Posting.search([
                        ('payment', '=', origin.id),
                        ('order_amount', '=', None),
                        ], limit=1)
            else:
                on_advance = payment.state == 'refund_due'
            if on_advance:
                Posting.book(configuration,
                    'refund' if payment.kind == 'refund' else 'payment', [
                        (clearing, amount, {'kind': 'clearing'}),
                        (configuration.advance, -amount,
                            {'kind': 'advance'}),
                        ], local_date(payment.company, payment.date),
                    order=payment.order.id, channel=payment.order.channel,
                    **values)
            else:
                Order.book_money(payment.order, payment.kind, amount,
                    clearing, 'clearing', at=payment.date, **values)
