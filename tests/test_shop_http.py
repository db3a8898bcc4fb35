"""The web shop over real HTTP on PostgreSQL: pages, cart, checkout,
payments (idempotent notifications, late payments), e-mails caught by the
SMTP catcher, order management, waiting list, security (CSRF, tokens, rate
limits) and refusals that change nothing."""
import datetime as dt
import re
import threading
import unittest
from decimal import Decimal

from tests.test_shop_fixtures import Browser, ShopServer

SERVER = None


def setUpModule():
    global SERVER
    SERVER = ShopServer('test_shop_http')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


def order_number(page):
    match = re.search(r'C[0-9]{6}', page.text)
    assert match, page
    return match.group(0)


class ShopTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = SERVER
        cls.ids = SERVER.ids
        cls.shop = SERVER.ids['shop']
        cls.main = SERVER.ids['events']['main']
        cls.small = SERVER.ids['sessions']['small']

    def setUp(self):
        self.server.sql('DELETE FROM ticket_shop_rate_limit')

    def buy(self, browser, quantities=None, session=None, method='card',
            **values):
        "Add to cart and check out; return the page after the checkout"
        page = browser.add(session or self.small,
            quantities or {self.shop['full']: 2}, event=self.main)
        self.assertEqual(page.status, 303, page)
        browser.get('/checkout')
        if method:
            values.setdefault('method', self.shop[method])
        return browser.checkout(**values)

    def pay(self, browser, page):
        "Pay on the test provider's page reached by the checkout redirect"
        self.assertEqual(page.status, 303, page)
        pay_page = browser.get(page.location.split('/ticket/shop', 1)[1])
        self.assertEqual(pay_page.status, 200, pay_page)
        form = dict(re.findall(
                r'name="(reference|amount|signature)" value="([^"]*)"',
                pay_page.text))
        path = re.search(r'action="[^"]*(/order/[^"]+/pay/test)"',
            pay_page.text).group(1)
        return browser.post(path, dict(form, action='pay')), form


class CatalogueTest(ShopTestCase):
    "Agenda, organizer, event pages, languages"

    def test_agenda_lists_public_events(self):
        browser = Browser(self.server)
        page = browser.get('/')
        self.assertEqual(page.status, 200)
        self.assertIn('main', page.text)
        self.assertIn('concert', page.text)
        self.assertNotIn('draft', page.text)
        self.assertNotIn('>private<', page.text)
        self.assertIn("frame-ancestors 'none'",
            page.headers['content-security-policy'])
        self.assertEqual(page.headers['x-frame-options'], 'DENY')

    def test_agenda_filters(self):
        browser = Browser(self.server)
        music = self.server.sql(
            "SELECT id FROM ticket_event_tag WHERE name = 'music'")[0][0]
        page = browser.get(f'/?tag={music}')
        self.assertIn('concert', page.text)
        self.assertNotIn('/event/%d"' % self.main, page.text)
        club = self.ids['venues']['club']
        page = browser.get(f'/?venue={club}')
        self.assertIn('concert', page.text)
        self.assertNotIn('/event/%d"' % self.main, page.text)
        start = dt.date.today() + dt.timedelta(days=60)
        page = browser.get(f'/?from={start.isoformat()}')
        self.assertIn('concert', page.text)
        self.assertNotIn('/event/%d"' % self.main, page.text)
        # Bad values are ignored, never a server error
        page = browser.get('/?tag=x&venue=-1&from=2026-13-45&month=99')
        self.assertEqual(page.status, 200)

    def test_agenda_calendar(self):
        browser = Browser(self.server)
        day = dt.date.today() + dt.timedelta(days=90)
        page = browser.get(f'/?view=calendar&month={day:%Y-%m}')
        self.assertEqual(page.status, 200)
        self.assertIn('class="calendar"', page.text)
        self.assertIn('concert', page.text)

    def test_languages(self):
        page = Browser(self.server, language='fr-FR,fr;q=0.9').get('/')
        self.assertIn('lang="fr"', page.text)
        self.assertIn('Agenda', page.text)
        self.assertIn('Panier', page.text)
        browser = Browser(self.server, language='fr')
        page = browser.get('/?lang=en')
        self.assertIn('lang="en"', page.text)
        self.assertIn('Cart', page.text)
        # the choice is kept in a cookie
        self.assertIn('lang="en"', browser.get('/').text)

    def test_organizer_page(self):
        browser = Browser(self.server)
        company = self.ids['companies']['Guichet']
        page = browser.get(f'/organizer/{company}')
        self.assertEqual(page.status, 200)
        self.assertIn('Guichet', page.text)
        self.assertIn('terms.pdf', page.text)
        terms = browser.get(f'/organizer/{company}/terms.pdf')
        self.assertEqual(terms.status, 200)
        self.assertTrue(terms.body.startswith(b'%PDF'))
        self.assertEqual(browser.get('/organizer/999999').status, 404)

    def test_event_page(self):
        browser = Browser(self.server)
        page = browser.get(f'/event/{self.main}')
        self.assertEqual(page.status, 200)
        self.assertIn('Plein tarif', page.text)
        self.assertIn('Parterre', page.text)
        self.assertRegex(page.text, r'20[.,]00')
        self.assertIn('name="q-%d"' % self.shop['full'], page.text)
        # box office only and closed sessions are not sold here
        self.assertNotIn('session-%d"' % self.ids['sessions']['box_office'],
            page.text)
        self.assertEqual(browser.get('/event/999999').status, 404)

    def test_event_page_shared_with_own_csrf_token(self):
        """The event page is built once for all buyers (cached for a moment
        per process): each still gets the CSRF token of its own cookie
        (a session sold out shows at once: WaitingListTest)"""
        first, second = Browser(self.server), Browser(self.server)
        one = first.get(f'/event/{self.main}')
        two = second.get(f'/event/{self.main}')
        self.assertEqual((one.status, two.status), (200, 200))
        self.assertTrue(one.csrf and two.csrf)
        self.assertNotEqual(one.csrf, two.csrf)
        self.assertEqual(one.text.replace(one.csrf, ''),
            two.text.replace(two.csrf, ''))
        # a token is good for its own cookie only
        page = second.post('/cart', {'event': self.main,
                'session': self.small, f'q-{self.shop["full"]}': 1,
                'csrf_token': one.csrf})
        self.assertEqual(page.status, 403, page)
        page = first.add(self.small, {self.shop['full']: 1},
            event=self.main)
        self.assertEqual(page.status, 303, page)
        first.post('/cart/remove', {'hold': 'all'})

    def test_private_event_by_link_only(self):
        browser = Browser(self.server)
        private = self.ids['events']['private']
        self.assertEqual(browser.get(f'/event/{private}').status, 404)
        (token,) = self.server.sql(
            'SELECT token FROM ticket_event WHERE id = %s', (private,))[0]
        page = browser.get(f'/e/{token}')
        self.assertEqual(page.status, 200)
        self.assertIn('Mécène', page.text)
        self.assertEqual(page.headers.get('x-robots-tag'), 'noindex')
        self.assertEqual(browser.get('/e/' + 'x' * 22).status, 404)
        # the places are sold with the token only
        session = self.ids['sessions']['private_session']
        page = browser.add(session, {self.shop['patron']: 1},
            event=private)
        self.assertEqual(page.status, 404)
        page = browser.add(session, {self.shop['patron']: 1}, token=token)
        self.assertEqual(page.status, 303, page)

    def test_embed_widget(self):
        browser = Browser(self.server)
        page = browser.get('/widget.js')
        self.assertEqual(page.status, 200)
        self.assertIn(b'guichetHeight', page.body)
        page = browser.get(f'/event/{self.main}?embed=1')
        self.assertEqual(page.status, 200)
        self.assertIn('frame-ancestors *',
            page.headers['content-security-policy'])
        self.assertNotIn('x-frame-options', page.headers)
        self.assertIn('target="_blank"', page.text)
        self.assertIn('class="embed"', page.text)
        with self.server.transaction() as pool:
            Event = pool.get('ticket.event')
            snippet = Event(self.main).shop_embed
        self.assertIn('widget.js', snippet)
        self.assertIn(f'/event/{self.main}?embed=1', snippet)

    def test_static(self):
        browser = Browser(self.server)
        page = browser.get('/static/shop.css')
        self.assertEqual(page.status, 200)
        self.assertIn('text/css', page.headers['content-type'])
        self.assertEqual(browser.get('/static/../routes.py').status, 404)
        self.assertEqual(browser.get('/static/nothing.css').status, 404)


class CartTest(ShopTestCase):
    "Holds in the cart, refusals that change nothing"

    def test_add_holds_places_and_remove_releases_them(self):
        browser = Browser(self.server)
        before = self.server.pool_of(self.small)
        page = browser.add(self.small, {self.shop['full']: 2,
                self.shop['reduced']: 1}, event=self.main)
        self.assertEqual(page.status, 303, page)
        self.assertEqual(self.server.pool_of(self.small),
            (before[0], before[1], before[2] + 3))
        cart = browser.get('/cart')
        self.assertEqual(cart.status, 200)
        self.assertIn('data-expires', cart.text)
        self.assertIn('Plein tarif', cart.text)
        self.assertEqual(cart.headers['cache-control'], 'no-store')
        # 2 × 20 + 15 + fees 3 × 1.00 capped at 3.00
        self.assertRegex(cart.text, r'58[.,]00')
        hold = re.search(r'name="hold" value="([^"]+)"', cart.text).group(1)
        page = browser.post('/cart/remove', {'hold': hold})
        self.assertEqual(page.status, 303)
        self.assertEqual(self.server.pool_of(self.small), before)
        self.assertIn('empty', browser.get('/cart').text)

    def test_empty_cart_releases_everything(self):
        browser = Browser(self.server)
        before = self.server.pool_of(self.small)
        browser.add(self.small, {self.shop['full']: 1}, event=self.main)
        browser.add(self.small, {self.shop['reduced']: 2}, event=self.main)
        self.assertEqual(self.server.pool_of(self.small)[2], before[2] + 3)
        browser.get('/cart')
        browser.post('/cart/remove', {'hold': 'all'})
        self.assertEqual(self.server.pool_of(self.small), before)

    def test_csrf_required(self):
        browser = Browser(self.server)
        browser.get(f'/event/{self.main}')
        snapshot = self.server.snapshot()
        for token in [None, 'x' * 64, '']:
            data = {'event': self.main, 'session': self.small,
                f'q-{self.shop["full"]}': 1}
            if token is not None:
                data['csrf_token'] = token
            page = browser.post('/cart', data, csrf=False)
            self.assertEqual(page.status, 403, page)
            self.assertIn('expired', page.text)
        # a token of another browser's cookie does not pass either
        other = Browser(self.server)
        other.get('/')
        page = browser.post('/cart', {'event': self.main,
                'session': self.small, f'q-{self.shop["full"]}': 1,
                'csrf_token': other.last.csrf}, csrf=False)
        self.assertEqual(page.status, 403)
        self.assertEqual(self.server.snapshot(), snapshot)

    def test_bad_quantities_change_nothing(self):
        browser = Browser(self.server)
        browser.get(f'/event/{self.main}')
        snapshot = self.server.snapshot()
        for quantities, status in [
                ({self.shop['full']: 'two'}, 400),
                ({self.shop['full']: -1}, 400),
                ({self.shop['full']: 999}, 400),
                ({self.shop['full']: 0}, 400),
                ({}, 400),
                ({self.shop['concert']: 1}, 400),
                ]:
            with self.subTest(quantities=quantities):
                page = browser.add(self.small, quantities, event=self.main)
                self.assertEqual(page.status, status, page)
                self.assertIn('field-error', page.text)
                self.assertIn('error-summary', page.text)
        # a session of another event, an unknown session
        page = browser.add(self.ids['sessions']['concert'],
            {self.shop['full']: 1}, event=self.main)
        self.assertEqual(page.status, 404)
        page = browser.add(999999, {self.shop['full']: 1}, event=self.main)
        self.assertEqual(page.status, 404)
        self.assertEqual(self.server.snapshot(), snapshot)

    def test_category_pool_full(self):
        "More places than the balcony has: a clear 409, nothing held"
        browser = Browser(self.server)
        browser.get(f'/event/{self.main}')
        snapshot = self.server.snapshot()
        page = browser.add(self.small, {self.shop['balcony']: 31},
            event=self.main)
        self.assertIn(page.status, {400, 409}, page)
        self.assertIn('field-error', page.text)
        self.assertEqual(self.server.snapshot(), snapshot)

    def test_expired_cart(self):
        "Places of an expired cart return to sale; checkout says so"
        browser = Browser(self.server)
        before = self.server.pool_of(self.small)
        browser.add(self.small, {self.shop['full']: 2}, event=self.main)
        self.server.expire_all_holds()
        self.assertEqual(self.server.pool_of(self.small), before)
        page = browser.get('/cart')
        self.assertIn('went back on sale', page.text)
        page = browser.get('/checkout', follow=True)
        self.assertIn('empty', page.text)


class CheckoutTest(ShopTestCase):
    "Checkout forms, orders, payments and e-mails"

    def test_checkout_errors_next_to_fields(self):
        browser = Browser(self.server)
        browser.add(self.ids['sessions']['concert'],
            {self.shop['concert']: 2}, event=self.ids['events']['concert'])
        page = browser.get('/checkout')
        self.assertEqual(page.status, 200, page)
        self.assertIn('Postal code', page.text)
        orders = self.server.sql('SELECT count(*) FROM ticket_order')
        holds = self.server.sql(
            "SELECT count(*) FROM ticket_hold WHERE state = 'active'")
        page = browser.checkout(name='', email='not-an-email', phone='abc',
            terms='', method='999999',
            **{f'q-{self.shop["postal"]}': '690'})
        self.assertEqual(page.status, 400, page)
        for field in ['name', 'email', 'phone', 'terms', 'method',
                f'q-{self.shop["postal"]}']:
            with self.subTest(field=field):
                self.assertIn(f'id="{field}-error"', page.text)
                self.assertIn(f'aria-describedby="{field}-error"', page.text)
        # the values typed are kept
        self.assertIn('value="not-an-email"', page.text)
        self.assertEqual(
            self.server.sql('SELECT count(*) FROM ticket_order'), orders)
        self.assertEqual(self.server.sql(
                "SELECT count(*) FROM ticket_hold WHERE state = 'active'"),
            holds)

    def test_buy_with_test_card(self):
        "Guest buys, pays with the test card, gets the PDF by e-mail"
        browser = Browser(self.server)
        page = self.buy(browser, email='buyer1@example.org',
            **{f'consent-{self.shop["consent"]}': 'yes',
                f'q-{self.shop["diet"]}-0-0': 'Vegan'})
        self.assertEqual(page.status, 303, page)
        self.assertIn('/pay', page.location)
        # the cart is empty now
        self.assertNotIn('guichet_cart', {
                k for k, v in browser.cookies.items() if v})
        page, _ = self.pay(browser, page)
        self.assertEqual(page.status, 303, page)
        page = browser.get(page.location.split('/ticket/shop', 1)[1])
        self.assertEqual(page.status, 200)
        self.assertIn('your tickets are on their way', page.text)
        number = order_number(page)
        order_id, state, token = self.server.order_by_number(number)
        self.assertEqual(state, 'paid')
        payment, = self.server.payments(order_id)
        self.assertEqual(payment[0], 'test')
        self.assertEqual(payment[2], Decimal('42.00'))  # 2 × 20 + 2 × 1 fee
        self.assertEqual(len(set(re.findall(r'T[0-9]{8}', page.text))), 2)
        mail, = self.server.catcher.wait_for(1,
            match=lambda m: 'buyer1@example.org' in m.to)
        self.assertIn(number, mail.subject)
        names = [a[0] for a in mail.attachments()]
        self.assertEqual(len(names), 2)
        pdf = next(c for n, t, c in mail.attachments()
            if t == 'application/pdf')
        ics = next(c for n, t, c in mail.attachments() if t == 'text/calendar')
        from guichet.ticket_event.tests.helpers import pdf_text
        text = pdf_text(pdf)
        self.assertIn('Plein tarif', text)
        self.assertIn('Vegan', text)
        self.assertIn('BEGIN:VEVENT', ics)
        self.assertIn(f'/order/{token}', mail.text())
        consents = self.server.sql(
            'SELECT given FROM ticket_shop_consent WHERE "order" = %s',
            (order_id,))
        self.assertEqual(consents, [(True,)])

    def test_promo_code_and_voucher(self):
        browser = Browser(self.server)
        browser.add(self.small, {self.shop['full']: 2}, event=self.main)
        browser.get('/checkout')
        page = browser.post('/checkout', {'action': 'apply',
                'promo_code': 'promo5'})
        self.assertEqual(page.status, 200, page)
        # 2 × (20 − 5) + 2.00 fees
        self.assertRegex(page.text, r'32[.,]00')
        page = browser.post('/checkout', {'action': 'apply',
                'promo_code': 'NOPE'})
        self.assertEqual(page.status, 400)
        self.assertIn('id="promo_code-error"', page.text)
        page = browser.checkout(promo_code='PROMO5',
            credit_codes=self.shop['voucher'], method=self.shop['card'])
        self.assertEqual(page.status, 303, page)
        page, form = self.pay(browser, page)
        self.assertEqual(form['amount'], '2.00')    # 32 − 30 of voucher
        self.assertEqual(page.status, 303)
        page = browser.get(page.location.split('/ticket/shop', 1)[1])
        self.assertIn('Paid', page.text)

    def test_free_order_paid_at_once(self):
        "An order the voucher pays entirely needs no payment"
        browser = Browser(self.server)
        with self.server.transaction() as pool:
            Credit = pool.get('ticket.credit')
            company = pool.get('company.company')(
                self.ids['companies']['Guichet'])
            voucher, = Credit.issue(Decimal('100'), company=company)
            code = voucher.code
        page = self.buy(browser, method=None, credit_codes=code)
        self.assertEqual(page.status, 303, page)
        self.assertNotIn('/pay', page.location)
        page = browser.get(page.location.split('/ticket/shop', 1)[1])
        self.assertIn('Paid', page.text)

    def test_duplicate_notification_one_payment(self):
        "The same provider notification twice, even at once: one payment"
        browser = Browser(self.server)
        page = self.buy(browser)
        pay_page = browser.get(page.location.split('/ticket/shop', 1)[1])
        form = dict(re.findall(
                r'name="(reference|amount|signature)" value="([^"]*)"',
                pay_page.text))
        token = page.location.split('/order/')[1].split('/')[0]
        body = {'order': token, **form}
        answers = []

        def notify():
            answers.append(self.server.client.post(
                    '/ticket/shop/providers/test/notify', body))
        threads = [threading.Thread(target=notify) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(a.status for a in answers)
        self.assertEqual(statuses, [200, 200, 200, 201], answers)
        self.assertEqual(sum(a.json['created'] for a in answers), 1)
        (order_id, state, _), = [self.server.order_by_number(
                answers[0].json['order']['number'])]
        self.assertEqual(state, 'paid')
        self.assertEqual(len(self.server.payments(order_id)), 1)
        tickets = self.server.sql(
            'SELECT count(*) FROM ticket_ticket WHERE "order" = %s',
            (order_id,))
        self.assertEqual(tickets, [(2,)])
        # and once more through the payment page
        page = browser.post(f'/order/{token}/pay/test',
            dict(form, action='pay'), csrf=True)
        self.assertEqual(page.status, 303)
        self.assertEqual(len(self.server.payments(order_id)), 1)

    def test_busy_page_changes_nothing(self):
        """A payment that cannot lock its order (another transaction holds
        it) is answered 503 with Retry-After and a page saying to try again;
        nothing was recorded and the same payment then goes through"""
        import psycopg
        from tests.server import pgctl
        browser = Browser(self.server)
        page = self.buy(browser)
        token = page.location.split('/order/')[1].split('/')[0]
        pay_page = browser.get(page.location.split('/ticket/shop', 1)[1])
        form = dict(re.findall(
                r'name="(reference|amount|signature)" value="([^"]*)"',
                pay_page.text))
        (order_id,), = self.server.sql(
            'SELECT id FROM ticket_order WHERE shop_token = %s', (token,))
        with psycopg.connect(pgctl.uri(self.server.database)) as other:
            other.execute('SELECT id FROM ticket_order WHERE id = %s '
                'FOR UPDATE', (order_id,))
            page = browser.post(f'/order/{token}/pay/test',
                dict(form, action='pay'))
            other.rollback()
        self.assertEqual(page.status, 503, page)
        self.assertEqual(page.headers.get('retry-after'), '1')
        self.assertIn('text/html', page.headers['content-type'])
        self.assertIn('Please try again in a moment', page.text)
        self.assertEqual(self.server.payments(order_id), [])
        page = browser.post(f'/order/{token}/pay/test',
            dict(form, action='pay'))
        self.assertEqual(page.status, 303, page)
        self.assertEqual(len(self.server.payments(order_id)), 1)

    def test_forged_notification_refused(self):
        browser = Browser(self.server)
        page = self.buy(browser)
        token = page.location.split('/order/')[1].split('/')[0]
        reply = self.server.client.post('/ticket/shop/providers/test/notify',
            {'order': token, 'reference': 'test_x', 'amount': '43.00',
                'signature': '0' * 64})
        self.assertEqual(reply.status, 400)
        self.assertEqual(reply.json['error']['code'], 'invalid_signature')
        reply = self.server.client.post('/ticket/shop/providers/test/notify',
            {'order': 'x' * 32, 'reference': 'r', 'amount': '1',
                'signature': 's'})
        self.assertEqual(reply.status, 404)
        reply = self.server.client.post('/ticket/shop/providers/test/notify',
            [1, 2])
        self.assertEqual(reply.status, 400)
        order_id = self.server.sql(
            'SELECT id FROM ticket_order WHERE shop_token = %s', (token,))
        self.assertEqual(self.server.payments(order_id[0][0]), [])

    def test_late_payment_takes_places_again(self):
        browser = Browser(self.server)
        before = self.server.pool_of(self.small)
        page = self.buy(browser)
        pay_page = browser.get(page.location.split('/ticket/shop', 1)[1])
        form = dict(re.findall(
                r'name="(reference|amount|signature)" value="([^"]*)"',
                pay_page.text))
        token = page.location.split('/order/')[1].split('/')[0]
        self.server.sql("UPDATE ticket_order SET reserved_until = "
            "now() AT TIME ZONE 'UTC' - interval '1 minute' "
            "WHERE shop_token = %s", (token,))
        self.server.run(lambda pool: pool.get('ticket.order').expire_stale())
        self.assertEqual(self.server.pool_of(self.small), before)
        reply = self.server.client.post('/ticket/shop/providers/test/notify',
            {'order': token, **form})
        self.assertEqual(reply.status, 201, reply)
        self.assertEqual(reply.json['order']['state'], 'paid')
        self.assertEqual(reply.json['payment']['state'], 'succeeded')
        capacity, sold, held = self.server.pool_of(self.small)
        self.assertEqual((sold, held), (before[1] + 2, before[2]))

    def test_offline_transfer(self):
        "A transfer: the order waits, then the organizer records it"
        browser = Browser(self.server)
        page = self.buy(browser, method='transfer',
            email='transfer@example.org')
        self.assertEqual(page.status, 303, page)
        page = browser.get(page.location.split('/ticket/shop', 1)[1])
        self.assertIn('IBAN', page.text)
        number = order_number(page)
        order_id, state, _ = self.server.order_by_number(number)
        self.assertEqual(state, 'reserved')
        mail, = self.server.catcher.wait_for(1,
            match=lambda m: 'transfer@example.org' in m.to)
        self.assertIn('IBAN', mail.text())
        self.assertEqual(mail.attachments(), [])
        def record(pool):
            Order = pool.get('ticket.order')
            Payment = pool.get('ticket.order.payment')
            order = Order(order_id)
            Payment.record(order, 'manual', 'VIR-42', order.amount_due,
                method='transfer')
        self.server.run(record)
        self.assertEqual(self.server.order_by_number(number)[1], 'paid')


class ManageTest(ShopTestCase):
    "The buyer's order page"

    def paid_order(self, browser, **values):
        page = self.buy(browser, **values)
        page, _ = self.pay(browser, page)
        page = browser.get(page.location.split('/ticket/shop', 1)[1])
        token = page.url.split('/order/')[1].split('?')[0]
        return page, token

    def test_order_only_by_token(self):
        browser = Browser(self.server)
        self.assertEqual(browser.get('/order/' + 'A' * 32).status, 404)
        self.assertEqual(browser.get('/order/1').status, 404)
        self.assertEqual(browser.get('/order/' + 'A' * 32
                + '/tickets.pdf').status, 404)
        # a real token: 192 random bits; its neighbours and the order's
        # number or id lead nowhere
        tokens = []
        for _ in range(3):
            page = self.buy(Browser(self.server),
                {self.shop['full']: 1})
            tokens.append(page.location.split('/order/')[1].split('/')[0])
        for token in tokens:
            self.assertRegex(token, r'^[A-Za-z0-9_-]{32}$')
        self.assertEqual(len(set(tokens)), len(tokens))
        token = tokens[0]
        number, id_ = self.server.sql('SELECT number, id FROM ticket_order '
            'WHERE shop_token = %s', (token,))[0]
        self.assertEqual(browser.get(f'/order/{token}').status, 200)
        for guess in [token[:-1] + ('A' if token[-1] != 'A' else 'B'),
                token.lower(), token.upper(), token[1:] + token[0],
                number, str(id_)]:
            if guess == token:
                continue
            with self.subTest(guess=guess):
                self.assertEqual(browser.get(f'/order/{guess}').status, 404)

    def test_downloads(self):
        browser = Browser(self.server)
        page, token = self.paid_order(browser)
        pdf = browser.get(f'/order/{token}/tickets.pdf')
        self.assertEqual(pdf.status, 200)
        self.assertTrue(pdf.body.startswith(b'%PDF'))
        from guichet.ticket_event.tests.helpers import pdf_text
        self.assertRegex(pdf_text(pdf.body), r'20[.,]00')
        copy = browser.get(f'/order/{token}/tickets.pdf?copy=1')
        self.assertNotRegex(pdf_text(copy.body), r'20[.,]00')
        self.assertIn('Plein tarif', pdf_text(copy.body))
        ics = browser.get(f'/order/{token}/calendar.ics')
        self.assertIn('text/calendar', ics.headers['content-type'])
        self.assertIn(b'DTSTART:', ics.body)

    def test_holder_names(self):
        browser = Browser(self.server)
        page, token = self.paid_order(browser,
            **{'holder-0-0': 'Léa Petit'})
        self.assertIn('Léa Petit', page.text)
        ids = re.findall(r'name="holder-([0-9]+)"', page.text)
        self.assertEqual(len(ids), 2)
        page = browser.post(f'/order/{token}/holders',
            {f'holder-{ids[0]}': 'Hugo Roux', f'holder-{ids[1]}': ''})
        self.assertEqual(page.status, 400)
        self.assertIn(f'id="holder-{ids[1]}-error"', page.text)
        page = browser.post(f'/order/{token}/holders',
            {f'holder-{ids[0]}': 'Hugo Roux', f'holder-{ids[1]}': 'Jade'},
            follow=True)
        self.assertEqual(page.status, 200)
        names = self.server.sql('SELECT holder_name FROM ticket_ticket '
            'WHERE id IN (%s, %s) ORDER BY id', (int(ids[0]), int(ids[1])))
        self.assertEqual(names, [('Hugo Roux',), ('Jade',)])

    def test_resend(self):
        browser = Browser(self.server)
        page, token = self.paid_order(browser, email='resend@example.org')
        self.server.catcher.wait_for(1,
            match=lambda m: 'resend@example.org' in m.to)
        page = browser.post(f'/order/{token}/resend', follow=True)
        self.assertIn('on its way', page.text)
        self.server.catcher.wait_for(2,
            match=lambda m: 'resend@example.org' in m.to)

    def test_refund_by_rules_in_money(self):
        "Half the price back 30 days before (the fees are kept)"
        browser = Browser(self.server)
        before = self.server.pool_of(self.small)
        page, token = self.paid_order(browser, email='refund@example.org')
        # 2 × 20.00 at 50 %, the 2.00 of fees kept
        self.assertRegex(page.text, r'Refund of €?20[.,]00')
        self.assertRegex(page.text, r'credit of €?40[.,]00')
        page = browser.post(f'/order/{token}/refund', {'kind': 'money'})
        self.assertEqual(page.status, 400)
        self.assertIn('id="refund-error"', page.text)
        page = browser.post(f'/order/{token}/refund',
            {'kind': 'money', 'confirm': 'yes'}, follow=True)
        self.assertIn('cancelled and refunded', page.text)
        order_id, state, _ = self.server.order_by_number(order_number(page))
        self.assertEqual(state, 'cancelled')
        payments = self.server.payments(order_id)
        self.assertEqual([(p[2], p[4], p[3]) for p in payments], [
                (Decimal('42.00'), 'payment', 'succeeded'),
                (Decimal('20.00'), 'refund', 'succeeded')])
        self.assertEqual(self.server.pool_of(self.small), before)
        self.server.catcher.wait_for(2,
            match=lambda m: 'refund@example.org' in m.to)
        # not twice
        page = browser.post(f'/order/{token}/refund',
            {'kind': 'money', 'confirm': 'yes'})
        self.assertEqual(page.status, 409)

    def test_refund_as_credit(self):
        browser = Browser(self.server)
        page, token = self.paid_order(browser)
        page = browser.post(f'/order/{token}/refund',
            {'kind': 'credit', 'confirm': 'yes'}, follow=True)
        code = re.search(r'credit code is ([A-Z0-9]+)', page.text)
        self.assertTrue(code, page)
        balance = self.server.sql(
            'SELECT balance FROM ticket_credit WHERE code = %s',
            (code.group(1),))
        self.assertEqual(balance, [(Decimal('40.00'),)])

    def test_cancel_unpaid(self):
        browser = Browser(self.server)
        before = self.server.pool_of(self.small)
        page = self.buy(browser, method='transfer')
        token = page.location.split('/order/')[1].split('/')[0]
        browser.get(f'/order/{token}')
        page = browser.post(f'/order/{token}/cancel', follow=True)
        self.assertIn('went back on sale', page.text)
        self.assertEqual(self.server.pool_of(self.small), before)

    def test_lookup_and_rate_limit(self):
        browser = Browser(self.server)
        page, token = self.paid_order(browser, email='lookup@example.org')
        number = order_number(page)
        browser.get('/lookup')
        page = browser.post('/lookup', {'email': 'LOOKUP@example.org',
                'number': number.lower()})
        self.assertEqual(page.status, 200)
        mails = self.server.catcher.wait_for(2,
            match=lambda m: 'lookup@example.org' in m.to)
        self.assertIn(token, mails[-1].text())
        # the same answer for an unknown order
        page = browser.post('/lookup', {'email': 'nobody@example.org',
                'number': 'C999999'})
        self.assertIn('If an order matches', page.text)
        statuses = [browser.post('/lookup', {'email': 'x@example.org',
                    'number': 'C1'}).status for _ in range(6)]
        self.assertIn('Too many attempts', browser.last.text)
        self.assertEqual(statuses[-1], 400)

    def test_promo_code_rate_limit(self):
        browser = Browser(self.server)
        browser.add(self.small, {self.shop['full']: 1}, event=self.main)
        browser.get('/checkout')
        for attempt in range(10):
            page = browser.post('/checkout', {'action': 'apply',
                    'promo_code': f'WRONG{attempt}'})
            self.assertEqual(page.status, 400)
        page = browser.post('/checkout', {'action': 'apply',
                'promo_code': 'PROMO5'})
        self.assertEqual(page.status, 400)
        self.assertIn('Too many attempts', page.text)


class WaitingListTest(ShopTestCase):

    def test_sign_up_wave_and_claim(self):
        concert = self.ids['events']['concert']
        session = self.ids['sessions']['concert']
        browser = Browser(self.server)
        # sell out the concert
        def sell_out(pool):
            Hold = pool.get('ticket.hold')
            Session = pool.get('ticket.session')
            record = Session(session)
            return Hold.reserve([{'session': record,
                        'quantity': record.available}]).id
        hold_id = self.server.run(sell_out)
        before = self.server.pool_of(session)
        page = browser.get(f'/event/{concert}')
        self.assertIn('Sold out', page.text)
        self.assertIn('waiting list', page.text.lower())
        # a late buyer: refused at once on the (cached) event page, with
        # the message on top, its own CSRF token and nothing held
        late = Browser(self.server)
        seen = late.get(f'/event/{concert}')
        page = late.add(session, {self.shop['concert']: 1}, event=concert)
        self.assertEqual(page.status, 409, page)
        self.assertIn('role="alert"', page.text)
        self.assertIn('Sold out: no place is left for', page.text)
        self.assertIn('waiting list', page.text.lower())
        self.assertEqual(page.csrf, seen.csrf)
        self.assertNotIn('\x00', page.text)
        self.assertEqual(self.server.pool_of(session), before)
        page = browser.get(f'/event/{concert}')
        self.assertNotIn('role="alert"', page.text)
        self.assertNotIn('\x00', page.text)
        page = browser.post('/waitlist', {'event': concert,
                'session': session, 'email': 'bad', 'quantity': '2'})
        self.assertEqual(page.status, 400)
        self.assertIn('id="waitlist-email-error"', page.text)
        page = browser.post('/waitlist', {'event': concert,
                'session': session, 'email': 'wait@example.org',
                'name': 'Inès', 'quantity': '2'})
        self.assertEqual(page.status, 200, page)
        self.assertIn('You are on the waiting list', page.text)
        page = browser.post('/waitlist', {'event': concert,
                'session': session, 'email': 'wait@example.org',
                'quantity': '1'})
        self.assertEqual(page.status, 400)
        # places free up: the wave offers them
        def free_places(pool):
            Hold = pool.get('ticket.hold')
            Entry = pool.get('ticket.shop.waitlist')
            Hold.release([Hold(hold_id)])
            Entry.process()
        self.server.run(free_places)
        mail = self.server.catcher.wait_for(1,
            match=lambda m: 'wait@example.org' in m.to)[-1]
        link = re.search(r'/waitlist/([A-Za-z0-9_-]+)', mail.text())
        self.assertTrue(link, mail.text())
        page = browser.get(f'/waitlist/{link.group(1)}')
        self.assertIn('held for you', page.text)
        page = browser.post(f'/waitlist/{link.group(1)}',
            {f'q-{self.shop["concert"]}': 3})
        self.assertEqual(page.status, 400)
        page = browser.post(f'/waitlist/{link.group(1)}',
            {f'q-{self.shop["concert"]}': 2}, follow=True)
        self.assertEqual(page.status, 200)
        self.assertIn('Entrée', page.text)
        states = self.server.sql(
            "SELECT state FROM ticket_shop_waitlist WHERE email = %s",
            ('wait@example.org',))
        self.assertEqual(states, [('claimed',)])



class SeatPickerTest(ShopTestCase):
    "The seat picker (ticket_seating): best available, picks on the map"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.event = cls.shop['theatre_event']
        cls.session = cls.shop['theatre_session']

    def held_seats(self):
        return self.server.sql(
            "SELECT b.seat, r.name, s.label FROM ticket_seat_booking b "
            "JOIN ticket_seat s ON s.id = b.seat "
            "JOIN ticket_seat_row r ON r.id = s.row "
            "WHERE b.session = %s AND b.state IN ('held', 'sold') "
            "ORDER BY b.seat", (self.session,))

    def snapshot(self):
        return {**self.server.snapshot(), 'bookings': self.server.sql(
                'SELECT id, state FROM ticket_seat_booking ORDER BY id')}

    def free_seat_ids(self, page):
        return [int(i) for i in re.findall(
                r'name="seats" value="([0-9]+)"', page.text)]

    def test_picker_page(self):
        browser = Browser(self.server)
        page = browser.get(f'/event/{self.event}')
        self.assertIn(f'/event/{self.event}/seats/{self.session}', page.text)
        page = browser.get(f'/event/{self.event}/seats/{self.session}')
        self.assertEqual(page.status, 200, page)
        free = self.free_seat_ids(page)
        self.assertEqual(len(free) + len(self.held_seats()),
            self.shop['theatre_seats'])
        self.assertEqual(page.text.count('role="checkbox"'), len(free))
        self.assertIn('Orchestre', page.text)
        self.assertIn('30.00', page.text)
        # a session that is not seated, or of another event: 404
        self.assertEqual(browser.get(
                f'/event/{self.main}/seats/{self.small}').status, 404)
        self.assertEqual(browser.get(
                f'/event/{self.main}/seats/{self.session}').status, 404)

    def test_best_available_four_seats(self):
        "4 best available seats, side by side, ordered and paid"
        browser = Browser(self.server)
        page = browser.get(f'/event/{self.event}/seats/{self.session}')
        before = {s for s, _, _ in self.held_seats()}
        # In the stalls, blocks of 5 seats between the aisles: 4 together
        # would leave a single seat, which the isolated-seat rule refuses;
        # the balcony's rows of 8 seat them together.
        page = browser.post('/seats', {'event': self.event,
                'session': self.session, 'action': 'best', 'quantity': '4'})
        self.assertEqual(page.status, 303, page)
        seats = [s for s in self.held_seats() if s[0] not in before]
        self.assertEqual(len(seats), 4)
        self.assertEqual(len({row for _, row, _ in seats}), 1, seats)
        page = browser.get('/cart')
        self.assertIn('Seats:', page.text)
        self.assertRegex(page.text, r'4 × (Plein|Balcon)')
        # in the stalls only: the best 4, split by the service
        page = browser.post('/seats', {'event': self.event,
                'session': self.session, 'action': 'best', 'quantity': '4',
                'category': self.shop['theatre_categories']['Orchestre']})
        self.assertEqual(page.status, 303, page)
        page = browser.get('/cart')
        self.assertIn('4 × Orchestre — Plein', page.text)
        mine = {s for s, _, _ in self.held_seats()} - before
        self.assertEqual(len(mine), 8)
        browser.get('/checkout')
        page = browser.checkout(email='seats@example.org',
            method=self.shop['card'])
        page, _ = self.pay(browser, page)
        self.assertIn('done=paid', page.location)
        tickets = self.server.sql(
            'SELECT seat FROM ticket_ticket WHERE session = %s '
            "AND state = 'valid' AND seat IS NOT NULL", (self.session,))
        self.assertTrue(mine <= {s for s, in tickets})

    def test_pick_seats_then_taken(self):
        "Seats picked on the map are held; the same seats again: 409"
        first = Browser(self.server)
        page = first.get(f'/event/{self.event}/seats/{self.session}')
        free = self.free_seat_ids(page)
        # two seats side by side at the end of the last row listed
        picked = free[-2:]
        page = first.post('/seats', {'event': self.event,
                'session': self.session, 'action': 'pick',
                'seats': [str(s) for s in picked]})
        self.assertEqual(page.status, 303, page)
        self.assertTrue(set(picked) <= {s for s, _, _ in self.held_seats()})
        second = Browser(self.server)
        page = second.get(f'/event/{self.event}/seats/{self.session}')
        self.assertNotIn(f'value="{picked[0]}"', page.text)
        snapshot = self.snapshot()
        page = second.post('/seats', {'event': self.event,
                'session': self.session, 'action': 'pick',
                'seats': [str(s) for s in picked]})
        self.assertEqual(page.status, 409, page)
        self.assertIn('id="seats-error"', page.text)
        self.assertEqual(self.snapshot(), snapshot)
        # the first buyer empties the cart: the seats are free again
        first.post('/cart/remove', {'hold': 'all'})
        self.assertFalse(set(picked) & {s for s, _, _ in self.held_seats()})

    def test_bad_requests_change_nothing(self):
        browser = Browser(self.server)
        browser.get(f'/event/{self.event}/seats/{self.session}')
        snapshot = self.snapshot()
        base = {'event': self.event, 'session': self.session}
        for values, field, status in [
                ({'action': 'best', 'quantity': '0'}, 'quantity', 400),
                ({'action': 'best', 'quantity': 'abc'}, 'quantity', 400),
                ({'action': 'best', 'quantity': '999'}, 'quantity', 400),
                ({'action': 'best', 'quantity': '2', 'category': '999999'},
                    'category', 400),
                ({'action': 'best', 'quantity': '2',
                        'category': 'Orchestre'}, 'category', 400),
                ({'action': 'pick'}, 'seats', 400),
                ({'action': 'pick', 'seats': ['x']}, 'seats', 400),
                ({'action': 'pick', 'seats': ['1', '1']}, 'seats', 400),
                ({'action': 'pick', 'seats': ['999999']}, 'seats', 400),
                ]:
            with self.subTest(values=values):
                page = browser.post('/seats', dict(base, **values))
                self.assertEqual(page.status, status, page)
                self.assertIn(f'id="{field}-error"', page.text)
                self.assertEqual(self.snapshot(), snapshot)
        # an unknown session
        page = browser.post('/seats', dict(base, session='999999',
                action='best', quantity='2'))
        self.assertEqual(page.status, 404)
        self.assertEqual(self.snapshot(), snapshot)

    def test_automatic_mode(self):
        "When the web only gets automatic seats, no map and no pick"
        def set_mode(mode):
            def run(pool):
                Mode = pool.get('ticket.seat.mode')
                Mode.delete(Mode.search([('event', '=', self.event),
                            ('channel', '=', 'web')]))
                if mode:
                    Mode.create([{'event': self.event, 'channel': 'web',
                                'mode': mode}])
            self.server.run(run)
        set_mode('auto')
        self.addCleanup(set_mode, None)
        browser = Browser(self.server)
        page = browser.get(f'/event/{self.event}/seats/{self.session}')
        self.assertEqual(page.status, 200)
        self.assertNotIn('class="seat-map', page.text)
        self.assertIn('assigned automatically', page.text)
        snapshot = self.snapshot()
        page = browser.post('/seats', {'event': self.event,
                'session': self.session, 'action': 'pick', 'seats': ['1']})
        self.assertEqual(page.status, 403, page)
        self.assertEqual(self.snapshot(), snapshot)
        page = browser.post('/seats', {'event': self.event,
                'session': self.session, 'action': 'best', 'quantity': '2'})
        self.assertEqual(page.status, 303, page)
        browser.post('/cart/remove', {'hold': 'all'})
