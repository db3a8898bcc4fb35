from decimal import Decimal

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from ..party import normalize_email
from .helpers import buy, customer, days_ago, venue_event


class CustomerTestMixin:
    "The customer view, the consent register, duplicates and merge"

    def test_normalize_email(self):
        "Test e-mail addresses are normalized for duplicate detection"
        for value, key in [
                (' Alice@Example.org ', 'alice@example.org'),
                ('alice+shop@example.org', 'alice@example.org'),
                ('a.lice@GoogleMail.com', 'alice@gmail.com'),
                ('a.lice@example.org', 'a.lice@example.org'),
                ('', None), (None, None)]:
            with self.subTest(value=value):
                self.assertEqual(normalize_email(value), key)

    @with_transaction()
    def test_sql_normalize_email_matches_python(self):
        "Test the SQL normalization of e-mail addresses equals Python's"
        from sql import Literal, Select
        from trytond.transaction import Transaction
        from ..party import sql_normalize_email
        cursor = Transaction().connection.cursor()
        for value in [' Alice@Example.org ', 'alice+x+y@example.org',
                'a.l.ice+tag@gmail.com', 'bob@googlemail.com']:
            cursor.execute(*Select([sql_normalize_email(Literal(value))]))
            self.assertEqual(cursor.fetchone()[0], normalize_email(value))

    @with_transaction()
    def test_customer_history(self):
        "Test the customer view sums paid orders and finds favourites"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            jazz, (jazz1, jazz2) = venue_event(company, "Jazz", "Pinède",
                tags=["Jazz", "Festival"], capacities=(50, 50))
            play, (play1,) = venue_event(company, "Play", "Célestins",
                tags=["Theatre"])
            alice = customer("Alice", 'alice@example.org')
            bob = customer("Bob")
            buy(jazz1, alice, 2, '25.00', paid_at=days_ago(30))
            buy(jazz2, alice, 1, '25.00', paid_at=days_ago(3))
            buy(play1, alice, 1, '30.00', paid_at=days_ago(10))
            buy(play1, alice, 5, '30.00', pay=False)

            alice = Party(alice.id)
            self.assertEqual(alice.customer_order_count, 3)
            self.assertEqual(alice.customer_spent, Decimal('105.00'))
            self.assertEqual(len(alice.customer_orders), 4)
            self.assertEqual(len(alice.customer_tickets), 4)
            self.assertLess(alice.first_purchase, alice.last_purchase)
            self.assertEqual(alice.favourite_venues, "Pinède, Célestins")
            self.assertEqual(alice.favourite_tags.split(', ')[2], "Theatre")
            bob = Party(bob.id)
            self.assertEqual(
                (bob.customer_order_count, bob.customer_spent,
                    bob.last_purchase, bob.favourite_tags),
                (0, Decimal(0), None, None))

    @with_transaction()
    def test_new_order_registers_customer(self):
        "A new order, inserted by plain SQL or created by the ORM, makes "
        "its buyer a customer (a summary row without orders)"
        from unittest.mock import patch
        from trytond.transaction import Transaction
        from guichet.ticket_event import hold as hold_module
        pool = Pool()
        Order = pool.get('ticket.order')
        insert_rows = hold_module.insert_rows
        cursor = Transaction().connection.cursor()
        company = create_company()
        with set_company(company):
            _, (session,) = venue_event(company, "Jazz")
            for name, plain in [("Alice", True), ("Bob", False)]:
                party = customer(name)
                inserted = []

                def spy(Model, vlist, cache=False):
                    inserted.append(Model.__name__)
                    return insert_rows(Model, vlist, cache=cache)
                with patch.object(hold_module, 'insert_rows', spy), \
                        patch.object(Order, '_plain_amounts', classmethod(
                                lambda cls, *args: plain)):
                    buy(session, party, 2, pay=False)
                self.assertEqual('ticket.order' in inserted, plain)
                cursor.execute('SELECT orders, amount '
                    'FROM ticket_crm_party_stat '
                    'WHERE party = %s AND company = %s',
                    (party.id, company.id))
                self.assertEqual(cursor.fetchall(), [(0, 0)])

    @with_transaction()
    def test_attended_sessions_from_checkin(self):
        "Test the sessions attended come from the check-in entries"
        pool = Pool()
        Party = pool.get('party.party')
        CheckinList = pool.get('ticket.access.list')
        Scan = pool.get('ticket.access.scan')
        company = create_company()
        with set_company(company):
            event, (session1, session2) = venue_event(
                company, "Jazz", capacities=(10, 10))
            alice = customer("Alice")
            order1 = buy(session1, alice, 2)
            buy(session2, alice, 1)
            checkin = CheckinList(name="Gate", event=event,
                open_before=None, close_after=None)
            checkin.save()
            rules = CheckinList.rules([checkin.id])[checkin.id]
            outcome = Scan.scan(rules, code=order1.tickets[0].secret)
            self.assertTrue(outcome.ok)

            self.assertEqual(
                Party(alice.id).attended_sessions, (session1,))

    @with_transaction()
    def test_consent_register(self):
        "Test the latest consent of a purpose is the current answer"
        pool = Pool()
        Party = pool.get('party.party')
        Consent = pool.get('ticket.crm.consent')
        company = create_company()
        with set_company(company):
            alice = customer("Alice")
            bob = customer("Bob")
            Consent.record_consent(alice, 'marketing', True, 'shop',
                date=days_ago(10))
            Consent.record_consent(alice, 'marketing', False, 'box_office',
                date=days_ago(2))
            Consent.record_consent(alice, 'newsletter', True, 'import')
            Consent.record_consent(bob, 'marketing', True, 'shop')

            self.assertEqual(
                [(p.name, p.marketing_consent, p.newsletter_consent)
                    for p in Party.browse([alice, bob])],
                [("Alice", False, True), ("Bob", True, False)])
            self.assertEqual(
                Party.search([('marketing_consent', '=', True)]), [bob])
            self.assertIn(alice,
                Party.search([('marketing_consent', '=', False)]))
            self.assertEqual(len(Party(alice.id).consents), 3)

    @with_transaction()
    def test_consent_refuses_bad_input(self):
        "Test an unknown purpose or source is refused and records nothing"
        pool = Pool()
        Consent = pool.get('ticket.crm.consent')
        from ..consent import ConsentError
        company = create_company()
        with set_company(company):
            alice = customer("Alice")
            for purpose, source in [('spam', 'shop'), ('marketing', 'x')]:
                with self.assertRaises(ConsentError):
                    Consent.record_consent(alice, purpose, True, source)
            self.assertEqual(Consent.search([]), [])

    @with_transaction()
    def test_duplicates_and_merge(self):
        "Test duplicates by e-mail and a merge that keeps the history"
        pool = Pool()
        Party = pool.get('party.party')
        Consent = pool.get('ticket.crm.consent')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, (session,) = venue_event(company, "Jazz")
            alice = customer("Alice", 'alice@example.org')
            alice2 = customer("Alice M.", 'Alice+shop@Example.org ')
            guest = customer("Guest")
            bob = customer("Bob", 'bob@example.org')
            buy(session, alice, 1, '10.00')
            order = buy(session, alice2, 2, '10.00')
            buy(session, guest, 1, '10.00', email='ALICE@example.org')
            Consent.record_consent(alice2, 'marketing', True, 'shop')

            self.assertEqual(
                sorted(p.name for p in Party(alice.id).duplicates),
                ["Alice M.", "Guest"])
            self.assertEqual(Party(bob.id).duplicates, ())
            self.assertEqual(
                {p.name for p in Party.search(
                        [('duplicates', '!=', None)])},
                {"Alice", "Alice M.", "Guest"})

            Party.merge(Party(alice2.id), Party(alice.id))

            alice, alice2 = Party.browse([alice.id, alice2.id])
            self.assertFalse(alice2.active)
            self.assertEqual(alice2.replaced_by, alice)
            self.assertEqual(Order(order.id).party, alice)
            self.assertEqual(alice.customer_order_count, 2)
            self.assertEqual(alice.customer_spent, Decimal('30.00'))
            self.assertTrue(alice.marketing_consent)
            self.assertEqual(
                [p.name for p in alice.duplicates], ["Guest"])
