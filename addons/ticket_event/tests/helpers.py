"Server-side helpers for the tests of the ticketing modules."
import datetime as dt
import io

from pypdf import PdfReader

from trytond.pool import Pool

from ..common import now

MM = 72 / 25.4
PARIS = 'Europe/Paris'


def create_event(company, capacities=(10,), start=None, timezone=PARIS,
        on_sale=True, **session_values):
    """Create an event with a session per capacity, a day apart, published
    and on sale unless on_sale is false; return the event and sessions"""
    pool = Pool()
    Venue = pool.get('ticket.venue')
    Event = pool.get('ticket.event')
    Session = pool.get('ticket.session')
    venue = Venue(name="Hall", company=company, timezone=timezone)
    venue.save()
    event = Event(
        name="Concert", company=company, venue=venue, timezone=timezone)
    event.save()
    if start is None:
        start = (now() + dt.timedelta(days=10)).replace(microsecond=0)
    sessions = Session.create([{
                'event': event.id,
                'start': start + dt.timedelta(days=i),
                'end': start + dt.timedelta(days=i, hours=2),
                'capacity': capacity,
                **session_values,
                } for i, capacity in enumerate(capacities)])
    if on_sale:
        Event.publish([event])
        Session.open_sale(sessions)
    return event, sessions


def counts(*pools):
    "Return the (held, sold) counters of pools, read again"
    CapacityPool = Pool().get('ticket.pool')
    return [(p.held, p.sold) for p in CapacityPool.browse(pools)]


def reserve(session, quantity, **kwargs):
    "Hold quantity places of session"
    Hold = Pool().get('ticket.hold')
    return Hold.reserve(
        [{'session': session, 'quantity': quantity}], **kwargs)


def sell(session, quantity, **kwargs):
    "Reserve, order and pay quantity places of session; return the order"
    Order = Pool().get('ticket.order')
    order = Order.create_from_holds([reserve(session, quantity)], **kwargs)
    Order.pay([order])
    return order


def pdf_pages(content):
    "The content streams of the pages of a PDF (what they draw)"
    return [p.get_contents().get_data()
        for p in PdfReader(io.BytesIO(content)).pages]


def pdf_text(content):
    "The text of the pages of a PDF"
    return '\n'.join(
        p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
