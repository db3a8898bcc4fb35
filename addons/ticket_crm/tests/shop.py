from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

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
