"""Promo codes: campaigns of shared or single-use codes that discount the
tariffs they name, one code per order.

A use of a code is one discounted ticket unit for a campaign "per ticket",
one order for a campaign "per order". The uses are consumed when the order
is created, by a conditional UPDATE, and given back when it is cancelled or
expires."""
import re
import secrets
from decimal import ROUND_DOWN

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    Check, DeactivableMixin, ModelSQL, ModelView, Unique, fields)
from trytond.model.exceptions import ValidationError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from guichet.ticket_event.common import forget_records

from .engine import ZERO
from .exceptions import PricingError

CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'
CODE_PATTERN = re.compile(r'^[A-Z0-9][A-Z0-9_-]*$')
CODE_SEPARATORS = re.compile(r'[\s,;]+')
MAX_CODES = 10000


def normalize_code(value):
    "A code as stored: without surrounding blanks, in capitals"
    return (value or '').strip().upper()


def spread_discount(quote, shares, amount):
    """Add amount of discount over the quote lines of shares, a list of
    (line, weight) with weight at most what the line has left before its
    discount exceeds its gross; in proportion to the weights, rounded to
    the currency. Return the amount given (at most the sum of the weights)
    """
    step = quote.currency.rounding
    shares = [(l, w) for l, w in shares if w > 0]
    total = sum((w for _, w in shares), ZERO)
    amount = min(quote.round(amount), total)
    if amount <= 0:
        return ZERO
    given = []
    for line, weight in shares:
        share = quote.currency.round(
            amount * weight / total, rounding=ROUND_DOWN)
        given.append(min(share, weight))
    left = amount - sum(given, ZERO)
    while left > 0:
        before = left
        for i, (line, weight) in enumerate(shares):
            if left > 0 and given[i] + step <= weight:
                given[i] += step
                left -= step
        if left == before:
            amount -= left
            break
    for (line, _), share in zip(shares, given):
        line.discount += share
    return amount


def room(line):
    "What a line may still be discounted without becoming negative"
    return max(line.gross - line.discount, ZERO)


class Campaign(DeactivableMixin, ModelSQL, ModelView):
    "A promo campaign: the discount its codes give"
    __name__ = 'ticket.promo.campaign'
    company = fields.Many2One('company.company', "Company", required=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    name = fields.Char("Name", required=True)
    events = fields.Many2Many(
        'ticket.promo.campaign-ticket.event', 'campaign', 'event', "Events",
        domain=[('company', '=', Eval('company', -1))],
        help="The events of the campaign; empty for every event.")
    tariffs = fields.Many2Many(
        'ticket.promo.campaign-ticket.tariff', 'campaign', 'tariff',
        "Tariffs",
        domain=[
            ('event.company', '=', Eval('company', -1)),
            If(Bool(Eval('events')),
                ('event', 'in', Eval('events', [])), ()),
            ],
        help="The tariffs discounted; empty for every tariff that issues "
        "tickets for the events.")
    sessions = fields.Many2Many(
        'ticket.promo.campaign-ticket.session', 'campaign', 'session',
        "Sessions",
        domain=[
            ('event.company', '=', Eval('company', -1)),
            If(Bool(Eval('events')),
                ('event', 'in', Eval('events', [])), ()),
            ],
        help="The sessions discounted; empty for every session.")
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
        domain=['OR', ('amount', '=', None), ('amount', '>', 0)],
        help="Off each ticket or off the order, in the prices' basis "
        "(tax included or not as the event displays them).")
    rate = fields.Numeric(
        "Rate", digits=(16, 4),
        states={
            'required': Eval('computation') == 'percentage',
            'invisible': Eval('computation') != 'percentage',
            },
        domain=['OR', ('rate', '=', None),
            [('rate', '>', 0), ('rate', '<=', 1)]],
        help="0.2 for 20 % off.")
    per = fields.Selection([
            ('ticket', "Per Ticket"),
            ('order', "Per Order"),
            ], "Applies", required=True,
        help="Per ticket: each ticket unit discounted is a use of the code. "
        "Per order: the discount is spread over the lines and the order is "
        "one use.")
    uses_per_order = fields.Integer(
        "Tickets per Order",
        domain=['OR', ('uses_per_order', '=', None),
            ('uses_per_order', '>=', 1)],
        states={'invisible': Eval('per') != 'ticket'},
        help="The most tickets a code discounts in one order (the dearest "
        "first); empty for no limit.")
    start = fields.DateTime("Valid From")
    end = fields.DateTime(
        "Valid Until",
        domain=[If(Bool(Eval('start')) & Bool(Eval('end')),
                ('end', '>=', Eval('start')), ())])
    codes = fields.One2Many('ticket.promo.code', 'campaign', "Codes")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update(
            generate_codes={'icon': 'tryton-launch'},
            import_codes={'icon': 'tryton-import'},
            )

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_computation(cls):
        return 'percentage'

    @classmethod
    def default_per(cls):
        return 'ticket'

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @classmethod
    def copy(cls, campaigns, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('codes', None)
        return super().copy(campaigns, default=default)

    @classmethod
    @ModelView.button_action('ticket_pricing.wizard_promo_code_generate')
    def generate_codes(cls, campaigns):
        pass

    @classmethod
    @ModelView.button_action('ticket_pricing.wizard_promo_code_import')
    def import_codes(cls, campaigns):
        pass

    def is_valid(self, at):
        return ((not self.start or self.start <= at)
            and (not self.end or at <= self.end))

    def concerns(self, line):
        "Whether the quote line is discounted by the campaign"
        tariff = line.tariff
        if line.kind == 'fee' or tariff is None:
            return False
        if self.tariffs:
            if tariff not in self.tariffs:
                return False
        elif line.kind != 'ticket' or (
                self.events and tariff.event not in self.events):
            return False
        return not self.sessions or line.session in self.sessions

    def ticket_units(self, quote):
        """The units discounted per line, as (line, units): the dearest
        first, up to the tickets per order"""
        limit = self.uses_per_order
        lines = sorted((l for l in quote.lines if self.concerns(l)),
            key=lambda l: -l.unit_price)
        units = []
        for line in lines:
            take = line.quantity if limit is None else min(
                line.quantity, limit)
            if take > 0:
                units.append((line, take))
                if limit is not None:
                    limit -= take
        return units

    def uses_for(self, quote):
        "The uses of a code that quote takes"
        if self.per == 'order':
            return 1 if any(self.concerns(l) for l in quote.lines) else 0
        return sum(u for _, u in self.ticket_units(quote))

    def unit_discount(self, quote, unit_price):
        if self.computation == 'fixed':
            return min(self.amount, unit_price)
        return quote.round(unit_price * self.rate)

    def apply(self, quote):
        "Discount the lines of quote"
        if self.per == 'ticket':
            for line, units in self.ticket_units(quote):
                line.discount += min(
                    units * self.unit_discount(quote, line.unit_price),
                    room(line))
        elif self.computation == 'percentage':
            for line in quote.lines:
                if self.concerns(line):
                    line.discount += min(
                        quote.round(line.gross * self.rate), room(line))
        else:
            spread_discount(quote,
                [(l, room(l)) for l in quote.lines if self.concerns(l)],
                self.amount)


class CampaignEvent(ModelSQL):
    __name__ = 'ticket.promo.campaign-ticket.event'
    campaign = fields.Many2One(
        'ticket.promo.campaign', "Campaign", required=True,
        ondelete='CASCADE')
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE')


class CampaignTariff(ModelSQL):
    __name__ = 'ticket.promo.campaign-ticket.tariff'
    campaign = fields.Many2One(
        'ticket.promo.campaign', "Campaign", required=True,
        ondelete='CASCADE')
    tariff = fields.Many2One(
        'ticket.tariff', "Tariff", required=True, ondelete='CASCADE')


class CampaignSession(ModelSQL):
    __name__ = 'ticket.promo.campaign-ticket.session'
    campaign = fields.Many2One(
        'ticket.promo.campaign', "Campaign", required=True,
        ondelete='CASCADE')
    session = fields.Many2One(
        'ticket.session', "Session", required=True, ondelete='CASCADE')


class PromoCode(DeactivableMixin, ModelSQL, ModelView):
    "A promo code: shared by N uses or single-use"
    __name__ = 'ticket.promo.code'
    _rec_name = 'code'
    campaign = fields.Many2One(
        'ticket.promo.campaign', "Campaign", required=True,
        ondelete='CASCADE')
    code = fields.Char("Code", required=True,
        help="Letters, digits, '-' and '_'; buyers may type it in any case.")
    max_uses = fields.Integer("Uses Allowed", required=True,
        domain=[('max_uses', '>=', 1)])
    uses = fields.Integer("Uses", readonly=True, required=True)
    remaining = fields.Function(
        fields.Integer("Uses Left"), 'get_remaining')
    orders = fields.One2Many(
        'ticket.order', 'promo_code', "Orders", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'ticket_pricing.msg_promo_code_unique'),
            ('uses_within_max', Check(t, (t.uses >= 0)
                    & (t.uses <= t.max_uses)),
                'ticket_pricing.msg_promo_code_uses_max'),
            ]
        cls.__access__.add('campaign')

    @classmethod
    def default_max_uses(cls):
        return 1

    @classmethod
    def default_uses(cls):
        return 0

    def get_remaining(self, name):
        return self.max_uses - self.uses

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if 'code' in values:
            values['code'] = normalize_code(values['code'])
        return values

    @classmethod
    def validate_fields(cls, codes, field_names):
        super().validate_fields(codes, field_names)
        if field_names and 'code' not in field_names:
            return
        for code in codes:
            if not CODE_PATTERN.match(code.code):
                raise ValidationError(gettext(
                        'ticket_pricing.msg_promo_code_characters',
                        code=code.code))

    @classmethod
    def find(cls, value, company):
        """The code that value names for company, None for a blank value;
        PricingError if none"""
        parts = [p for p in CODE_SEPARATORS.split(
                    ' '.join(value) if isinstance(value, (list, tuple, set))
                    else value) if p]
        if not parts:
            return None
        if len({normalize_code(p) for p in parts}) > 1:
            raise PricingError(gettext(
                    'ticket_pricing.msg_promo_code_combined'), 'code_invalid')
        codes = cls.search([
                ('code', '=', normalize_code(parts[0])),
                ('campaign.company', '=', company.id),
                ('campaign.active', '=', True),
                ], limit=1)
        if not codes:
            raise PricingError(gettext(
                    'ticket_pricing.msg_promo_code_unknown',
                    code=value), 'code_invalid')
        return codes[0]

    def check_usable(self, quote, uses):
        "Raise PricingError unless the code may take uses for quote"
        if not self.campaign.is_valid(quote.request.at):
            raise PricingError(gettext(
                    'ticket_pricing.msg_promo_code_expired',
                    code=self.code), 'code_invalid')
        if not uses:
            raise PricingError(gettext(
                    'ticket_pricing.msg_promo_code_not_applicable',
                    code=self.code), 'code_invalid')
        if self.uses >= self.max_uses:
            raise PricingError(gettext(
                    'ticket_pricing.msg_promo_code_exhausted',
                    code=self.code), 'code_exhausted')
        if self.uses + uses > self.max_uses:
            raise PricingError(gettext(
                    'ticket_pricing.msg_promo_code_uses_left',
                    code=self.code, remaining=self.max_uses - self.uses,
                    uses=uses), 'code_exhausted')

    @classmethod
    def consume(cls, code, uses):
        """Take uses of code by a conditional UPDATE that locks its row:
        of two orders racing for its last use, one gets it and the other
        gets PricingError"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.uses], [table.uses + uses],
                where=(table.id == code.id)
                & (table.uses + uses <= table.max_uses),
                returning=[table.id]))
        taken = cursor.fetchone() is not None
        forget_records(cls, [code.id])
        if not taken:
            raise PricingError(gettext(
                    'ticket_pricing.msg_promo_code_exhausted',
                    code=code.code), 'code_exhausted')

    @classmethod
    def give_back(cls, code_id, uses):
        "Give back uses of the code"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.uses], [table.uses - uses],
                where=(table.id == code_id) & (table.uses >= uses)))
        forget_records(cls, [code_id])

    @classmethod
    def generate(cls, campaign, count, prefix='', length=10, max_uses=1):
        """Create count codes of campaign: prefix then length characters
        drawn with secrets (no 0/O nor 1/I to misread)"""
        prefix = normalize_code(prefix)
        if not 1 <= count <= MAX_CODES:
            raise ValidationError(gettext(
                    'ticket_pricing.msg_promo_generate_count',
                    maximum=MAX_CODES))
        if not 6 <= length <= 32:
            raise ValidationError(gettext(
                    'ticket_pricing.msg_promo_generate_length'))
        codes = set()
        while len(codes) < count:
            wanted = count - len(codes)
            batch = {prefix + ''.join(
                    secrets.choice(CODE_ALPHABET) for _ in range(length))
                for _ in range(wanted)}
            batch -= {c.code for c in cls.search(
                        [('code', 'in', list(batch))])}
            codes |= batch
        return cls.create([{
                    'campaign': campaign.id,
                    'code': c,
                    'max_uses': max_uses,
                    } for c in sorted(codes)])

    @classmethod
    def import_text(cls, campaign, text, max_uses=1):
        """Create the codes of text, one per line (as pasted from a
        spreadsheet column); refuse blanks and duplicates"""
        lines = (text or '').strip().splitlines()
        if not lines:
            raise ValidationError(gettext(
                    'ticket_pricing.msg_promo_import_empty'))
        seen = {}
        for number, line in enumerate(lines, 1):
            code = normalize_code(line)
            if not code:
                raise ValidationError(gettext(
                        'ticket_pricing.msg_promo_import_blank',
                        line=number))
            if not CODE_PATTERN.match(code):
                raise ValidationError(gettext(
                        'ticket_pricing.msg_promo_import_characters',
                        line=number, code=line.strip()))
            if code in seen:
                raise ValidationError(gettext(
                        'ticket_pricing.msg_promo_import_duplicate',
                        code=code, line=number, first=seen[code]))
            seen[code] = number
        existing = cls.search([('code', 'in', list(seen))], limit=1)
        if existing:
            raise ValidationError(gettext(
                    'ticket_pricing.msg_promo_import_exists',
                    code=existing[0].code, line=seen[existing[0].code]))
        return cls.create([{
                    'campaign': campaign.id,
                    'code': c,
                    'max_uses': max_uses,
                    } for c in seen])


class GenerateStart(ModelView):
    __name__ = 'ticket.promo.code.generate.start'
    count = fields.Integer("Number of Codes", required=True,
        domain=[('count', '>=', 1), ('count', '<=', MAX_CODES)])
    prefix = fields.Char("Prefix", help="Starts every code, e.g. 'SUMMER-'.")
    length = fields.Integer("Random Characters", required=True,
        domain=[('length', '>=', 6), ('length', '<=', 32)],
        help="10 characters give about 2^50 codes to guess from.")
    max_uses = fields.Integer("Uses per Code", required=True,
        domain=[('max_uses', '>=', 1)])

    @classmethod
    def default_length(cls):
        return 10

    @classmethod
    def default_max_uses(cls):
        return 1


class Generate(Wizard):
    "Generate promo codes in bulk"
    __name__ = 'ticket.promo.code.generate'
    start = StateView(
        'ticket.promo.code.generate.start',
        'ticket_pricing.promo_code_generate_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Generate", 'generate', 'tryton-ok', default=True),
            ])
    generate = StateTransition()

    def transition_generate(self):
        PromoCode = Pool().get('ticket.promo.code')
        PromoCode.generate(self.record, self.start.count,
            prefix=self.start.prefix or '', length=self.start.length,
            max_uses=self.start.max_uses)
        return 'end'


class ImportStart(ModelView):
    __name__ = 'ticket.promo.code.import.start'
    text = fields.Text("Codes", required=True,
        help="One code per line, e.g. a column pasted from a spreadsheet.")
    max_uses = fields.Integer("Uses per Code", required=True,
        domain=[('max_uses', '>=', 1)])

    @classmethod
    def default_max_uses(cls):
        return 1


class Import(Wizard):
    "Import promo codes pasted from a spreadsheet"
    __name__ = 'ticket.promo.code.import'
    start = StateView(
        'ticket.promo.code.import.start',
        'ticket_pricing.promo_code_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateTransition()

    def transition_import_(self):
        PromoCode = Pool().get('ticket.promo.code')
        PromoCode.import_text(
            self.record, self.start.text, max_uses=self.start.max_uses)
        return 'end'


class PriceEngine(metaclass=PoolMeta):
    __name__ = 'ticket.price_engine'

    @classmethod
    def apply_promo_code(cls, quote):
        super().apply_promo_code(quote)
        PromoCode = Pool().get('ticket.promo.code')
        if not quote.request.promo_code:
            return
        code = PromoCode.find(quote.request.promo_code, quote.company)
        if code is None:
            return
        campaign = code.campaign
        code.check_usable(quote, campaign.uses_for(quote))
        campaign.apply(quote)
        quote.promo_code = code


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'
    promo_code = fields.Many2One(
        'ticket.promo.code', "Promo Code", readonly=True,
        ondelete='RESTRICT')
    promo_uses = fields.Integer(
        "Promo Code Uses", readonly=True,
        help="The uses of the promo code that the order holds; given back "
        "when it is cancelled or expires.")

    @classmethod
    def default_promo_uses(cls):
        return 0

    @classmethod
    def copy(cls, orders, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('promo_code', None)
        default.setdefault('promo_uses', 0)
        return super().copy(orders, default=default)

    @classmethod
    def create_from_quote(cls, quote, holds, **kwargs):
        PromoCode = Pool().get('ticket.promo.code')
        code = quote.promo_code
        uses = code.campaign.uses_for(quote) if code else 0
        if code:
            PromoCode.consume(code, uses)
        try:
            order = super().create_from_quote(quote, holds, **kwargs)
        except UserError:
            if code:
                PromoCode.give_back(code.id, uses)
            raise
        if code:
            cls.write([order], {'promo_code': code.id, 'promo_uses': uses})
        return order

    @classmethod
    def cancel(cls, orders):
        super().cancel(orders)
        cls.give_back_promo_codes(orders)

    @classmethod
    def expire(cls, orders):
        super().expire(orders)
        cls.give_back_promo_codes(orders)

    @classmethod
    def give_back_promo_codes(cls, orders):
        "Give back the code uses of the orders now cancelled or expired"
        PromoCode = Pool().get('ticket.promo.code')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        ids = [o.id for o in orders]
        if not ids:
            return
        cls.lock(orders)
        cursor.execute(*table.select(
                table.id, table.promo_code, table.promo_uses,
                where=table.id.in_(ids) & (table.promo_uses > 0)
                & table.state.in_(['cancelled', 'expired'])))
        rows = cursor.fetchall()
        if not rows:
            return
        cursor.execute(*table.update(
                [table.promo_uses], [0],
                where=table.id.in_([r[0] for r in rows])))
        forget_records(cls, ids)
        for _, code_id, uses in rows:
            PromoCode.give_back(code_id, uses)
