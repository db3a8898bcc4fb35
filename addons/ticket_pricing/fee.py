"""Booking fees: per ticket or per order, fixed or a percentage, capped
per order and channel."""
from decimal import ROUND_DOWN

from trytond.cache import Cache
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from guichet.ticket_event.common import clears_caches
from guichet.ticket_event.hold import CHANNELS

from .engine import ZERO, QuoteLine

# What the price engine needs of the active fees and the caps of a company,
# read once per process instead of on every quote (fees and caps are
# settings); cleared in every process (through ir_cache) by any change of a
# fee, its tariffs, a cap or a tariff.
_settings = Cache('ticket.fee.settings', context=False)

DELIVERIES = [
    ('e_ticket', "E-ticket"),
    ('box_office', "Collect at the Box Office"),
    ('post', "Post"),
    ]


# Clear the fees and caps that the price engine keeps when one changes
SettingsCacheMixin = clears_caches(_settings)


def clear_settings():
    "Forget the fees and caps kept for the price engine"
    _settings.clear()


class Fee(SettingsCacheMixin, DeactivableMixin, ModelSQL, ModelView):
    "A booking fee"
    __name__ = 'ticket.fee'
    company = fields.Many2One('company.company', "Company", required=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    name = fields.Char("Name", required=True, translate=True)
    event = fields.Many2One(
        'ticket.event', "Event", ondelete='CASCADE',
        domain=[('company', '=', Eval('company', -1))],
        help="Empty for every event of the company.")
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='RESTRICT',
        domain=[('type', '=', 'service')],
        context={'company': Eval('company', -1)}, depends={'company'},
        help="Carries the revenue account and the taxes of the fee.")
    level = fields.Selection([
            ('ticket', "Per Ticket"),
            ('order', "Per Order"),
            ], "Level", required=True)
    computation = fields.Selection([
            ('fixed', "Fixed Amount"),
            ('percentage', "Percentage"),
            ], "Computation", required=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency',
        states={
            'required': Eval('computation') == 'fixed',
            'invisible': Eval('computation') != 'fixed',
            },
        domain=['OR', ('amount', '=', None), ('amount', '>=', 0)],
        help="Tax included; per ticket unit or per order.")
    rate = fields.Numeric(
        "Rate", digits=(16, 4),
        states={
            'required': Eval('computation') == 'percentage',
            'invisible': Eval('computation') != 'percentage',
            },
        domain=['OR', ('rate', '=', None), ('rate', '>=', 0)],
        help="0.05 for 5 % of the price of the tickets (after discounts).")
    channels = fields.MultiSelection(
        CHANNELS, "Channels", help="Empty for every channel.")
    deliveries = fields.MultiSelection(
        DELIVERIES, "Delivery Modes", help="Empty for every delivery mode.")
    tariffs = fields.Many2Many(
        'ticket.fee-ticket.tariff', 'fee', 'tariff', "Tariffs",
        states={'invisible': Eval('level') != 'ticket'},
        help="Empty for every tariff that issues tickets.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_level(cls):
        return 'ticket'

    @classmethod
    def default_computation(cls):
        return 'fixed'

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @classmethod
    def settings(cls, company):
        """The active fees (dicts, by id) and the caps of company, in the
        language of the transaction"""
        FeeCap = Pool().get('ticket.fee.cap')
        key = (company.id, Transaction().language)
        cached = _settings.get(key)
        if cached is not None:
            return cached
        fees = cls.search([
                ('company', '=', company.id),
                ], order=[('id', 'ASC')])
        caps = FeeCap.search([('company', '=', company.id)],
            order=[('id', 'ASC')])
        cached = (
            [{
                    'id': f.id,
                    'name': f.name,
                    'event': f.event.id if f.event else None,
                    'product': f.product.id,
                    'level': f.level,
                    'computation': f.computation,
                    'amount': f.amount,
                    'rate': f.rate,
                    'channels': tuple(f.channels or ()),
                    'deliveries': tuple(f.deliveries or ()),
                    'tariffs': tuple(t.id for t in f.tariffs),
                    } for f in fees],
            [(c.event.id if c.event else None, c.channel, c.amount)
                for c in caps])
        _settings.set(key, cached)
        return cached

    @staticmethod
    def applies(fee, quote):
        "Whether the fee (a dict of settings) applies to quote"
        request = quote.request
        events = {l.tariff.catalogue['event'] for l in quote.ticket_lines
            if l.tariff}
        return ((not fee['event'] or fee['event'] in events)
            and (not fee['channels'] or request.channel in fee['channels'])
            and (not fee['deliveries']
                or request.delivery in fee['deliveries']))

    @staticmethod
    def compute(fee, quote):
        "The fee's (a dict of settings) amount for quote, tax included"
        if fee['level'] == 'order':
            lines = quote.ticket_lines
            if fee['computation'] == 'fixed':
                return fee['amount'] if lines else ZERO
        else:
            lines = [l for l in quote.ticket_lines
                if l.kind == 'ticket'
                and (not fee['tariffs'] or l.tariff.id in fee['tariffs'])]
            if fee['computation'] == 'fixed':
                return quote.round(
                    fee['amount'] * sum(l.quantity for l in lines))
        base = sum((l.gross - l.discount for l in lines), ZERO)
        return quote.round(base * fee['rate'])

    @classmethod
    def quote_lines(cls, quote):
        "The fee lines of quote, capped"
        pool = Pool()
        FeeCap = pool.get('ticket.fee.cap')
        Product = pool.get('product.product')
        fees, caps = cls.settings(quote.company)
        lines = []
        for fee in fees:
            if not cls.applies(fee, quote):
                continue
            amount = cls.compute(fee, quote)
            if amount > 0:
                lines.append(QuoteLine(
                        kind='fee', description=fee['name'], quantity=1,
                        unit_price=amount, product=Product(fee['product']),
                        places_per_unit=0))
        cap = FeeCap.cap_for(quote, caps)
        if cap is not None:
            cls.cap_lines(quote, lines, cap)
        return [l for l in lines if l.unit_price > 0]

    @staticmethod
    def cap_lines(quote, lines, cap):
        """Scale the fee lines down so that they sum to cap exactly; the
        last line takes the cents left by rounding the others down"""
        total = sum((l.unit_price for l in lines), ZERO)
        if total <= cap:
            return
        remaining = cap
        for line in lines[:-1]:
            line.unit_price = quote.currency.round(
                line.unit_price * cap / total, rounding=ROUND_DOWN)
            line.notes.append('capped')
            remaining -= line.unit_price
        if lines:
            lines[-1].unit_price = max(remaining, ZERO)
            lines[-1].notes.append('capped')


class FeeTariff(SettingsCacheMixin, ModelSQL):
    __name__ = 'ticket.fee-ticket.tariff'
    fee = fields.Many2One(
        'ticket.fee', "Fee", required=True, ondelete='CASCADE')
    tariff = fields.Many2One(
        'ticket.tariff', "Tariff", required=True, ondelete='CASCADE')


class FeeCap(SettingsCacheMixin, ModelSQL, ModelView):
    "The most an order pays in fees on a channel (plafond des frais)"
    __name__ = 'ticket.fee.cap'
    company = fields.Many2One('company.company', "Company", required=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    event = fields.Many2One(
        'ticket.event', "Event", ondelete='CASCADE',
        domain=[('company', '=', Eval('company', -1))],
        help="Empty for every event; an event's cap wins over the "
        "company's.")
    channel = fields.Selection(CHANNELS, "Channel", required=True)
    amount = Monetary(
        "Cap", currency='currency', digits='currency', required=True,
        domain=[('amount', '>=', 0)])

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @classmethod
    def cap_for(cls, quote, caps=None):
        """The cap on quote's fees, or None; caps are the (event id, channel,
        amount) of the company (Fee.settings when not given)"""
        if caps is None:
            _, caps = Pool().get('ticket.fee').settings(quote.company)
        events = {l.tariff.catalogue['event'] for l in quote.ticket_lines
            if l.tariff}
        caps = [(e, a) for e, c, a in caps
            if c == quote.request.channel and (e is None or e in events)]
        specific = [a for e, a in caps if e]
        if specific:
            return min(specific)
        general = [a for e, a in caps if not e]
        return min(general) if general else None
