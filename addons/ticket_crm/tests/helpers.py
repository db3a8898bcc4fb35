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


def product():
    "A service product for tariffs"
    pool = Pool()
    Template = pool.get('product.template')
    Product = pool.get('product.product')
    Uom = pool.get('product.uom')
    unit, = Uom.search([('name', '=', "Unit")])
    template = Template(name="Admission", type='service', default_uom=unit,
        list_price=Decimal(0), products=[])
    template.save()
    record = Product(template=template)
    record.save()
    return record


def tariff(event, name, price='20.00', category=None):
    pool = Pool()
    Tariff = pool.get('ticket.tariff')
    Category = pool.get('ticket.tariff.category')
    if category and not isinstance(category, Category):
        category = Category(event=event, name=category)
        category.save()
    record = Tariff(event=event, name=name, price=Decimal(price),
        product=product(), category=category)
    record.save()
    return record


def subscribe(season, party, code):
    "An active pass of season held by party"
    Subscription = Pool().get('ticket.subscription')
    subscription = Subscription(season=season, party=party, pass_code=code,
        state='active')
    subscription.save()
    return subscription


def segment(company, lines, match='all', name="Segment"):
    "A saved segment of lines (dicts of line values)"
    Segment = Pool().get('ticket.crm.segment')
    record, = Segment.create([{
                'name': name, 'company': company.id, 'match': match,
                'lines': [('create', lines)],
                }])
    return record


def members(record):
    "The names of the members of a segment, sorted"
    Party = Pool().get('party.party')
    return sorted(p.name for p in Party.browse(record.member_ids()))
