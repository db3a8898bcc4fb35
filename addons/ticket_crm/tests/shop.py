from unittest import mock

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from guichet.ticket_event import hold as hold_module
from guichet.ticket_event.common import company_currency

from .helpers import buy, customer, venue_event


class ShopConsentTestMixin:
    "The shop's checkout consents go to the consent register"

    @with_transaction()
    def test_shop_consents_recorded(self):
        "Test the answers of mapped shop consents are recorded"
        pool = Pool()
        Organizer = pool.get('ticket.shop.organizer')
        Purpose = pool.get('ticket.shop.consent.purpose')
        ShopConsent = pool.get('ticket.shop.consent')
        Consent = pool.get('ticket.crm.consent')
        company = create_company()
        with set_company(company):
            event, (session,) = venue_event(company, "Jazz", "Pinède")
            organizer = Organizer(company=company)
            organizer.save()
            news, terms, partners = Purpose.create([{
                        'organizer': organizer.id, 'name': "Newsletter",
                        'crm_purpose': 'newsletter',
                        }, {
                        'organizer': organizer.id, 'name': "Terms",
                        'required': True,
                        }, {
                        'organizer': organizer.id, 'name': "Partners",
                        'crm_purpose': 'partners',
                        }])
            alice = customer("Alice", 'alice@example.org')
            order = buy(session, alice, pay=False)
            ShopConsent.create([{
                        'order': order.id, 'party': alice.id,
                        'purpose': p.id, 'text': p.name, 'given': given,
                        'date': order.create_date,
                        } for p, given in [
                        (news, True), (terms, True), (partners, False)]])
            records = Consent.search([('party', '=', alice.id)],
                order=[('purpose', 'ASC')])
            self.assertEqual(
                [(c.party, c.purpose, c.given, c.source, c.reference,
                        c.company) for c in records],
                [(alice, 'newsletter', True, 'shop', order.number,
                        company),
                    (alice, 'partners', False, 'shop', order.number,
                        company)])
            self.assertEqual(Consent.given_ids(
                    [alice], 'newsletter', company.id), {alice.id})
            self.assertEqual(Consent.given_ids(
                    [alice], 'partners', company.id), set())

    @with_transaction()
    def test_shop_consents_inserted_as_orm(self):
        """The checkout's consents inserted (Order.insert_plain) are the
        rows of the ORM's create and are recorded in the register as well"""
        pool = Pool()
        Organizer = pool.get('ticket.shop.organizer')
        Purpose = pool.get('ticket.shop.consent.purpose')
        ShopConsent = pool.get('ticket.shop.consent')
        Consent = pool.get('ticket.crm.consent')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, (session,) = venue_event(company, "Jazz", "Pinède")
            organizer = Organizer(company=company)
            organizer.save()
            news, terms = Purpose.create([{
                        'organizer': organizer.id, 'name': "Newsletter",
                        'crm_purpose': 'newsletter',
                        }, {
                        'organizer': organizer.id, 'name': "Terms",
                        }])

            def values(order, party):
                return [{'order': order.id, 'party': party.id,
                        'purpose': p.id, 'text': p.name, 'given': given,
                        'date': order.create_date.replace(microsecond=0),
                        } for p, given in [(news, True), (terms, False)]]

            def rows(ids):
                table = ShopConsent.__table__()
                cursor = Transaction().connection.cursor()
                cursor.execute(*table.select(
                        table.purpose, table.text, table.given, table.date,
                        table.create_uid, where=table.id.in_(ids),
                        order_by=table.id))
                return cursor.fetchall()

            alice = customer("Alice", 'alice@example.org')
            bob = customer("Bob", 'bob@example.org')
            order = buy(session, alice, pay=False)
            with mock.patch.object(hold_module, 'insert_rows',
                    wraps=hold_module.insert_rows) as insert_rows:
                plain = Order.insert_plain('ticket.shop.consent',
                    values(order, alice), company_currency(company),
                    cache=True)
            insert_rows.assert_called_once()
            orm = [c.id for c in ShopConsent.create(values(order, bob))]
            self.assertEqual(rows(plain), rows(orm))
            for party in [alice, bob]:
                self.assertEqual([(c.purpose, c.given, c.reference)
                        for c in Consent.search([('party', '=', party.id)])],
                    [('newsletter', True, order.number)])
