"""Call the seating service from a proteus scenario.

``SeatService.hold`` is a Python service of the shop, the box office and the
API, not client RPC; these helpers run it in a transaction of the proteus
configuration, as those edges do, and return proteus records."""
from proteus import Model
from proteus.config import get_config
from trytond.pool import Pool

from guichet.ticket_event.tests.tools import _run

__all__ = ['hold_seats', 'seat_labels']


def hold_seats(session, quantity=None, seats=None, tariffs=None,
        category=None, channel='web', config=None, **kwargs):
    """Hold seats of a proteus session: seats (proteus seats) picked on the
    map, or the best available for quantity in category; tariffs as
    (proteus tariff, quantity). Return the proteus hold, the quote's total
    and whether the group was split; a refusal raises SeatingError (its
    code in .code) or PricingError"""
    config = config or get_config()

    def func():
        pool = Pool()
        Service = pool.get('ticket.seat.service')
        Session = pool.get('ticket.session')
        Tariff = pool.get('ticket.tariff')
        Category = pool.get('ticket.seat.category')
        hold, quote, choice = Service.hold(Session(session.id),
            channel=channel, quantity=quantity,
            seats=[s.id for s in seats] if seats is not None else None,
            tariffs=[(Tariff(t.id), q) for t, q in tariffs or []],
            category=Category(category.id) if category else None, **kwargs)
        return hold.id, quote.total, choice.split
    hold_id, total, split = _run(func, config)
    return Model.get('ticket.hold', config=config)(hold_id), total, split


def seat_labels(records):
    "The seats of proteus bookings or tickets, as 'Section Row Seat'"
    return sorted(f'{r.seat.row.section.name} {r.seat.row.name}{r.seat.label}'
        for r in records if r.seat)
