"Server-side helpers for the tests of ticket_access."
import datetime as dt

from trytond.pool import Pool

from guichet.ticket_event.tests.helpers import create_event, sell


def setup_gate(company, capacities=(10,), tickets=3, **list_values):
    """An event on sale, an order of tickets for its first session, a
    check-in list open at any time and a device on it; return the event,
    sessions, tickets, list and device"""
    pool = Pool()
    CheckinList = pool.get('ticket.access.list')
    Device = pool.get('ticket.access.device')
    event, sessions = create_event(company, capacities)
    order = sell(sessions[0], tickets)
    values = {'open_before': None, 'close_after': None}
    values.update(list_values)
    checkin = CheckinList(name="Main gate", event=event, **values)
    checkin.save()
    device, = Device.create([{'name': "Gate 1", 'lists': [
                    ('add', [checkin.id])]}])
    return event, sessions, list(order.tickets), checkin, device


def rules(checkin):
    CheckinList = Pool().get('ticket.access.list')
    return CheckinList.rules([checkin.id])[checkin.id]


def scan(checkin, code=None, **kwargs):
    "Scan code (or ticket_id=) on checkin; return the Outcome"
    Scan = Pool().get('ticket.access.scan')
    return Scan.scan(rules(checkin), code=code, **kwargs)


def reread(*records):
    return [r.__class__(r.id) for r in records]


def during(session, minutes=30):
    "A time within a session"
    return session.start + dt.timedelta(minutes=minutes)
