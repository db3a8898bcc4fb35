"""The back office in a real headless Chromium: the Tryton web client (sao)
served by trytond shows the ticketing menus, the calendar of sessions, the
pools with their counts, an order with its tickets, and prints the PDF."""
import datetime as dt
import pathlib

from tests.browser import ServerTestCase, browser_page, screenshot

PASSWORD = 'backoffice-test-42'
# Generous: the CI machine has 2 cores shared with the server and database
TIMEOUT = 90_000


class BackOfficeBrowserTest(ServerTestCase):

    database = 'test_backoffice_browser'

    @classmethod
    def prepare(cls):
        "The admin's password and company, a session in 2 days, an order"
        ids = cls.server.ids
        company_id = ids['companies']['Guichet']
        with cls.server.transaction(context={'company': company_id}) as pool:
            User = pool.get('res.user')
            Session = pool.get('ticket.session')
            Hold = pool.get('ticket.hold')
            Order = pool.get('ticket.order')
            Party = pool.get('party.party')
            Item = pool.get('ir.module.config_wizard.item')
            Item.write(Item.search([]), {'state': 'done'})
            admin, = User.search([('login', '=', 'admin')])
            User.write([admin], {
                    'password': PASSWORD,
                    'companies': [('add', [company_id])],
                    'company': company_id,
                    })
            template = Session(ids['sessions']['open'])
            start = dt.datetime.combine(
                dt.date.today() + dt.timedelta(days=2), dt.time(19))
            session, = Session.copy([template], default={
                    'start': start, 'end': start + dt.timedelta(hours=2),
                    'name': 'Avant-premiere'})
            Session.open_sale([session])
            buyer = Party(name='Ada Lovelace')
            buyer.save()
            hold = Hold.reserve([{'session': session, 'quantity': 3,
                        'description': 'Full price'}], channel='box_office')
            order = Order.create_from_holds([hold], party=buyer,
                email='ada@example.org')
            Order.pay([order])
            cls.order_number = order.number
            cls.pool_name = session.pool.name
            cls.session_name = session.name

    def login(self, page):
        page.goto(f'http://127.0.0.1:{self.server.port}/'
            f'#{self.server.database}')
        # The dialog fills its database list asynchronously: submit once
        # the page is idle, and again if the password step does not come.
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
                    screenshot(page, 'backoffice_login_failed')
                    raise
        page.fill('input[type=password]', PASSWORD)
        page.keyboard.press('Enter')
        try:
            page.wait_for_selector('text=Ticketing', timeout=TIMEOUT)
        except Exception:
            screenshot(page, 'backoffice_login_failed')
            raise

    def open_menu(self, page, name, column=None):
        "Open the menu entry name; wait for its list showing column"
        if not page.is_visible(f'text="{name}"'):
            page.click('text=Ticketing')
        page.click(f'text="{name}"')
        if column:
            page.wait_for_selector(
                f'.tab-pane.active th:has-text("{column}")', timeout=TIMEOUT)

    def test_calendar_pools_order_and_pdf(self):
        with browser_page(timezone_id='Europe/Paris') as page:
            try:
                self.check_back_office(page)
            except Exception as exception:
                screenshot(page, 'backoffice_failure')
                if page.errors:
                    raise AssertionError("browser errors:\n"
                        + '\n'.join(page.errors)) from exception
                raise

    def check_back_office(self, page):
        if True:
            self.login(page)

            self.open_menu(page, 'Session Calendar')
            event = page.wait_for_selector(
                f'.fc-event:has-text("{self.session_name}")', timeout=TIMEOUT)
            self.assertIn('main', event.inner_text())
            screenshot(page, 'backoffice_session_calendar')

            self.open_menu(page, 'Capacity Pools', 'Held')
            row = page.wait_for_selector(
                f'.tab-pane.active tr:has-text("{self.pool_name}")',
                timeout=TIMEOUT)
            cells = [c.strip() for c in row.inner_text().split('\t')]
            # capacity 1000, sold 3, held 0, available 997
            self.assertIn('997', cells)
            self.assertIn('3', cells)
            screenshot(page, 'backoffice_pools')

            self.open_menu(page, 'Orders', 'Channel')
            page.click('.tab-pane.active a:has-text("Paid")')
            row = page.wait_for_selector(
                f'.tab-pane.active tr:has-text("{self.order_number}")',
                timeout=TIMEOUT)
            self.assertIn('Ada Lovelace', row.inner_text())
            row.dblclick()
            tickets_tab = page.locator(
                '.tab-pane.active .nav-tabs a', has_text='Tickets').first
            tickets_tab.wait_for(timeout=TIMEOUT)
            tickets_tab.click()
            cells = page.locator('.tab-pane.active td:visible',
                has_text='T0000')
            cells.first.wait_for(timeout=TIMEOUT)
            self.assertEqual(cells.count(), 3)
            screenshot(page, 'backoffice_order')

            with page.expect_download(timeout=TIMEOUT) as download_info:
                page.click('.tab-pane.active button#print:visible')
                page.click('.dropdown-menu a:visible:text-is("Tickets")')
            path = download_info.value.path()
            content = pathlib.Path(path).read_bytes()
            self.assertTrue(content.startswith(b'%PDF'))
            pages = self.pdf_pages(content)
            self.assertEqual(len(pages), 3)
            for text in pages:
                self.assertIn(self.order_number, text)
                self.assertIn('Ada Lovelace', text)

    @staticmethod
    def pdf_pages(content):
        import io

        from pypdf import PdfReader
        return [p.extract_text()
            for p in PdfReader(io.BytesIO(content)).pages]
