"""Access lists: tariffs sold only to a list of e-mails, of passwords or
to an e-mail domain, with a quantity per entry shared by the tariffs of the
list."""
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import PricingError
from .tariff import CatalogueCacheMixin

KINDS = [
    ('email', "E-mails"),
    ('password', "Passwords"),
    ('domain', "E-mail Domain"),
    ]


def normalize_entry(value):
    "An entry as stored and compared: without blanks, in lower case"
    return (value or '').strip().lower()


def email_domain(email):
    email = normalize_entry(email)
    return email.rpartition('@')[2] if '@' in email else None


class AccessList(
        CatalogueCacheMixin, DeactivableMixin, ModelSQL, ModelView):
    "A list of the buyers a tariff is restricted to"
    __name__ = 'ticket.sale.list'
    company = fields.Many2One('company.company', "Company", required=True)
    name = fields.Char("Name", required=True)
    kind = fields.Selection(KINDS, "Kind", required=True,
        help="E-mails: the buyer's e-mail must be an entry. Passwords: the "
        "buyer gives one of the entries. E-mail domain: the buyer's e-mail "
        "ends with an entry (e.g. 'example.com').")
    tariffs = fields.Many2Many(
        'ticket.sale.list-ticket.tariff', 'list', 'tariff', "Tariffs",
        domain=[('event.company', '=', Eval('company', -1))],
        help="The tariffs sold only to the entries of the list.")
    entries = fields.One2Many(
        'ticket.sale.list.entry', 'list', "Entries")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_kind(cls):
        return 'email'

    def entries_for(self, request):
        "The entries of self that the buyer of request is"
        Entry = Pool().get('ticket.sale.list.entry')
        if self.kind == 'email':
            email = normalize_entry(request.email)
            values = [email] if '@' in email else []
        elif self.kind == 'domain':
            domain = email_domain(request.email)
            values = [domain, '@' + domain] if domain else []
        else:
            values = sorted({normalize_entry(p)
                    for p in request.passwords or () if normalize_entry(p)})
        if not values:
            return []
        return Entry.search([
                ('list', '=', self.id),
                ('value', 'in', values),
                ], order=[('id', 'ASC')])

    @classmethod
    def assign(cls, request, lock=False):
        """The entry that allows each restricted tariff of request, as a
        dict of tariff to entry; PricingError when the buyer is not on the
        list or the entry has no quantity left. With lock, lock the entries
        first (at order creation, for the count to hold)"""
        Entry = Pool().get('ticket.sale.list.entry')
        quantities = defaultdict(int)
        for line in request.lines:
            # whether the tariff has lists: kept with the tariff's catalogue
            # values (cleared when a list or its tariffs change)
            if line.tariff.catalogue['access_lists']:
                quantities[line.tariff] += line.quantity
        assigned = {}
        left = {}
        for tariff, quantity in sorted(
                quantities.items(), key=lambda i: i[0].id):
            lists = [l for l in tariff.access_lists if l.active]
            if not lists:
                continue
            entries = [e for l in lists for e in l.entries_for(request)]
            if not entries:
                raise PricingError(gettext(
                        'ticket_pricing.msg_access_restricted',
                        tariff=tariff.rec_name), 'restricted')
            if lock:
                Entry.lock(entries)
            for entry in entries:
                if entry.id not in left:
                    left[entry.id] = entry.remaining()
                if left[entry.id] is None or left[entry.id] >= quantity:
                    assigned[tariff] = entry
                    if left[entry.id] is not None:
                        left[entry.id] -= quantity
                    break
            else:
                raise PricingError(gettext(
                        'ticket_pricing.msg_access_quantity',
                        tariff=tariff.rec_name,
                        remaining=max(max(left[e.id] for e in entries), 0)),
                    'restricted')
        return assigned


class AccessListTariff(CatalogueCacheMixin, ModelSQL):
    __name__ = 'ticket.sale.list-ticket.tariff'
    list = fields.Many2One(
        'ticket.sale.list', "List", required=True, ondelete='CASCADE')
    tariff = fields.Many2One(
        'ticket.tariff', "Tariff", required=True, ondelete='CASCADE')


class AccessListEntry(ModelSQL, ModelView):
    "An e-mail, a password or a domain of an access list"
    __name__ = 'ticket.sale.list.entry'
    _rec_name = 'value'
    list = fields.Many2One(
        'ticket.sale.list', "List", required=True, ondelete='CASCADE')
    value = fields.Char("Value", required=True,
        help="An e-mail, a password or a domain, as the list's kind says; "
        "compared without regard to case.")
    quantity = fields.Integer("Quantity",
        domain=['OR', ('quantity', '=', None), ('quantity', '>=', 1)],
        help="The most the entry buys over all the orders and the tariffs "
        "of the list; empty for no limit.")
    bought = fields.Function(fields.Integer("Bought"), 'get_bought')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('value_unique', Unique(t, t.list, t.value),
                'ticket_pricing.msg_access_entry_unique'),
            ]
        cls.__access__.add('list')

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if 'value' in values:
            values['value'] = normalize_entry(values['value'])
        return values

    @classmethod
    def get_bought(cls, entries, name):
        "The units bought on the reserved and paid orders"
        OrderLine = Pool().get('ticket.order.line')
        bought = {e.id: 0 for e in entries}
        for line in OrderLine.search([
                    ('access_entry', 'in', [e.id for e in entries]),
                    ('order.state', 'in', ['reserved', 'paid']),
                    ]):
            bought[line.access_entry.id] += line.quantity
        return bought

    def remaining(self):
        "The quantity the entry may still buy, None for no limit"
        if self.quantity is None:
            return None
        return self.quantity - self.get_bought([self], 'bought')[self.id]


class Tariff(metaclass=PoolMeta):
    __name__ = 'ticket.tariff'
    access_lists = fields.Many2Many(
        'ticket.sale.list-ticket.tariff', 'tariff', 'list',
        "Access Lists",
        domain=[('company', '=', Eval('company', -1))],
        help="Restrict the tariff to the buyers of these lists.")

    def _catalogue_values(self):
        values = super()._catalogue_values()
        values['access_lists'] = bool(self.access_lists)
        return values

    @classmethod
    def copy(cls, tariffs, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('access_lists', None)
        return super().copy(tariffs, default=default)


class OrderLine(metaclass=PoolMeta):
    __name__ = 'ticket.order.line'
    access_entry = fields.Many2One(
        'ticket.sale.list.entry', "Access List Entry", readonly=True,
        ondelete='RESTRICT',
        help="The entry of an access list that allowed the line.")


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'

    @classmethod
    def create_from_quote(cls, quote, holds, **kwargs):
        pool = Pool()
        AccessList = pool.get('ticket.sale.list')
        OrderLine = pool.get('ticket.order.line')
        assigned = AccessList.assign(quote.request, lock=True)
        order = super().create_from_quote(quote, holds, **kwargs)
        if not assigned:
            # no restricted tariff: no line to read for an entry
            return order
        by_entry = defaultdict(list)
        for line in order.lines:
            if line.tariff in assigned:
                by_entry[assigned[line.tariff]].append(line)
        for entry, lines in by_entry.items():
            OrderLine.write(lines, {'access_entry': entry.id})
        return order


class PriceEngine(metaclass=PoolMeta):
    __name__ = 'ticket.price_engine'

    @classmethod
    def check_restrictions(cls, quote):
        super().check_restrictions(quote)
        AccessList = Pool().get('ticket.sale.list')
        AccessList.assign(quote.request)
