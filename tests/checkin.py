"""Check-in data for the HTTP tests and the bench: sold tickets, lists and
devices with their keys, made in a transaction of an ``ApiServer``."""
import datetime as dt

CHECKIN = '/ticket/api/v1/checkin'


def sell_tickets(pool, session_id, count, per_order=100):
    "Sell count tickets of a session in orders of per_order; return them"
    from trytond.transaction import Transaction
    Session = pool.get('ticket.session')
    Hold = pool.get('ticket.hold')
    Order = pool.get('ticket.order')
    session = Session(session_id)
    if session.capacity < session.sold + count:
        Session.write([session], {'capacity': session.sold + count})
    tickets = []
    with Transaction().set_context(company=session.event.company.id):
        while len(tickets) < count:
            quantity = min(per_order, count - len(tickets))
            hold = Hold.reserve(
                [{'session': session, 'quantity': quantity}])
            order = Order.create_from_holds(
                [hold], email='fan@example.org')
            Order.pay([order])
            tickets.extend(Order(order.id).tickets)
    return tickets


def create_gate(pool, event_id, devices=1, name="Main gate", **values):
    "A check-in list of an event and devices on it; return list, keys"
    from trytond.transaction import Transaction
    Event = pool.get('ticket.event')
    CheckinList = pool.get('ticket.access.list')
    Device = pool.get('ticket.access.device')
    event = Event(event_id)
    values.setdefault('open_before', None)
    values.setdefault('close_after', None)
    with Transaction().set_context(company=event.company.id):
        checkin, = CheckinList.create([dict(
                    name=name, event=event.id, company=event.company.id,
                    **values)])
        created = Device.create([{
                    'name': f"{name} {i + 1}",
                    'company': event.company.id,
                    'lists': [('add', [checkin.id])],
                    } for i in range(devices)])
        return checkin.id, [d.key for d in Device.browse(created)]


def auth(key):
    return {'Authorization': f'Bearer {key}'}


def later(minutes):
    return dt.timedelta(minutes=minutes)
