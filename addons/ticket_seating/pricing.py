"""Seat categories and the price engine: which tariffs sell which seats,
and season passes that keep their seat.

A tariff sells the seats of the seat categories linked to it, or to its
tariff category; a tariff linked to none sells any seat. A seat category's
default tariff (``default_tariff``) prices the seats chosen without a
tariff: the first tariff of the event, in sequence, that sells it on the
channel.
"""
from trytond.model import ModelSQL, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction


class TariffCategory(metaclass=PoolMeta):
    __name__ = 'ticket.tariff.category'
    seat_categories = fields.Many2Many(
        'ticket.tariff.category-ticket.seat.category', 'category',
        'seat_category', "Seat Categories",
        domain=[('map.company', '=', Eval('_parent_event', {}).get(
                    'company', Eval('context', {}).get('company', -1)))],
        help="The tariffs of the category sell the seats of these seat "
        "categories (price zones).")


class TariffCategorySeatCategory(ModelSQL):
    __name__ = 'ticket.tariff.category-ticket.seat.category'
    category = fields.Many2One(
        'ticket.tariff.category', "Tariff Category", required=True,
        ondelete='CASCADE')
    seat_category = fields.Many2One(
        'ticket.seat.category', "Seat Category", required=True,
        ondelete='CASCADE')


class Tariff(metaclass=PoolMeta):
    __name__ = 'ticket.tariff'
    seat_categories = fields.Many2Many(
        'ticket.tariff-ticket.seat.category', 'tariff', 'seat_category',
        "Seat Categories",
        domain=[('map.company', '=', Eval('company', -1))],
        states={'invisible': ~Eval('issues_ticket')},
        help="The tariff sells the seats of these seat categories (price "
        "zones), besides those of its tariff category; none for any seat.")

    @property
    def allowed_seat_categories(self):
        "The ids of the seat categories the tariff sells, None for any"
        ids = {c.id for c in self.seat_categories}
        if self.category:
            ids.update(c.id for c in self.category.seat_categories)
        return frozenset(ids) if ids else None

    def sells_seat_category(self, category):
        allowed = self.allowed_seat_categories
        return allowed is None or (
            category is not None and int(category) in allowed)


class TariffSeatCategory(ModelSQL):
    __name__ = 'ticket.tariff-ticket.seat.category'
    tariff = fields.Many2One(
        'ticket.tariff', "Tariff", required=True, ondelete='CASCADE')
    seat_category = fields.Many2One(
        'ticket.seat.category', "Seat Category", required=True,
        ondelete='CASCADE')


def default_tariffs(session, channel, count=1):
    """The default tariff of each seat category of session's map on
    channel, {seat category id: tariff}: the first tariff in sequence
    selling single admissions of the category on the channel now"""
    from guichet.ticket_pricing.exceptions import PricingError
    Tariff = Pool().get('ticket.tariff')
    tariffs = []
    candidates = sorted(Tariff.search([('event', '=', session.event.id)]),
        key=lambda t: (t.sequence is not None, t.sequence or 0, t.id))
    for tariff in candidates:
        if (not tariff.issues_ticket or tariff.pass_kind
                or tariff.tickets_per_unit != 1
                or tariff.min_quantity > count):
            continue
        try:
            tariff.check_sale(session, channel)
        except PricingError:
            continue
        tariffs.append(tariff)
    result = {}
    for category in session.seat_map.categories:
        for tariff in tariffs:
            if tariff.sells_seat_category(category):
                result[category.id] = tariff
                break
    return result


class Subscription(metaclass=PoolMeta):
    __name__ = 'ticket.subscription'
    map_seat = fields.Many2One(
        'ticket.seat', "Seat on the Map", readonly=True,
        ondelete='RESTRICT',
        help="The seat of the pass, offered again on renewal.")

    @classmethod
    def from_ticket(cls, ticket, renewed=None):
        subscription = super().from_ticket(ticket, renewed)
        if ticket.seat:
            subscription.map_seat = ticket.seat
            subscription.seat = ticket.seat.rec_name
        elif renewed and renewed.map_seat:
            subscription.map_seat = renewed.map_seat
        return subscription

    @classmethod
    def set_seats(cls, tickets):
        "The passes of seated tickets keep their seat"
        seated = [t.id for t in tickets if t.seat]
        if not seated:
            return
        subscriptions = cls.search([('ticket', 'in', seated)])
        for subscription in subscriptions:
            subscription.map_seat = subscription.ticket.seat
            subscription.seat = subscription.ticket.seat.rec_name
        cls.save(subscriptions)

    @classmethod
    def renew(cls, subscriptions, season, **kwargs):
        "Each renewal is offered the seat of the pass it renews"
        orders = []
        for subscription in subscriptions:
            seat = subscription.map_seat
            with Transaction().set_context(
                    seat_preference=[seat.id] if seat else None):
                orders.extend(
                    super().renew([subscription], season, **kwargs))
        return orders
