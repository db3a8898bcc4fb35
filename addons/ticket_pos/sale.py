"""What the box office did: one operation per sale, refund, exchange or
change of holder, with its operator, its ticket order and the sale_point
sale that carries its money."""
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import PoolMeta
from trytond.pyson import Eval

KINDS = [
    ('sale', "Sale"),
    ('refund', "Refund"),
    ('refund_credit', "Refund as Credit"),
    ('exchange', "Exchange"),
    ('holder', "Holder Change"),
    ]


class Operation(ModelSQL, ModelView):
    "A box office operation"
    __name__ = 'ticket.pos.operation'
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    date = fields.DateTime("Date", required=True, readonly=True)
    operator = fields.Many2One(
        'res.user', "Operator", required=True, readonly=True,
        help="The user logged in on the terminal.")
    point = fields.Many2One(
        'sale.point', "Point", required=True, readonly=True,
        ondelete='RESTRICT')
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    cash_session = fields.Many2One(
        'sale.point.cash.session', "Cash Session", readonly=True,
        ondelete='RESTRICT')
    order = fields.Many2One(
        'ticket.order', "Order", required=True, readonly=True,
        ondelete='RESTRICT')
    new_order = fields.Many2One(
        'ticket.order', "New Order", readonly=True, ondelete='RESTRICT',
        states={'invisible': Eval('kind') != 'exchange'})
    sale = fields.Many2One(
        'sale.point.sale', "POS Sale", readonly=True, ondelete='RESTRICT',
        help="The sale of the point of sale that carries the money.")
    amount = Monetary(
        "Amount", currency='currency', digits='currency', readonly=True,
        help="What the buyer paid (negative: what was given back).")
    change = Monetary(
        "Change", currency='currency', digits='currency', readonly=True,
        help="The cash handed back to the buyer.")
    credit = fields.Many2One(
        'ticket.credit', "Credit", readonly=True, ondelete='RESTRICT',
        states={'invisible': Eval('kind') != 'refund_credit'})
    ticket = fields.Many2One(
        'ticket.ticket', "Ticket", readonly=True, ondelete='RESTRICT',
        help="The ticket refunded alone.",
        states={'invisible': ~Eval('ticket')})
    note = fields.Char("Note", readonly=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.cash_session, Index.Range())),
                Index(t, (t.order, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    def get_rec_name(self, name):
        return f'{self.order.rec_name} ({self.kind})'

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None


class Payment(metaclass=PoolMeta):
    __name__ = 'ticket.order.payment'

    @classmethod
    def get_providers(cls):
        return super().get_providers() + [('pos', "Box Office Terminal")]
