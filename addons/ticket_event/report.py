"""PDF tickets: one PDF per order with all its tickets, A4 or 80 mm."""
import io

import qrcode
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction

from .common import format_local

THERMAL_WIDTH = 80 * mm
THERMAL_HEIGHT = 180 * mm


# The mask is fixed rather than the best of the eight the standard scores:
# scoring them takes three quarters of the time of a code, and every scanner
# reads any mask (the code says which it uses).
QR_MASK = 0


def qr_matrix(data):
    "The modules of the QR code of data (level M, no border)"
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=0,
        mask_pattern=QR_MASK)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def draw_qr(pdf, data, x, y, size):
    """Draw the QR code of data on the canvas pdf, size points wide, its
    lower left corner at (x, y): one filled path of the dark runs of each
    row (a Drawing of one shape per module is twenty times slower).

    The operators are those of path.rect, byte for byte, but each number is
    formatted once per column, row and run length instead of once per
    rectangle (reportlab's fp_str is pure Python without rl_accel)."""
    matrix = qr_matrix(data)
    count = len(matrix)
    cell = size / count
    lefts = [fp_str(x + col * cell) for col in range(count)]
    widths = [None] + [fp_str(length * cell)
        for length in range(1, count + 1)]
    height = fp_str(cell)
    path = pdf.beginPath()
    for row, cells in enumerate(matrix):
        top = fp_str(y + size - (row + 1) * cell)
        start = None
        for col, dark in enumerate([*list(cells), False]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                # path.rect: its first call starts the path ('n')
                path._code_append(f'{lefts[start]} {top} '
                    f'{widths[col - start]} {height} re')
                start = None
    pdf.saveState()
    pdf.setFillColorRGB(0, 0, 0)
    pdf.drawPath(path, stroke=0, fill=1)
    pdf.restoreState()


def price_label(ticket):
    "The price of the ticket, or the word free (a legal requirement)"
    if not ticket.price:
        return gettext('ticket_event.msg_ticket_free')
    lang = Pool().get('ir.lang').get()
    return lang.currency(ticket.price, ticket.currency)


def ticket_fields(ticket):
    "The texts printed on a ticket, in print order"
    session = ticket.session
    event = session.event
    venue = session.effective_venue
    address = ''
    if venue.address:
        address = venue.address.full_address.replace('\n', ', ')
    config = Pool().get('ticket.configuration')(1)
    # A tariff's category prints above the tariff name
    category, _, label = (ticket.type_label or '').rpartition(' — ')
    return {
        'event': event.name,
        'session': format_local(session.start, event.timezone,
            Pool().get('ir.lang').get()) + (
            f' — {session.name}' if session.name else ''),
        'venue': ', '.join(filter(None, [venue.name, address])),
        'holder': ticket.holder_name or '',
        'category': category,
        'type': label,
        'admissions': '\n'.join(ticket.admission_labels),
        'price': price_label(ticket),
        'numbers': gettext('ticket_event.msg_ticket_numbers',
            order=ticket.order.number, ticket=ticket.number),
        'instructions': config.ticket_instructions or '',
        }


class _TicketPDF(Report):
    "Base of the ticket reports: reportlab instead of a template"

    page_size = A4

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Order = pool.get('ticket.order')
        ActionReport = pool.get('ir.action.report')
        action_id = data.get('action_id') or ActionReport.search(
            [('report_name', '=', cls.__name__)], limit=1)[0].id
        action = ActionReport(action_id)
        cls.check_access(action, Order.__name__, ids)
        orders = Order.browse(ids)
        content = cls.orders_pdf(orders)
        name = action.name
        if len(orders) == 1:
            name = f'{action.name}-{orders[0].number}'
        return 'pdf', content, False, name

    @classmethod
    def orders_pdf(cls, orders):
        """The PDF of the tickets of orders, in the language of the first
        one's party: what execute returns, without the report's action (its
        name, its access check) for the code that only wants the file"""
        tickets = [t for o in orders for t in o.tickets
            if t.state != 'cancelled']
        with Transaction().set_context(language=(
                    orders[0].party.lang.code
                    if orders and orders[0].party and orders[0].party.lang
                    else Transaction().context.get('language'))):
            return cls.render_pdf(tickets)

    @classmethod
    def render_pdf(cls, tickets):
        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pagesize=cls.page_size)
        pdf.setTitle('Tickets')
        for ticket in tickets:
            cls.draw_ticket(pdf, ticket)
            pdf.showPage()
        if not tickets:
            pdf.drawString(20 * mm, 20 * mm, gettext(
                    'ticket_event.msg_ticket_none'))
            pdf.showPage()
        pdf.save()
        return buffer.getvalue()

    @classmethod
    def draw_text(cls, pdf, x, y, text, width, font='Helvetica', size=10,
            leading=None):
        "Draw text wrapped at width from (x, y) downwards; return new y"
        leading = leading or size * 1.25
        pdf.setFont(font, size)
        for line in simpleSplit(text, font, size, width):
            pdf.drawString(x, y, line)
            y -= leading
        return y

    @classmethod
    def draw_lines(cls, pdf, x, y, text, width, **kwargs):
        "Draw each line of text wrapped at width; return new y"
        for line in text.splitlines():
            y = cls.draw_text(pdf, x, y, line, width, **kwargs)
        return y


class TicketReport(_TicketPDF):
    "Tickets of an order, one A4 page each"
    __name__ = 'ticket.order.tickets'

    @classmethod
    def draw_ticket(cls, pdf, ticket):
        fields = ticket_fields(ticket)
        width, height = cls.page_size
        margin = 18 * mm
        text_width = width - 2 * margin - 60 * mm
        pdf.setLineWidth(0.8)
        pdf.roundRect(margin, height - margin - 100 * mm,
            width - 2 * margin, 100 * mm, 4 * mm)
        x, y = margin + 8 * mm, height - margin - 14 * mm
        y = cls.draw_text(pdf, x, y, fields['event'], text_width,
            'Helvetica-Bold', 18)
        y = cls.draw_text(pdf, x, y - 2 * mm, fields['session'], text_width,
            'Helvetica-Bold', 12)
        y = cls.draw_text(pdf, x, y, fields['venue'], text_width, size=10)
        y -= 4 * mm
        if fields['category']:
            y = cls.draw_text(pdf, x, y, fields['category'], text_width,
                size=10)
        y = cls.draw_text(pdf, x, y, fields['type'], text_width,
            'Helvetica-Bold', 12)
        y = cls.draw_lines(pdf, x, y, fields['admissions'], text_width,
            size=9)
        y = cls.draw_text(pdf, x, y, fields['price'], text_width, size=12)
        y = cls.draw_text(pdf, x, y, fields['holder'], text_width, size=11)
        y -= 2 * mm
        cls.draw_text(pdf, x, y, fields['numbers'], text_width, size=9)
        qr_size = 52 * mm
        draw_qr(pdf, ticket.qr_data, width - margin - qr_size - 6 * mm,
            height - margin - qr_size - 8 * mm, qr_size)
        pdf.setFont('Helvetica', 7)
        pdf.drawCentredString(width - margin - 6 * mm - qr_size / 2,
            height - margin - qr_size - 13 * mm, ticket.number)
        cls.draw_text(pdf, margin + 8 * mm, height - margin - 90 * mm,
            fields['instructions'], width - 2 * margin - 16 * mm, size=8)


class TicketThermalReport(_TicketPDF):
    "Tickets of an order for an 80 mm thermal printer"
    __name__ = 'ticket.order.tickets_thermal'
    page_size = (THERMAL_WIDTH, THERMAL_HEIGHT)

    @classmethod
    def draw_ticket(cls, pdf, ticket):
        fields = ticket_fields(ticket)
        width, height = cls.page_size
        margin = 4 * mm
        text_width = width - 2 * margin
        x, y = margin, height - 8 * mm
        y = cls.draw_text(pdf, x, y, fields['event'], text_width,
            'Helvetica-Bold', 13)
        y = cls.draw_text(pdf, x, y, fields['session'], text_width,
            'Helvetica-Bold', 10)
        y = cls.draw_text(pdf, x, y, fields['venue'], text_width, size=8)
        y -= 2 * mm
        if fields['category']:
            y = cls.draw_text(pdf, x, y, fields['category'], text_width,
                size=8)
        y = cls.draw_text(pdf, x, y, fields['type'], text_width,
            'Helvetica-Bold', 10)
        y = cls.draw_lines(pdf, x, y, fields['admissions'], text_width,
            size=8)
        y = cls.draw_text(pdf, x, y, fields['price'], text_width, size=10)
        y = cls.draw_text(pdf, x, y, fields['holder'], text_width, size=9)
        qr_size = 50 * mm
        y -= qr_size + 2 * mm
        draw_qr(pdf, ticket.qr_data, (width - qr_size) / 2, y, qr_size)
        y -= 5 * mm
        y = cls.draw_text(pdf, x, y, fields['numbers'], text_width, size=8)
        cls.draw_text(pdf, x, y - 2 * mm, fields['instructions'],
            text_width, size=7)
