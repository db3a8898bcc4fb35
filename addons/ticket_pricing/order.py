"""Priced orders: lines, taxes and the path from a quote to an order."""
from collections import Counter
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from guichet.ticket_event.common import company_currency

from .engine import LineRequest, QuoteRequest
from .exceptions import PricingError


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    @classmethod
    def default_get(
            cls, fields_names=None, with_rec_name=True, with_default=True):
        # A buyer's party (find_party) keeps the company's defaults of its
        # multi-values (accounts, locations, language, payment term) without
        # a record each: reading one without its record gives the default,
        # and creating them costs a dozen queries and clears their caches
        # in every process at each checkout.
        if (Transaction().context.get('_ticket_buyer_party')
                and fields_names is not None):
            fields_names = [n for n in fields_names
                if not isinstance(cls._fields.get(n), fields.MultiValue)]
        return super().default_get(fields_names,
            with_rec_name=with_rec_name, with_default=with_default)

    @classmethod
    def preprocess_values(cls, mode, values):
        buyer = Transaction().context.get('_ticket_buyer_party')
        if mode == 'create' and buyer and not values.get('code'):
            # the code from the configured sequence by one NEXTVAL (the
            # sequence and its format kept per process)
            from .buyer import party_code
            values = values.copy()
            values['code'] = party_code()
        values = super().preprocess_values(mode, values)
        if mode == 'create' and buyer and values.get('code'):
            # what compute_fields derives from the code, created with it
            # instead of written after (a write and its checks per buyer)
            computed = cls(code=values['code']).compute_fields({'code'})
            values.update({k: v for k, v in computed.items()
                    if k in {'code_alnum', 'code_digit'}})
        return values

    def compute_fields(self, field_names=None):
        values = super().compute_fields(field_names=field_names)
        if Transaction().context.get('_ticket_buyer_party') and self.id:
            values = {k: v for k, v in values.items()
                if getattr(self, k) != v}
        return values


class Hold(metaclass=PoolMeta):
    __name__ = 'ticket.hold'

    @classmethod
    def reserve_quote(cls, quote, delay=None):
        """Hold the places of quote: every pool of its lines (session,
        category, tariff), all or none"""
        return cls.reserve(quote.hold_items(), channel=quote.request.channel,
            delay=delay, company=quote.company)


class HoldItem(metaclass=PoolMeta):
    __name__ = 'ticket.hold.item'
    tariff = fields.Many2One('ticket.tariff', "Tariff", ondelete='RESTRICT')


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'
    tax_lines = fields.One2Many(
        'ticket.order.tax', 'order', "Taxes", readonly=True)
    untaxed_amount = fields.Function(Monetary(
            "Untaxed", currency='currency', digits='currency'),
        'get_amounts')
    tax_amount = fields.Function(Monetary(
            "Tax", currency='currency', digits='currency'),
        'get_amounts')

    def get_amounts(self, name):
        field = {'untaxed_amount': 'untaxed_amount',
            'tax_amount': 'tax_amount'}[name]
        return sum((getattr(l, field) or Decimal(0) for l in self.lines),
            Decimal(0))

    @classmethod
    def quote_request(cls, holds, **kwargs):
        "The candidate order for the places of holds"
        lines = []
        held = {}
        for hold in holds:
            held[hold.id] = []
            for item in hold.items:
                held[hold.id].append((item.session.id,
                        item.tariff.id if item.tariff else None,
                        item.quantity))
                if item.tariff:
                    lines.append(LineRequest(
                            tariff=item.tariff, session=item.session,
                            quantity=item.quantity))
        kwargs.setdefault('channel', holds[0].channel if holds else 'web')
        return QuoteRequest(lines=lines, check_capacity=False, held=held,
            **kwargs)

    @classmethod
    def create_from_quote(cls, quote, holds, party=None, email=None,
            phone=None, payment_delay=None, values=None):
        """Create a reserved order priced by quote over the places of holds

        The holds must hold exactly the places of the quote."""
        cls.check_holds_match(quote, holds)
        order = cls.create_from_holds(
            holds, party=party, email=email, phone=phone,
            channel=quote.request.channel, payment_delay=payment_delay,
            lines=cls.lines_from_quote(quote), values=values)
        # the taxes in one INSERT, not a second save of the whole order
        # (nor a read back of each: their amounts are the quote's, rounded)
        cls.insert_plain('ticket.order.tax', [{'order': order.id,
                    'tax': t.tax.id, 'base': t.base, 'amount': t.amount}
                for t in quote.tax_lines], company_currency(order.company),
            check_access=True)
        return order

    @classmethod
    def check_holds_match(cls, quote, holds):
        def key(item):
            tariff = item['tariff'] if isinstance(item, dict) else (
                item.tariff.id if item.tariff else None)
            session = item['session'] if isinstance(item, dict) else (
                item.session)
            return (session.id, tariff, item['quantity']
                if isinstance(item, dict) else item.quantity)
        wanted = Counter(key(i) for i in quote.hold_items())
        known = quote.request.held
        if known is not None and set(known) == {h.id for h in holds}:
            # the items of the holds as the request read them (a hold's
            # items do not change): not read again after the buyer's party
            held = Counter(i for h in holds for i in known[h.id])
        else:
            held = Counter(key(i) for h in holds for i in h.items)
        if wanted != held:
            raise PricingError(gettext(
                    'ticket_pricing.msg_order_holds_mismatch'), 'invalid')

    @classmethod
    def lines_from_quote(cls, quote):
        OrderLine = Pool().get('ticket.order.line')
        lines = []
        for line in quote.lines:
            lines.append(OrderLine(
                    kind=line.kind,
                    tariff=line.tariff,
                    product=line.product,
                    session=line.session,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    discount=line.discount,
                    untaxed_amount=line.untaxed,
                    tax_amount=line.tax,
                    total_amount=line.total,
                    tickets_per_unit=(line.places_per_unit
                        if line.kind == 'ticket' else 0),
                    taxes=[{'tax': t.tax.id, 'base': t.base,
                            'amount': t.amount} for t in line.taxes]))
        return lines


class OrderLine(metaclass=PoolMeta):
    __name__ = 'ticket.order.line'
    kind = fields.Selection([
            ('ticket', "Ticket"),
            ('product', "Product"),
            ('fee', "Fee"),
            ], "Kind", required=True, readonly=True)
    tariff = fields.Many2One(
        'ticket.tariff', "Tariff", readonly=True, ondelete='RESTRICT')
    product = fields.Many2One(
        'product.product', "Product", readonly=True, ondelete='RESTRICT')
    discount = Monetary(
        "Discount", currency='currency', digits='currency', readonly=True)
    untaxed_amount = Monetary(
        "Untaxed", currency='currency', digits='currency', readonly=True)
    tax_amount = Monetary(
        "Tax", currency='currency', digits='currency', readonly=True)
    total_amount = Monetary(
        "Total", currency='currency', digits='currency', readonly=True)
    taxes = fields.One2Many(
        'ticket.order.line.tax', 'line', "Taxes", readonly=True)

    @classmethod
    def default_kind(cls):
        return 'ticket'

    @classmethod
    def default_discount(cls):
        return Decimal(0)

    def get_amount(self, name):
        if self.total_amount is not None:
            return self.total_amount
        return super().get_amount(name)

    @classmethod
    def _amount_columns(cls, line):
        return super()._amount_columns(line) + [line.total_amount]

    @classmethod
    def _amount_from_row(cls, currency, *values):
        *values, total_amount = values
        if total_amount is not None:
            return total_amount
        return super()._amount_from_row(currency, *values)

    @property
    def ticket_price(self):
        if self.total_amount is None:
            return super().ticket_price
        if not self.tickets_per_unit:
            return None
        return self.currency.round(
            self.total_amount / (self.quantity * self.tickets_per_unit))


class OrderLineTax(ModelSQL, ModelView):
    "The tax of an order line"
    __name__ = 'ticket.order.line.tax'
    line = fields.Many2One(
        'ticket.order.line', "Line", required=True, ondelete='CASCADE')
    tax = fields.Many2One(
        'account.tax', "Tax", required=True, ondelete='RESTRICT')
    base = Monetary(
        "Base", currency='currency', digits='currency', required=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('line')

    @fields.depends('line', '_parent_line.currency')
    def on_change_with_currency(self, name=None):
        return self.line.currency if self.line else None


class OrderTax(ModelSQL, ModelView):
    "The tax of an order per tax (rate)"
    __name__ = 'ticket.order.tax'
    order = fields.Many2One(
        'ticket.order', "Order", required=True, ondelete='CASCADE')
    tax = fields.Many2One(
        'account.tax', "Tax", required=True, ondelete='RESTRICT')
    base = Monetary(
        "Base", currency='currency', digits='currency', required=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')

    @fields.depends('order', '_parent_order.company')
    def on_change_with_currency(self, name=None):
        if self.order and self.order.company:
            return self.order.company.currency
