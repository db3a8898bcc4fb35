"""Tariffs and their categories: what a place costs, where and when."""
from decimal import Decimal

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.model.exceptions import ValidationError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction

from guichet.ticket_event.common import clears_caches, now

from .exceptions import PricingError

SALE_CHANNELS = [
    ('online', "Online"),
    ('box_office', "Box Office"),
    ('partner', "Partners"),
    ('hidden', "Hidden (direct link only)"),
    ]
# The tariff channel that a sale channel of an order sells through.
ORDER_CHANNEL = {
    'web': 'online',
    'api': 'online',
    'box_office': 'box_office',
    'phone': 'box_office',
    'partner': 'partner',
    }
# What the price engine checks of a tariff at each quote (its label, event,
# sessions, channels, sale window, quantities, pools), as plain values by
# (tariff id, language): read once per process instead of at each hold and
# checkout; cleared in every process (through ir_cache) when a tariff, a
# category, an event, the sessions of a tariff (or, see access_list.py, the
# access lists) change.
_catalogue = Cache('ticket.tariff.catalogue', context=False)


def clear_catalogue():
    "Forget the tariffs' catalogue values, in every process"
    _catalogue.clear()


# Clear the tariffs' catalogue values when a record changes
CatalogueCacheMixin = clears_caches(_catalogue)


class Translation(CatalogueCacheMixin, metaclass=PoolMeta):
    """A translation edited by itself (Administration ▸ Translations) may be
    a tariff's or a category's name: the values kept per process go"""
    __name__ = 'ir.translation'


class Event(CatalogueCacheMixin, metaclass=PoolMeta):
    __name__ = 'ticket.event'
    price_display = fields.Selection([
            ('tax_included', "Tax Included"),
            ('tax_excluded', "Tax Excluded"),
            ], "Price Display", required=True,
        help="Whether the tariff prices of the event include the taxes "
        "(the usual case for the public) or not (business events).")
    categories = fields.One2Many(
        'ticket.tariff.category', 'event', "Tariff Categories")
    tariffs = fields.One2Many('ticket.tariff', 'event', "Tariffs")

    @classmethod
    def default_price_display(cls):
        return 'tax_included'

    def duplicate(self, name, copy_sessions=False, shift=None):
        pool = Pool()
        Category = pool.get('ticket.tariff.category')
        Tariff = pool.get('ticket.tariff')
        event = super().duplicate(
            name, copy_sessions=copy_sessions, shift=shift)
        categories = Category.copy(self.categories, default={
                'event': event.id, 'pool': None})
        mapping = dict(zip(self.categories, categories))
        for tariff in self.tariffs:
            Tariff.copy([tariff], default={
                    'event': event.id,
                    'category': (mapping[tariff.category].id
                        if tariff.category else None),
                    'sessions': None,
                    'pool': None,
                    })
        return event

    @classmethod
    def copy(cls, events, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('categories', None)
        default.setdefault('tariffs', None)
        return super().copy(events, default=default)


class Category(
        CatalogueCacheMixin, sequence_ordered(), ModelSQL, ModelView):
    "A group of tariffs, e.g. a day of a festival or a seating area"
    __name__ = 'ticket.tariff.category'
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE')
    name = fields.Char("Name", required=True, translate=True,
        help="Printed above the tariff name on the ticket.")
    pool = fields.Many2One(
        'ticket.pool', "Capacity Pool", ondelete='RESTRICT',
        domain=[('event', '=', Eval('event', -1))],
        help="Caps the places sold by all the tariffs of the category.")
    tariffs = fields.One2Many('ticket.tariff', 'category', "Tariffs")

    @classmethod
    def copy(cls, categories, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('tariffs', None)
        return super().copy(categories, default=default)


class Tariff(CatalogueCacheMixin, sequence_ordered(), DeactivableMixin,
        ModelSQL, ModelView):
    "A price for a kind of admission"
    __name__ = 'ticket.tariff'
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    name = fields.Char("Name", required=True, translate=True)
    description = fields.Text("Description", translate=True,
        help="Shown to buyers, e.g. the proof a reduced rate requires.")
    category = fields.Many2One(
        'ticket.tariff.category', "Category", ondelete='RESTRICT',
        domain=[('event', '=', Eval('event', -1))])
    price = Monetary(
        "Price", currency='currency', digits='currency', required=True,
        domain=[('price', '>=', 0)],
        help="Tax included or excluded as the event displays its prices.")
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='RESTRICT',
        domain=[
            ('type', '=', 'service'),
            ],
        context={'company': Eval('company', -1)}, depends={'company'},
        help="Carries the revenue account and the taxes (VAT) of the "
        "tariff.")
    sessions = fields.Many2Many(
        'ticket.tariff-ticket.session', 'tariff', 'session', "Sessions",
        domain=[('event', '=', Eval('event', -1))],
        help="The sessions the tariff is sold for; empty for all.")
    channels = fields.MultiSelection(
        SALE_CHANNELS, "Sale Channels",
        help="Where the tariff is offered; 'Hidden' tariffs are sold only "
        "through a direct link.")
    sale_start = fields.DateTime("Sale Start")
    sale_end = fields.DateTime(
        "Sale End",
        domain=[If(Bool(Eval('sale_start')) & Bool(Eval('sale_end')),
                ('sale_end', '>=', Eval('sale_start')), ())])
    min_quantity = fields.Integer(
        "Minimum per Order", required=True,
        domain=[('min_quantity', '>=', 1)],
        help="A minimum above 1 makes a group rate.")
    max_quantity = fields.Integer(
        "Maximum per Order",
        domain=['OR', ('max_quantity', '=', None),
            ('max_quantity', '>=', Eval('min_quantity', 1))])
    pool = fields.Many2One(
        'ticket.pool', "Own Capacity Pool", ondelete='RESTRICT',
        domain=[('event', '=', Eval('event', -1))],
        help="Caps the places sold at this tariff (e.g. 50 early birds).")
    issues_ticket = fields.Boolean(
        "Issues a Ticket",
        help="Unchecked for what is not an admission: memberships, "
        "donations, add-ons.")
    tickets_per_unit = fields.Integer(
        "Tickets per Unit", required=True,
        domain=[('tickets_per_unit', '>=', 1)],
        states={'invisible': ~Eval('issues_ticket')},
        help="Places and tickets a unit gives: 2 for a couple rate (a pack).")
    pay_what_you_want = fields.Boolean(
        "Pay What You Want",
        help="The buyer chooses the price, between the minimum and the "
        "maximum.")
    minimum_price = Monetary(
        "Minimum Price", currency='currency', digits='currency',
        states={'invisible': ~Eval('pay_what_you_want')},
        domain=['OR', ('minimum_price', '=', None),
            ('minimum_price', '>=', 0)])
    maximum_price = Monetary(
        "Maximum Price", currency='currency', digits='currency',
        states={'invisible': ~Eval('pay_what_you_want')},
        domain=['OR', ('maximum_price', '=', None),
            ('maximum_price', '>=', Eval('minimum_price', 0))])
    excluded_from_capacity = fields.Boolean(
        "Excluded from Capacity",
        states={'invisible': ~Eval('issues_ticket')},
        help="The places sold do not count in the session's capacity "
        "(press, parking). Only the category and tariff pools cap them.")
    capacity_warning = fields.Function(fields.Char(
            "Warning", states={
                'invisible': ~Eval('excluded_from_capacity'),
                }), 'on_change_with_capacity_warning')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('event', 'DESC'))

    @classmethod
    def default_channels(cls):
        return ['online', 'box_office']

    @classmethod
    def default_min_quantity(cls):
        return 1

    @classmethod
    def default_issues_ticket(cls):
        return True

    @classmethod
    def default_tickets_per_unit(cls):
        return 1

    @fields.depends('event', '_parent_event.company')
    def on_change_with_company(self, name=None):
        return self.event.company if self.event else None

    @classmethod
    def search_company(cls, name, clause):
        return [('event.company',) + tuple(clause[1:])]

    @fields.depends('excluded_from_capacity', 'pool')
    def on_change_with_capacity_warning(self, name=None):
        if self.excluded_from_capacity:
            if self.pool:
                return gettext('ticket_pricing.msg_tariff_excluded_pool')
            return gettext('ticket_pricing.msg_tariff_excluded_no_pool')

    @fields.depends('event', '_parent_event.company')
    def on_change_with_currency(self, name=None):
        if self.event and self.event.company:
            return self.event.company.currency

    def get_rec_name(self, name):
        if self.category:
            return f'{self.category.name} - {self.name}'
        return self.name

    @property
    def label(self):
        "The kind of admission printed on the ticket: category over name"
        return self.catalogue['label']

    def _label(self):
        if self.category:
            return f'{self.category.name} — {self.name}'
        return self.name

    @classmethod
    def sold_of_event(cls, event):
        """The (id, pay what you want) of the active tariffs of event, in
        the order of event.tariffs, kept per process"""
        key = ('event', int(event))
        tariffs = _catalogue.get(key)
        if tariffs is None:
            tariffs = tuple((t.id, bool(t.pay_what_you_want))
                for t in cls.search([('event', '=', int(event))]))
            _catalogue.set(key, tariffs)
        return tariffs

    @property
    def catalogue(self):
        """The values of the tariff that a quote checks (a dict of plain
        values), kept per process"""
        if self.id is None or self.id < 0:
            return self._catalogue_values()
        key = (self.id, Transaction().language)
        values = _catalogue.get(key)
        if values is None:
            values = self.__class__(self.id)._catalogue_values()
            _catalogue.set(key, values)
        return values

    def _catalogue_values(self):
        "The values of catalogue, read from the database"
        return {
            'label': self._label(),
            'event': self.event.id,
            'company': self.event.company.id,
            'currency': self.event.company.currency.id,
            'rounding': self.event.company.currency.rounding,
            'digits': self.event.company.currency.digits,
            'price_display': self.event.price_display,
            'active': bool(self.active),
            'sessions': tuple(s.id for s in self.sessions),
            'channels': tuple(self.channels or ()),
            'sale_start': self.sale_start,
            'sale_end': self.sale_end,
            'min_quantity': self.min_quantity,
            'max_quantity': self.max_quantity,
            'pools': tuple(p.id for p in self._pools_for()),
            'issues_ticket': bool(self.issues_ticket),
            'tickets_per_unit': self.tickets_per_unit,
            'excluded_from_capacity': bool(self.excluded_from_capacity),
            'product': self.product.id,
            'price': self.price,
            }

    @property
    def taxes(self):
        return list(self.product.customer_taxes_used)

    @classmethod
    def validate_fields(cls, tariffs, field_names):
        super().validate_fields(tariffs, field_names)
        for tariff in tariffs:
            if (tariff.pay_what_you_want and tariff.minimum_price
                    and tariff.price < tariff.minimum_price):
                raise ValidationError(gettext(
                        'ticket_pricing.msg_tariff_pwyw_price',
                        tariff=tariff.rec_name))

    @classmethod
    def delete(cls, tariffs):
        # a fee of the tariffs only loses them by the database's cascade
        from .fee import clear_settings
        clear_settings()
        super().delete(tariffs)

    def is_for_session(self, session):
        values = self.catalogue
        return (session.sale_values['event'] == values['event']
            and (not values['sessions'] or session.id in values['sessions']))

    def check_sale(self, session, channel, at=None):
        """Raise PricingError unless the tariff sells for session (None for
        what is not an admission) on channel at the date"""
        at = at or now()
        values = self.catalogue
        if not values['active']:
            raise PricingError(gettext(
                    'ticket_pricing.msg_tariff_inactive',
                    tariff=self.rec_name), 'not_for_session')
        if session is not None and not self.is_for_session(session):
            raise PricingError(gettext(
                    'ticket_pricing.msg_tariff_not_for_session',
                    tariff=self.rec_name, session=session.rec_name),
                'not_for_session')
        channels = set(values['channels'])
        wanted = ORDER_CHANNEL.get(channel)
        if wanted not in channels and not (
                wanted == 'online' and 'hidden' in channels):
            raise PricingError(gettext(
                    'ticket_pricing.msg_tariff_not_for_channel',
                    tariff=self.rec_name), 'not_for_channel')
        sale_start, sale_end = values['sale_start'], values['sale_end']
        if ((sale_start and at < sale_start)
                or (sale_end and at > sale_end)):
            raise PricingError(gettext(
                    'ticket_pricing.msg_tariff_window_closed',
                    tariff=self.rec_name), 'window_closed')

    def check_quantity(self, quantity):
        values = self.catalogue
        minimum, maximum = values['min_quantity'], values['max_quantity']
        if quantity < minimum or (maximum and quantity > maximum):
            raise PricingError(gettext(
                    'ticket_pricing.msg_tariff_quantity',
                    tariff=self.rec_name,
                    minimum=minimum,
                    maximum=maximum or '∞'), 'quantity')

    def unit_price(self, amount=None):
        "The unit price, or the buyer's amount for pay-what-you-want"
        if amount is None:
            return self.catalogue['price']
        if (not isinstance(amount, (Decimal, int)) or isinstance(amount, bool)
                or not Decimal(amount).is_finite()):
            raise PricingError(gettext(
                    'ticket_pricing.msg_tariff_amount_invalid',
                    tariff=self.rec_name), 'amount')
        amount = Decimal(amount)
        if not self.pay_what_you_want:
            if amount != self.price:
                raise PricingError(gettext(
                        'ticket_pricing.msg_tariff_amount_fixed',
                        tariff=self.rec_name, price=self.price), 'amount')
            return self.price
        if ((self.minimum_price is not None and amount < self.minimum_price)
                or (self.maximum_price is not None
                    and amount > self.maximum_price) or amount < 0):
            raise PricingError(gettext(
                    'ticket_pricing.msg_tariff_pwyw_amount',
                    tariff=self.rec_name,
                    minimum=self.minimum_price or 0,
                    maximum=self.maximum_price or '∞'), 'amount')
        return self.currency.round(amount)

    def pools_for(self, session):
        "The pools, besides the session's, that a place of self counts in"
        CapacityPool = Pool().get('ticket.pool')
        return [CapacityPool(p) for p in self.catalogue['pools']]

    def _pools_for(self):
        pools = []
        if self.category and self.category.pool:
            pools.append(self.category.pool)
        if self.pool:
            pools.append(self.pool)
        return pools


class Session(metaclass=PoolMeta):
    __name__ = 'ticket.session'

    @classmethod
    def delete(cls, sessions):
        # the tariffs of the sessions lose them by the database's cascade
        _catalogue.clear()
        super().delete(sessions)


class TariffSession(CatalogueCacheMixin, ModelSQL):
    __name__ = 'ticket.tariff-ticket.session'
    tariff = fields.Many2One(
        'ticket.tariff', "Tariff", required=True, ondelete='CASCADE')
    session = fields.Many2One(
        'ticket.session', "Session", required=True, ondelete='CASCADE')
