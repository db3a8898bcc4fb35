"Server-side helpers for the tests of ticket_crm."
import datetime as dt
from decimal import Decimal

from trytond.pool import Pool

from guichet.ticket_event.common import now
from guichet.ticket_event.tests.helpers import create_event, reserve


def customer(name, email=None, postal_code=None, country=None):
    "A party with an e-mail address and an address"
    pool = Pool()
    Party = pool.get('party.party')
    Country = pool.get('country.country')
    values = {'name': name}
    if email:
        values['contact_mechanisms'] = [('create', [{
                        'type': 'email', 'value': email}])]
    address = {'postal_code': postal_code}
    if country:
        countries = Country.search([('code', '=', country)])
        if not countries:
            countries = Country.create([{'name': country, 'code': country}])
        address['country'] = countries[0].id
    values['addresses'] = [('create', [address])]
    party, = Party.create([values])
    return party


def buy(session, party, quantity=1, price='20.00', paid_at=None,
        tariff=None, email=None, pay=True):
    """A paid order of quantity places of session at price each, paid at
    paid_at (now by default); return the order"""
    pool = Pool()
    Order = pool.get('ticket.order')
    OrderLine = pool.get('ticket.order.line')
    hold = reserve(session, quantity)
    line = OrderLine(session=session, description="Place",
        quantity=quantity, unit_price=Decimal(price), tickets_per_unit=1,
        tariff=tariff)
    order = Order.create_from_holds([hold], party=party, lines=[line],
        email=email)
    if pay:
        Order.pay([order])
        Order.write([order], {'paid_at': paid_at or now()})
    return Order(order.id)


def days_ago(days):
    return now() - dt.timedelta(days=days)


def venue_event(company, name, venue_name=None, tags=(), capacities=(50,),
        start=None):
    "An event on sale with named venue and tags; return event, sessions"
    pool = Pool()
    Event = pool.get('ticket.event')
    Venue = pool.get('ticket.venue')
    Tag = pool.get('ticket.event.tag')
    event, sessions = create_event(company, capacities, start=start)
    values = {'name': name}
    if venue_name:
        venue = Venue(name=venue_name, company=company,
            timezone=event.timezone)
        venue.save()
        values['venue'] = venue.id
    if tags:
        tag_ids = []
        for tag_name in tags:
            found = Tag.search([('name', '=', tag_name)])
            tag = found[0] if found else Tag(name=tag_name, company=company)
            tag.save()
            tag_ids.append(tag.id)
        values['tags'] = [('add', tag_ids)]
    Event.write([event], values)
    return Event(event.id), sessions
