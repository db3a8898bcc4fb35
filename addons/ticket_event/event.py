import datetime as dt
import secrets

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateView, Wizard

from .common import DEFAULT_TIMEZONE, TIMEZONES

LONG_EVENT = dt.timedelta(days=30)


class Tag(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'ticket.event.tag'
    name = fields.Char("Name", required=True, translate=True)
    company = fields.Many2One('company.company', "Company", required=True)

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')


class EventTag(ModelSQL):
    __name__ = 'ticket.event-ticket.event.tag'
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE')
    tag = fields.Many2One(
        'ticket.event.tag', "Tag", required=True, ondelete='CASCADE')


class Event(Workflow, ModelSQL, ModelView):
    __name__ = 'ticket.event'
    _states = {'readonly': Eval('state').in_(['closed', 'cancelled'])}

    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={'readonly': _states['readonly'] | Bool(Eval('sessions'))})
    name = fields.Char("Name", required=True, translate=True, states=_states)
    description = fields.Text("Description", translate=True, states=_states)
    venue = fields.Many2One(
        'ticket.venue', "Venue", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    tags = fields.Many2Many(
        'ticket.event-ticket.event.tag', 'event', 'tag', "Tags",
        domain=[('company', '=', Eval('company', -1))],
        help="Used to filter the agenda.")
    timezone = fields.Selection(
        TIMEZONES, "Time Zone", required=True, translate=False,
        states=_states,
        help="Session dates are shown in this time zone.")
    visibility = fields.Selection([
            ('public', "Public"),
            ('private', "Private (by link only)"),
            ], "Visibility", required=True, states=_states)
    token = fields.Char(
        "Link Token", readonly=True, strip=False,
        help="The unguessable part of the links to a private event.")
    hide_dates = fields.Boolean(
        "Hide Dates",
        states={'invisible': ~Eval('long_event')},
        help="Do not show the dates of an event lasting more than 30 days "
        "(exhibitions, seasons).")
    long_event = fields.Function(
        fields.Boolean("Long Event"), 'get_long_event')
    sessions = fields.One2Many(
        'ticket.session', 'event', "Sessions", states=_states)
    pools = fields.One2Many(
        'ticket.pool', 'event', "Capacity Pools", states=_states)
    start = fields.Function(fields.DateTime("Start"), 'get_dates')
    end = fields.Function(fields.DateTime("End"), 'get_dates')
    state = fields.Selection([
            ('draft', "Draft"),
            ('published', "Published"),
            ('closed', "Closed"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('token_unique', Unique(t, t.token),
                'ticket_event.msg_event_token_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.state, Index.Equality(cardinality='low'))))
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'published'),
            ('published', 'draft'),
            ('published', 'closed'),
            ('closed', 'published'),
            ('draft', 'cancelled'),
            ('published', 'cancelled'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update(
            draft={
                'invisible': ~Eval('state').in_(['published', 'cancelled']),
                'icon': If(Eval('state') == 'cancelled', 'tryton-undo',
                    'tryton-back'),
                'depends': ['state'],
                },
            publish={
                'invisible': ~Eval('state').in_(['draft', 'closed']),
                'icon': 'tryton-ok',
                'depends': ['state'],
                },
            close={
                'invisible': Eval('state') != 'published',
                'depends': ['state'],
                },
            cancel={
                'invisible': ~Eval('state').in_(['draft', 'published']),
                'icon': 'tryton-cancel',
                'depends': ['state'],
                },
            duplicate_wizard={
                'icon': 'tryton-copy',
                },
            )

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_visibility(cls):
        return 'public'

    @classmethod
    def default_timezone(cls):
        return DEFAULT_TIMEZONE

    @classmethod
    def default_token(cls):
        return secrets.token_urlsafe(16)

    @fields.depends('venue')
    def on_change_venue(self):
        if self.venue:
            self.timezone = self.venue.timezone

    @classmethod
    def get_dates(cls, events, names):
        result = {n: {e.id: None for e in events} for n in names}
        for event in events:
            starts = [s.start for s in event.sessions if s.start]
            ends = [s.end or s.start for s in event.sessions if s.start]
            if 'start' in result and starts:
                result['start'][event.id] = min(starts)
            if 'end' in result and ends:
                result['end'][event.id] = max(ends)
        return result

    def get_long_event(self, name):
        return bool(self.start and self.end
            and self.end - self.start > LONG_EVENT)

    @classmethod
    def validate_fields(cls, events, field_names):
        super().validate_fields(events, field_names)
        if field_names & {'hide_dates', 'sessions'}:
            cls.check_hide_dates(events)

    @classmethod
    def check_hide_dates(cls, events):
        "Raise ValidationError if a short event hides its dates"
        for event in events:
            if event.hide_dates and not event.get_long_event(None):
                raise ValidationError(gettext(
                        'ticket_event.msg_event_hide_dates_short',
                        event=event.rec_name))

    @classmethod
    def copy(cls, events, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('token', lambda data: secrets.token_urlsafe(16))
        default.setdefault('sessions', None)
        default.setdefault('pools', None)
        default.setdefault('state', 'draft')
        return super().copy(events, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, events):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('published')
    def publish(cls, events):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, events):
        Session = Pool().get('ticket.session')
        Session.close([s for e in events for s in e.sessions
                if s.state in {'scheduled', 'on_sale', 'sold_out'}])

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, events):
        Session = Pool().get('ticket.session')
        Session.cancel([s for e in events for s in e.sessions
                if s.state != 'cancelled'])

    @classmethod
    @ModelView.button_action('ticket_event.wizard_event_duplicate')
    def duplicate_wizard(cls, events):
        pass

    def duplicate(self, name, copy_sessions=False, shift=None):
        """Copy the event as a template, with its sessions shifted by shift
        and its shared pools when copy_sessions is set"""
        pool = Pool()
        CapacityPool = pool.get('ticket.pool')
        Session = pool.get('ticket.session')
        event, = self.copy([self], default={'name': name})
        if copy_sessions:
            copies = Session.copy_to_event(self.sessions, event, shift=shift)
            session_copies = {
                s.id: c.id for s, c in zip(self.sessions, copies)}
            own_pools = {s.pool for s in self.sessions}
            CapacityPool.copy(
                [p for p in self.pools if p not in own_pools], default={
                    'event': event.id,
                    'sessions': lambda data: [
                        session_copies[s] for s in data['sessions']],
                    })
        return event


class DuplicateStart(ModelView):
    __name__ = 'ticket.event.duplicate.start'
    name = fields.Char("Name", required=True)
    copy_sessions = fields.Boolean(
        "Copy Sessions", help="Copy the sessions and their capacities.")
    shift = fields.TimeDelta(
        "Shift Dates By",
        states={'invisible': ~Eval('copy_sessions')},
        help="Added to the dates of the copied sessions (e.g. 364 days "
        "for the same weekday next year).")


class Duplicate(Wizard):
    __name__ = 'ticket.event.duplicate'
    start = StateView(
        'ticket.event.duplicate.start',
        'ticket_event.event_duplicate_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Duplicate", 'duplicate', 'tryton-ok', default=True),
            ])
    duplicate = StateAction('ticket_event.act_event_form')

    def default_start(self, fields):
        return {
            'name': self.record.name,
            'copy_sessions': True,
            }

    def do_duplicate(self, action):
        event = self.record.duplicate(
            self.start.name, copy_sessions=self.start.copy_sessions,
            shift=self.start.shift)
        return action, {'res_id': [event.id]}
