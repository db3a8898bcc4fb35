"""Reports of the ticketing ledger: the remittance statement (PDF with
reportlab, XLSX with xlsxwriter), the VAT report by rate and tariff, the
sales journal and the deferred revenue balance by session (XLSX).

The ledger reports add up the entries' lines in SQL, so that they stay fast
over millions of tickets (see bench/remittance.py)."""
import datetime as dt
import io
from decimal import Decimal

import xlsxwriter
import xlsxwriter.utility
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle)
from sql.aggregate import Sum
from sql.conditionals import Case, Coalesce

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction
from trytond.wizard import Button, StateReport, StateView, Wizard

ZERO = Decimal(0)
SALE_POSTINGS = ['payment', 'refund', 'credit', 'credit_back',
    'refund_credit']


def _(name, **kwargs):
    return gettext(f'ticket_accounting.msg_report_{name}', **kwargs)


def _check(cls, model, ids, data):
    ActionReport = Pool().get('ir.action.report')
    action_id = data.get('action_id') or ActionReport.search(
        [('report_name', '=', cls.__name__)], limit=1)[0].id
    action = ActionReport(action_id)
    cls.check_access(action, model, ids)
    return action


def vat_rows(company, start, end):
    """[(tax, tariff, base, VAT)] collected by the company between start and
    end: the VAT of its tickets, fees and products and of its
    commissions"""
    pool = Pool()
    Line = pool.get('ticket.accounting.posting.line')
    Posting = pool.get('ticket.accounting.posting')
    Tax = pool.get('account.tax')
    Tariff = pool.get('ticket.tariff')
    line = Line.__table__()
    posting = Posting.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*line.join(posting, condition=line.posting == posting.id
            ).select(line.tax, line.tariff, Sum(line.base),
            Sum(-line.amount),
            where=(posting.company == company.id)
            & (posting.date >= start) & (posting.date <= end)
            & line.kind.in_(['tax', 'commission_tax']),
            group_by=[line.tax, line.tariff]))
    rows = cursor.fetchall()
    taxes = {t.id: t for t in Tax.browse({r[0] for r in rows})}
    tariffs = {t.id: t for t in Tariff.browse(
            {r[1] for r in rows if r[1]})}
    return sorted(((taxes[r[0]], tariffs.get(r[1]), Decimal(r[2] or 0),
                Decimal(r[3] or 0)) for r in rows),
        key=lambda r: (r[0].rate, r[0].id, r[1].name if r[1] else '',
            r[1].id if r[1] else 0))


def journal_rows(company, start, end):
    """[(date, session, tariff, channel, method, kind, excl. VAT, VAT,
    tickets)] of the sales and refunds between start and end (a session
    and tariff empty for fees and products)"""
    pool = Pool()
    Line = pool.get('ticket.accounting.posting.line')
    Posting = pool.get('ticket.accounting.posting')
    Session = pool.get('ticket.session')
    Tariff = pool.get('ticket.tariff')
    line = Line.__table__()
    posting = Posting.__table__()
    cursor = Transaction().connection.cursor()
    vat = line.kind.in_(['tax', 'mandate_tax'])
    cursor.execute(*line.join(posting, condition=line.posting == posting.id
            ).select(posting.date, line.session, line.tariff,
            posting.channel, posting.method, posting.kind,
            Sum(Case((vat, ZERO), else_=-line.amount)),
            Sum(Case((vat, -line.amount), else_=ZERO)),
            Sum(Case((line.kind.in_(['deferred', 'revenue', 'mandate']),
                        Coalesce(line.quantity, 0)), else_=0)),
            where=(posting.company == company.id)
            & (posting.date >= start) & (posting.date <= end)
            & posting.kind.in_(list(SALE_POSTINGS))
            & line.kind.in_(['deferred', 'revenue', 'fee', 'mandate',
                    'tax', 'mandate_tax']),
            group_by=[posting.date, line.session, line.tariff,
                posting.channel, posting.method, posting.kind],
            order_by=[posting.date, line.session, line.tariff,
                posting.channel, posting.method, posting.kind]))
    rows = cursor.fetchall()
    sessions = {s.id: s for s in Session.browse(
            {r[1] for r in rows if r[1]})}
    tariffs = {t.id: t for t in Tariff.browse({r[2] for r in rows if r[2]})}
    return [(r[0], sessions.get(r[1]), tariffs.get(r[2]), r[3], r[4], r[5],
            Decimal(r[6]), Decimal(r[7]), int(r[8] or 0)) for r in rows]


def levy_rows(company, start, end):
    """[(levy, event, base excl. VAT, amount)] of the levies booked by
    company between start and end, per levy and event: the levies
    statement (the show tax of the CNM or ASTP, the SACEM's authors'
    rights)"""
    pool = Pool()
    Line = pool.get('ticket.accounting.posting.line')
    Posting = pool.get('ticket.accounting.posting')
    Session = pool.get('ticket.session')
    Event = pool.get('ticket.event')
    Levy = pool.get('ticket.accounting.levy')
    line = Line.__table__()
    posting = Posting.__table__()
    session = Session.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*line.join(posting, condition=line.posting == posting.id
            ).join(session, condition=line.session == session.id
            ).select(line.levy, session.event, Sum(line.base),
            Sum(-line.amount),
            where=(posting.company == company.id)
            & (posting.date >= start) & (posting.date <= end)
            & (line.kind == 'levy'),
            group_by=[line.levy, session.event]))
    rows = cursor.fetchall()
    levies = {l.id: l for l in Levy.browse({r[0] for r in rows})}
    events = {e.id: e for e in Event.browse({r[1] for r in rows})}
    return sorted(((levies[r[0]], events[r[1]], Decimal(r[2] or 0),
                Decimal(r[3] or 0)) for r in rows if r[2] or r[3]),
        key=lambda r: (r[0].name, r[0].id, r[1].rec_name, r[1].id))


def deferred_rows(company, date):
    """[(session, deferred balance)] of the company's sessions at date,
    without the zeros"""
    pool = Pool()
    Line = pool.get('ticket.accounting.posting.line')
    Posting = pool.get('ticket.accounting.posting')
    Session = pool.get('ticket.session')
    line = Line.__table__()
    posting = Posting.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*line.join(posting, condition=line.posting == posting.id
            ).select(line.session, Sum(-line.amount),
            where=(posting.company == company.id) & (posting.date <= date)
            & (line.kind == 'deferred'),
            group_by=[line.session]))
    rows = [(s, Decimal(b)) for s, b in cursor.fetchall() if b]
    sessions = {s.id: s for s in Session.browse([r[0] for r in rows if r[0]])}
    return sorted(((sessions.get(s), b) for s, b in rows),
        key=lambda r: (r[0].start if r[0] else dt.datetime.min,
            r[0].id if r[0] else 0))


def money(value):
    return float(value or 0)


def _workbook():
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {'in_memory': True})
    formats = {
        'bold': workbook.add_format({'bold': True}),
        'money': workbook.add_format({'num_format': '#,##0.00'}),
        'total': workbook.add_format({'bold': True,
                'num_format': '#,##0.00', 'top': 1}),
        'date': workbook.add_format({'num_format': 'yyyy-mm-dd'}),
        }
    return buffer, workbook, formats


def _sheet(workbook, formats, name, headers, rows, money_columns,
        total=True):
    "A sheet of rows under headers, money columns summed at the bottom"
    sheet = workbook.add_worksheet(name[:31])
    for column, header in enumerate(headers):
        sheet.write(0, column, header, formats['bold'])
        sheet.set_column(column, column, 14 if column in money_columns
            else 24)
    for row, values in enumerate(rows, 1):
        for column, value in enumerate(values):
            if column in money_columns:
                sheet.write_number(row, column, money(value),
                    formats['money'])
            elif isinstance(value, dt.date):
                sheet.write_datetime(row, column,
                    dt.datetime.combine(value, dt.time()), formats['date'])
            elif isinstance(value, (int, float)):
                sheet.write_number(row, column, value)
            else:
                sheet.write(row, column, '' if value is None else str(value))
    if total and rows:
        last = len(rows) + 1
        sheet.write(last, 0, _('total'), formats['bold'])
        for column in money_columns:
            letter = xlsxwriter.utility.xl_col_to_name(column)
            sheet.write_formula(last, column,
                f'=SUM({letter}2:{letter}{last})', formats['total'],
                money(sum((r[column] or 0 for r in rows), ZERO)))
    sheet.freeze_panes(1, 0)
    return sheet


def statement_table(statement):
    "The rows of the statement's lines: headers, rows, money columns"
    headers = [_('session'), _('tariff'), _('vat_rate'), _('tickets'),
        _('gross'), _('refunds'), _('untaxed'), _('vat'), _('amount')]
    rows = []
    for line in statement.lines:
        if line.kind == 'fee':
            continue
        if line.kind == 'sales':
            rows.append([
                    line.session.rec_name if line.session else '',
                    line.tariff.rec_name,
                    line.tax.rec_name if line.tax else '', line.quantity,
                    line.gross, line.refunds, line.untaxed, line.vat,
                    line.amount])
        else:
            rows.append([line.rec_name, '', '', None, None, None, None,
                    None, line.amount])
    return headers, rows, {4, 5, 6, 7, 8}


def fee_table(statement):
    """The rows of the statement's booking fees (for information, not in
    the net due): headers, rows, money columns"""
    headers = [_('fee'), _('vat_rate'), _('quantity'), _('gross'),
        _('refunds'), _('untaxed'), _('vat'), _('total')]
    rows = [[line.product.rec_name, line.tax.rec_name if line.tax else '',
            line.quantity, line.gross, line.refunds, line.untaxed, line.vat,
            line.gross - line.refunds]
        for line in statement.lines if line.kind == 'fee']
    return headers, rows, {3, 4, 5, 6, 7}


def statement_xlsx(statement):
    buffer, workbook, formats = _workbook()
    headers, rows, money_columns = statement_table(statement)
    sheet = _sheet(workbook, formats, _('statement'), headers, rows,
        money_columns)
    last = len(rows) + 3
    sheet.write(last, 0, _('net_due'), formats['bold'])
    sheet.write_number(last, 8, money(statement.net_due), formats['total'])
    sheet.write(last + 1, 0, statement.in_words(
            Transaction().language))
    vat = workbook.add_worksheet(_('vat_by_rate')[:31])
    for column, header in enumerate([_('vat_rate'), _('untaxed'),
                _('vat')]):
        vat.write(0, column, header, formats['bold'])
    for row, (tax, base, amount) in enumerate(statement.vat_by_rate(), 1):
        vat.write(row, 0, tax.rec_name if tax else '')
        vat.write_number(row, 1, money(base), formats['money'])
        vat.write_number(row, 2, money(amount), formats['money'])
    headers, rows, money_columns = fee_table(statement)
    if rows:
        fees = _sheet(workbook, formats, _('fees_sheet'), headers, rows,
            money_columns)
        fees.write(len(rows) + 3, 0, _('fees'))
    workbook.close()
    return buffer.getvalue()


def statement_pdf(statement):
    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    document = SimpleDocTemplate(buffer, pagesize=A4,
        leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
        bottomMargin=15 * mm, title=statement.rec_name)
    states = dict(statement.fields_get(['state'])['state']['selection'])
    story = [
        Paragraph(statement.company.rec_name, styles['Normal']),
        Paragraph(_('statement_title'), styles['Title']),
        Paragraph(' · '.join(filter(None, [
                        statement.producer.rec_name if statement.producer
                        else None,
                        statement.event.rec_name if statement.event
                        else None,
                        _('period', start=statement.start_date,
                            end=statement.end_date),
                        states[statement.state],
                        ])), styles['Normal']),
        Spacer(0, 6 * mm),
        ]
    headers, rows, money_columns = statement_table(statement)
    small = styles['BodyText'].clone('small', fontSize=7.5, leading=9)

    def cell(value, column):
        if value is None:
            return ''
        if column in money_columns:
            return f'{value:,.2f}'.replace(',', ' ')
        return Paragraph(str(value), small)
    data = [[Paragraph(f'<b>{h}</b>', small) for h in headers]]
    data += [[cell(v, c) for c, v in enumerate(row)] for row in rows]
    data.append([Paragraph(f'<b>{_("net_due")}</b>', small)] + [''] * 7
        + [cell(statement.net_due, 8)])
    table = Table(data, repeatRows=1, colWidths=[
            48 * mm, 30 * mm, 17 * mm, 12 * mm] + [15 * mm] * 4 + [16 * mm])
    table.setStyle(TableStyle([
                ('FONTSIZE', (0, 0), (-1, -1), 7.5),
                ('ALIGN', (3, 1), (-1, -1), 'RIGHT'),
                ('LINEBELOW', (0, 0), (-1, 0), 0.5, colors.black),
                ('LINEABOVE', (0, -1), (-1, -1), 0.5, colors.black),
                ('VALIGN', (0, 0), (-1, -1), 'TOP'),
                ]))
    story.append(table)
    story.append(Spacer(0, 4 * mm))
    vat = [[_('vat_rate'), _('untaxed'), _('vat')]] + [
        [tax.rec_name if tax else '', cell(base, 4), cell(amount, 4)]
        for tax, base, amount in statement.vat_by_rate()]
    story.append(Table(vat, style=TableStyle([
                    ('FONTSIZE', (0, 0), (-1, -1), 8),
                    ('ALIGN', (1, 0), (-1, -1), 'RIGHT'),
                    ('LINEBELOW', (0, 0), (-1, 0), 0.5, colors.black),
                    ])))
    headers, rows, fee_money = fee_table(statement)
    if rows:
        story.append(Spacer(0, 4 * mm))
        story.append(Paragraph(f'<b>{_("fees")}</b>', small))
        data = [[Paragraph(f'<b>{h}</b>', small) for h in headers]]
        data += [[Paragraph(str(v), small) if c < 2 else (
                    f'{v:,.2f}'.replace(',', ' ') if c in fee_money
                    else str(v)) for c, v in enumerate(row)]
            for row in rows]
        if len(rows) > 1:
            data.append([Paragraph(f'<b>{_("total")}</b>', small), '', '']
                + [f'{sum((r[c] for r in rows), ZERO):,.2f}'.replace(
                        ',', ' ') for c in sorted(fee_money)])
        table = Table(data, repeatRows=1, colWidths=[
                48 * mm, 22 * mm, 16 * mm] + [18 * mm] * 5)
        table.setStyle(TableStyle([
                    ('FONTSIZE', (0, 0), (-1, -1), 7.5),
                    ('ALIGN', (2, 1), (-1, -1), 'RIGHT'),
                    ('LINEBELOW', (0, 0), (-1, 0), 0.5, colors.black),
                    ('VALIGN', (0, 0), (-1, -1), 'TOP'),
                    ]))
        story.append(table)
    story.append(Spacer(0, 4 * mm))
    story.append(Paragraph(_('in_words', amount=statement.in_words(
                    Transaction().language)), styles['Normal']))
    document.build(story)
    return buffer.getvalue()


class StatementPDF(Report):
    "Remittance statement (PDF)"
    __name__ = 'ticket.accounting.statement.pdf'

    @classmethod
    def execute(cls, ids, data):
        Statement = Pool().get('ticket.accounting.statement')
        action = _check(cls, Statement.__name__, ids, data)
        statement = Statement(ids[0])
        return ('pdf', statement_pdf(statement), False,
            f'{action.name}-{statement.rec_name}')


class StatementXLSX(Report):
    "Remittance statement (XLSX)"
    __name__ = 'ticket.accounting.statement.xlsx'

    @classmethod
    def execute(cls, ids, data):
        Statement = Pool().get('ticket.accounting.statement')
        action = _check(cls, Statement.__name__, ids, data)
        statement = Statement(ids[0])
        return ('xlsx', statement_xlsx(statement), False,
            f'{action.name}-{statement.rec_name}')


def ledger_xlsx(company, kind, start, end):
    "The XLSX of a ledger report: vat, journal or deferred"
    buffer, workbook, formats = _workbook()
    if kind == 'vat':
        rows = [[t.rec_name, f'{t.rate * 100:g} %' if t.rate is not None
                else '', tariff.rec_name if tariff else _('other'),
                base, vat] for t, tariff, base, vat in vat_rows(
                company, start, end)]
        _sheet(workbook, formats, _('vat_report'), [_('tax'),
                _('vat_rate'), _('tariff'), _('untaxed'), _('vat')], rows,
            {3, 4})
    elif kind == 'journal':
        rows = [[date, session.event.rec_name if session else '',
                session.rec_name if session else '',
                tariff.rec_name if tariff else _('other'), channel or '',
                method or '', posting_kind, tickets, untaxed, vat,
                untaxed + vat]
            for (date, session, tariff, channel, method, posting_kind,
                untaxed, vat, tickets) in journal_rows(company, start, end)]
        _sheet(workbook, formats, _('sales_journal'), [_('date'),
                _('event'), _('session'), _('tariff'), _('channel'),
                _('method'), _('kind'), _('tickets'), _('untaxed'),
                _('vat'), _('amount')], rows, {8, 9, 10})
    elif kind == 'levies':
        rows = [[levy.name, levy.collector.rec_name if levy.collector
                else '', event.rec_name, base,
                f'{(levy.rate * 100).normalize():f} %',
                amount]
            for levy, event, base, amount in levy_rows(company, start, end)]
        _sheet(workbook, formats, _('levies_statement'), [_('levy'),
                _('collector'), _('event'), _('untaxed'), _('rate'),
                _('amount')], rows, {3, 5})
    else:
        rows = [[session.event.rec_name if session else '',
                session.rec_name if session else '',
                _('recognized') if session and session.revenue_recognized
                else '', balance]
            for session, balance in deferred_rows(company, end)]
        _sheet(workbook, formats, _('deferred_revenue'), [_('event'),
                _('session'), _('state'), _('deferred')], rows, {3})
    workbook.close()
    return buffer.getvalue()


class LedgerReport(Report):
    "Ticketing ledger report (XLSX)"
    __name__ = 'ticket.accounting.ledger_report'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Company = pool.get('company.company')
        ActionReport = pool.get('ir.action.report')
        action, = ActionReport.search(
            [('report_name', '=', cls.__name__)], limit=1)
        company = Company(data['company'])
        start = dt.date.fromisoformat(str(data['start_date']))
        end = dt.date.fromisoformat(str(data['end_date']))
        kind = data['kind']
        return ('xlsx', ledger_xlsx(company, kind, start, end), False,
            f'{kind}-{start}-{end}')


class LedgerReportStart(ModelView):
    "Ticketing ledger report"
    __name__ = 'ticket.accounting.ledger_report.start'
    company = fields.Many2One('company.company', "Company", required=True)
    kind = fields.Selection([
            ('vat', "VAT by Rate and Tariff"),
            ('journal', "Sales Journal"),
            ('deferred', "Deferred Revenue by Session"),
            ('levies', "Levies Statement"),
            ], "Report", required=True)
    start_date = fields.Date("Start Date", required=True)
    end_date = fields.Date("End Date", required=True,
        help="For the deferred revenue: the balance at this date.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_kind(cls):
        return 'vat'

    @classmethod
    def default_start_date(cls):
        return Pool().get('ir.date').today().replace(day=1)

    @classmethod
    def default_end_date(cls):
        return Pool().get('ir.date').today()


class PrintLedgerReport(Wizard):
    "Print a ticketing ledger report"
    __name__ = 'ticket.accounting.ledger_report.print'
    start = StateView('ticket.accounting.ledger_report.start',
        'ticket_accounting.ledger_report_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateReport('ticket.accounting.ledger_report')

    def do_print_(self, action):
        return action, {
            'company': self.start.company.id,
            'kind': self.start.kind,
            'start_date': self.start.start_date.isoformat(),
            'end_date': self.start.end_date.isoformat(),
            }
