"""Waiting lists: people sign up for a sold-out session; when places free
up, a wave offers them, in order of sign-up, N places for N people: each
offer is a hold of the places (so nobody else takes them) and an e-mail
with a link that puts the places in the person's cart."""
import datetime as dt
import smtplib

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from guichet.ticket_event.common import now
from guichet.ticket_event.hold import new_token

from .exceptions import ShopError

MAIL_ATTEMPTS = 6


class Entry(Workflow, ModelSQL, ModelView):
    "A person waiting for places of a sold-out session"
    __name__ = 'ticket.shop.waitlist'
    _rec_name = 'email'
    session = fields.Many2One(
        'ticket.session', "Session", required=True, readonly=True,
        ondelete='CASCADE')
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    name = fields.Char("Name", readonly=True)
    email = fields.Char("E-mail", required=True, readonly=True)
    quantity = fields.Integer(
        "Places", required=True, readonly=True,
        domain=[('quantity', '>', 0)])
    language = fields.Char("Language", readonly=True)
    token = fields.Char("Token", required=True, readonly=True, strip=False)
    shop_url = fields.Char("Shop URL", readonly=True)
    hold = fields.Many2One(
        'ticket.hold', "Offer", readonly=True, ondelete='SET NULL',
        help="The places held for the person.")
    offered_at = fields.DateTime("Offered At", readonly=True)
    offer_expires_at = fields.Function(
        fields.DateTime("Offer Expires At"), 'get_offer_expires_at')
    state = fields.Selection([
            ('waiting', "Waiting"),
            ('offered', "Offered"),
            ('claimed', "Claimed"),
            ('lapsed', "Lapsed"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('token_unique', Unique(t, t.token),
                'ticket_shop.msg_waitlist_token_unique'),
            ]
        cls._sql_indexes.add(Index(t,
                (t.session, Index.Range()), (t.id, Index.Range()),
                where=t.state.in_(['waiting', 'offered'])))
        cls._order = [('id', 'ASC')]
        cls._transitions |= {
            ('waiting', 'offered'),
            ('offered', 'claimed'),
            ('offered', 'lapsed'),
            ('waiting', 'cancelled'),
            ('offered', 'cancelled'),
            }
        cls._buttons.update(
            cancel={
                'invisible': ~Eval('state').in_(['waiting', 'offered']),
                'icon': 'tryton-cancel',
                'depends': ['state'],
                },
            )

    @classmethod
    def default_state(cls):
        return 'waiting'

    @classmethod
    def default_token(cls):
        return new_token()

    def get_offer_expires_at(self, name):
        if self.hold and self.state == 'offered':
            return self.hold.expires_at

    @property
    def link(self):
        from .event import shop_url
        return f'{self.shop_url or shop_url()}/waitlist/{self.token}'

    @classmethod
    def sign_up(cls, session, name, email, quantity, language, shop_url):
        "Put a person on the waiting list of session; return the entry"
        event = session.event
        if not event.waitlist:
            raise ShopError(gettext('ticket_shop.msg_waitlist_closed'),
                status=409)
        if not 0 < quantity <= event.waitlist_max_quantity:
            raise ShopError(gettext('ticket_shop.msg_waitlist_quantity',
                    maximum=event.waitlist_max_quantity), 'quantity')
        if cls.search([
                    ('session', '=', session.id),
                    ('email', '=', email),
                    ('state', 'in', ['waiting', 'offered']),
                    ], limit=1):
            raise ShopError(gettext('ticket_shop.msg_waitlist_twice'),
                'email', status=409)
        entry = cls(session=session, company=event.company, name=name,
            email=email, quantity=quantity, language=language,
            shop_url=shop_url)
        entry.save()
        return entry

    @classmethod
    def find_by_token(cls, token):
        if not token or not isinstance(token, str) or len(token) > 64:
            return None
        entries = cls.search([('token', '=', token)], limit=1)
        return entries[0] if entries else None

    @classmethod
    def wave(cls, session, count=None):
        """Offer the places free in session to the first people waiting,
        at most count of them; return the entries offered"""
        pool = Pool()
        Configuration = pool.get('ticket.configuration')
        Hold = pool.get('ticket.hold')
        Session = pool.get('ticket.session')
        session = Session(session.id)
        available = session.available
        offered = []
        if available <= 0:
            return offered
        if session.state == 'sold_out':
            Session.open_sale([session])
        delay = Configuration(1).waitlist_offer_delay
        for entry in cls.search([
                    ('session', '=', session.id),
                    ('state', '=', 'waiting'),
                    ]):
            if count is not None and len(offered) >= count:
                break
            if entry.quantity > available:
                continue
            try:
                hold = Hold.reserve([{
                            'session': session,
                            'quantity': entry.quantity,
                            'description': gettext(
                                'ticket_shop.msg_waitlist_hold'),
                            }], channel='web', delay=delay,
                    company=session.event.company)
            except UserError:
                break
            available -= entry.quantity
            cls.write([entry], {'hold': hold.id, 'offered_at': now()})
            cls.offer([entry])
            offered.append(entry)
        for entry in offered:
            cls.queue_offer_email(entry)
        return offered

    @classmethod
    @Workflow.transition('offered')
    def offer(cls, entries):
        pass

    @classmethod
    @Workflow.transition('claimed')
    def claim(cls, entries):
        pass

    @classmethod
    @Workflow.transition('lapsed')
    def lapse(cls, entries):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, entries):
        "Take people off the list; their offered places return to sale"
        Hold = Pool().get('ticket.hold')
        Hold.release([e.hold for e in entries
                if e.state == 'offered' and e.hold])

    def claim_places(self, wanted):
        """Turn the offer into a priced hold of wanted (tariff, quantity,
        amount) for the person's cart; return the hold"""
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Session = pool.get('ticket.session')
        from .checkout import add_to_cart
        if self.state != 'offered' or not self.hold or not self.hold.is_live:
            raise ShopError(gettext('ticket_shop.msg_waitlist_offer_over'),
                status=409)
        places = sum(q * t.tickets_per_unit for t, q, _ in wanted)
        if places > self.quantity:
            raise ShopError(gettext('ticket_shop.msg_waitlist_claim_more',
                    quantity=self.quantity), 'quantity')
        Hold.release([self.hold])
        session = Session(self.session.id)
        if session.state == 'sold_out' and session.available > 0:
            Session.open_sale([session])
        hold = add_to_cart(session, wanted)
        self.__class__.write([self], {'hold': hold.id})
        self.__class__.claim([self])
        return hold

    @classmethod
    def process(cls):
        """Lapse the offers whose places went back to sale, then send the
        automatic waves (cron)"""
        pool = Pool()
        Session = pool.get('ticket.session')
        offers = cls.search([('state', '=', 'offered')])
        cls.lapse([e for e in offers if not e.hold or not e.hold.is_live])
        waiting = cls.search([
                ('state', '=', 'waiting'),
                ('session.event.waitlist_auto', '=', True),
                ('session.state', 'in', ['on_sale', 'sold_out']),
                ('session.start', '>', now()),
                ])
        for session in Session.browse({e.session.id for e in waiting}):
            cls.wave(session)

    @classmethod
    def queue_offer_email(cls, entry, delay=None, attempt=1):
        context = {'queue_name': 'ticket_shop_email'}
        if delay:
            context['queue_scheduled_at'] = delay
        with Transaction().set_context(**context):
            cls.__queue__.send_offer_email(
                [entry], entry.language or 'en', attempt)

    @classmethod
    def send_offer_email(cls, entries, language, attempt=1):
        "Send the offers by e-mail (a queue task, tried again on failure)"
        from trytond.sendmail import send_message
        from .mail import waitlist_message
        for entry in entries:
            if entry.state != 'offered':
                continue
            with Transaction().set_context(language=language):
                message = waitlist_message(entry)
            try:
                send_message(message, strict=True)
            except (smtplib.SMTPException, OSError):
                if attempt < MAIL_ATTEMPTS:
                    cls.queue_offer_email(entry,
                        delay=dt.timedelta(minutes=2 ** attempt),
                        attempt=attempt + 1)


class Session(metaclass=PoolMeta):
    __name__ = 'ticket.session'
    waitlist_count = fields.Function(fields.Integer(
            "Waiting", help="People on the waiting list."),
        'get_waitlist_count')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update(
            waitlist_wave={
                'invisible': ~Eval('waitlist_count', 0),
                'icon': 'tryton-email',
                'depends': ['waitlist_count'],
                },
            )

    @classmethod
    def get_waitlist_count(cls, sessions, name):
        Entry = Pool().get('ticket.shop.waitlist')
        result = {s.id: 0 for s in sessions}
        for entry in Entry.search([
                    ('session', 'in', [s.id for s in sessions]),
                    ('state', '=', 'waiting'),
                    ]):
            result[entry.session.id] += 1
        return result

    @classmethod
    @ModelView.button_action('ticket_shop.wizard_waitlist_wave')
    def waitlist_wave(cls, sessions):
        pass


class WaveStart(ModelView):
    __name__ = 'ticket.shop.waitlist.wave.start'
    session = fields.Many2One('ticket.session', "Session", readonly=True)
    available = fields.Integer("Places Free", readonly=True)
    waiting = fields.Integer("People Waiting", readonly=True)
    count = fields.Integer(
        "People to Notify", required=True, domain=[('count', '>', 0)],
        help="The first people waiting whose places are free get an offer.")


class Wave(Wizard):
    "Offer free places to the waiting list"
    __name__ = 'ticket.shop.waitlist.wave'
    start = StateView('ticket.shop.waitlist.wave.start',
        'ticket_shop.waitlist_wave_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Notify", 'notify', 'tryton-ok', default=True),
            ])
    notify = StateTransition()

    def default_start(self, fields):
        session = self.record
        return {
            'session': session.id,
            'available': max(session.available, 0),
            'waiting': session.waitlist_count,
            'count': max(min(session.available, session.waitlist_count), 1),
            }

    def transition_notify(self):
        Entry = Pool().get('ticket.shop.waitlist')
        Entry.wave(self.record, self.start.count)
        return 'end'
