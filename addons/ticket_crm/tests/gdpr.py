import json

from trytond.exceptions import UserError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .helpers import buy, customer, days_ago, venue_event


class GDPRTestMixin:
    "Retention, export my data, erase me"

    def setup_retention(self, company):
        pool = Pool()
        Consent = pool.get('ticket.crm.consent')
        Order = pool.get('ticket.order')
        past = days_ago(4 * 365)
        event, (old_session,) = venue_event(company, "Old", start=past)
        event, (session,) = venue_event(company, "New")
        old = customer("Olga Old", 'olga@gdpr.test', '69002', 'FR')
        recent = customer("Rita Recent", 'rita@gdpr.test')
        old_order = buy(session, old, 2, '15.00', paid_at=past,
            email='olga@gdpr.test')
        table = Order.__table__()
        Transaction().connection.cursor().execute(*table.update(
                [table.create_date], [past],
                where=table.id == old_order.id))
        Consent.record_consent(old, 'marketing', True, 'shop', date=past)
        buy(session, recent, 1, '15.00', paid_at=days_ago(30))
        return old, recent, old_order

    @with_transaction()
    def test_inactive_buyers_anonymized(self):
        "Test the cron anonymizes inactive buyers and keeps their orders"
        pool = Pool()
        Party = pool.get('party.party')
        Order = pool.get('ticket.order')
        Ticket = pool.get('ticket.ticket')
        company = create_company()
        with set_company(company):
            old, recent, order = self.setup_retention(company)
            # the old buyer also has a ticket for a session to come
            self.assertEqual(Party.inactive_buyers(company), [])
            Pool().get('ticket.session').write(
                [order.lines[0].session], {'start': days_ago(4 * 365),
                    'end': days_ago(4 * 365 - 1)})
            total = order.total
            self.assertEqual(Party.inactive_buyers(company), [old])

            self.assertEqual(Party.anonymize_inactive(), [old])

            old = Party(old.id)
            self.assertTrue(old.anonymized_at)
            self.assertFalse(old.name)
            self.assertNotIn('olga', json.dumps(old.personal_data()))
            order = Order(order.id)
            self.assertEqual((order.party, order.state, order.total,
                    order.email), (old, 'paid', total, None))
            self.assertEqual([t.holder_name for t in order.tickets],
                [None, None])
            self.assertEqual(len(old.consents), 1)
            self.assertEqual(Party(recent.id).name, "Rita Recent")
            self.assertEqual(Party.inactive_buyers(company), [])
            self.assertEqual(Ticket.search_count(
                    [('order', '=', order.id)]), 2)

    @with_transaction()
    def test_retention_per_company(self):
        "Test a longer retention keeps the buyer"
        pool = Pool()
        Party = pool.get('party.party')
        Company = pool.get('company.company')
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            old, recent, order = self.setup_retention(company)
            Session.write([order.lines[0].session], {
                    'start': days_ago(4 * 365), 'end': days_ago(1459)})
            Company.write([company], {'customer_retention': 60})
            self.assertEqual(Party.inactive_buyers(Company(company.id)), [])

    @with_transaction()
    def test_export_my_data(self):
        "Test the export holds the customer's orders, tickets and consents"
        pool = Pool()
        Party = pool.get('party.party')
        ExportData = pool.get('party.party.export_data', type='wizard')
        company = create_company()
        with set_company(company):
            old, recent, order = self.setup_retention(company)
            data = Party(old.id).personal_data()
            self.assertEqual(data['name'], "Olga Old")
            self.assertEqual(data['orders'][0]['number'], order.number)
            self.assertEqual(len(data['orders'][0]['tickets']), 2)
            self.assertEqual(data['consents'][0]['purpose'], 'marketing')
            json.dumps(data)
            for format_, magic in [('json', b'{'), ('xlsx', b'PK')]:
                session_id, _, _ = ExportData.create()
                with Transaction_context(old):
                    wizard = ExportData(session_id)
                    wizard.start.format = format_
                    self.assertEqual(wizard.transition_export(), 'result')
                    self.assertTrue(wizard.start.file.startswith(magic))

    @with_transaction()
    def test_erase_me(self):
        "Test erase me anonymizes now, refused while an order is unpaid"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            old, recent, order = self.setup_retention(company)
            event, (session,) = venue_event(company, "Later")
            buy(session, recent, 1, pay=False)
            with self.assertRaises(UserError):
                Party.erase_customer([recent])
            self.assertEqual(Party(recent.id).name, "Rita Recent")
            Party.erase_customer([old])
            self.assertTrue(Party(old.id).anonymized_at)


def Transaction_context(party):
    return Transaction().set_context(
        active_model='party.party', active_id=party.id,
        active_ids=[party.id])
