"""The box office terminal in a real headless Chromium against a real
trytond: a whole evening at the counter.

The operator logs in, opens the cash session with a float, sells general
admission by taps with a split payment (card and cash, change computed),
prints the tickets, loses the network (the page refuses to sell, keeps the
sale and recovers), sells seats picked on the map, changes a holder,
refunds one ticket then the rest of the order, exchanges another order and
closes with a cash difference and its Z report. Screenshots go to
tests/screenshots/pos_*.png.
"""
import time
import unittest

from tests.browser import browser_page, screenshot
from tests.pos import PASSWORD, setup_pos
from tests.server import ApiServer

TIMEOUT = 60_000


class PosBrowserTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer('test_pos_browser')
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.ids = setup_pos(cls.server)
        cls.url = (f'http://127.0.0.1:{cls.server.port}/'
            f'{cls.server.database}/ticket/pos/')

    @staticmethod
    def wait_until(page, expression, timeout=TIMEOUT / 1000):
        "Poll a JavaScript expression (the page's CSP forbids eval)"
        deadline = time.monotonic() + timeout
        while not page.evaluate(expression):
            if time.monotonic() > deadline:
                raise AssertionError(f"timeout waiting for {expression}")
            time.sleep(0.2)

    def close_pdf(self, page):
        "Close the PDF preview (the PDF viewer may hold the pointer)"
        page.evaluate("document.getElementById('pdf-close').click()")
        self.wait_until(page, "!document.getElementById('pdf-dialog').open")

    def text(self, page, selector):
        return page.inner_text(selector).replace('\u202f', ' ').replace(
            '\xa0', ' ')

    def test_evening(self):
        "Open, sell, print, offline, seats, refund, exchange, close"
        with browser_page() as page:
            page.on('dialog', lambda dialog: dialog.accept(
                    "Delphine Seyrig" if dialog.type == 'prompt' else None))
            try:
                self.evening(page)
            except Exception:
                screenshot(page, 'pos_failure')
                if page.errors:
                    print('\n'.join(page.errors))
                raise

    def evening(self, page):
        from playwright.sync_api import expect
        ids = self.ids
        methods = ids['methods']
        page.set_default_timeout(TIMEOUT)
        page.goto(self.url + '?lang=en')
        page.wait_for_selector('#screen-login', state='visible')
        screenshot(page, 'pos_login')
        page.fill('#login', 'guichet')
        page.fill('#password', 'wrong')
        page.click('#login-form button[type=submit]')
        expect(page.locator('#message')).to_have_class('error')
        # The refused login is the only resource error the console shows
        self.assertEqual(len(page.errors), 1)
        self.assertIn('401', page.errors[0])
        page.errors.clear()
        page.fill('#password', PASSWORD)
        page.click('#login-form button[type=submit]')

        page.wait_for_selector('#screen-open', state='visible')
        page.fill('#float', '100.00')
        screenshot(page, 'pos_open')
        page.click('#open-button')
        page.wait_for_selector('#screen-sale', state='visible')

        # Quick sale: 2 adults and 1 counter tariff, card 20 + cash 30
        open_session = self.server.ids['sessions']['open']
        page.click(f'button[data-session="{open_session}"]')
        adult = f'button.tap[data-tariff="{ids["tariffs"]["adult"]}"]'
        page.click(adult)
        page.click(adult)
        page.click(f'button.tap[data-tariff="{ids["tariffs"]["counter"]}"]')
        expect(page.locator('#to-pay')).to_contain_text('45.00')
        page.fill(f'#pay-{methods["card"]}', '20')
        page.fill(f'#pay-{methods["cash"]}', '30')
        expect(page.locator('#change')).to_contain_text('5.00')
        page.click('summary:has-text("Buyer")')
        page.fill('#buyer-name', "Jeanne Moreau")
        page.fill('#buyer-email', 'jeanne@example.org')
        screenshot(page, 'pos_sale')
        started = time.monotonic()
        page.click('#pay')
        page.wait_for_selector('#done', state='visible')
        first = page.evaluate('document.body.dataset.lastOrder')
        self.assertTrue(first)
        # the tickets' PDF came with the sale
        self.assertEqual(
            page.evaluate('document.body.dataset.ticketsReady'), 'yes')
        self.assertIn('5.00', self.text(page, '#done-change'))
        page.click('#print-tickets')
        self.wait_until(page,
            "(document.body.dataset.pdf || '').startsWith('application/pdf')")
        print(f"\nsale to PDF ready in the browser: "
            f"{time.monotonic() - started:.2f} s")
        screenshot(page, 'pos_tickets')
        self.close_pdf(page)
        (state, total, operator), = self.server.sql(
            'SELECT o.state, (SELECT sum(amount) FROM ticket_order_payment p '
            'WHERE p.order = o.id), u.login FROM ticket_order o '
            'JOIN res_user u ON u.id = o."user" WHERE o.number = %s',
            (first,))
        self.assertEqual((state, str(total), operator),
            ('paid', '45.00', 'guichet'))

        # A reload keeps the sale in progress
        page.click('#new-sale')
        page.click(adult)
        page.reload()
        page.wait_for_selector('#screen-sale', state='visible')
        expect(page.locator('#cart')).to_contain_text('1 × Adult')
        expect(page.locator('#to-pay')).to_contain_text('20.00')

        # Network lost: the page refuses to sell and keeps the sale
        page.context.set_offline(True)
        page.wait_for_selector('#offline', state='visible')
        page.click(f'button.fill[data-fill="{methods["cash"]}"]')
        page.click('#pay')
        expect(page.locator('#message')).to_contain_text('Offline')
        screenshot(page, 'pos_offline')
        self.assertEqual(self.server.sql(
                'SELECT count(*) FROM ticket_pos_operation'), [(1,)])
        loads = int(page.evaluate('document.body.dataset.catalogueLoads'))
        page.context.set_offline(False)
        page.wait_for_selector('#offline', state='hidden')
        # back online, the catalogue is asked again and the cart priced
        # again after it: the payment waits for that price, as the Pay
        # button does (a click while it is disabled would be lost)
        page.wait_for_function(
            'n => Number(document.body.dataset.catalogueLoads) > n',
            arg=loads)
        expect(page.locator('#to-pay')).to_contain_text('20.00')
        expect(page.locator('#pay')).to_be_enabled()
        page.click(f'button.fill[data-fill="{methods["cash"]}"]')
        page.click('#pay')
        page.wait_for_selector('#done', state='visible')
        page.click('#new-sale')

        # Seats picked on the map
        play = ids['play_sessions'][0]
        page.click(f'button[data-session="{play}"]')
        orchestre = 'button.tap[data-tariff="%s"]' % (
            ids['seated']['Orchestre Plein'])
        page.click(orchestre)
        page.click(orchestre)
        page.wait_for_selector('#seatmap circle.seat.free')
        page.uncheck('#best')
        free = page.locator('#seatmap circle.seat.free')
        free.nth(3).click()
        page.wait_for_selector('#seatmap circle.seat.picked')
        page.locator('#seatmap circle.seat.free').nth(3).click()
        expect(page.locator('#seat-help')).to_contain_text('2 seat')
        expect(page.locator('#to-pay')).to_contain_text('60.00')
        screenshot(page, 'pos_seats')
        page.click(f'button.fill[data-fill="{methods["cheque"]}"]')
        page.click('#pay')
        page.wait_for_selector('#done', state='visible')
        seated = page.evaluate('document.body.dataset.lastOrder')
        seats = self.server.sql(
            'SELECT count(t.seat) FROM ticket_ticket t JOIN ticket_order o '
            'ON o.id = t.order WHERE o.number = %s', (seated,))
        self.assertEqual(seats, [(2,)])

        # After-sale: refund the first order in cash
        page.click('button[data-tab="after"]')
        page.fill('#order-search', first)
        page.click('#search-form button[type=submit]')
        page.click(f'button.order[data-order="{first}"]')
        page.click('button.holder >> nth=0')
        expect(page.locator('#order-tickets')).to_contain_text(
            "Delphine Seyrig")
        # one ticket refunded alone, then the rest of the order
        page.click('button.refund-ticket[data-mode="cash"] >> nth=1')
        expect(page.locator('#message')).to_contain_text('Refund')
        expect(page.locator('#order-tickets li >> nth=1')).to_contain_text(
            'cancelled')
        expect(page.locator(
                'button.refund-ticket[data-mode="cash"] >> nth=1'
                )).to_be_disabled()
        expect(page.locator('#order-title')).to_contain_text('paid')
        screenshot(page, 'pos_refund_ticket')
        page.click('#refund-cash')
        expect(page.locator('#message')).to_contain_text('Refund')
        expect(page.locator('#order-title')).to_contain_text('cancelled')
        screenshot(page, 'pos_refund')

        # Exchange the seated order for the second evening
        page.fill('#order-search', seated)
        page.click('#search-form button[type=submit]')
        page.click(f'button.order[data-order="{seated}"]')
        page.select_option('#exchange-session', str(ids['play_sessions'][1]))
        page.click('#exchange')
        expect(page.locator('#message')).to_contain_text('Exchange')
        self.assertEqual(self.server.sql(
                'SELECT state FROM ticket_order WHERE number = %s',
                (seated,)), [('cancelled',)])

        # Close with 1.00 missing in the drawer
        page.click('button[data-tab="close"]')
        page.wait_for_selector('[data-count]')
        cash_expected = 100 + 25 + 20 - 45
        page.fill(f'[data-count="{methods["cash"]}"]',
            f'{cash_expected - 1}.00')
        page.fill(f'[data-count="{methods["card"]}"]', '20.00')
        page.fill(f'[data-count="{methods["cheque"]}"]', '60.00')
        page.click('#close-button')
        page.wait_for_selector('#z', state='visible')
        expect(page.locator('#z-table tr.gap')).to_contain_text('Cash')
        expect(page.locator('#z-table tr.gap')).to_contain_text('1.00')
        page.click('#print-z')
        self.wait_until(page,
            "(document.body.dataset.pdf || '').startsWith('application/pdf')")
        self.close_pdf(page)
        screenshot(page, 'pos_z_report')
        self.assertEqual(self.server.sql(
                "SELECT state FROM sale_point_cash_session"), [('posted',)])
        self.assertEqual(page.errors, [])

    def test_french(self):
        "The page speaks French"
        with browser_page() as page:
            page.goto(self.url + '?lang=fr')
            page.wait_for_selector('#screen-login', state='visible')
            self.assertIn("Connexion de l'opérateur",
                page.inner_text('#screen-login'))
            self.assertEqual(page.evaluate('document.documentElement.lang'),
                'fr')
            self.assertEqual(page.errors, [])
