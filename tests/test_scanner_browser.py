"""The scanner web app in a real headless Chromium against a real trytond.

A phone-sized page (360 px wide) logs in with a device key and is fed codes
through the keyboard as a USB scanner types them: online it answers ok, then
already_used, then unknown. With the network cut, the page reloads from its
service worker and checks codes against its offline bundle (the Ed25519
signatures in the browser); meanwhile another gate admits a ticket online
that the page then admits offline. Back online, the page uploads its scans:
the server records them and resolves the conflict as already_used. Then a
fake camera shows a QR code that the page decodes; the page speaks French;
and the back office's dashboard counts what the gates admitted.
"""
import datetime as dt
import os
import tempfile
import time
import urllib.parse

from tests.browser import ServerTestCase, browser_page, screenshot
from tests.checkin import CHECKIN, auth, create_gate, sell_tickets

PASSWORD = 'scanner-test-42'
# Generous: the CI machine has 2 cores shared with the server and database
TIMEOUT = 60_000
PHONE = {'width': 360, 'height': 740}


def qr_video(text, path, width=640, height=480):
    """Write a Y4M video of a QR code of text, for Chromium's fake camera
    (--use-file-for-fake-video-capture)"""
    import qrcode
    from PIL import Image
    code = qrcode.QRCode(
        border=4, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(text)
    image = code.make_image(fill_color='black', back_color='white').get_image()
    side = min(width, height) - 40
    image = image.convert('L').resize((side, side), Image.NEAREST)
    frame = Image.new('L', (width, height), 255)
    frame.paste(image, ((width - side) // 2, (height - side) // 2))
    chroma = bytes([128]) * (width // 2 * height // 2)
    with open(path, 'wb') as video:
        video.write(f'YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 '
            'C420jpeg\n'.encode())
        for _ in range(10):
            video.write(b'FRAME\n' + frame.tobytes() + chroma + chroma)


class ScannerBrowserTest(ServerTestCase):
    database = 'test_scanner_browser'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.video = tempfile.NamedTemporaryFile(suffix='.y4m', delete=False)
        cls.video.close()
        cls.addClassCleanup(os.unlink, cls.video.name)
        qr_video(cls.codes[9], cls.video.name)

    @classmethod
    def prepare(cls):
        "Ten named tickets of a session, a gate with two devices"
        ids = cls.server.ids
        with cls.server.transaction() as pool:
            Ticket = pool.get('ticket.ticket')
            tickets = sell_tickets(pool, ids['sessions']['open'], 10)
            names = ["Ada Lovelace", "Émile Zola", "Grace Hopper",
                "Alan Turing", "Hedy Lamarr", "Katherine Johnson",
                "Claude Shannon", "Barbara Liskov", "Edsger Dijkstra",
                "Frances Allen"]
            for ticket, name in zip(tickets, names):
                Ticket.write([ticket], {'holder_name': name})
            tickets = Ticket.browse([t.id for t in tickets])
            cls.ids = [t.id for t in tickets]
            cls.numbers = [t.number for t in tickets]
            cls.codes = [t.qr_data for t in tickets]
            cls.secrets = [t.secret for t in tickets]
            cls.names = names
            cls.list_id, (cls.key, cls.other_key) = create_gate(
                pool, ids['events']['main'], devices=2, name="North Gate",
                show_fields=['number', 'session'])
            Device = pool.get('ticket.access.device')
            device, = Device.search([('name', '=', "North Gate 2")])
            cls.scanner_url = device.scanner_url
        cls.url = (f'http://127.0.0.1:{cls.server.port}/'
            f'{cls.server.database}/ticket/scanner/')

    def setUp(self):
        self.page = None

    def run_page(self, check, name, **options):
        "Run check(page) in a new browser; screenshot and errors on failure"
        options.setdefault('viewport', PHONE)
        with browser_page(**options) as page:
            try:
                check(page)
            except Exception as exception:
                screenshot(page, f'scanner_{name}_failure')
                if page.errors:
                    raise AssertionError("browser errors:\n"
                        + '\n'.join(page.errors)) from exception
                raise
            self.assertEqual(page.errors, [])

    # --- helpers ------------------------------------------------------

    def login(self, page, key, lang='en'):
        page.goto(f'{self.url}?lang={lang}')
        page.wait_for_selector('#login-form', state='visible',
            timeout=TIMEOUT)
        page.fill('#key', key)
        page.press('#key', 'Enter')
        page.wait_for_selector(
            'body[data-screen="scan"][data-bundle="loaded"]', timeout=TIMEOUT)

    def type_code(self, page, code, expected):
        "Type a code and Enter as a keyboard scanner does; check the result"
        page.keyboard.type(code)
        page.keyboard.press('Enter')
        result = page.locator('#result')
        from playwright.sync_api import expect
        expect(result).to_have_attribute(
            'data-result', expected, timeout=TIMEOUT)
        # The next scan is told apart from this one.
        page.evaluate("document.getElementById('result').dataset.result = ''")
        return result

    @staticmethod
    def wait_until(page, expression, timeout=TIMEOUT / 1000):
        "Poll a JavaScript expression (wait_for_function needs eval, which "
        "the page's Content-Security-Policy forbids)"
        deadline = time.monotonic() + timeout
        while not page.evaluate(expression):
            if time.monotonic() > deadline:
                raise AssertionError(f"timeout waiting for {expression}")
            time.sleep(0.2)

    def scans(self, where):
        return self.server.sql(
            'SELECT t.id, s.result, s.offline, s.conflict, s.device_result '
            'FROM ticket_access_scan s '
            'JOIN ticket_ticket t ON t.id = s.ticket '
            f'WHERE {where} ORDER BY s.id')

    # --- the tests ----------------------------------------------------

    def test_online_offline_and_sync(self):
        "Keyboard scans online, offline from the bundle, upload and conflict"
        self.run_page(self.check_online_offline, 'online_offline',
            service_workers='allow')

    def check_online_offline(self, page):
        from playwright.sync_api import expect
        self.login(page, self.key)
        self.assertEqual(page.inner_text('#list-name').strip(' ·'),
            "North Gate")
        # The page does not scroll sideways on a 360 px phone.
        self.assertLessEqual(page.evaluate(
                'document.documentElement.scrollWidth'), PHONE['width'])
        # Every field has a label, every button a name, the result speaks.
        self.assertEqual(page.evaluate("""[
                ...[...document.querySelectorAll('input, select')]
                    .filter(e => !e.labels.length).map(e => e.outerHTML),
                ...[...document.querySelectorAll('button')]
                    .filter(e => !e.textContent.trim()).map(e => e.id)]"""),
            [])
        self.assertEqual(page.get_attribute('#result', 'aria-live'),
            'assertive')

        # Online: ok, then already_used, then unknown
        result = self.type_code(page, self.codes[0], 'ok')
        self.assertIn('result-good', result.get_attribute('class'))
        self.assertEqual(page.inner_text('#result-holder'), self.names[0])
        self.assertIn(self.numbers[0], page.inner_text('#result-fields'))
        self.assertEqual(page.get_attribute('#result', 'data-offline'),
            'false')
        screenshot(page, 'scanner_ok')
        result = self.type_code(page, self.codes[0], 'already_used')
        self.assertIn('result-warn', result.get_attribute('class'))
        screenshot(page, 'scanner_already_used')
        result = self.type_code(page, 'NOT-A-TICKET-' + 'x' * 20, 'unknown')
        self.assertIn('result-bad', result.get_attribute('class'))
        screenshot(page, 'scanner_unknown')
        self.assertEqual(
            [r[:3] for r in self.scans(f"s.ticket = {self.ids[0]}")],
            [(self.ids[0], 'ok', False),
                (self.ids[0], 'already_used', False)])

        # The service worker keeps the app: it reloads with no network.
        self.wait_until(page,
            'Boolean(navigator.serviceWorker.controller)')
        page.context.set_offline(True)
        response = page.reload()
        self.assertTrue(response.from_service_worker)
        page.wait_for_selector(
            'body[data-started="true"][data-screen="scan"]'
            '[data-bundle="loaded"][data-online="false"]', timeout=TIMEOUT)
        self.assertEqual(page.inner_text('#net'), 'Offline')
        # ... from its cache: what it did not keep does not load.
        self.assertEqual(page.evaluate("fetch('sw.js?not-cached').then("
                "() => 'loaded', () => 'failed')"), 'failed')
        page.errors.remove('Failed to load resource: net::ERR_FAILED')

        # Another gate admits ticket 3 online while this one is offline.
        reply = self.server.client.post(f'{CHECKIN}/scan',
            {'list': self.list_id, 'code': self.secrets[3]},
            headers=auth(self.other_key))
        self.assertEqual(reply.json['result'], 'ok')

        result = self.type_code(page, self.codes[1], 'ok')
        self.assertEqual(page.get_attribute('#result', 'data-offline'),
            'true')
        self.assertEqual(page.inner_text('#result-holder'), self.names[1])
        screenshot(page, 'scanner_offline_ok')
        self.type_code(page, self.codes[1], 'already_used')
        # Admitted online before the network went: known offline
        self.type_code(page, self.codes[0], 'already_used')
        self.type_code(page, self.secrets[2], 'ok')
        self.type_code(page, self.codes[3], 'ok')
        forged = self.codes[4][:-6] + (
            'AAAAAA' if self.codes[4][-6:] != 'AAAAAA' else 'BBBBBB')
        self.type_code(page, forged, 'invalid_signature')
        self.type_code(page, 'x' * 40, 'unknown')
        expect(page.locator('#pending')).to_have_text('7 to upload')
        self.assertEqual(self.scans(f'NOT s.offline AND s.ticket IN '
                f'({self.ids[1]}, {self.ids[2]})'), [])

        # Offline search by name finds the ticket in the bundle.
        page.click('#search-button')
        page.fill('#query', 'zola')
        page.press('#query', 'Enter')
        page.wait_for_selector('#search-results li', timeout=TIMEOUT)
        self.assertIn(self.numbers[1], page.inner_text('#search-results'))
        self.assertEqual(page.inner_text('#search-status'),
            'Found in the offline data.')
        screenshot(page, 'scanner_offline_search')

        # Back online: the scans go up, the conflict comes back.
        page.context.set_offline(False)
        page.wait_for_selector('body[data-pending="0"][data-online="true"]',
            timeout=TIMEOUT)
        expect(page.locator('#notice')).to_contain_text(
            '1 offline admission had already been used at another gate',
            timeout=TIMEOUT)
        self.assertIn('conflict', page.inner_text('#log'))
        screenshot(page, 'scanner_synced')

        offline = self.scans('s.offline')
        self.assertEqual(sorted((t, r, c, d) for t, r, o, c, d in offline
                if t is not None), sorted([
                    (self.ids[1], 'ok', False, 'ok'),
                    (self.ids[1], 'already_used', False, 'already_used'),
                    (self.ids[0], 'already_used', False, 'already_used'),
                    (self.ids[2], 'ok', False, 'ok'),
                    (self.ids[3], 'already_used', True, 'ok'),
                    ]))
        self.assertEqual(self.server.sql(
                'SELECT count(*) FROM ticket_access_scan WHERE offline '
                "AND ticket IS NULL AND result IN ('invalid_signature', "
                "'unknown')")[0][0], 2)
        self.assertEqual(self.server.sql(
                'SELECT result, conflict FROM ticket_access_scan '
                'WHERE id = %s', (reply.json['scan'],)), [('ok', False)])
        self.assertEqual(self.server.sql(
                "SELECT id FROM ticket_ticket WHERE state = 'used' "
                'AND id = ANY(%s) ORDER BY id', (self.ids[:5],)),
            [(i,) for i in sorted(self.ids[:4])])

        # Online search by number, admit from the result
        page.fill('#query', self.numbers[5])
        page.press('#query', 'Enter')
        page.click('#search-results button', timeout=TIMEOUT)
        expect(page.locator('#result')).to_have_attribute(
            'data-result', 'ok', timeout=TIMEOUT)
        self.assertEqual(page.inner_text('#result-holder'), self.names[5])
        self.assertEqual(page.get_attribute('#result', 'data-offline'),
            'false')

    def test_reentry_online_and_offline(self):
        "On a re-entry list, scans alternate in and out, offline too"
        with self.server.transaction() as pool:
            ticket, = sell_tickets(pool, self.server.ids['sessions']['open'],
                1)
            self.reentry_code = ticket.qr_data
            self.reentry_ticket = ticket.id
            self.reentry_list, (key,) = create_gate(
                pool, self.server.ids['events']['main'], name="Terrace",
                allow_reentry=True)
        self.run_page(lambda page: self.check_reentry(page, key), 'reentry',
            service_workers='allow')

    def check_reentry(self, page, key):
        from playwright.sync_api import expect
        self.login(page, key)
        self.assertTrue(page.is_visible('#direction'))
        for offline in [False, True]:
            if offline:
                page.context.set_offline(True)
                page.wait_for_selector('body[data-online="false"]',
                    timeout=TIMEOUT)
            self.type_code(page, self.reentry_code, 'ok')
            self.assertEqual(page.get_attribute('#result', 'data-direction'),
                'in')
            self.type_code(page, self.reentry_code, 'ok')
            self.assertEqual(page.get_attribute('#result', 'data-direction'),
                'out')
            self.assertEqual(page.inner_text('#result-title').lower(),
                'exit')
        # Out is chosen: a ticket that is not inside cannot go out.
        page.check('#direction input[value="out"]')
        self.type_code(page, self.reentry_code, 'already_used')
        page.check('#direction input[value=""]')
        page.context.set_offline(False)
        page.wait_for_selector('body[data-pending="0"][data-online="true"]',
            timeout=TIMEOUT)
        expect(page.locator('#notice')).to_contain_text(
            '3 offline scans uploaded.', timeout=TIMEOUT)
        self.assertEqual(self.server.sql(
                'SELECT direction, result, offline FROM ticket_access_scan '
                'WHERE ticket = %s AND list = %s ORDER BY scanned_at, id',
                (self.reentry_ticket, self.reentry_list)), [
                ('in', 'ok', False), ('out', 'ok', False),
                ('in', 'ok', True), ('out', 'ok', True),
                ('out', 'already_used', True)])
        self.assertEqual(self.server.sql(
                'SELECT state FROM ticket_access_entry WHERE ticket = %s '
                'AND list = %s', (self.reentry_ticket, self.reentry_list)),
            [('outside',)])

    def test_camera(self):
        "A QR code shown to the camera is decoded and admitted"
        self.run_page(self.check_camera, 'camera', extra_args=[
                '--use-fake-ui-for-media-stream',
                '--use-fake-device-for-media-stream',
                f'--use-file-for-fake-video-capture={self.video.name}',
                ], permissions=['camera'])

    def check_camera(self, page):
        from playwright.sync_api import expect
        # The device's scanner link from the back office connects the app.
        link = urllib.parse.urlsplit(self.scanner_url)
        self.assertEqual(link.path,
            f'/{self.server.database}/ticket/scanner/')
        page.goto(f'{self.url}#{link.fragment}')
        page.wait_for_selector(
            'body[data-screen="scan"][data-bundle="loaded"]', timeout=TIMEOUT)
        self.assertNotIn('key', page.url)
        page.click('#camera-button')
        expect(page.locator('#result')).to_have_attribute(
            'data-result', 'ok', timeout=TIMEOUT)
        self.assertEqual(page.inner_text('#result-holder'), self.names[9])
        decoder = page.get_attribute('body', 'data-decoder')
        self.assertIn(decoder, {'native', 'jsqr'})
        screenshot(page, 'scanner_camera')
        page.click('#camera-button')
        self.assertTrue(page.is_hidden('#camera'))
        self.assertEqual(self.scans(f's.ticket = {self.ids[9]}'),
            [(self.ids[9], 'ok', False, False, None)])

    def test_french(self):
        "The page speaks French by ?lang=fr and by the browser's language"
        self.run_page(self.check_french, 'french', locale='fr-FR')

    def check_french(self, page):
        page.goto(self.url)
        page.wait_for_selector('body[data-started="true"]', timeout=TIMEOUT)
        self.assertEqual(page.get_attribute('html', 'lang'), 'fr')
        self.assertEqual(page.inner_text('#login-title'),
            "Connecter cet appareil")
        page.fill('#key', 'not-a-key')
        page.press('#key', 'Enter')
        from playwright.sync_api import expect
        expect(page.locator('#login-error')).to_have_text(
            "Cette clé est inconnue ou a été révoquée.", timeout=TIMEOUT)
        page.errors.remove('Failed to load resource: the server responded '
            'with a status of 401 (UNAUTHORIZED)')
        self.login(page, self.key, lang='fr')
        self.type_code(page, self.codes[8], 'ok')
        self.assertEqual(page.inner_text('#result-title').lower(), 'valide')
        self.assertEqual(page.inner_text('#result-message'), 'Bienvenue.')
        self.assertEqual(page.inner_text('#net'), 'En ligne')
        screenshot(page, 'scanner_french')
        page.goto(f'{self.url}?lang=en')
        page.wait_for_selector('body[data-started="true"]', timeout=TIMEOUT)
        self.assertEqual(page.inner_text('#net'), 'Online')

    def test_offline_rules_match_the_server(self):
        "The browser's offline checks answer as the server's reference"
        from guichet.ticket_access.offline import OfflineVerifier
        ids = self.server.ids
        with self.server.transaction() as pool:
            Ticket = pool.get('ticket.ticket')
            CheckinList = pool.get('ticket.access.list')
            Device = pool.get('ticket.access.device')
            valid, used, cancelled = sell_tickets(
                pool, ids['sessions']['open'], 3)
            small, = sell_tickets(pool, ids['sessions']['small'], 1)
            concert, = sell_tickets(pool, ids['sessions']['concert'], 1)
            stranger, = sell_tickets(pool, ids['sessions']['other'], 1)
            Ticket.cancel([Ticket(cancelled.id)])
            anytime, (key,) = create_gate(
                pool, ids['events']['main'], name="Anytime")
            company = ids['companies']['Guichet']
            only_small, = CheckinList.create([{
                        'name': "Small only", 'event': ids['events']['main'],
                        'company': company,
                        'sessions': [('add', [ids['sessions']['small']])],
                        'open_before': None, 'close_after': None}])
            early, = CheckinList.create([{
                        'name': "Early", 'event': ids['events']['main'],
                        'company': company,
                        'open_before': dt.timedelta(hours=1)}])
            concert_door, = CheckinList.create([{
                        'name': "Concert door",
                        'event': ids['events']['concert'],
                        'company': company}])
            device, = Device.search([('name', '=', "Anytime 1")])
            Device.write([device], {'lists': [('add', [only_small.id,
                                early.id, concert_door.id])]})
            codes = {name: (Ticket(t.id).qr_data, t.secret) for name, t in [
                    ('valid', valid), ('used', used),
                    ('cancelled', cancelled), ('small', small),
                    ('concert', concert), ('stranger', stranger)]}
            lists = {'anytime': anytime, 'small': only_small.id,
                'early': early.id}
        headers = auth(key)
        reply = self.server.client.post(f'{CHECKIN}/scan',
            {'list': anytime, 'code': codes['used'][1]}, headers=headers)
        self.assertEqual(reply.json['result'], 'ok')
        bundle = self.server.client.get(f'{CHECKIN}/bundle',
            headers=headers).json
        # A ticket sold after the bundle: known offline by its signature
        with self.server.transaction() as pool:
            late, = sell_tickets(pool, ids['sessions']['open'], 1)
            late_signed, late_secret = late.qr_data, late.secret
        forged = codes['valid'][0][:-6] + (
            'AAAAAA' if codes['valid'][0][-6:] != 'AAAAAA' else 'BBBBBB')
        expected = {
            ('valid', 'anytime'): 'ok', ('used', 'anytime'): 'already_used',
            ('cancelled', 'anytime'): 'cancelled',
            ('concert', 'anytime'): 'wrong_list',
            ('small', 'anytime'): 'ok', ('valid', 'small'): 'wrong_session',
            ('small', 'small'): 'ok', ('valid', 'early'): 'not_yet_valid',
            ('used', 'early'): 'not_yet_valid',
            }
        cases = []
        for (ticket, list_name), result in expected.items():
            signed, secret = codes[ticket]
            cases += [(signed, list_name, result), (secret, list_name, result)]
        # (code, list, result with signatures, result with hashes only)
        cases = [(c, n, r, r) for c, n, r in cases] + [
            # Another organizer's: not in the bundle, nor is its key
            (codes['stranger'][0], 'anytime', 'invalid_signature',
                'unknown'),
            (codes['stranger'][1], 'anytime', 'unknown', 'unknown'),
            # Without signatures, only the bundle's tickets are known; a
            # code with the real secret is good whatever its signature.
            (late_signed, 'anytime', 'ok', 'unknown'),
            (late_secret, 'anytime', 'unknown', 'unknown'),
            (forged, 'anytime', 'invalid_signature', 'ok'),
            (codes['valid'][0][:60], 'anytime', 'invalid_signature',
                'invalid_signature'),
            ('G1' + 'A' * 200, 'anytime', 'invalid_signature',
                'invalid_signature'),
            ('no such ticket', 'anytime', 'unknown', 'unknown'),
            ]
        at = dt.datetime.now(dt.timezone.utc)
        reference = OfflineVerifier(bundle)
        python = [reference.check(code, lists[name], at.replace(
                    tzinfo=None))[0] for code, name, _, _ in cases]
        self.assertEqual(python, [r for _, _, r, _ in cases])

        def check(page):
            page.goto(self.url)
            page.wait_for_selector('body[data-started="true"]',
                timeout=TIMEOUT)
            self.browser_results = page.evaluate("""
                async ([bundle, cases, at]) => {
                    const {Verifier, supportsEd25519, useSignatures} =
                        await import('./static/verifier.js');
                    const results = {native: await supportsEd25519()};
                    for (const signatures of [true, false]) {
                        useSignatures(signatures);
                        const verifier = new Verifier(bundle);
                        const answers = [];
                        for (const [code, list] of cases) {
                            const found = await verifier.find(code);
                            answers.push(found.result || verifier.check(
                                found.ticket, list, new Date(at)).result);
                        }
                        results[signatures] = answers;
                    }
                    useSignatures(null);
                    return results;
                }""", [bundle, [[c, lists[n]] for c, n, _, _ in cases],
                    at.isoformat()])
        self.run_page(check, 'offline_rules')
        # Chromium verifies Ed25519 with WebCrypto.
        self.assertTrue(self.browser_results['native'])
        self.assertEqual(self.browser_results['true'], python)
        self.assertEqual(self.browser_results['false'],
            [r for _, _, _, r in cases])

    def test_pages_refuse_bad_requests(self):
        "An unknown database or file is a 404, never a 500"
        client = self.server.client
        for path in ['/static/nope.js', '/static/..%2Fscanner.py',
                '/static/sw.js']:
            reply = client.request('GET', '/ticket/scanner' + path)
            self.assertIn(reply.status, {404, 405}, reply)
        reply = client.request('GET', '/ticket/scanner/static/jsQR.js')
        self.assertEqual(reply.status, 200)
        self.assertIn(b'jsQR', reply.raw[:2000])
        reply = client.request('GET', '/ticket/scanner?lang=fr')
        self.assertEqual(reply.status, 301)
        self.assertTrue(reply.headers['Location'].endswith(
                '/ticket/scanner/?lang=fr'))
        reply = client.request('GET', '/ticket/scanner/sw.js')
        self.assertNotIn(b'__VERSION__', reply.raw)
        import http.client
        connection = http.client.HTTPConnection('127.0.0.1', self.server.port)
        connection.request('GET', '/no_such_db/ticket/scanner/')
        self.assertEqual(connection.getresponse().status, 404)
        connection.close()

    def test_dashboard(self):
        "The back office's check-in dashboard counts the gates' admissions"
        ids = self.server.ids
        company_id = ids['companies']['Guichet']
        with self.server.transaction(context={'company': company_id}) as pool:
            User = pool.get('res.user')
            Item = pool.get('ir.module.config_wizard.item')
            Item.write(Item.search([]), {'state': 'done'})
            admin, = User.search([('login', '=', 'admin')])
            User.write([admin], {
                    'password': PASSWORD,
                    'companies': [('add', [company_id])],
                    'company': company_id,
                    })
        for secret in self.secrets[6:8]:
            reply = self.server.client.post(f'{CHECKIN}/scan',
                {'list': self.list_id, 'code': secret},
                headers=auth(self.other_key))
            self.assertEqual(reply.status, 200)
        admitted = self.server.sql(
            'SELECT count(*) FROM ticket_access_entry WHERE list = %s '
            "AND state <> 'void'", (self.list_id,))[0][0]
        expected = self.server.sql(
            'SELECT count(*) FROM ticket_ticket WHERE session = %s '
            "AND state <> 'cancelled'", (ids['sessions']['open'],))[0][0]
        self.run_page(
            lambda page: self.check_dashboard(page, admitted, expected),
            'dashboard', viewport={'width': 1366, 'height': 900},
            timezone_id='Europe/Paris')

    def check_dashboard(self, page, admitted, expected):
        page.goto(f'http://127.0.0.1:{self.server.port}/'
            f'#{self.server.database}')
        for attempt in range(3):
            page.wait_for_load_state('networkidle', timeout=TIMEOUT)
            page.fill('#login', 'admin')
            page.press('#login', 'Enter')
            try:
                page.wait_for_selector(
                    'input[type=password]', timeout=TIMEOUT / 3)
                break
            except Exception:
                if attempt == 2:
                    raise
        page.fill('input[type=password]', PASSWORD)
        page.keyboard.press('Enter')
        page.wait_for_selector('text=Ticketing', timeout=TIMEOUT)
        if not page.is_visible('text="Check-in Dashboard"'):
            page.click('text=Ticketing')
            page.click('text="Check-in"')
        page.click('text="Check-in Dashboard"')
        from playwright.sync_api import expect
        lists = page.locator('.board-action').first
        expect(lists.locator('.panel-heading')).to_have_text(
            "Check-in Lists", timeout=TIMEOUT)
        row = lists.locator('tr', has_text="North Gate")
        row.wait_for(timeout=TIMEOUT)
        cells = [c.strip() for c in row.inner_text().split('\t')]
        self.assertEqual(cells[-3:-1], [str(admitted), str(expected)])
        for title in ["Admissions per Session", "Scans per Minute",
                "Last Offline Conflicts"]:
            page.wait_for_selector(
                f'.board-action .panel-heading:has-text("{title}")',
                timeout=TIMEOUT)
        screenshot(page, 'scanner_dashboard')
        # The web client asks for optional files (custom.css, custom.js,
        # its translations) that trytond does not serve.
        page.errors[:] = [e for e in page.errors
            if '405 (METHOD NOT ALLOWED)' not in e]
