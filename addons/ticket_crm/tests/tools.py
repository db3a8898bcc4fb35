"""Call the customer services from a proteus scenario, in a committed
transaction of its configuration (see ticket_event.tests.tools)."""
import datetime as dt
from decimal import Decimal

from proteus import Model
from proteus.config import get_config
from trytond.pool import Pool
from trytond.transaction import Transaction

from guichet.ticket_event.common import now
from guichet.ticket_event.tests.tools import _run

__all__ = ['buy', 'move_session', 'record_consent', 'subscribe', 'send_due', 'run_worker',
    'anonymize_inactive', 'days_ago']


def days_ago(days):
    return now() - dt.timedelta(days=days)


def buy(session, party, quantity=1, price='20.00', paid_at=None,
        config=None):
    """A paid order of quantity places of session at price, paid at paid_at
    (now by default); return the proteus order"""
    config = config or get_config()

    def func():
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        OrderLine = pool.get('ticket.order.line')
        Session = pool.get('ticket.session')
        Party = pool.get('party.party')
        session_ = Session(session.id)
        hold = Hold.reserve([{'session': session_, 'quantity': quantity}])
        line = OrderLine(session=session_, description="Place",
            quantity=quantity, unit_price=Decimal(price),
            tickets_per_unit=1)
        party_ = Party(party.id)
        order = Order.create_from_holds([hold], party=party_,
            lines=[line])
        Order.pay([order])
        Order.write([order], {'paid_at': paid_at or now()})
        if paid_at:
            table = Order.__table__()
            Transaction().connection.cursor().execute(*table.update(
                    [table.create_date], [paid_at],
                    where=table.id == order.id))
        return order.id
    return Model.get('ticket.order', config=config)(_run(func, config))


def record_consent(party, purpose, given, source, date=None, config=None):
    "Record a consent as the shop or the box office does"
    config = config or get_config()

    def func():
        Consent = Pool().get('ticket.crm.consent')
        return Consent.record_consent(
            party.id, purpose, given, source, date=date).id
    return Model.get('ticket.crm.consent', config=config)(_run(func, config))


def subscribe(season, party, code, config=None):
    "An active pass of season held by party"
    config = config or get_config()

    def func():
        Subscription = Pool().get('ticket.subscription')
        subscription = Subscription(season=season.id, party=party.id,
            pass_code=code, state='active')
        subscription.save()
        return subscription.id
    return Model.get('ticket.subscription', config=config)(
        _run(func, config))


def send_due(at=None, config=None):
    """Run the scheduled messages' cron at at (now by default); return the
    number of deliveries planned; their tasks wait in the queue"""
    config = config or get_config()

    def func():
        Schedule = Pool().get('ticket.crm.schedule')
        transaction = Transaction()
        planned = Schedule.send_due(at=at)
        transaction.tasks.clear()
        return len(planned)
    return _run(func, config)


def run_worker(config=None):
    """Run the queued tasks as trytond-worker does (one transaction each,
    committed, so the e-mails leave); return the number of tasks run"""
    config = config or get_config()

    def pending():
        Queue = Pool().get('ir.queue')
        return [q.id for q in Queue.search([('finished_at', '=', None)],
                order=[('id', 'ASC')])]

    count = 0
    for task_id in _run(pending, config):
        def func():
            Queue = Pool().get('ir.queue')
            Queue(task_id).run()
        _run(func, config)
        count += 1
    return count


def anonymize_inactive(config=None):
    "Run the retention cron; return the names it anonymized, before"
    config = config or get_config()

    def func():
        Party = Pool().get('party.party')
        names = {p.id: p.name for p in Party.search([])}
        return sorted(names[p.id] for p in Party.anonymize_inactive())
    return _run(func, config)


def move_session(session, start, config=None):
    "Move session (a proteus record) to start, e.g. into the past"
    config = config or get_config()

    def func():
        Session = Pool().get('ticket.session')
        table = Session.__table__()
        Transaction().connection.cursor().execute(*table.update(
                [table.start, table.end],
                [start, start + dt.timedelta(hours=2)],
                where=table.id == session.id))
    _run(func, config)
