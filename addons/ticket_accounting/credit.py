"""Credits and gift vouchers in the ledger: a liability until spent.

A gift voucher sold debits the clearing account of how it was paid; a
voucher given away debits the free vouchers expense; a credit that refunds
an order takes back what the order booked. Spending a credit is booked with
the order (``Order.book_credits``)."""
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from guichet.ticket_event.payment import METHODS

from .posting import local_date


class Credit(metaclass=PoolMeta):
    __name__ = 'ticket.credit'
    payment_method = fields.Selection(
        [(None, "")] + METHODS, "Paid By",
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': Eval('kind') != 'voucher',
            },
        help="How the buyer paid the gift voucher; empty for a voucher "
        "given away.")

    @classmethod
    def default_payment_method(cls):
        return Transaction().context.get('voucher_payment_method')

    @classmethod
    def activate(cls, credits):
        super().activate(credits)
        for credit in credits:
            cls.book_issue(credit)

    @classmethod
    @without_check_access
    def book_issue(cls, credit):
        "Book the liability of a credit made usable"
        pool = Pool()
        Configuration = pool.get('ticket.accounting.configuration')
        Order = pool.get('ticket.order')
        Posting = pool.get('ticket.accounting.posting')
        configuration = Configuration.for_company(credit.company)
        if configuration is None:
            return
        if credit.origin_order:
            Order.lock([credit.origin_order])
            Order.book_money(credit.origin_order, 'refund_credit',
                -credit.amount, configuration.credit_liability, 'credit',
                credit=credit.id)
            return
        if credit.kind == 'voucher' and credit.payment_method:
            debit = (configuration.clearing_account(credit.payment_method),
                'clearing')
        else:
            debit = (configuration.voucher_expense, 'expense')
        Posting.book(configuration, 'voucher', [
                (debit[0], credit.amount, {'kind': debit[1]}),
                (configuration.credit_liability, -credit.amount,
                    {'kind': 'credit'}),
                ], local_date(credit.company, credit.create_date),
            credit=credit.id, method=credit.payment_method)


class IssueStart(metaclass=PoolMeta):
    __name__ = 'ticket.credit.issue.start'
    payment_method = fields.Selection(
        [(None, "")] + METHODS, "Paid By",
        help="How the buyer paid the vouchers; empty for vouchers given "
        "away.")


class Issue(metaclass=PoolMeta):
    __name__ = 'ticket.credit.issue'

    def transition_issue(self):
        with Transaction().set_context(
                voucher_payment_method=self.start.payment_method):
            return super().transition_issue()
