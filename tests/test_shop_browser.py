"""The web shop in a real headless Chromium on demo-like data: a guest buys
general admission and receives the PDF by e-mail (SMTP catcher), a promo
code, a cart that expires gives its places back, the same provider
notification twice makes one payment, a refund through "manage my order",
French; screenshots at desktop and phone widths in tests/screenshots/."""
import re
import time
import unittest

from tests.browser import browser_page, screenshot
from tests.test_shop_fixtures import ShopServer

# Generous: the CI machine has 2 cores shared with the server and database
TIMEOUT = 60_000
PHONE = {'width': 360, 'height': 740}

SERVER = None

# Every visible form control has a label (or is a button)
UNLABELLED = """() => Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, textarea')).filter(e =>
    !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
    ).map(e => e.name || e.id)"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def setUpModule():
    global SERVER
    SERVER = ShopServer('test_shop_browser')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


class ShopBrowserTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = SERVER
        cls.ids = SERVER.ids
        cls.shop = SERVER.ids['shop']
        cls.main = SERVER.ids['events']['main']
        cls.small = SERVER.ids['sessions']['small']

    def url(self, path=''):
        return self.server.shop_url + path

    def errors(self, page):
        """The script errors of page; a refused form is answered 4xx on
        purpose, which Chromium reports too"""
        return [e for e in page.errors
            if not re.search(r'status of 4[0-9][0-9]', e)]

    def check_page(self, page, name=None):
        "No script error, every control labelled, fits 360 px; screenshot"
        page.wait_for_load_state('load')
        self.assertEqual(page.evaluate(UNLABELLED), [], page.url)
        self.assertEqual(self.errors(page), [], page.url)
        if name:
            screenshot(page, f'shop-{name}-desktop')
            size = page.viewport_size
            page.set_viewport_size(PHONE)
            self.assertLessEqual(page.evaluate(OVERFLOW), 0,
                f"{name} is wider than 360 px")
            screenshot(page, f'shop-{name}-phone')
            page.set_viewport_size(size)

    def add_to_cart(self, page, quantity=2, tariff='full', lang='en'):
        page.goto(self.url(f'/event/{self.main}?session={self.small}'
                f'&lang={lang}'))
        page.fill(f'#q-{self.shop[tariff]}-{self.small}', str(quantity))
        page.click(f'#session-{self.small} button[type=submit]')
        page.wait_for_url('**/cart')

    def checkout(self, page, email, method='card'):
        if not page.url.endswith('/checkout'):
            page.click('a[href$="/checkout"]')
            page.wait_for_url('**/checkout')
        page.fill('#name', 'Camille Martin')
        page.fill('#email', email)
        page.check('#terms')
        page.check(f'#method-{self.shop[method]}')
        page.click('button[value=order]')

    def pay(self, page):
        page.wait_for_url('**/pay')
        page.click('button[value=pay]')
        page.wait_for_url(re.compile(r'.*/order/[^/]+\?done=paid$'))

    def order_row(self, page):
        token = re.search(r'/order/([^/?]+)', page.url).group(1)
        (row,) = self.server.sql('SELECT id, number, state FROM ticket_order '
            'WHERE shop_token = %s', (token,))
        return token, row

    def test_buy_general_admission_as_guest(self):
        "A guest buys 2 tickets, pays, and gets the PDF by e-mail"
        with browser_page() as page:
            page.set_default_timeout(TIMEOUT)
            page.goto(self.url('/?lang=en'))
            self.assertIn("What's on", page.title())
            self.check_page(page, 'agenda')
            page.click(f'a[href$="/event/{self.main}"] >> nth=0')
            page.wait_for_url(f'**/event/{self.main}')
            self.check_page(page, 'event')
            # the dates fold: open the one wanted
            page.click(f'#session-{self.small} summary')
            page.fill(f'#q-{self.shop["full"]}-{self.small}', '2')
            page.click(f'#session-{self.small} button[type=submit]')
            page.wait_for_url('**/cart')
            # the countdown runs
            page.wait_for_function(
                "document.querySelector('.countdown-text').textContent"
                ".match(/held for 1[0-9]:[0-5][0-9] more/)")
            self.check_page(page, 'cart')
            page.click('a[href$="/checkout"]')
            page.wait_for_url('**/checkout')
            self.check_page(page, 'checkout')
            page.fill('#name', 'Camille Martin')
            page.fill('#email', 'guest@example.org')
            page.fill(f'#q-{self.shop["diet"]}-0-0', 'Sans gluten')
            page.check('#terms')
            page.check(f'#method-{self.shop["card"]}')
            page.click('button[value=order]')
            page.wait_for_url('**/pay')
            self.check_page(page, 'payment')
            page.click('button[value=pay]')
            page.wait_for_url(re.compile(r'.*/order/[^/]+\?done=paid$'))
            self.assertIn('your tickets are on their way',
                page.inner_text('main'))
            self.check_page(page, 'confirmation')
            token, (order_id, number, state) = self.order_row(page)
            self.assertEqual(state, 'paid')
            reply = page.request.get(self.url(f'/order/{token}/tickets.pdf'))
            self.assertEqual(reply.status, 200)
            self.assertTrue(reply.body().startswith(b'%PDF'))
        mail, = self.server.catcher.wait_for(1,
            match=lambda m: 'guest@example.org' in m.to)
        self.assertIn(number, mail.subject)
        from guichet.ticket_event.tests.helpers import pdf_text
        pdf = next(c for n, t, c in mail.attachments()
            if t == 'application/pdf')
        text = pdf_text(pdf)
        self.assertEqual(text.count('Plein tarif'), 2)
        self.assertIn('Sans gluten', text)

    def test_promo_code(self):
        "PROMO5 takes 5.00 off each ticket, shown before ordering"
        with browser_page() as page:
            page.set_default_timeout(TIMEOUT)
            self.add_to_cart(page, 2)
            page.click('a[href$="/checkout"]')
            page.wait_for_url('**/checkout')
            page.fill('#promo_code', 'nope')
            page.click('button[value=apply]')
            self.assertIn('NOPE', page.inner_text('#promo_code-error')
                .upper())
            self.assertEqual(page.get_attribute('#promo_code',
                    'aria-invalid'), 'true')
            page.fill('#promo_code', 'promo5')
            page.click('button[value=apply]')
            summary = page.inner_text('.summary')
            self.assertIn('Discount', summary)
            self.assertRegex(summary, r'32\.00')     # 2 × 15.00 + 2.00
            # the code stays in the form for the order
            self.checkout(page, 'promo@example.org')
            page.wait_for_url('**/pay')
            self.assertRegex(page.inner_text('.amount-due'), r'32\.00')
            self.pay(page)
            self.assertEqual(self.errors(page), [])

    def test_cart_expiry_gives_places_back(self):
        "The countdown runs out and the cron returns the places"
        with browser_page() as page:
            page.set_default_timeout(TIMEOUT)
            before = self.server.pool_of(self.small)
            self.add_to_cart(page, 3)
            self.assertEqual(self.server.pool_of(self.small)[2],
                before[2] + 3)
            self.server.sql("UPDATE ticket_hold SET expires_at = "
                "now() AT TIME ZONE 'UTC' + interval '3 seconds' "
                "WHERE state = 'active'")
            page.reload()
            page.wait_for_selector('.countdown.expired')
            self.assertIn('no longer held', page.inner_text('.countdown'))
            time.sleep(1.1)     # the server compares dates to the second
            self.server.run(
                lambda pool: pool.get('ticket.hold').expire_stale())
            self.assertEqual(self.server.pool_of(self.small), before)
            page.reload()
            self.assertIn('went back on sale', page.inner_text('main'))
            self.assertEqual(self.errors(page), [])

    def test_duplicate_notification_one_payment(self):
        "Paying, then the provider notifying the same payment: one payment"
        with browser_page() as page:
            page.set_default_timeout(TIMEOUT)
            self.add_to_cart(page, 1)
            self.checkout(page, 'twice@example.org')
            page.wait_for_url('**/pay')
            notification = {name: page.get_attribute(
                    f'input[name={name}]', 'value')
                for name in ['reference', 'amount', 'signature']}
            page.click('button[value=pay]')
            page.wait_for_url(re.compile(r'.*\?done=paid$'))
            token, (order_id, _, state) = self.order_row(page)
            notification['order'] = token
            notify = self.url('/providers/test/notify')
            for _ in range(2):
                reply = page.request.post(notify, data=notification)
                self.assertEqual(reply.status, 200)
                self.assertFalse(reply.json()['created'])
            self.assertEqual(state, 'paid')
            self.assertEqual(len(self.server.payments(order_id)), 1)
            self.assertEqual(self.server.sql(
                    'SELECT count(*) FROM ticket_ticket WHERE "order" = %s',
                    (order_id,)), [(1,)])

    def test_refund_through_manage_my_order(self):
        "The buyer cancels for half the price back, 30 days before"
        with browser_page() as page:
            page.set_default_timeout(TIMEOUT)
            before = self.server.pool_of(self.small)
            self.add_to_cart(page, 2)
            self.checkout(page, 'refund-me@example.org')
            self.pay(page)
            refund = page.inner_text('.refund')
            self.assertRegex(refund, r'Refund of €20\.00')
            page.check('#refund-money')
            # the confirmation is required before anything is sent
            page.click('.refund button[type=submit]')
            self.assertFalse(page.evaluate(
                "document.querySelector('#refund-confirm').validity.valid"))
            self.assertEqual(self.order_row(page)[1][2], 'paid')
            page.check('#refund-confirm')
            page.click('.refund button[type=submit]')
            page.wait_for_url(re.compile(r'.*\?done=refunded$'))
            self.check_page(page, 'refunded')
            token, (order_id, _, state) = self.order_row(page)
            self.assertEqual(state, 'cancelled')
            self.assertEqual(self.server.pool_of(self.small), before)
            kinds = [(p[4], p[2]) for p in self.server.payments(order_id)]
            self.assertEqual([k for k, _ in kinds], ['payment', 'refund'])
            self.assertEqual(str(kinds[1][1]), '20.00')

    def test_seats_best_available_and_picked(self):
        "4 best available seats bought; seats picked on the map held"
        event = self.shop['theatre_event']
        session = self.shop['theatre_session']
        seats_sql = ("SELECT count(*) FROM ticket_ticket WHERE "
            "\"order\" = %s AND seat IS NOT NULL AND state = 'valid'")
        with browser_page() as page:
            page.set_default_timeout(TIMEOUT)
            page.goto(self.url(f'/event/{event}?lang=en'))
            page.click(f'a[href*="/event/{event}/seats/{session}"]')
            page.wait_for_url(f'**/seats/{session}')
            self.check_page(page, 'seat-picker')
            page.fill('#quantity', '4')
            page.click('.seats-best button[type=submit]')
            page.wait_for_url('**/cart')
            self.assertEqual(
                page.inner_text('.holds').count(', seat '), 4)
            self.checkout(page, 'seats@example.org')
            self.pay(page)
            _, (order_id, _, state) = self.order_row(page)
            self.assertEqual(state, 'paid')
            self.assertEqual(self.server.sql(seats_sql, (order_id,)),
                [(4,)])

            # pick on the map: clicks and Space on a seat, one unpicked
            page.goto(self.url(f'/event/{event}/seats/{session}'))
            free = page.locator('svg.seat-map circle.free[data-seat]')
            ids = [free.nth(i).get_attribute('data-seat')
                for i in range(4)]
            free.nth(0).click()
            free.nth(1).click()
            free.nth(2).focus()
            page.keyboard.press('Space')
            free.nth(3).click()
            self.assertEqual(free.nth(0).get_attribute('aria-checked'),
                'true')
            self.assertIn('4 seats selected',
                page.inner_text('.picked-count'))
            for seat in ids:
                self.assertTrue(page.is_checked(f'#seat-{seat}'))
            free.nth(3).click()
            self.assertFalse(page.is_checked(f'#seat-{ids[3]}'))
            self.assertIn('3 seats selected',
                page.inner_text('.picked-count'))
            self.check_page(page, 'seat-picked')
            page.click('#seats')
            page.wait_for_url('**/cart')
            self.assertEqual(
                page.inner_text('.holds').count(', seat '), 3)
            held = self.server.sql(
                "SELECT seat FROM ticket_seat_booking WHERE session = %s "
                "AND state = 'held' ORDER BY seat", (session,))
            self.assertTrue({int(i) for i in ids[:3]} <= {s for s, in held})

    def test_french(self):
        "The shop in French, chosen by the browser"
        with browser_page(locale='fr-FR', extra_http_headers={
                    'Accept-Language': 'fr-FR,fr;q=0.9'}) as page:
            page.set_default_timeout(TIMEOUT)
            page.goto(self.url(f'/event/{self.main}?session={self.small}'))
            self.assertIn('Ajouter au panier', page.inner_text('main'))
            self.check_page(page, 'event-fr')
            page.fill(f'#q-{self.shop["full"]}-{self.small}', '1')
            page.click(f'#session-{self.small} button[type=submit]')
            page.wait_for_url('**/cart')
            page.wait_for_function(
                "document.querySelector('.countdown-text').textContent"
                ".includes('réservées encore')")
            self.assertIn('Panier', page.title())
            self.check_page(page, 'cart-fr')
