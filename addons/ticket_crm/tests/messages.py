import datetime as dt

import trytond.config as config
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from guichet.ticket_event.common import now

from .helpers import buy, customer, venue_event
from .smtp import Sink


def run_queue():
    "Run the queued tasks as trytond-worker does; return their number"
    Queue = Pool().get('ir.queue')
    transaction = Transaction()
    count = 0
    while transaction.tasks:
        Queue(transaction.tasks.pop()).run()
        count += 1
    return count


class MessageTestMixin:
    """Messages to buyers, scheduled messages, consent

    The e-mails leave when the transaction commits, so these tests commit:
    their customers use their own e-mail domain (messages.test)."""

    def setUp(self):
        super().setUp()
        self.sink = Sink().__enter__()
        self.addCleanup(self.sink.__exit__)
        uri = config.get('email', 'uri')
        config.set('email', 'uri', self.sink.uri)
        self.addCleanup(config.set, 'email', 'uri', uri)

    def setup_buyers(self, company):
        start = (now() + dt.timedelta(hours=20)).replace(microsecond=0)
        event, (session, later) = venue_event(company, "Jazz",
            capacities=(50, 50), start=start)
        alice = customer("Alice", 'alice@messages.test')
        bob = customer("Bob", 'bob@messages.test')
        nomail = customer("Nomail")
        orders = [
            buy(session, alice, 2, email='alice@messages.test'),
            buy(session, bob, 1, email='bob@messages.test'),
            buy(later, alice, 1, email='alice@messages.test'),
            buy(session, nomail, 1),
            ]
        return event, session, later, orders, (alice, bob, nomail)

    @with_transaction()
    def test_message_buyers_of_session_once(self):
        "Test a transactional message reaches each order of a session once"
        pool = Pool()
        Message = pool.get('ticket.crm.message')
        Delivery = pool.get('ticket.crm.delivery')
        company = create_company()
        with set_company(company):
            event, session, later, orders, people = self.setup_buyers(
                company)
            message = Message(name="Parking", audience='session',
                session=session, kind='transactional',
                subject="{{ event }}: parking",
                body="Hello {{ party }}, order {{ order }}.")
            message.save()
            Message.send([message])
            self.assertEqual(len(message.deliveries), 3)
            self.assertEqual(
                sorted((d.party.name, d.state, d.reason)
                    for d in message.deliveries),
                [("Alice", 'queued', None), ("Bob", 'queued', None),
                    ("Nomail", 'skipped', 'no_email')])
            self.assertEqual(run_queue(), 1)
            Transaction().commit()
            self.assertEqual(sorted(self.sink.to()),
                ['alice@messages.test', 'bob@messages.test'])
            self.assertEqual(str(self.sink.messages[0]['Subject']),
                "Jazz: parking")
            self.assertIn(orders[0].number,
                self.sink.messages[0].get_content() + ''.join(
                    m.get_content() for m in self.sink.messages))

            # the worker running the task again sends nothing more
            Delivery.send(list(message.deliveries))
            Transaction().commit()
            self.assertEqual(len(self.sink.messages), 2)
            # planning the same message again adds nothing
            self.assertEqual(
                Delivery.plan(message.recipients(), message=message), [])

    @with_transaction()
    def test_marketing_message_needs_consent(self):
        "Test a marketing message skips the buyers without consent"
        pool = Pool()
        Message = pool.get('ticket.crm.message')
        Consent = pool.get('ticket.crm.consent')
        company = create_company()
        with set_company(company):
            event, session, later, orders, (alice, bob, _) = (
                self.setup_buyers(company))
            Consent.record_consent(alice, 'marketing', True, 'shop')
            Consent.record_consent(bob, 'marketing', True, 'shop')
            Consent.record_consent(bob, 'marketing', False, 'box_office')
            message = Message(name="Next season", audience='event',
                event=event, kind='marketing', subject="Next season",
                body="Hello {{ party }}")
            message.save()
            Message.send([message])
            self.assertEqual(
                sorted((d.party.name, d.state, d.reason)
                    for d in message.deliveries),
                [("Alice", 'queued', None), ("Alice", 'queued', None),
                    ("Bob", 'skipped', 'no_consent'),
                    ("Nomail", 'skipped', 'no_email')])
            run_queue()
            Transaction().commit()
            self.assertEqual(self.sink.to(), ['alice@messages.test'] * 2)

    @with_transaction()
    def test_message_buyers_by_tariff_and_method(self):
        "Test the buyers at a tariff and paying by a method"
        pool = Pool()
        Message = pool.get('ticket.crm.message')
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        from .helpers import tariff
        company = create_company()
        with set_company(company):
            event, (session,) = venue_event(company, "Play")
            vip = tariff(event, "VIP")
            alice = customer("Alice", 'alice@messages.test')
            bob = customer("Bob", 'bob@messages.test')
            buy(session, alice, 1, tariff=vip)
            order = buy(session, bob, 1, pay=False)
            Payment.record(order, 'manual', 'cheque-1', order.total,
                method='cheque')
            self.assertEqual(Order(order.id).state, 'paid')
            for values, expected in [
                    ({'audience': 'tariff', 'tariff': vip.id}, ["Alice"]),
                    ({'audience': 'method', 'method': 'cheque'}, ["Bob"]),
                    ]:
                message, = Message.create([dict(name="M", subject="S",
                            body="B", kind='transactional', **values)])
                Message.send([message])
                self.assertEqual(
                    [d.party.name for d in message.deliveries], expected)

    @with_transaction()
    def test_scheduled_messages_sent_once_per_order(self):
        "Test a schedule sends when due, once per order, per session"
        pool = Pool()
        Schedule = pool.get('ticket.crm.schedule')
        Delivery = pool.get('ticket.crm.delivery')
        company = create_company()
        with set_company(company):
            event, session, later, orders, people = self.setup_buyers(
                company)
            before = Schedule(name="Access", event=event,
                offset=dt.timedelta(hours=-24), kind='transactional',
                subject="Tomorrow: {{ session }}",
                body="Doors open at {{ start }}.")
            before.save()
            after = Schedule(name="Thanks", offset=dt.timedelta(hours=2),
                kind='transactional', subject="Thanks", body="Survey")
            after.save()

            due = Schedule.send_due()
            self.assertEqual(
                sorted((d.schedule.name, d.party.name, d.state)
                    for d in due),
                [("Access", "Alice", 'queued'), ("Access", "Bob", 'queued'),
                    ("Access", "Nomail", 'skipped')])
            self.assertEqual(Schedule.send_due(), [])
            run_queue()
            Transaction().commit()
            self.assertEqual(len(self.sink.messages), 2)
            self.assertTrue(str(self.sink.messages[0]['Subject']).startswith(
                    "Tomorrow: "))

            # the next day, the later session's reminder and the thanks of
            # the first session are due
            tomorrow = now() + dt.timedelta(hours=23)
            due = Schedule.send_due(at=tomorrow)
            self.assertEqual(
                sorted((d.schedule.name, d.session.id, d.party.name)
                    for d in due),
                [("Access", later.id, "Alice"),
                    ("Thanks", session.id, "Alice"),
                    ("Thanks", session.id, "Bob"),
                    ("Thanks", session.id, "Nomail")])
            self.assertEqual(Schedule.send_due(at=tomorrow), [])
            # two of the thanks per order would break the unique index
            self.assertEqual(Delivery.search_count([
                        ('schedule', '=', after.id),
                        ('order', '=', orders[0].id)]), 1)

    @with_transaction()
    def test_delivery_unique_in_database(self):
        "Test the database refuses a second delivery of an order"
        from trytond.model.exceptions import SQLConstraintError
        pool = Pool()
        Delivery = pool.get('ticket.crm.delivery')
        Schedule = pool.get('ticket.crm.schedule')
        company = create_company()
        with set_company(company):
            event, session, later, orders, people = self.setup_buyers(
                company)
            schedule = Schedule(name="Access", offset=dt.timedelta(0),
                kind='transactional', subject="S", body="B")
            schedule.save()
            values = {'schedule': schedule.id, 'session': session.id,
                'order': orders[0].id, 'party': people[0].id,
                'company': company.id, 'state': 'sent'}
            Delivery.create([values])
            with self.assertRaises(SQLConstraintError):
                Delivery.create([values])

    @with_transaction()
    def test_message_template_checked(self):
        "Test a broken template is refused when saved"
        from trytond.model.exceptions import ValidationError
        pool = Pool()
        Message = pool.get('ticket.crm.message')
        company = create_company()
        with set_company(company):
            with self.assertRaises(ValidationError):
                Message.create([{'name': "M", 'subject': "{{ oops",
                            'body': "B", 'audience': 'method',
                            'method': 'cash'}])
