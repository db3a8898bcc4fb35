"""Orders placed in the shop: the buyer's link, answers and consents, the
confirmation e-mail, self-service refunds by the event's rules, and late
payments that take back the codes and credits an expired order gave up."""
import contextvars
import datetime as dt
import smtplib
from collections import defaultdict
from decimal import Decimal

from sql import Column, Null
from sql.conditionals import Case
from sql.functions import CurrentTimestamp

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from guichet.ticket_event.common import forget_records, now
from guichet.ticket_event.hold import new_token
from guichet.ticket_event.report import TicketReport, price_label

from .exceptions import ShopError

ZERO = Decimal(0)
MAIL_ATTEMPTS = 6
MAIL_KINDS = {'confirmation', 'reserved', 'refund', 'lookup'}
# The attendees of the lines whose tickets Ticket.issue is making
_attendees = contextvars.ContextVar('ticket_shop_attendees', default=None)


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'
    shop_token = fields.Char(
        "Link Token", readonly=True, strip=False,
        help="The unguessable part of the buyer's link to the order.")
    shop_url = fields.Char(
        "Shop URL", readonly=True,
        help="The shop the order was placed in, for the links of e-mails.")
    language = fields.Char("Language", readonly=True)
    payment_method = fields.Many2One(
        'ticket.shop.payment.method', "Payment Method", readonly=True,
        ondelete='RESTRICT')
    terms_accepted_at = fields.DateTime(
        "Terms Accepted At", readonly=True)
    consents = fields.One2Many(
        'ticket.shop.consent', 'order', "Consents", readonly=True)
    attendees = fields.One2Many(
        'ticket.shop.attendee', 'order', "Attendees", readonly=True)
    answers = fields.One2Many(
        'ticket.shop.answer', 'order', "Answers", readonly=True)
    shop_promo_uses = fields.Integer(
        "Promo Uses Taken", readonly=True,
        help="The uses of the promo code the order took at checkout, taken "
        "again if a late payment revives it.")
    email_sent_at = fields.DateTime(
        "E-mail Sent At", readonly=True,
        states={'invisible': ~Eval('shop_token')})
    email_error = fields.Char(
        "E-mail Error", readonly=True,
        states={'invisible': ~Eval('email_error')})
    shop_link = fields.Function(
        fields.Char("Buyer Link",
            states={'invisible': ~Eval('shop_token')}),
        'get_shop_link')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('shop_token_unique', Unique(t, t.shop_token),
                'ticket_shop.msg_order_token_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.shop_token, Index.Equality()),
                where=t.shop_token != Null))
        cls._buttons.update(
            send_shop_email_button={
                'invisible': ~Eval('shop_token') | ~Eval('email'),
                'icon': 'tryton-email',
                'depends': ['shop_token', 'email'],
                },
            )

    @classmethod
    def copy(cls, orders, default=None):
        default = default.copy() if default is not None else {}
        for name in ['shop_token', 'consents', 'attendees', 'answers',
                'email_sent_at', 'email_error', 'terms_accepted_at']:
            default.setdefault(name, None)
        return super().copy(orders, default=default)

    def get_shop_link(self, name):
        if self.shop_token:
            from .event import shop_url
            return f'{self.shop_url or shop_url()}/order/{self.shop_token}'

    @property
    def payable_amount(self):
        return self.amount_to_pay

    @property
    def sessions(self):
        "The sessions of the order's admissions, by start"
        sessions = {l.session for l in self.lines if l.session}
        return sorted(sessions, key=lambda s: (s.start, s.id))

    @property
    def shop_zone(self):
        """The time zone of the event of the order's first session (as
        sessions sorts them), None without one: the pages' times, by one
        query"""
        from .render import shown_session
        pool = Pool()
        Line = pool.get('ticket.order.line')
        Session = pool.get('ticket.session')
        line, session = Line.__table__(), Session.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*line.join(session,
                condition=line.session == session.id).select(session.id,
                where=line.order == self.id,
                order_by=[session.start.asc, session.id.asc], limit=1))
        row = cursor.fetchone()
        return shown_session(row[0]).event.timezone if row else None

    @classmethod
    def find_by_token(cls, token):
        "The order of a shop link token, or None"
        if not token or not isinstance(token, str) or len(token) > 64:
            return None
        orders = cls.search([('shop_token', '=', token)], limit=1)
        return orders[0] if orders else None

    # Late payments

    def can_revive(self):
        "The promo code and credits the order gave back must be there"
        pool = Pool()
        Credit = pool.get('ticket.credit')
        if not super().can_revive():
            return False
        if self.promo_code and self.shop_promo_uses:
            code = self.promo_code
            if code.uses + self.shop_promo_uses > code.max_uses:
                return False
        for credit_id, amount in self._credits_given_back().items():
            credit = Credit(credit_id)
            if credit.state != 'active' or credit.balance < amount:
                return False
        return True

    def _credits_given_back(self):
        """What each credit gave back to the order at its expiry: the last
        amount credited back, for the credits the order no longer spends"""
        net = defaultdict(lambda: ZERO)
        given_back = {}
        for line in sorted(self.credit_lines, key=lambda l: l.id):
            net[line.credit.id] += line.amount
            if line.amount > 0:
                given_back[line.credit.id] = line.amount
        return {c: a for c, a in given_back.items() if net[c] == 0}

    @classmethod
    def revive(cls, orders, hold):
        pool = Pool()
        PromoCode = pool.get('ticket.promo.code')
        Credit = pool.get('ticket.credit')
        CreditLine = pool.get('ticket.credit.line')
        order, = orders
        credits = order._credits_given_back()
        super().revive(orders, hold)
        if order.promo_code and order.shop_promo_uses:
            PromoCode.consume(order.promo_code, order.shop_promo_uses)
            cls.write([order], {'promo_uses': order.shop_promo_uses})
        if credits:
            Credit.debit([(Credit(c), a) for c, a in credits.items()])
            CreditLine.create([{
                        'credit': c, 'order': order.id, 'amount': -a}
                    for c, a in credits.items()])

    @classmethod
    def partner_order_values(cls, send_email, language):
        "A partner's order e-mailed to its buyer: the shop's confirmation"
        values = super().partner_order_values(False, language)
        if send_email:
            values.update(shop_token=new_token(), language=language)
        return values

    @classmethod
    def _pay(cls, orders):
        "Orders placed in the shop get their tickets by e-mail once paid"
        super()._pay(orders)
        for order in orders:
            if order.shop_token and order.email:
                cls.queue_shop_email(cls(order.id), 'confirmation')

    # E-mails

    @classmethod
    @ModelView.button
    def send_shop_email_button(cls, orders):
        for order in orders:
            cls.queue_shop_email(order, 'confirmation'
                if order.state == 'paid' else 'reserved')

    @classmethod
    def queue_shop_email(cls, order, kind, delay=None, attempt=1, **extra):
        "Send the e-mail of kind about order through the queue"
        assert kind in MAIL_KINDS
        context = {'queue_name': 'ticket_shop_email'}
        if delay:
            context['queue_scheduled_at'] = delay
        with Transaction().set_context(**context):
            cls.__queue__.send_shop_email(
                [order], kind, order.language or 'en', attempt, **extra)

    @classmethod
    def send_shop_email(cls, orders, kind, language, attempt=1, **extra):
        """Send the e-mail of kind to the buyers of orders (a queue task):
        a failure of the mail server tries again later, up to
        MAIL_ATTEMPTS times"""
        from trytond.sendmail import send_message
        from .mail import order_message
        for order in orders:
            if not order.email:
                continue
            with Transaction().set_context(language=language):
                message = order_message(order, kind, **extra)
            try:
                send_message(message, strict=True)
            except (smtplib.SMTPException, OSError) as error:
                cls.write([order], {'email_error': str(error)[:200]})
                if attempt < MAIL_ATTEMPTS:
                    with Transaction().set_context(language=language):
                        cls.queue_shop_email(order, kind,
                            delay=dt.timedelta(minutes=2 ** attempt),
                            attempt=attempt + 1, **extra)
                continue
            cls._record_email(order, {
                    'recipients': order.email,
                    'subject': str(message['Subject']),
                    'body': message.get_body(('plain',)).get_content(),
                    'message_id': str(message['Message-ID']),
                    'resource': str(order),
                    })

    @classmethod
    def _record_email(cls, order, values):
        """Keep the e-mail sent about order (ir.email, shown with the order)
        and mark the order sent.

        The queue worker of the shop's e-mails (root, no ir.trigger on
        orders nor e-mails) inserts both rows by SQL: the ORM would read the
        e-mail and the order back and test their domains, three statements
        more per e-mail for values known here. Anyone else goes through
        the ORM, its access rights and its triggers."""
        pool = Pool()
        Email = pool.get('ir.email')
        Trigger = pool.get('ir.trigger')
        transaction = Transaction()
        sent = {'email_sent_at': now(), 'email_error': None}
        if (transaction.user or Trigger.get_triggers(cls.__name__, 'write')
                or Trigger.get_triggers(Email.__name__, 'create')):
            Email.create([values])
            cls.write([order], sent)
            return
        cursor = transaction.connection.cursor()
        email = Email.__table__()
        columns = list(values)
        cursor.execute(*email.insert(
                [Column(email, c) for c in columns]
                + [email.create_uid, email.create_date],
                [[Email._fields[c].sql_format(values[c]) for c in columns]
                    + [transaction.user, CurrentTimestamp()]]))
        table = cls.__table__()
        cursor.execute(*table.update(
                [Column(table, c) for c in sent]
                + [table.write_uid, table.write_date],
                [cls._fields[c].sql_format(v) for c, v in sent.items()]
                + [transaction.user, CurrentTimestamp()],
                where=table.id == order.id))
        forget_records(cls, [order.id])

    # Refunds

    def refund_offer(self, at=None):
        """What the buyer may get back now by the event's rules: a dict
        with 'money' and 'credit' amounts (None when not offered), the
        'rule' and its 'deadline', or None when no refund is offered"""
        at = at or now()
        if self.state != 'paid' or not self.shop_token or not self.sessions:
            return None
        events = {s.event for s in self.sessions}
        if len(events) != 1:
            return None
        event, = events
        first = self.sessions[0]
        if first.start <= at:
            return None
        rule = event.refund_rule(at, first.start)
        if rule is None:
            return None
        paid = self.amount_paid
        if not event.shop_refund_fees:
            fees = sum((l.amount for l in self.lines
                    if getattr(l, 'kind', None) == 'fee'), ZERO)
            paid = max(paid - fees, ZERO)
        credit_base = paid + self.credit_paid
        offer = {
            'rule': rule,
            'deadline': first.start - dt.timedelta(days=rule.days),
            'money': (rule.amount(paid, 'money')
                if event.shop_refund_money else None),
            'credit': (rule.amount(credit_base, 'credit')
                if event.shop_refund_credit else None),
            }
        if not offer['money'] and not offer['credit']:
            return None
        return offer

    @classmethod
    def refund_by_rules(cls, order, kind):
        """Cancel a paid order for a refund in kind ('money' or 'credit')
        by the event's rules; return the amount given back.

        The money goes back through the providers of the payments (those
        that cannot refund by themselves leave a refund to do by hand)."""
        pool = Pool()
        Credit = pool.get('ticket.credit')
        cls.lock([order])
        order = cls(order.id)
        offer = order.refund_offer()
        if not offer or offer.get(kind) is None:
            raise ShopError(gettext('ticket_shop.msg_refund_not_offered'),
                status=409)
        amount = offer[kind]
        cls.cancel([order])
        order = cls(order.id)
        if kind == 'credit':
            if amount > 0:
                credit, = Credit.issue(amount, party=order.party,
                    kind='credit', origin_order=order,
                    company=order.company)
                cls.write([order], {'refund_credit': credit.id})
        else:
            cls.refund_payments(order, amount)
        return amount

    @classmethod
    def refund_payments(cls, order, amount):
        "Give amount back over the order's payments, latest first"
        from .provider import provider_of
        for payment in sorted(order.payments, key=lambda p: p.id,
                reverse=True):
            if amount <= 0:
                break
            if payment.state != 'succeeded':
                continue
            part = min(amount, payment.refundable_amount)
            if part > 0:
                provider_of(payment.provider).refund(payment, part)
                amount -= part


class Consent(ModelSQL, ModelView):
    "A consent given (or not) by a buyer at checkout"
    __name__ = 'ticket.shop.consent'
    order = fields.Many2One(
        'ticket.order', "Order", required=True, ondelete='CASCADE',
        readonly=True)
    party = fields.Many2One(
        'party.party', "Party", readonly=True, ondelete='RESTRICT')
    purpose = fields.Many2One(
        'ticket.shop.consent.purpose', "Purpose", required=True,
        readonly=True, ondelete='RESTRICT')
    text = fields.Char("Text", readonly=True,
        help="The sentence as the buyer read it.")
    given = fields.Boolean("Given", readonly=True)
    date = fields.DateTime("Date", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')


class Ticket(metaclass=PoolMeta):
    __name__ = 'ticket.ticket'

    @classmethod
    def issue(cls, lines):
        "Give each ticket its attendee's name and answers"
        Attendee = Pool().get('ticket.shop.attendee')
        attendees = {(a.line.id, a.position): a for a in Attendee.search([
                    ('line', 'in', [l.id for l in lines]),
                    ])}
        if not attendees:
            return super().issue(lines)
        # the names go with the tickets' creation (_new_tickets), not in a
        # second write of every ticket
        token = _attendees.set(attendees)
        try:
            tickets = super().issue(lines)
        finally:
            _attendees.reset(token)
        linked, renamed = {}, []
        for ticket, attendee in zip(
                tickets, cls._attendees_of(tickets, attendees)):
            if attendee:
                linked[attendee.id] = ticket.id
                if (attendee.holder_name
                        and ticket.holder_name != attendee.holder_name):
                    # named again by another module after their creation
                    ticket.holder_name = attendee.holder_name
                    renamed.append(ticket)
        cls.save(renamed)
        cls._link_attendees(linked)
        return tickets

    @classmethod
    def _link_attendees(cls, linked):
        """Set the ticket of attendees ({attendee id: ticket id}) by one
        UPDATE: both exist (the foreign key checks it), nothing else of
        the attendees changes"""
        Attendee = Pool().get('ticket.shop.attendee')
        if not linked:
            return
        transaction = Transaction()
        table = Attendee.__table__()
        cursor = transaction.connection.cursor()
        cursor.execute(*table.update(
                [table.ticket, table.write_uid, table.write_date],
                [Case(*((table.id == a, t) for a, t in linked.items())),
                    transaction.user, CurrentTimestamp()],
                where=table.id.in_(list(linked))))
        forget_records(Attendee, list(linked))

    @classmethod
    def _new_tickets(cls, lines):
        tickets = super()._new_tickets(lines)
        attendees = _attendees.get()
        if attendees:
            for ticket, attendee in zip(
                    tickets, cls._attendees_of(tickets, attendees)):
                if attendee and attendee.holder_name:
                    ticket.holder_name = attendee.holder_name
        return tickets

    @staticmethod
    def _attendees_of(tickets, attendees):
        "The attendee of each ticket (or None), by its position in its line"
        positions = defaultdict(int)
        for ticket in tickets:
            position = positions[ticket.line.id]
            positions[ticket.line.id] += 1
            yield attendees.get((ticket.line.id, position))

    @property
    def shop_attendee(self):
        Attendee = Pool().get('ticket.shop.attendee')
        attendees = Attendee.search([('ticket', '=', self.id)], limit=1)
        return attendees[0] if attendees else None

    @property
    def admission_labels(self):
        "The answers to print: the order's and the attendee's"
        labels = super().admission_labels
        if not self.order or not self.order.shop_token:
            return labels
        attendee = None
        for answer in self.order.answers:
            if not answer.question.print_on_ticket:
                continue
            if answer.attendee:
                # the ticket's attendee looked up for the first answer of
                # an attendee only: most orders print none
                if attendee is None:
                    attendee = self.shop_attendee or False
                if answer.attendee != attendee:
                    continue
            if answer.label:
                labels.append(f'{answer.question.name}: {answer.label}')
        return labels


class RateLimit(ModelSQL):
    "An attempt counted against a rate limit (codes, order lookups)"
    __name__ = 'ticket.shop.rate_limit'
    key = fields.Char("Key", required=True)
    at = fields.DateTime("At", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.key, Index.Equality()), (t.at, Index.Range())))

    @classmethod
    def exceeded(cls, key, limit, window):
        "Whether key had limit attempts or more within window"
        return cls.search_count([
                ('key', '=', key),
                ('at', '>', now() - window),
                ]) >= limit

    @classmethod
    def count(cls, key):
        cls.create([{'key': key, 'at': now()}])

    @classmethod
    def clean(cls):
        "Forget the attempts older than a day (cron)"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.delete(
                where=table.at < now() - dt.timedelta(days=1)))


class TicketCopyReport(TicketReport):
    "Tickets without their price, to give away"
    __name__ = 'ticket.order.tickets_copy'

    @classmethod
    def draw_ticket(cls, pdf, ticket):
        with Transaction().set_context(
                _ticket_hidden_text=price_label(ticket)):
            super().draw_ticket(pdf, ticket)

    @classmethod
    def draw_text(cls, pdf, x, y, text, width, *args, **kwargs):
        if text and text == Transaction().context.get('_ticket_hidden_text'):
            return y
        return super().draw_text(pdf, x, y, text, width, *args, **kwargs)

