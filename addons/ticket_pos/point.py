"""The box office on Tryton's points of sale: what a terminal needs to know
about its point, its payment methods and its cash sessions.

A terminal is bound to a ``sale.point``; its cash session is sale_point's
``sale.point.cash.session``, opened with a counted float and closed with a
count per payment method (``ticket.pos.count``): the Z report."""
import contextlib
from contextvars import ContextVar
from decimal import Decimal

from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from guichet.ticket_event.payment import METHODS

ZERO = Decimal(0)
# While a cash session is posted: what the sale lines' products give, by
# product, computed once for all the sales instead of once per line
_POSTING = ContextVar('ticket_pos_posting', default=None)
PRINTERS = [
    ('thermal', "Thermal 80 mm"),
    ('a4', "A4"),
    ]


class Point(metaclass=PoolMeta):
    __name__ = 'sale.point'
    ticket_box_office = fields.Boolean(
        "Box Office", help="The point is a ticketing box office terminal.")
    ticket_printer = fields.Selection(
        PRINTERS, "Ticket Printer",
        states={'invisible': ~Eval('ticket_box_office')},
        help="The paper the terminal prints tickets and receipts on.")
    ticket_credit_method = fields.Many2One(
        'sale.point.payment.method', "Credit Method",
        domain=[
            ('company', '=', Eval('company', -1)),
            ('cash', '=', False),
            ],
        states={'invisible': ~Eval('ticket_box_office')},
        help="The method that books what gift vouchers and credits pay.")
    ticket_float_type = fields.Many2One(
        'sale.point.cash.transfer.type', "Float Transfer",
        domain=[('company', '=', Eval('company', -1))],
        states={'invisible': ~Eval('ticket_box_office')},
        help="The cash transfer that brings the float counted at the "
        "opening when it differs from the last closing.")
    ticket_difference_type = fields.Many2One(
        'sale.point.cash.transfer.type', "Difference Transfer",
        domain=[('company', '=', Eval('company', -1))],
        states={'invisible': ~Eval('ticket_box_office')},
        help="The cash transfer that books the difference between the cash "
        "counted at the closing and the cash expected.")

    @classmethod
    def default_ticket_box_office(cls):
        return False

    @classmethod
    def default_ticket_printer(cls):
        return 'thermal'

    def current_cash_session(self):
        "The open cash session of the point or None"
        Session = Pool().get('sale.point.cash.session')
        sessions = Session.search([
                ('point', '=', self.id),
                ('state', '=', 'open'),
                ], limit=1)
        return sessions[0] if sessions else None


class PaymentMethod(metaclass=PoolMeta):
    __name__ = 'sale.point.payment.method'
    ticket_method = fields.Selection(
        METHODS, "Ticket Payment Method", required=True,
        help="How the payments of ticket orders taken with this method are "
        "recorded (card on an external terminal, cash, cheque, voucher).")

    @classmethod
    def default_ticket_method(cls):
        return 'card'


class CashSession(metaclass=PoolMeta):
    __name__ = 'sale.point.cash.session'
    ticket_opened_by = fields.Many2One(
        'res.user', "Opened By", readonly=True)
    ticket_opened_at = fields.DateTime("Opened At", readonly=True)
    ticket_float = Monetary(
        "Counted Float", currency='currency', digits='currency',
        readonly=True, help="The cash counted in the drawer at the opening.")
    ticket_closed_by = fields.Many2One(
        'res.user', "Closed By", readonly=True)
    ticket_closed_at = fields.DateTime("Closed At", readonly=True)
    ticket_counts = fields.One2Many(
        'ticket.pos.count', 'session', "Counts", readonly=True)
    ticket_operations = fields.One2Many(
        'ticket.pos.operation', 'cash_session', "Box Office Operations",
        readonly=True)


class Count(ModelSQL, ModelView):
    "What the operator counted for a payment method at the closing"
    __name__ = 'ticket.pos.count'
    session = fields.Many2One(
        'sale.point.cash.session', "Cash Session", required=True,
        readonly=True, ondelete='CASCADE')
    method = fields.Many2One(
        'sale.point.payment.method', "Method", required=True, readonly=True,
        ondelete='RESTRICT')
    expected = Monetary(
        "Expected", currency='currency', digits='currency', required=True,
        readonly=True)
    counted = Monetary(
        "Counted", currency='currency', digits='currency', required=True,
        readonly=True)
    difference = fields.Function(Monetary(
            "Difference", currency='currency', digits='currency'),
        'get_difference')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('session')

    @fields.depends('session', '_parent_session.point')
    def on_change_with_currency(self, name=None):
        if self.session and self.session.point:
            return self.session.point.company.currency

    def get_difference(self, name):
        return self.counted - self.expected


@contextlib.contextmanager
def posting():
    """Share between the sale lines posted in this block the taxes of their
    products: sale_point reads them again for every line, several times
    (the line's move line, the sale's taxes and total tax)"""
    token = _POSTING.set({})
    try:
        yield
    finally:
        _POSTING.reset(token)


class SaleLine(metaclass=PoolMeta):
    __name__ = 'sale.point.sale.line'

    @property
    def taxes(self):
        memo = _POSTING.get()
        if memo is None or not self.product or not self.company:
            return super().taxes
        key = ('taxes', self.product.id, self.company.id)
        if key not in memo:
            memo[key] = super().taxes
        return memo[key]
