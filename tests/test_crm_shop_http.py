"""The shop's checkout consents reach the CRM consent register, over real
HTTP on PostgreSQL: a checkbox mapped to a register purpose records the
answer (given or withdrawn) with the order number, and the buyer becomes a
customer of the segments at once."""
import re
import unittest

from tests.test_shop_fixtures import Browser, ShopServer

SERVER = None


def setUpModule():
    global SERVER
    SERVER = ShopServer('test_crm_shop_http')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


class CrmShopTestCase(unittest.TestCase):

    def checkout(self, email, consent):
        shop = SERVER.ids['shop']
        browser = Browser(SERVER)
        page = browser.add(SERVER.ids['sessions']['small'],
            {shop['full']: 1}, event=SERVER.ids['events']['main'])
        self.assertEqual(page.status, 303, page)
        browser.get('/checkout')
        values = {'method': shop['transfer'], 'email': email}
        if consent:
            values[f'consent-{shop["consent"]}'] = 'yes'
        page = browser.checkout(**values)
        self.assertEqual(page.status, 303, page)
        page = browser.get(page.location.split('/ticket/shop', 1)[1])
        number = re.search(r'C[0-9]{6}', page.text).group(0)
        (party,), = SERVER.sql(
            'SELECT party FROM ticket_order WHERE number = %s', (number,))
        return number, party

    def test_checkout_consents_recorded(self):
        "Test mapped checkout consents are recorded in the register"
        SERVER.sql("UPDATE ticket_shop_consent_purpose "
            "SET crm_purpose = 'newsletter' WHERE id = %s",
            (SERVER.ids['shop']['consent'],))
        given, alice = self.checkout('alice.crm@example.org', True)
        refused, bob = self.checkout('bob.crm@example.org', False)
        rows = SERVER.sql('SELECT party, purpose, given, source, reference '
            'FROM ticket_crm_consent WHERE party IN (%s, %s) ORDER BY id',
            (alice, bob))
        self.assertEqual(rows, [
                (alice, 'newsletter', True, 'shop', given),
                (bob, 'newsletter', False, 'shop', refused)])
        # both are customers of the company now (reserved orders)
        self.assertEqual(SERVER.sql('SELECT party, orders '
                'FROM ticket_crm_party_stat WHERE party IN (%s, %s) '
                'ORDER BY party', (alice, bob)),
            sorted([(alice, 0), (bob, 0)]))
