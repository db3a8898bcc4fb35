"""The price engine: the one service that prices a candidate order.

The shop, the box office, the API and the back office call
``PriceEngine.quote(request)``; nothing else computes prices. A quote is
built by steps (``PriceEngine.steps``), each a classmethod taking the quote
under construction, so that the other files of this module (promotions,
passes, credits) and other addons (seating) add or extend steps.

Amounts: a line's ``unit_price`` and ``discount`` are in the event's display
basis (tax included or excluded); ``untaxed``, ``tax`` and ``total`` are
rounded to the currency and ``total == untaxed + tax`` holds on every line;
the tax per tax (rate) is rounded per line, so the breakdown sums exactly to
the order's tax.
"""
import dataclasses
from collections import defaultdict
from decimal import Decimal

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import Model
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from guichet.ticket_event.common import clears_caches, now
from guichet.ticket_event.exceptions import SaleClosedError

from .exceptions import PricingError
from .tariff import CatalogueCacheMixin

ZERO = Decimal(0)
MAX_LINE_QUANTITY = 1000
# The taxes of an amount of a product, by (product, company, basis, amount,
# date): the product's taxes come through its template and accounting
# category and cost a dozen queries per line; cleared (in every process,
# through ir_cache) when a product, category or tax changes.
_line_taxes = Cache('ticket.price_engine.line_taxes', context=False)


@dataclasses.dataclass
class LineRequest:
    "A line of a candidate order"
    tariff: object
    session: object = None
    quantity: int = 1
    amount: Decimal | None = None       # unit price chosen (pay what you want)
    components: list | None = None      # chosen components (multipass)


@dataclasses.dataclass
class QuoteRequest:
    "A candidate order"
    lines: list
    channel: str = 'web'
    promo_code: str | None = None
    credit_codes: tuple = ()
    email: str | None = None
    passwords: tuple = ()
    delivery: str = 'e_ticket'
    at: object = None
    check_capacity: bool = True
    # Order.quote_request: the (session id, tariff id, quantity) of the
    # items of each hold (by id) the request is made from, as read then
    held: dict | None = dataclasses.field(default=None, compare=False)


@dataclasses.dataclass
class TaxAmount:
    tax: object
    base: Decimal
    amount: Decimal


@dataclasses.dataclass
class QuoteLine:
    kind: str                           # 'ticket', 'product' or 'fee'
    description: str
    quantity: int
    unit_price: Decimal
    product: object
    tariff: object = None
    session: object = None
    discount: Decimal = ZERO
    places_per_unit: int = 1
    in_session_capacity: bool = True
    pools: list = dataclasses.field(default_factory=list)
    admissions: list = dataclasses.field(default_factory=list)
    untaxed: Decimal = ZERO
    tax: Decimal = ZERO
    total: Decimal = ZERO
    taxes: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)

    @property
    def gross(self):
        "Price times quantity, before discount, in the display basis"
        return self.unit_price * self.quantity

    def add_discount(self, amount):
        """Discount the line by amount, never below zero; return the
        amount taken. Promotions, deals and passes discount through it."""
        amount = min(max(amount, ZERO), self.gross - self.discount)
        self.discount += amount
        return amount

    @property
    def hold_items(self):
        """The hold items for the places of the line: one per admission
        session (a multipass holds several)"""
        if self.kind != 'ticket':
            return []
        admissions = self.admissions or [(self.session, self.pools)]
        return [{
                'session': session,
                'quantity': self.quantity,
                'places_per_unit': self.places_per_unit,
                'in_session_capacity': self.in_session_capacity,
                'pools': pools,
                'tariff': self.tariff.id if self.tariff else None,
                'description': self.description,
                } for session, pools in admissions]


@dataclasses.dataclass
class Quote:
    request: QuoteRequest
    company: object
    currency: object
    price_display: str
    lines: list = dataclasses.field(default_factory=list)
    tax_lines: list = dataclasses.field(default_factory=list)
    untaxed: Decimal = ZERO
    tax: Decimal = ZERO
    total: Decimal = ZERO
    credits: list = dataclasses.field(default_factory=list)
    promo_code: object = None
    deals: list = dataclasses.field(default_factory=list)

    @property
    def credit_amount(self):
        return sum((amount for _, amount in self.credits), ZERO)

    @property
    def to_pay(self):
        return self.total - self.credit_amount

    @property
    def discount(self):
        return sum((l.discount for l in self.lines), ZERO)

    @property
    def ticket_lines(self):
        return [l for l in self.lines if l.kind != 'fee']

    @property
    def fee_lines(self):
        return [l for l in self.lines if l.kind == 'fee']

    def hold_items(self):
        return [i for l in self.lines for i in l.hold_items]

    def round(self, amount):
        return self.currency.round(amount)


class PriceEngine(Model):
    "Price Engine"
    __name__ = 'ticket.price_engine'

    @classmethod
    def steps(cls):
        "The steps of a quote, in order; each takes the quote"
        return [
            cls.check_lines,
            cls.check_restrictions,
            cls.price_lines,
            cls.check_capacity,
            cls.apply_promo_code,
            cls.apply_deals,
            cls.add_fees,
            cls.compute_taxes,
            cls.apply_credits,
            ]

    @classmethod
    def quote(cls, request):
        "Price request (a QuoteRequest); raise PricingError on a refusal"
        quote = cls.new_quote(request)
        # The taxes of a product are those of the company in the context.
        with Transaction().set_context(company=quote.company.id):
            for step in cls.steps():
                step(quote)
        return quote

    @classmethod
    def new_quote(cls, request):
        if not request.lines:
            raise PricingError(gettext('ticket_pricing.msg_quote_empty'))
        pool = Pool()
        Company = pool.get('company.company')
        Currency = pool.get('currency.currency')
        # the tariffs' catalogue values (kept per process) give their
        # event's company, currency and price display
        values = [l.tariff.catalogue for l in request.lines]
        companies = {v['company'] for v in values}
        if len(companies) != 1:
            raise PricingError(gettext(
                    'ticket_pricing.msg_quote_one_company'))
        company, = companies
        displays = {v['price_display'] for v in values}
        if request.at is None:
            request.at = now()
        value = values[0]
        return Quote(
            request=request, company=Company(company),
            currency=Currency(value['currency'],
                rounding=value['rounding'], digits=value['digits']),
            price_display=(displays.pop() if len(displays) == 1
                else 'tax_included'))

    @classmethod
    def check_lines(cls, quote):
        "Each line: a quantity, a tariff sold for its session and channel"
        request = quote.request
        for line in request.lines:
            quantity = line.quantity
            if (not isinstance(quantity, int) or isinstance(quantity, bool)
                    or not 0 < quantity <= MAX_LINE_QUANTITY):
                raise PricingError(gettext(
                        'ticket_pricing.msg_quote_quantity',
                        maximum=MAX_LINE_QUANTITY), 'quantity')
        totals = defaultdict(int)
        for line in request.lines:
            tariff = line.tariff
            if line.session is None and cls.needs_session(tariff):
                raise PricingError(gettext(
                        'ticket_pricing.msg_quote_session_required',
                        tariff=tariff.rec_name), 'invalid')
            tariff.check_sale(line.session, request.channel, request.at)
            if line.session is not None and request.check_capacity:
                # Places still to hold: the session must be on sale (a
                # hold checked it for the places already held).
                try:
                    line.session.check_on_sale(request.channel, request.at)
                except SaleClosedError as error:
                    raise PricingError(error.message, 'sale_closed')
            totals[tariff] += line.quantity
        for tariff, quantity in totals.items():
            tariff.check_quantity(quantity)

    @classmethod
    def needs_session(cls, tariff):
        "Whether a line of tariff must name its session"
        return tariff.catalogue['issues_ticket']

    @classmethod
    def check_restrictions(cls, quote):
        "Refuse lines that the buyer may not buy (access lists)"

    @classmethod
    def price_lines(cls, quote):
        "Turn the requested lines into priced quote lines"
        for line in quote.request.lines:
            quote.lines.append(cls.price_line(quote, line))

    @classmethod
    def price_line(cls, quote, line):
        Product = Pool().get('product.product')
        tariff = line.tariff
        # the tariff's catalogue values, kept per process
        values = tariff.catalogue
        kind = 'ticket' if values['issues_ticket'] else 'product'
        return QuoteLine(
            kind=kind,
            description=values['label'],
            quantity=line.quantity,
            unit_price=tariff.unit_price(line.amount),
            product=Product(values['product']),
            tariff=tariff,
            session=line.session,
            places_per_unit=values['tickets_per_unit'] if kind == 'ticket'
            else 0,
            in_session_capacity=not values['excluded_from_capacity'],
            pools=tariff.pools_for(line.session) if line.session else [])

    @classmethod
    def check_capacity(cls, quote):
        "Refuse a quote whose places exceed what the pools have left"
        CapacityPool = Pool().get('ticket.pool')
        if not quote.request.check_capacity:
            return
        quantities = CapacityPool.quantities_for(quote.hold_items())
        for pool in CapacityPool.browse(sorted(quantities)):
            if pool.available < quantities[pool.id]:
                raise PricingError(gettext(
                        'ticket_event.msg_pool_full',
                        pool=pool.name, quantity=quantities[pool.id],
                        available=max(pool.available, 0)), 'capacity')

    @classmethod
    def apply_promo_code(cls, quote):
        "Discount the lines a promo code applies to"

    @classmethod
    def apply_deals(cls, quote):
        "Discount the combinations of tariffs of a package deal"

    @classmethod
    def add_fees(cls, quote):
        "Add the booking fees, capped per order and channel"
        Fee = Pool().get('ticket.fee')
        quote.lines.extend(Fee.quote_lines(quote))

    @classmethod
    def compute_taxes(cls, quote):
        "Compute the untaxed, tax and total amounts, exact to the cent"
        by_tax = {}
        for line in quote.lines:
            cls.compute_line_taxes(quote, line)
            for tax_amount in line.taxes:
                key = tax_amount.tax
                if key not in by_tax:
                    by_tax[key] = TaxAmount(key, ZERO, ZERO)
                by_tax[key].base += tax_amount.base
                by_tax[key].amount += tax_amount.amount
        quote.tax_lines = sorted(by_tax.values(), key=lambda t: t.tax.id)
        quote.untaxed = sum((l.untaxed for l in quote.lines), ZERO)
        quote.tax = sum((l.tax for l in quote.lines), ZERO)
        quote.total = sum((l.total for l in quote.lines), ZERO)

    @classmethod
    def compute_line_taxes(cls, quote, line):
        Tax = Pool().get('account.tax')
        date = quote.request.at.date()
        amount = quote.round(line.gross - line.discount)
        if amount < 0:
            raise PricingError(gettext(
                    'ticket_pricing.msg_quote_negative_line',
                    line=line.description), 'invalid')
        display = (line.tariff.catalogue['price_display'] if line.tariff
            else quote.price_display)
        included = display == 'tax_included' or line.kind == 'fee'
        key = (line.product.id if line.product else None, quote.company.id,
            quote.currency.id, included, str(amount), date.isoformat())
        cached = _line_taxes.get(key)
        if cached is None:
            taxes = (list(line.product.customer_taxes_used) if line.product
                else [])
            if included:
                untaxed = quote.round(
                    Tax.reverse_compute(amount, taxes, date))
            else:
                untaxed = amount
            rows = Tax.compute(taxes, untaxed, 1, date)
            cached = (untaxed,
                [(r['tax'].id, r['base'], r['amount']) for r in rows])
            _line_taxes.set(key, cached)
        untaxed, rows = cached
        total = amount if included else None
        rows = [{'tax': Tax(t), 'base': b, 'amount': a} for t, b, a in rows]
        tax_amounts = [TaxAmount(r['tax'], quote.round(r['base']),
                quote.round(r['amount'])) for r in rows]
        tax = sum((t.amount for t in tax_amounts), ZERO)
        if total is None:
            total = untaxed + tax
        elif tax_amounts and untaxed + tax != total:
            # Rounding: the largest tax takes the cent so that the line
            # keeps its tax-included price.
            biggest = max(tax_amounts, key=lambda t: abs(t.amount))
            biggest.amount += total - untaxed - tax
            tax = total - untaxed
        elif not tax_amounts:
            untaxed = total
        line.untaxed, line.tax, line.total = untaxed, tax, total
        line.taxes = tax_amounts

    @classmethod
    def apply_credits(cls, quote):
        "Pay part of the total with credits and gift vouchers"


# Clear the price engine's taxes of products when a record changes
TaxCacheMixin = clears_caches(_line_taxes)


# The tariffs' catalogue values keep the currency of the event's company
# and its rounding.
class Company(CatalogueCacheMixin, metaclass=PoolMeta):
    __name__ = 'company.company'


class Currency(CatalogueCacheMixin, metaclass=PoolMeta):
    __name__ = 'currency.currency'


class Tax(TaxCacheMixin, metaclass=PoolMeta):
    __name__ = 'account.tax'


class Product(TaxCacheMixin, metaclass=PoolMeta):
    __name__ = 'product.product'


class Template(TaxCacheMixin, metaclass=PoolMeta):
    __name__ = 'product.template'


class ProductCategory(TaxCacheMixin, metaclass=PoolMeta):
    __name__ = 'product.category'


class CategoryCustomerTax(TaxCacheMixin, metaclass=PoolMeta):
    __name__ = 'product.category-customer-account.tax'
