import datetime as dt
import io
import re
from decimal import Decimal

from pypdf import PdfReader

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from ..common import now
from .helpers import MM, create_event, pdf_text, reserve, sell


class ReportTestMixin:
    "PDF tickets"

    @with_transaction()
    def test_ticket_report(self):
        "The A4 ticket shows the event, date, price and numbers"
        pool = Pool()
        Order = pool.get('ticket.order')
        OrderLine = pool.get('ticket.order.line')
        TicketReport = pool.get('ticket.order.tickets', type='report')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(
                company, (10,), start=now().replace(
                    hour=19, minute=30, second=0, microsecond=0)
                + dt.timedelta(days=30))
            priced = Order.create_from_holds([reserve(session, 1)])
            OrderLine.write(list(priced.lines), {
                    'unit_price': Decimal('25'), 'description': "Adult"})
            Order.pay([priced])
            free = sell(session, 2)

            for order, price in [(priced, '25.00'), (free, 'Free')]:
                ext, content, _, name = TicketReport.execute([order.id], {})
                self.assertEqual(ext, 'pdf')
                self.assertTrue(content.startswith(b'%PDF'))
                self.assertIn(order.number, name)
                reader = PdfReader(io.BytesIO(content))
                self.assertEqual(len(reader.pages), len(order.tickets))
                self.assertAlmostEqual(
                    float(reader.pages[0].mediabox.width), 210 * MM, 0)
                text = pdf_text(content)
                self.assertIn("Concert", text)
                self.assertIn(
                    re.search(r'\d\d:\d\d', session.local_start).group(),
                    text)
                self.assertIn(price, text)
                self.assertIn(order.number, text)
                for ticket in order.tickets:
                    self.assertIn(ticket.number, text)

    @with_transaction()
    def test_thermal_report_width(self):
        "The thermal tickets are 80 mm wide"
        pool = Pool()
        Order = pool.get('ticket.order')
        ThermalReport = pool.get(
            'ticket.order.tickets_thermal', type='report')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = sell(session, 2)

            ext, content, _, _ = ThermalReport.execute([order.id], {})

            self.assertEqual(ext, 'pdf')
            pages = PdfReader(io.BytesIO(content)).pages
            self.assertEqual(len(pages), 2)
            for page in pages:
                self.assertAlmostEqual(
                    float(page.mediabox.width), 80 * MM, 1)
            self.assertIn(order.tickets[0].number, pdf_text(content))

            Order.cancel([order])
            _, content, _, _ = ThermalReport.execute([order.id], {})
            self.assertIn("no valid ticket", pdf_text(content))
