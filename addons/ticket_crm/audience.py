"""Using a segment: its members as customers, an XLSX or CSV file, a
marketing_email mailing list (consenting members only), the audience of a
marketing_automation scenario."""
import csv
import io

from sql import Literal, Null
from sql.aggregate import Count, Max, Min, Sum

from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, PYSONEncoder
from trytond.tools.email_ import EmailNotValidError, validate_email
from trytond.transaction import Transaction, inactive_records
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .consent import PURPOSES


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'
    segments = fields.Function(fields.Many2Many(
            'ticket.crm.segment', None, None, "Segments", readonly=True),
        'get_segments', searcher='search_segments')

    @classmethod
    def get_segments(cls, parties, name):
        Segment = Pool().get('ticket.crm.segment')
        ids = {p.id for p in parties}
        result = {p.id: [] for p in parties}
        for segment in Segment.search([]):
            query = segment.query()
            cursor = Transaction().connection.cursor()
            cursor.execute(*query.select(query.id,
                    where=query.id.in_(list(ids))))
            for party_id, in cursor:
                result[party_id].append(segment.id)
        return result

    @classmethod
    def search_segments(cls, name, clause):
        "('segments', '=', id): the members of the segment"
        Segment = Pool().get('ticket.crm.segment')
        _, operator, value = clause[:3]
        if operator not in {'=', '!='} or not isinstance(value, int):
            return [('id', '=', -1)]
        query = Segment(value).query()
        return [('id', 'in' if operator == '=' else 'not in', query)]


def member_rows(segment):
    """The members of segment with what an export shows, in one query:
    code, name, email, phone, postal code, city, country, orders, amount,
    first and last purchase, R, F, M, marketing and newsletter consent"""
    pool = Pool()
    Party = pool.get('party.party')
    Mechanism = pool.get('party.contact_mechanism')
    Address = pool.get('party.address')
    Country = pool.get('country.country')
    History = pool.get('ticket.crm.history')
    Score = pool.get('ticket.crm.rfm')
    Consent = pool.get('ticket.crm.consent')
    company = segment.company.id
    members = segment.query()
    party = Party.__table__()
    country = Country.__table__()
    score = Score.__table__()

    def first_mechanism(type_):
        mechanism = Mechanism.__table__()
        return mechanism.select(mechanism.party, Min(mechanism.value).as_(
                'value'), where=(mechanism.type == type_)
            & (mechanism.active == Literal(True)),
            group_by=[mechanism.party])
    email, phone = first_mechanism('email'), first_mechanism('phone')
    address_ = Address.__table__()
    first_address = address_.select(Min(address_.id).as_('id'),
        address_.party, where=address_.active == Literal(True),
        group_by=[address_.party])
    address = Address.__table__()
    orders = History.orders(company)
    stats = orders.select(orders.party, Count(orders.order).as_('count'),
        Sum(orders.amount).as_('amount'), Min(orders.paid_at).as_('first'),
        Max(orders.paid_at).as_('last'), group_by=[orders.party])
    marketing = Consent.consenting('marketing', company)
    newsletter = Consent.consenting('newsletter', company)
    query = members.join(party, condition=party.id == members.id
        ).join(email, 'LEFT', condition=email.party == party.id
        ).join(phone, 'LEFT', condition=phone.party == party.id
        ).join(first_address, 'LEFT',
            condition=first_address.party == party.id
        ).join(address, 'LEFT', condition=address.id == first_address.id
        ).join(country, 'LEFT', condition=country.id == address.country
        ).join(stats, 'LEFT', condition=stats.party == party.id
        ).join(score, 'LEFT', condition=(score.party == party.id)
            & (score.company == company)
        ).join(marketing, 'LEFT', condition=marketing.party == party.id
        ).join(newsletter, 'LEFT', condition=newsletter.party == party.id
        ).select(
            party.code, party.name, email.value, phone.value,
            address.postal_code, address.city, country.code,
            stats.count, stats.amount, stats.first, stats.last,
            score.r, score.f, score.m,
            marketing.party != Null, newsletter.party != Null,
            order_by=[party.name, party.id])
    cursor = Transaction().connection.cursor()
    cursor.execute(*query)
    return cursor.fetchall()


COLUMNS = [
    "Code", "Name", "E-mail", "Phone", "Postal Code", "City", "Country",
    "Paid Orders", "Amount Spent", "First Purchase", "Last Purchase",
    "R", "F", "M", "Marketing Consent", "Newsletter Consent"]


def to_xlsx(rows):
    import xlsxwriter
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {'in_memory': True,
            'remove_timezone': True})
    sheet = workbook.add_worksheet("Members")
    bold = workbook.add_format({'bold': True})
    money = workbook.add_format({'num_format': '#,##0.00'})
    date = workbook.add_format({'num_format': 'yyyy-mm-dd hh:mm'})
    sheet.write_row(0, 0, COLUMNS, bold)
    for i, row in enumerate(rows, 1):
        for j, value in enumerate(row):
            if value is None:
                continue
            if j == 8:
                sheet.write_number(i, j, float(value), money)
            elif j in {9, 10}:
                sheet.write_datetime(i, j, value, date)
            elif isinstance(value, bool):
                sheet.write_boolean(i, j, value)
            else:
                sheet.write(i, j, value)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(rows), len(COLUMNS) - 1)
    workbook.close()
    return output.getvalue()


def to_csv(rows):
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(['' if v is None else (
                    v.isoformat(sep=' ') if hasattr(v, 'isoformat')
                    else v) for v in row])
    return output.getvalue().encode('utf-8')


class ExportStart(ModelView):
    "Export the members of a segment"
    __name__ = 'ticket.crm.segment.export.start'
    format = fields.Selection([
            ('xlsx', "Excel (XLSX)"),
            ('csv', "CSV"),
            ], "Format", required=True)
    file = fields.Binary("File", filename='filename', readonly=True)
    filename = fields.Char("File Name", readonly=True)

    @classmethod
    def default_format(cls):
        return 'xlsx'


class Export(Wizard):
    "Export the members of a segment"
    __name__ = 'ticket.crm.segment.export'
    start = StateView('ticket.crm.segment.export.start',
        'ticket_crm.segment_export_start_view_form', [
            Button("Close", 'end', 'tryton-close'),
            Button("Export", 'export', 'tryton-export', default=True),
            ])
    export = StateTransition()
    result = StateView('ticket.crm.segment.export.start',
        'ticket_crm.segment_export_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_export(self):
        rows = member_rows(self.record)
        if self.start.format == 'csv':
            self.start.file = to_csv(rows)
        else:
            self.start.file = to_xlsx(rows)
        self.start.filename = f'{self.record.name}.{self.start.format}'
        return 'result'

    def default_result(self, fields):
        return {
            'format': self.start.format,
            'file': self.start.file,
            'filename': self.start.filename,
            }


class MailStart(ModelView):
    "Add the members of a segment to a mailing list"
    __name__ = 'ticket.crm.segment.mail.start'
    list_ = fields.Many2One('marketing.email.list', "Mailing List",
        required=True)
    purpose = fields.Selection(PURPOSES, "Consent", required=True,
        help="Only the members who gave this consent are added.")
    added = fields.Integer("Added", readonly=True)
    skipped = fields.Integer("Without Consent or E-mail", readonly=True)

    @classmethod
    def default_purpose(cls):
        return 'newsletter'


class Mail(Wizard):
    "Add the members of a segment to a mailing list"
    __name__ = 'ticket.crm.segment.mail'
    start = StateView('ticket.crm.segment.mail.start',
        'ticket_crm.segment_mail_start_view_form', [
            Button("Close", 'end', 'tryton-close'),
            Button("Add", 'add', 'tryton-ok', default=True),
            ])
    add = StateTransition()
    result = StateView('ticket.crm.segment.mail.start',
        'ticket_crm.segment_mail_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_add(self):
        self.start.added, self.start.skipped = self.record.add_to_list(
            self.start.list_, self.start.purpose)
        return 'result'

    def default_result(self, fields):
        return {
            'list_': self.start.list_.id,
            'purpose': self.start.purpose,
            'added': self.start.added,
            'skipped': self.start.skipped,
            }


class Segment(metaclass=PoolMeta):
    __name__ = 'ticket.crm.segment'

    def add_to_list(self, list_, purpose):
        """Subscribe to list_ the members who consent to purpose and have
        an e-mail address; never re-subscribe an address that left the
        list. Return the numbers added and skipped."""
        pool = Pool()
        Email = pool.get('marketing.email')
        Consent = pool.get('ticket.crm.consent')
        Mechanism = pool.get('party.contact_mechanism')
        members = self.member_ids()
        consenting = Consent.given_ids(members, purpose, self.company.id)
        emails = {}
        for mechanism in Mechanism.search([
                    ('party', 'in', list(consenting)),
                    ('type', '=', 'email'),
                    ], order=[('party', 'ASC'), ('sequence', 'ASC'),
                    ('id', 'ASC')]):
            emails.setdefault(mechanism.party.id, mechanism.value)
        with inactive_records():
            known = {e.email for e in Email.search([('list_', '=', list_)])}
        to_add = []
        for party_id, value in emails.items():
            address = value.strip().lower()
            try:
                validate_email(address)
            except EmailNotValidError:
                continue
            if address not in known:
                known.add(address)
                to_add.append({'email': address, 'list_': list_.id,
                        'ticket_party': party_id,
                        'ticket_purpose': purpose})
        Email.create(to_add)
        return len(to_add), len(members) - len(emails)


class Scenario(metaclass=PoolMeta):
    __name__ = 'marketing.automation.scenario'
    segment = fields.Many2One('ticket.crm.segment', "Segment",
        ondelete='RESTRICT',
        states={'readonly': Eval('state') != 'draft'},
        help="The customers of the segment who consent to marketing are "
        "the audience of the scenario.")

    @fields.depends('segment')
    def on_change_segment(self):
        if self.segment:
            self.model = 'party.party'
            self.domain = PYSONEncoder(sort_keys=True).encode(
                self.segment_domain(self.segment))

    @staticmethod
    def segment_domain(segment):
        return [
            ('segments', '=', segment.id),
            ('marketing_consent', '=', True),
            ]
