"""Messages to buyers: sent now to the buyers of an event, a session, a
tariff, a payment method or the members of a segment, or scheduled relative
to the start of each session (e.g. 24 hours before: access instructions;
2 hours after: thanks and survey).

Sending is two steps. ``Delivery.plan`` inserts one delivery per order (per
member for a segment) in one ``INSERT ... SELECT ... ON CONFLICT DO
NOTHING``: a unique index per (message, order) and per (schedule, session,
order) makes a delivery exist once, however often the cron runs or however
many run at once. The deliveries are then queued for ``trytond-worker``
(``Delivery.send``), which claims each one with a conditional UPDATE
(queued -> sent) and hands the e-mail to the transaction's mail manager:
the e-mail leaves when the claim commits, never twice. Marketing messages go
only to the customers whose latest marketing consent is yes; transactional
messages always go."""
import datetime as dt
from email.message import EmailMessage

from jinja2.sandbox import SandboxedEnvironment
from sql import Cast, Conflict, Literal, Null
from sql.functions import CurrentTimestamp
from sql.operators import Equal

import trytond.config as config
from trytond.i18n import gettext
from trytond.model import (
    Exclude, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.sendmail import send_message_transactional
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from guichet.ticket_event.common import format_local, now
from guichet.ticket_event.payment import METHODS

KINDS = [
    ('marketing', "Marketing"),
    ('transactional', "Transactional"),
    ]
AUDIENCES = [
    ('event', "Buyers of an Event"),
    ('session', "Buyers of a Session"),
    ('tariff', "Buyers at a Tariff"),
    ('method', "Buyers Paying by"),
    ('segment', "Members of a Segment"),
    ]
# How late a scheduled message may still leave after its time
CATCH_UP = dt.timedelta(hours=12)
BATCH = 100


def render(template, values):
    "Render a message template (Jinja2, sandboxed) with values"
    environment = SandboxedEnvironment(autoescape=False)
    return environment.from_string(template or '').render(**values)


class MessageMixin:
    __slots__ = ()
    company = fields.Many2One('company.company', "Company", required=True)
    kind = fields.Selection(KINDS, "Kind", required=True,
        help="Marketing messages go only to the customers who consent to "
        "marketing; transactional ones (access, changes) to every buyer.")
    subject = fields.Char("Subject", required=True,
        help="A template: {{ party }}, {{ order }}, {{ event }}, "
        "{{ session }} and {{ start }} are replaced.")
    body = fields.Text("Body", required=True,
        help="A template: {{ party }}, {{ order }}, {{ event }}, "
        "{{ session }} and {{ start }} are replaced.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_kind(cls):
        return 'transactional'

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        if field_names & {'subject', 'body'}:
            for record in records:
                try:
                    render(record.subject, {})
                    render(record.body, {})
                except Exception as exception:
                    raise ValidationError(gettext(
                            'ticket_crm.msg_message_template',
                            message=record.rec_name,
                            error=str(exception))) from exception


class Message(MessageMixin, Workflow, ModelSQL, ModelView):
    "A message to buyers, sent once"
    __name__ = 'ticket.crm.message'
    _states = {'readonly': Eval('state') != 'draft'}
    name = fields.Char("Name", required=True, states=_states)
    audience = fields.Selection(AUDIENCES, "To", required=True,
        states=_states)
    event = fields.Many2One('ticket.event', "Event", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={**_states, 'invisible': Eval('audience') != 'event',
            'required': Eval('audience') == 'event'})
    session = fields.Many2One('ticket.session', "Session",
        ondelete='RESTRICT',
        domain=[('event.company', '=', Eval('company', -1))],
        states={**_states, 'invisible': Eval('audience') != 'session',
            'required': Eval('audience') == 'session'})
    tariff = fields.Many2One('ticket.tariff', "Tariff", ondelete='RESTRICT',
        states={**_states, 'invisible': Eval('audience') != 'tariff',
            'required': Eval('audience') == 'tariff'})
    method = fields.Selection([(None, "")] + METHODS, "Payment Method",
        states={**_states, 'invisible': Eval('audience') != 'method',
            'required': Eval('audience') == 'method'})
    segment = fields.Many2One('ticket.crm.segment', "Segment",
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={**_states, 'invisible': Eval('audience') != 'segment',
            'required': Eval('audience') == 'segment'})
    deliveries = fields.One2Many(
        'ticket.crm.delivery', 'message', "Deliveries", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('sent', "Sent"),
            ], "State", required=True, readonly=True, sort=False)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        for name in ['company', 'kind', 'subject', 'body']:
            getattr(cls, name).states = {
                'readonly': Eval('state') != 'draft'}
        cls._order = [('id', 'DESC')]
        cls._transitions |= {('draft', 'sent')}
        cls._buttons.update(send={
                'invisible': Eval('state') != 'draft',
                'icon': 'tryton-email',
                'depends': ['state'],
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_audience(cls):
        return 'event'

    def recipients(self):
        """The orders (or parties for a segment) the message goes to: a
        query with columns order, party, session"""
        pool = Pool()
        History = pool.get('ticket.crm.history')
        Session = pool.get('ticket.session')
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        company = self.company.id
        if self.audience == 'segment':
            members = self.segment.query()
            return members.select(Cast(Null, 'INTEGER').as_('order'),
                members.id.as_('party'), Cast(Null, 'INTEGER').as_('session'))
        if self.audience == 'method':
            order = Order.__table__()
            payment = Payment.__table__()
            return order.join(payment, condition=payment.order == order.id
                ).select(order.id.as_('order'), order.party.as_('party'),
                    Cast(Null, 'INTEGER').as_('session'),
                    where=(order.state == 'paid') & (order.party != Null)
                    & (order.company == company)
                    & (payment.kind == 'payment')
                    & (payment.state == 'succeeded')
                    & (payment.method == self.method),
                    group_by=[order.id, order.party])
        bought = History.sessions(company)
        session = Session.__table__()
        condition = {
            'event': lambda: session.event == self.event.id,
            'session': lambda: bought.session == self.session.id,
            'tariff': lambda: bought.tariff == self.tariff.id,
            }[self.audience]()
        return bought.join(session, condition=session.id == bought.session
            ).select(bought.order.as_('order'), bought.party.as_('party'),
                Cast(Null, 'INTEGER').as_('session'),
                where=condition, group_by=[bought.order, bought.party])

    @classmethod
    @ModelView.button
    @Workflow.transition('sent')
    def send(cls, messages):
        "Plan a delivery per recipient and queue them for the worker"
        Delivery = Pool().get('ticket.crm.delivery')
        for message in messages:
            Delivery.plan(message.recipients(), message=message)


class Schedule(MessageMixin, ModelSQL, ModelView):
    "A message sent to the buyers of each session at a time from its start"
    __name__ = 'ticket.crm.schedule'
    name = fields.Char("Name", required=True)
    active = fields.Boolean("Active")
    event = fields.Many2One('ticket.event', "Event", ondelete='CASCADE',
        domain=[('company', '=', Eval('company', -1))],
        help="Empty for the sessions of every event.")
    offset = fields.TimeDelta("From Session Start", required=True,
        help="Negative before the start (-24:00 for a day before), "
        "positive after (2:00 for two hours after).")
    deliveries = fields.One2Many(
        'ticket.crm.delivery', 'schedule', "Deliveries", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('offset', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_active(cls):
        return True

    @classmethod
    def default_offset(cls):
        return dt.timedelta(hours=-24)

    def due_sessions(self, at):
        "The sessions whose time for the message has come, not long ago"
        Session = Pool().get('ticket.session')
        domain = [
            ('start', '<=', at - self.offset),
            ('start', '>', at - self.offset - CATCH_UP),
            ('state', '!=', 'cancelled'),
            ('event.company', '=', self.company.id),
            ]
        if self.event:
            domain.append(('event', '=', self.event.id))
        return Session.search(domain, order=[('start', 'ASC')])

    def recipients(self, session):
        "The paid orders of session: a query with order, party, session"
        History = Pool().get('ticket.crm.history')
        bought = History.sessions(self.company.id)
        return bought.select(bought.order.as_('order'),
            bought.party.as_('party'),
            Cast(Literal(session.id), 'INTEGER').as_('session'),
            where=bought.session == session.id,
            group_by=[bought.order, bought.party])

    @classmethod
    def send_due(cls, at=None):
        "Plan and queue the scheduled messages now due (cron)"
        Delivery = Pool().get('ticket.crm.delivery')
        at = at or now()
        planned = []
        for schedule in cls.search([]):
            for session in schedule.due_sessions(at):
                planned += Delivery.plan(
                    schedule.recipients(session), schedule=schedule)
        return planned


class Delivery(ModelSQL, ModelView):
    "A message to one order or customer"
    __name__ = 'ticket.crm.delivery'
    message = fields.Many2One('ticket.crm.message', "Message",
        readonly=True, ondelete='CASCADE')
    schedule = fields.Many2One('ticket.crm.schedule', "Scheduled Message",
        readonly=True, ondelete='CASCADE')
    session = fields.Many2One('ticket.session', "Session", readonly=True,
        ondelete='CASCADE')
    order = fields.Many2One('ticket.order', "Order", readonly=True,
        ondelete='CASCADE')
    party = fields.Many2One('party.party', "Customer", readonly=True,
        ondelete='CASCADE', context={'company': Eval('company', -1)},
        depends={'company'})
    company = fields.Many2One('company.company', "Company", required=True,
        readonly=True)
    email = fields.Char("E-mail", readonly=True)
    state = fields.Selection([
            ('queued', "Queued"),
            ('sent', "Sent"),
            ('skipped', "Skipped"),
            ], "State", required=True, readonly=True)
    reason = fields.Selection([
            (None, ""),
            ('no_consent', "No Marketing Consent"),
            ('no_email', "No E-mail Address"),
            ], "Reason", readonly=True)
    sent_at = fields.DateTime("Sent At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('message_order_unique', Unique(t, t.message, t.order),
                'ticket_crm.msg_delivery_once'),
            ('schedule_session_order_unique',
                Unique(t, t.schedule, t.session, t.order),
                'ticket_crm.msg_delivery_once'),
            ('message_party_unique',
                Exclude(t, (t.message, Equal), (t.party, Equal),
                    where=t.order == Null),
                'ticket_crm.msg_delivery_once'),
            ]
        cls._sql_indexes.add(Index(t, (t.state, Index.Equality()),
                where=t.state == 'queued'))
        cls._order = [('id', 'DESC')]

    @classmethod
    def plan(cls, recipients, message=None, schedule=None):
        """Insert a delivery per row of recipients (order, party, session)
        unless it exists; queue those to send; return the new ones"""
        pool = Pool()
        Consent = pool.get('ticket.crm.consent')
        Order = pool.get('ticket.order')
        source = message or schedule
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [table.create_uid, table.create_date, table.message,
            table.schedule, table.session, table.order, table.party,
            table.company, table.state]
        cursor.execute(*table.insert(columns, recipients.select(
                    Cast(Literal(Transaction().user), 'INTEGER'),
                    CurrentTimestamp(),
                    Cast(Literal(message.id if message else None),
                        'INTEGER'),
                    Cast(Literal(schedule.id if schedule else None),
                        'INTEGER'),
                    recipients.session, recipients.order, recipients.party,
                    Cast(Literal(source.company.id), 'INTEGER'),
                    Cast(Literal('queued'), 'VARCHAR')),
                on_conflict=Conflict(table), returning=[table.id]))
        deliveries = cls.browse([r[0] for r in cursor])
        if not deliveries:
            return []
        if source.kind == 'marketing':
            consenting = Consent.given_ids(
                [d.party for d in deliveries], 'marketing',
                source.company.id)
        for delivery in deliveries:
            email = None
            if delivery.order:
                email = Order(delivery.order.id).email
            if not email and delivery.party:
                email = delivery.party.email
            delivery.email = email
            if not email:
                delivery.state, delivery.reason = 'skipped', 'no_email'
            elif (source.kind == 'marketing'
                    and delivery.party.id not in consenting):
                delivery.state, delivery.reason = 'skipped', 'no_consent'
        cls.save(deliveries)
        queued = [d for d in deliveries if d.state == 'queued']
        for batch in grouped_slice(queued, BATCH):
            cls.__queue__.send(list(batch))
        return deliveries

    @classmethod
    def send(cls, deliveries):
        """Send each queued delivery once (the worker's task): claim it,
        then hand its e-mail to the transaction, which sends it when the
        claim commits"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        ids = [d.id for d in deliveries]
        at = now()
        cursor.execute(*table.update(
                [table.state, table.sent_at, table.write_date],
                ['sent', at, CurrentTimestamp()],
                where=table.id.in_(ids) & (table.state == 'queued'),
                returning=[table.id]))
        claimed = {r[0] for r in cursor}
        Transaction().counter += 1
        for delivery in cls.browse(ids):
            if delivery.id in claimed:
                send_message_transactional(delivery.email_message())

    def template_values(self):
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        session = self.session
        if not session and self.order:
            sessions = [l.session for l in self.order.lines if l.session]
            session = sessions[0] if sessions else None
        return {
            'party': self.party.rec_name if self.party else '',
            'order': self.order.number if self.order else '',
            'event': session.event.rec_name if session else '',
            'session': session.rec_name if session else '',
            'start': format_local(session.start, session.event.timezone,
                lang) if session else '',
            }

    def email_message(self):
        source = self.message or self.schedule
        values = self.template_values()
        message = EmailMessage()
        message['From'] = config.get('email', 'from')
        message['To'] = self.email
        message['Subject'] = render(source.subject, values)
        message.set_content(render(source.body, values))
        return message
