"""Personal data and the GDPR: retention, "export my data", "erase me".

Each company keeps its buyers' personal data for a retention period
(default 3 years) after their last activity (purchase, session, consent).
A nightly cron anonymizes the inactive buyers through Tryton's party
erasure (``party.erase``), extended to the ticketing records: names,
e-mail addresses, phones and ticket holders are blanked; the orders, their
lines and amounts, the payments and the accounting moves stay as they are,
still linked to the (now anonymous) party, so that the ledger keeps
balancing. A party with a pending receivable or payable is not erased
(the account module refuses it)."""
import datetime as dt
import io
import json
from decimal import Decimal

from sql import Null, Union
from sql.aggregate import Max
from sql.conditionals import Greatest

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.modules.party.exceptions import EraseError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction, inactive_records
from trytond.wizard import Button, StateTransition, StateView, Wizard

from guichet.ticket_event.common import now

DEFAULT_RETENTION = 36


class GDPRError(UserError):
    pass


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'
    customer_retention = fields.Integer("Customer Data Retention",
        required=True, domain=[('customer_retention', '>=', 1)],
        help="Months after their last activity after which the personal "
        "data of buyers is anonymized.")

    @classmethod
    def default_customer_retention(cls):
        return DEFAULT_RETENTION


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'
    anonymized_at = fields.DateTime("Anonymized At", readonly=True,
        states={'invisible': ~Eval('anonymized_at')})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update(
            export_data={'icon': 'tryton-export'},
            erase_customer={
                'icon': 'tryton-clear',
                'invisible': Bool(Eval('anonymized_at')),
                },
            )

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('anonymized_at', None)
        return super().copy(parties, default=default)

    @classmethod
    def last_activities(cls):
        """The last activity of each buyer, all companies together: a
        query with columns party, last"""
        pool = Pool()
        order = pool.get('ticket.order').__table__()
        line = pool.get('ticket.order.line').__table__()
        session = pool.get('ticket.session').__table__()
        consent = pool.get('ticket.crm.consent').__table__()
        orders = order.select(order.party.as_('party'),
            Greatest(order.create_date, order.paid_at).as_('at'),
            where=order.party != Null)
        sessions = order.join(line, condition=line.order == order.id
            ).join(session, condition=session.id == line.session).select(
            order.party.as_('party'), session.start.as_('at'),
            where=order.party != Null)
        consents = consent.select(consent.party.as_('party'),
            consent.date.as_('at'))
        union = Union(orders, sessions, consents, all_=True)
        return union.select(union.party, Max(union.at).as_('last'),
            group_by=[union.party])

    @classmethod
    def inactive_buyers(cls, company, at=None):
        """The buyers of company inactive for its retention period, with
        nothing open (reserved order, active pass of a running season)"""
        pool = Pool()
        Order = pool.get('ticket.order')
        Subscription = pool.get('ticket.subscription')
        Season = pool.get('ticket.season')
        Company = pool.get('company.company')
        Venue = pool.get('ticket.venue')
        at = at or now()
        cutoff = at - dt.timedelta(days=round(
                company.customer_retention * 365.25 / 12))
        last = cls.last_activities()
        party = cls.__table__()
        order = Order.__table__()
        open_order = Order.__table__()
        subscription = Subscription.__table__()
        season = Season.__table__()
        company_table = Company.__table__()
        venue = Venue.__table__()
        query = last.join(party, condition=party.id == last.party).select(
            last.party,
            where=(last.last < cutoff)
            & (party.anonymized_at == Null)
            & last.party.in_(order.select(order.party,
                    where=order.company == company.id))
            & ~last.party.in_(open_order.select(open_order.party,
                    where=(open_order.state == 'reserved')
                    & (open_order.party != Null)))
            & ~last.party.in_(subscription.join(season,
                    condition=season.id == subscription.season).select(
                    subscription.party,
                    where=(subscription.state == 'active')
                    & (subscription.party != Null)
                    & ((season.end_date == Null)
                        | (season.end_date >= at.date()))))
            & ~last.party.in_(company_table.select(company_table.party))
            & ~last.party.in_(venue.select(venue.party,
                    where=venue.party != Null)))
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return cls.browse([r[0] for r in cursor])

    @classmethod
    def anonymize_inactive(cls):
        "Anonymize the buyers inactive for their company's retention (cron)"
        Company = Pool().get('company.company')
        anonymized = []
        for company in Company.search([]):
            with Transaction().set_context(company=company.id):
                anonymized += cls.anonymize(
                    cls.inactive_buyers(company), skip_refused=True)
        return anonymized

    @classmethod
    def anonymize(cls, parties, skip_refused=False):
        """Erase the personal data of parties, keeping their orders,
        payments and accounting; return those anonymized"""
        pool = Pool()
        Erase = pool.get('party.erase', type='wizard')
        Email = pool.get('marketing.email')
        done = []
        for party in parties:
            emails = {m.value.strip().lower()
                for m in party.contact_mechanisms
                if m.type == 'email' and m.value}
            emails.update(o.email.strip().lower()
                for o in party.customer_orders if o.email)
            try:
                cls._erase(Erase, party)
            except EraseError:
                if not skip_refused:
                    raise
                continue
            with inactive_records():
                Email.delete(Email.search([('email', 'in', list(emails))]))
            done.append(party)
        if done:
            cls.write(done, {'anonymized_at': now()})
        return done

    @classmethod
    def _erase(cls, Erase, party):
        session_id, _, _ = Erase.create()
        try:
            erase = Erase(session_id)
            erase.ask.party = party
            active = party.active
            if active:
                cls.write([party], {'active': False})
            try:
                erase.check_erase(cls(party.id))
            except EraseError:
                if active:
                    cls.write([party], {'active': True})
                raise
            erase.transition_erase()
        finally:
            Erase.delete(session_id)

    @classmethod
    @ModelView.button
    def erase_customer(cls, parties):
        "Erase me: anonymize the customers now, whatever the retention"
        pool = Pool()
        Order = pool.get('ticket.order')
        for party in parties:
            if Order.search([('party', '=', party.id),
                        ('state', '=', 'reserved')], limit=1):
                raise GDPRError(gettext('ticket_crm.msg_erase_open_order',
                        party=party.rec_name))
        cls.anonymize(parties)

    @classmethod
    @ModelView.button_action('ticket_crm.wizard_export_data')
    def export_data(cls, parties):
        pass

    def personal_data(self):
        "Everything the ticketing keeps about the customer, as plain data"
        pool = Pool()
        Subscription = pool.get('ticket.subscription')
        Delivery = pool.get('ticket.crm.delivery')

        def value(v):
            if isinstance(v, (dt.datetime, dt.date)):
                return v.isoformat()
            if isinstance(v, Decimal):
                return str(v)
            return v
        return {
            'name': self.name,
            'code': self.code,
            'contact_mechanisms': [
                {'type': m.type, 'value': m.value}
                for m in self.contact_mechanisms],
            'addresses': [
                {'street': a.street, 'postal_code': a.postal_code,
                    'city': a.city,
                    'country': a.country.code if a.country else None}
                for a in self.addresses],
            'orders': [{
                    'number': o.number, 'state': o.state,
                    'channel': o.channel, 'email': o.email,
                    'phone': o.phone, 'paid_at': value(o.paid_at),
                    'total': value(o.total),
                    'lines': [{'description': l.description,
                            'quantity': l.quantity,
                            'amount': value(l.amount)} for l in o.lines],
                    'tickets': [{'number': t.number, 'state': t.state,
                            'session': t.session.rec_name
                            if t.session else None,
                            'holder': t.holder_name,
                            'holder_email': t.holder_email}
                        for t in o.tickets],
                    } for o in self.customer_orders],
            'sessions_attended': [
                s.rec_name for s in self.attended_sessions],
            'passes': [{'season': s.season.rec_name,
                    'pass_code': s.pass_code, 'state': s.state}
                for s in Subscription.search([('party', '=', self.id)])],
            'consents': [{'purpose': c.purpose, 'given': c.given,
                    'date': value(c.date), 'source': c.source}
                for c in self.consents],
            'messages': [{'email': d.email, 'state': d.state,
                    'sent_at': value(d.sent_at)}
                for d in Delivery.search([('party', '=', self.id)])],
            }


class PartyErase(metaclass=PoolMeta):
    __name__ = 'party.erase'

    def to_erase(self, party_id):
        pool = Pool()
        Order = pool.get('ticket.order')
        Ticket = pool.get('ticket.ticket')
        Subscription = pool.get('ticket.subscription')
        Delivery = pool.get('ticket.crm.delivery')
        Consent = pool.get('ticket.crm.consent')
        return super().to_erase(party_id) + [
            (Order, [('party', '=', party_id)], False,
                ['email', 'phone', 'note'], [None, None, None]),
            (Ticket, [('order.party', '=', party_id)], False,
                ['holder_name', 'holder_email'], [None, None]),
            (Subscription, [('party', '=', party_id)], False,
                ['email'], [None]),
            (Delivery, [('party', '=', party_id)], False,
                ['email'], [None]),
            (Consent, [('party', '=', party_id)], False,
                ['reference'], [None]),
            ]


class ExportDataStart(ModelView):
    "Export the personal data of a customer"
    __name__ = 'party.party.export_data.start'
    format = fields.Selection([
            ('json', "JSON"),
            ('xlsx', "Excel (XLSX)"),
            ], "Format", required=True)
    file = fields.Binary("File", filename='filename', readonly=True)
    filename = fields.Char("File Name", readonly=True)

    @classmethod
    def default_format(cls):
        return 'json'


def data_to_xlsx(data):
    "One sheet per kind of record of the personal data"
    import xlsxwriter
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {'in_memory': True})
    bold = workbook.add_format({'bold': True})
    sheet = workbook.add_worksheet("Customer")
    for i, name in enumerate(['name', 'code']):
        sheet.write(i, 0, name, bold)
        sheet.write(i, 1, data[name])
    for name in ['contact_mechanisms', 'addresses', 'orders',
            'sessions_attended', 'passes', 'consents', 'messages']:
        rows = data[name]
        sheet = workbook.add_worksheet(name.replace('_', ' ').title())
        rows = [r if isinstance(r, dict) else {'session': r} for r in rows]
        columns = list(rows[0]) if rows else []
        sheet.write_row(0, 0, columns, bold)
        for i, row in enumerate(rows, 1):
            sheet.write_row(i, 0, [
                    json.dumps(v, ensure_ascii=False)
                    if isinstance(v, (list, dict)) else v
                    for v in row.values()])
    workbook.close()
    return output.getvalue()


class ExportData(Wizard):
    "Export the personal data of a customer"
    __name__ = 'party.party.export_data'
    start = StateView('party.party.export_data.start',
        'ticket_crm.export_data_start_view_form', [
            Button("Close", 'end', 'tryton-close'),
            Button("Export", 'export', 'tryton-export', default=True),
            ])
    export = StateTransition()
    result = StateView('party.party.export_data.start',
        'ticket_crm.export_data_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_export(self):
        data = self.record.personal_data()
        if self.start.format == 'xlsx':
            self.start.file = data_to_xlsx(data)
        else:
            self.start.file = json.dumps(
                data, indent=2, ensure_ascii=False).encode('utf-8')
        self.start.filename = (
            f'{self.record.code}.{self.start.format}')
        return 'result'

    def default_result(self, fields):
        return {
            'format': self.start.format,
            'file': self.start.file,
            'filename': self.start.filename,
            }
