"""PDFs of the box office: tickets for the thermal printer or A4 (the core's
ticket layouts, whose QR codes are drawn as one path per code, fast enough
for the tickets of a sale to be ready as soon as it is paid), the receipt of
an operation and the Z report of a cash session, drawn with reportlab."""
import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction

from guichet.ticket_event.common import format_local
from guichet.ticket_event.report import (
    THERMAL_WIDTH, TicketReport, TicketThermalReport)

LINE = 4.2 * mm


def ticket_pdf(tickets, printer='thermal'):
    "The PDF of tickets for the printer ('thermal' 80 mm or 'a4')"
    report = TicketThermalReport if printer == 'thermal' else TicketReport
    return report.render_pdf([t for t in tickets if t.state != 'cancelled'])


class _Paper:
    """A column of text lines drawn on a receipt roll (80 mm, as long as
    needed) or on A4"""

    def __init__(self, printer):
        self.rows = []
        self.printer = printer
        self.width = THERMAL_WIDTH if printer == 'thermal' else A4[0]
        self.margin = 4 * mm if printer == 'thermal' else 20 * mm
        self.size = 8 if printer == 'thermal' else 10

    def text(self, text, bold=False, size=None):
        size = size or self.size
        font = 'Helvetica-Bold' if bold else 'Helvetica'
        for line in simpleSplit(str(text), font, size,
                self.width - 2 * self.margin) or ['']:
            self.rows.append(('text', line, None, font, size))

    def pair(self, left, right, bold=False):
        font = 'Helvetica-Bold' if bold else 'Helvetica'
        self.rows.append(('pair', str(left), str(right), font, self.size))

    def rule(self):
        self.rows.append(('rule', None, None, None, None))

    def pdf(self, title):
        buffer = io.BytesIO()
        lead = self.size * 1.35
        height = max(len(self.rows) * lead + 20 * mm, 60 * mm)
        if self.printer != 'thermal':
            height = A4[1]
        pdf = canvas.Canvas(buffer, pagesize=(self.width, height))
        pdf.setTitle(title)
        y = height - 10 * mm
        right = self.width - self.margin
        for kind, left, other, font, size in self.rows:
            if y < 15 * mm and self.printer != 'thermal':
                pdf.showPage()
                y = height - 15 * mm
            if kind == 'rule':
                pdf.setLineWidth(0.5)
                pdf.line(self.margin, y + lead / 3, right, y + lead / 3)
            else:
                pdf.setFont(font, size)
                pdf.drawString(self.margin, y, left)
                if kind == 'pair':
                    pdf.drawRightString(right, y, other)
            y -= lead
        pdf.showPage()
        pdf.save()
        return buffer.getvalue()


def _money(amount, currency):
    lang = Pool().get('ir.lang').get()
    return lang.currency(amount, currency)


def _when(value, company):
    lang = Pool().get('ir.lang').get()
    return format_local(value, company.timezone or 'UTC', lang)


def receipt_pdf(operation, printer='thermal'):
    "The receipt of a box office operation"
    paper = _Paper(printer)
    company = operation.company
    currency = company.currency
    paper.text(company.rec_name, bold=True, size=paper.size + 3)
    paper.text(operation.point.name)
    if operation.point.address:
        paper.text(operation.point.address.full_address.replace('\n', ', '))
    paper.text(_when(operation.date, company))
    title = {
        'refund': 'msg_receipt_refund',
        'refund_credit': 'msg_receipt_refund',
        'exchange': 'msg_receipt_exchange',
        }.get(operation.kind, 'msg_receipt')
    paper.text(gettext(f'ticket_pos.{title}')
        + (f' {operation.sale.number}' if operation.sale else ''),
        bold=True, size=paper.size + 2)
    order = operation.new_order or operation.order
    paper.text(gettext('ticket_pos.msg_receipt_order', order=order.number))
    paper.text(gettext('ticket_pos.msg_receipt_operator',
            operator=operation.operator.rec_name))
    paper.rule()
    sale = operation.sale
    if sale:
        for line in sale.lines:
            quantity = int(line.quantity)
            paper.pair(f'{quantity} × {line.product.rec_name}',
                _money(line.gross_amount, currency))
        paper.rule()
        paper.pair(gettext('ticket_pos.msg_receipt_total'),
            _money(sale.total, currency), bold=True)
        paper.pair(gettext('ticket_pos.msg_receipt_tax'),
            _money(sale.total_tax, currency))
        for payment in sale.payments:
            paper.pair(payment.method.rec_name,
                _money(payment.amount, currency))
        if operation.change:
            paper.pair(gettext('ticket_pos.msg_receipt_change'),
                _money(operation.change, currency), bold=True)
    if operation.credit:
        paper.text(gettext('ticket_pos.msg_receipt_credit',
                code=operation.credit.code,
                amount=_money(operation.credit.amount, currency)), bold=True)
    if operation.kind == 'holder' and operation.note:
        paper.text(operation.note)
    for ticket in order.tickets:
        if ticket.state != 'cancelled':
            paper.text(f'{ticket.number} {ticket.type_label or ""}'
                f' {ticket.holder_name or ""}', size=paper.size - 1)
    return paper.pdf(gettext('ticket_pos.msg_receipt'))


def z_data(session):
    "The figures of the Z report of a cash session"
    operations = list(session.ticket_operations)
    kinds = [o.kind for o in operations]
    tickets = sum(len([t for t in o.order.tickets])
        for o in operations if o.kind == 'sale')
    return {
        'counts': [(c.method.rec_name, c.expected, c.counted, c.difference)
            for c in session.ticket_counts],
        'sales': kinds.count('sale'),
        'refunds': kinds.count('refund') + kinds.count('refund_credit'),
        'exchanges': kinds.count('exchange'),
        'tickets': tickets,
        }


def z_report_pdf(session, printer='a4'):
    "The Z report of a closed cash session: counts and differences"
    paper = _Paper(printer)
    point = session.point
    company = point.company
    currency = company.currency
    data = z_data(session)
    paper.text(company.rec_name, bold=True, size=paper.size + 3)
    paper.text(f'{gettext("ticket_pos.msg_z_report")} — {point.name} '
        f'#{session.id}', bold=True, size=paper.size + 2)
    if session.ticket_opened_at:
        paper.text(gettext('ticket_pos.msg_z_opened',
                date=_when(session.ticket_opened_at, company),
                user=(session.ticket_opened_by.rec_name
                    if session.ticket_opened_by else ''),
                amount=_money(session.ticket_float or 0, currency)))
    if session.ticket_closed_at:
        paper.text(gettext('ticket_pos.msg_z_closed',
                date=_when(session.ticket_closed_at, company),
                user=(session.ticket_closed_by.rec_name
                    if session.ticket_closed_by else '')))
    else:
        paper.text(gettext('ticket_pos.msg_z_not_closed'), bold=True)
    paper.text(gettext('ticket_pos.msg_z_operations', **{
                k: data[k] for k in
                ['sales', 'refunds', 'exchanges', 'tickets']}))
    paper.rule()
    for name, expected, counted, difference in data['counts']:
        paper.text(name, bold=True)
        paper.pair(gettext('ticket_pos.msg_z_expected'),
            _money(expected, currency))
        paper.pair(gettext('ticket_pos.msg_z_counted'),
            _money(counted, currency))
        paper.pair(gettext('ticket_pos.msg_z_difference'),
            _money(difference, currency), bold=bool(difference))
    paper.rule()
    return paper.pdf(gettext('ticket_pos.msg_z_report'))


class _PosReport(Report):

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        action_id = data.get('action_id') or ActionReport.search(
            [('report_name', '=', cls.__name__)], limit=1)[0].id
        action = ActionReport(action_id)
        Model = pool.get(action.model)
        cls.check_access(action, Model.__name__, ids)
        record = Model(ids[0])
        with Transaction().set_context(language=Transaction().context.get(
                    'language')):
            content = cls.render_record(record)
        return 'pdf', content, False, f'{action.name}-{record.id}'


class ReceiptReport(_PosReport):
    "The receipt of a box office operation"
    __name__ = 'ticket.pos.receipt'

    @classmethod
    def render_record(cls, operation):
        return receipt_pdf(operation, operation.point.ticket_printer)


class ZReport(_PosReport):
    "The Z report of a cash session"
    __name__ = 'ticket.pos.z_report'

    @classmethod
    def render_record(cls, session):
        return z_report_pdf(session)
