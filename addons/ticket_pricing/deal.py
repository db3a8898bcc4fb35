"""Package deals: an automatic discount for a combination of tariffs of an
event, e.g. 2 × Adult + 1 × Child gives 3 € off, whatever the sessions."""
from collections import defaultdict

from trytond.cache import Cache
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from .engine import ZERO
from .promotion import room, spread_discount


# The ids of the active deals of an event, searched by every quote (most
# events have none); cleared in every process by any change of a deal.
_event_deals = Cache('ticket.package.deal.event', context=False)


class PackageDeal(DeactivableMixin, ModelSQL, ModelView):
    "A package deal: a discount for a combination of tariffs"
    __name__ = 'ticket.package.deal'
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    name = fields.Char("Name", required=True, translate=True)
    amount = Monetary(
        "Discount", currency='currency', digits='currency', required=True,
        domain=[('amount', '>', 0)],
        help="Off each combination found in an order, in the prices' basis "
        "(tax included or not as the event displays them).")
    components = fields.One2Many(
        'ticket.package.deal.component', 'deal', "Combination",
        help="The tariffs and quantities that make one combination.")

    @classmethod
    def create(cls, vlist):
        _event_deals.clear()
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        _event_deals.clear()
        super().write(*args)

    @classmethod
    def delete(cls, deals):
        _event_deals.clear()
        super().delete(deals)

    @classmethod
    def of_events(cls, event_ids):
        "The active deals of the events of ids, by id"
        ids = []
        for event_id in sorted(event_ids):
            cached = _event_deals.get(event_id)
            if cached is None:
                cached = tuple(d.id for d in cls.search([
                            ('event', '=', event_id),
                            ]))
                _event_deals.set(event_id, cached)
            ids.extend(cached)
        return cls.browse(sorted(ids))

    @fields.depends('event', '_parent_event.company')
    def on_change_with_company(self, name=None):
        return self.event.company if self.event else None

    @classmethod
    def search_company(cls, name, clause):
        return [('event.company',) + tuple(clause[1:])]

    @fields.depends('event', '_parent_event.company')
    def on_change_with_currency(self, name=None):
        if self.event and self.event.company:
            return self.event.company.currency

    def apply(self, quote, left):
        """Discount the combinations found in the units left per tariff (a
        dict of tariff id to [line, units] lists, dearest first, that the
        deal decreases); return how many times it applied and the discount
        """
        if not self.components:
            return 0, ZERO
        needed = defaultdict(int)
        for component in self.components:
            needed[component.tariff.id] += component.quantity
        times = min(sum(u for _, u in left.get(t, [])) // q
            for t, q in needed.items())
        if not times:
            return 0, ZERO
        weights = {}
        for tariff_id, quantity in needed.items():
            wanted = times * quantity
            for entry in left[tariff_id]:
                line, units = entry
                take = min(units, wanted)
                if take:
                    key = id(line)
                    weight = weights.get(key, (line, ZERO))[1]
                    weights[key] = (line, weight + take * line.unit_price)
                    entry[1] -= take
                    wanted -= take
        shares = [(l, min(w, room(l))) for l, w in weights.values()]
        return times, spread_discount(quote, shares, times * self.amount)


class PackageDealComponent(ModelSQL, ModelView):
    "A tariff and its quantity in a package deal"
    __name__ = 'ticket.package.deal.component'
    deal = fields.Many2One(
        'ticket.package.deal', "Deal", required=True, ondelete='CASCADE')
    tariff = fields.Many2One(
        'ticket.tariff', "Tariff", required=True, ondelete='CASCADE',
        domain=[('event', '=', Eval('_parent_deal.event', -1))])
    quantity = fields.Integer("Quantity", required=True,
        domain=[('quantity', '>=', 1)])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('deal')

    @classmethod
    def default_quantity(cls):
        return 1


class PriceEngine(metaclass=PoolMeta):
    __name__ = 'ticket.price_engine'

    @classmethod
    def apply_deals(cls, quote):
        super().apply_deals(quote)
        Deal = Pool().get('ticket.package.deal')
        lines = [l for l in quote.ticket_lines if l.tariff]
        events = {l.tariff.catalogue['event'] for l in lines}
        if not events:
            return
        deals = Deal.of_events(events)
        if not deals:
            return
        left = defaultdict(list)
        for line in sorted(lines, key=lambda l: -l.unit_price):
            left[line.tariff.id].append([line, line.quantity])
        for deal in deals:
            times, discount = deal.apply(quote, left)
            if times:
                quote.deals.append((deal, times, discount))
