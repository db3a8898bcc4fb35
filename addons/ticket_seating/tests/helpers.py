"""Server-side helpers for the tests of ticket_seating.

Call them inside ``with set_company(company):``::

    theatre = create_theatre(company)
    event, (session,), tariffs = seated_event(company, theatre)
"""
import datetime as dt

from trytond.pool import Pool

from guichet.ticket_event.common import now
from guichet.ticket_pricing.tests.helpers import (
    create_accounts, create_product, create_tariff, create_tax)

from ..layout import SectionSpec, generate


def create_map(venue, name="Salle", sections=(), focal=None, **values):
    """A seat map of venue with the generated sections (SectionSpec or
    dicts of SectionSpec values)"""
    SeatMap = Pool().get('ticket.seat.map')
    seat_map = SeatMap(name=name, venue=venue, **values)
    if focal:
        seat_map.focal_x, seat_map.focal_y = focal
    seat_map.save()
    for spec in sections:
        if isinstance(spec, dict):
            spec = SectionSpec(**spec)
        seat_map.add_seats(generate(spec))
    return SeatMap(seat_map.id)


def create_theatre(company, name="Théâtre"):
    """A venue with a map: stalls of 5 rows of 10 seats with a central
    aisle (category "Orchestre") and a curved balcony of 3 rows of 8
    (category "Balcon"), the stage in front of the stalls"""
    Venue = Pool().get('ticket.venue')
    venue = Venue(name=name, company=company, timezone='Europe/Paris')
    venue.save()
    return create_map(venue, sections=[
            SectionSpec(name="Orchestre", rows=5, seats=10, aisles=(5,),
                category="Orchestre"),
            SectionSpec(name="Balcon", rows=3, seats=8, shape='curved',
                radius=12, y=9, category="Balcon"),
            ], focal=(0.0, -3.0))


def seat_of(seat_map, section, row, label):
    Seat = Pool().get('ticket.seat')
    seat, = Seat.search([
            ('map', '=', seat_map.id),
            ('row.section.name', '=', section),
            ('row.name', '=', row),
            ('label', '=', label),
            ])
    return seat


def seated_event(company, seat_map, sessions=1, capacity=None,
        on_sale=True):
    """An event at the map's venue with sessions on the map and tariffs:
    category "Orchestre" (Plein 30, Réduit 20) and "Balcon" (Plein 15)
    linked to the seat categories of the same names; return the event,
    the sessions and the tariffs by name"""
    pool = Pool()
    Event = pool.get('ticket.event')
    Session = pool.get('ticket.session')
    Category = pool.get('ticket.tariff.category')
    accounts = create_accounts(company)
    vat = create_tax(company, '0.055', accounts)
    product = create_product(company, "Billetterie", [vat], accounts)
    event = Event(name="Le Misanthrope", company=company,
        venue=seat_map.venue, timezone='Europe/Paris')
    event.save()
    start = (now() + dt.timedelta(days=10)).replace(microsecond=0)
    count = seat_map.seat_count
    records = Session.create([{
                'event': event.id,
                'start': start + dt.timedelta(days=i),
                'end': start + dt.timedelta(days=i, hours=2),
                'capacity': capacity or count,
                'seat_map': seat_map.id,
                } for i in range(sessions)])
    zones = {c.name: c for c in seat_map.categories}
    tariffs = {}
    for name, prices in [("Orchestre", [("Plein", '30'), ("Réduit", '20')]),
            ("Balcon", [("Plein", '15')])]:
        category = Category(event=event, name=name,
            seat_categories=[zones[name]])
        category.save()
        for tariff_name, price in prices:
            tariffs[f'{name} {tariff_name}'] = create_tariff(
                event, tariff_name, price, product, category=category)
    if on_sale:
        Event.publish([event])
        Session.open_sale(records)
    return event, records, tariffs


def states(session):
    "The row strings of a session, as a list in the map's row order"
    from ..inventory import Inventory
    return Inventory.states(session, session.seat_map.get_layout())


def labels(seats):
    "Sorted 'Section Row Seat' labels of seats (records or ids)"
    Seat = Pool().get('ticket.seat')
    return sorted(f'{s.row.section.name} {s.row.name}{s.label}'
        for s in Seat.browse([int(s) for s in seats]))


def held(hold):
    "The labels of the seats a hold has"
    return labels([b.seat for b in hold.seats if b.state == 'held'])
