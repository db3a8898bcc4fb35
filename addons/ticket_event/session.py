import datetime as dt

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If, PYSONEncoder
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateView, Wizard

from .common import clears_caches, format_local, now, to_local, to_utc
from .exceptions import SaleClosedError

VISIBILITY = [
    ('online', "Online (listed)"),
    ('link', "Online (link only)"),
    ('box_office', "Box Office"),
    ('partner', "Partners"),
    ]
# Which session visibility lets a sale channel sell it.
CHANNEL_VISIBILITY = {
    'web': {'online', 'link'},
    'api': {'online', 'link'},
    'box_office': {'box_office'},
    'phone': {'box_office'},
    'partner': {'partner'},
    }
# What a hold checks of a session (its state, its event's, its visibility
# and sale dates, the ids of its pools), as plain values by session id: read
# once per process instead of at each hold and quote; cleared in every
# process (through ir_cache) when a session, an event, a pool or the pools of
# a session change.
_sale_values = Cache('ticket.session.sale_values', context=False)
# The label (rec_name) of each session by language, kept per process: the
# refusals of a rush's late buyers, the pages and the e-mails name it; built
# from the session and its event, cleared with the sale values.
_labels = Cache('ticket.session.label', context=False)


# Clear the sessions' sale values and labels when a record changes
SaleValuesCacheMixin = clears_caches(_sale_values, _labels)


WEEKDAYS = [
    ('0', "Monday"), ('1', "Tuesday"), ('2', "Wednesday"), ('3', "Thursday"),
    ('4', "Friday"), ('5', "Saturday"), ('6', "Sunday"),
    ]


class Session(SaleValuesCacheMixin, Workflow, ModelSQL, ModelView):
    "A performance of an event"
    __name__ = 'ticket.session'
    _states = {'readonly': Eval('state').in_(['closed', 'cancelled'])}

    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE',
        states={'readonly': _states['readonly'] | (Eval('id', -1) >= 0)})
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    name = fields.Char(
        "Name", states=_states,
        help="Optional, e.g. 'Premiere' or 'Relaxed performance'.")
    start = fields.DateTime("Start", required=True, states=_states)
    end = fields.DateTime(
        "End", states=_states,
        domain=['OR', ('end', '=', None), ('end', '>=', Eval('start'))])
    venue = fields.Many2One(
        'ticket.venue', "Venue", states=_states,
        help="Leave empty to use the event's venue.")
    timezone = fields.Function(
        fields.Char("Time Zone"), 'on_change_with_timezone')
    local_start = fields.Function(
        fields.Char("Local Start"), 'get_local')
    local_end = fields.Function(fields.Char("Local End"), 'get_local')
    sale_start = fields.DateTime(
        "Sale Opening", states=_states,
        help="Sales open at this time; empty means as soon as on sale.")
    sale_end = fields.DateTime(
        "Sale Closing", states=_states,
        domain=['OR', ('sale_end', '=', None),
            ('sale_end', '>=', Eval('sale_start')),
            ('sale_start', '=', None)],
        help="Online sales close at this time; empty means at the start.")
    visibility = fields.MultiSelection(
        VISIBILITY, "Visibility", states=_states,
        help="The channels that show and sell the session; none means "
        "hidden.")
    capacity = fields.Integer(
        "Capacity", required=True, states=_states,
        domain=[('capacity', '>=', 0)],
        help="Places of the session's own capacity pool.")
    pool = fields.Many2One(
        'ticket.pool', "Own Pool", readonly=True, ondelete='RESTRICT')
    pools = fields.Many2Many(
        'ticket.pool-ticket.session', 'session', 'pool', "Capacity Pools",
        domain=[('event', '=', Eval('event', -1))],
        help="Every pool a place of this session counts in.")
    sold = fields.Function(fields.Integer("Sold"), 'get_counts')
    held = fields.Function(fields.Integer("Held"), 'get_counts')
    available = fields.Function(fields.Integer(
            "Available",
            help="Places left to sell: the smallest availability of the "
            "session's pools."), 'get_counts')
    state = fields.Selection([
            ('scheduled', "Scheduled"),
            ('on_sale', "On Sale"),
            ('sold_out', "Sold Out"),
            ('closed', "Closed"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.event, Index.Range()), (t.start, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('start', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('scheduled', 'on_sale'),
            ('on_sale', 'scheduled'),
            ('on_sale', 'sold_out'),
            ('sold_out', 'on_sale'),
            ('scheduled', 'closed'),
            ('on_sale', 'closed'),
            ('sold_out', 'closed'),
            ('closed', 'on_sale'),
            ('scheduled', 'cancelled'),
            ('on_sale', 'cancelled'),
            ('sold_out', 'cancelled'),
            ('closed', 'cancelled'),
            }
        cls._buttons.update(
            open_sale={
                'invisible': ~Eval('state').in_(
                    ['scheduled', 'closed', 'sold_out']),
                'icon': 'tryton-ok',
                'depends': ['state'],
                },
            unschedule={
                'invisible': Eval('state') != 'on_sale',
                'icon': 'tryton-back',
                'depends': ['state'],
                },
            close={
                'invisible': ~Eval('state').in_(
                    ['scheduled', 'on_sale', 'sold_out']),
                'depends': ['state'],
                },
            cancel={
                'invisible': Eval('state') == 'cancelled',
                'icon': 'tryton-cancel',
                'depends': ['state'],
                },
            )

    @classmethod
    def default_state(cls):
        return 'scheduled'

    @classmethod
    def default_visibility(cls):
        return ['online', 'box_office']

    @classmethod
    def default_capacity(cls):
        return 0

    @fields.depends('event', '_parent_event.venue', 'capacity')
    def on_change_event(self):
        if self.event and self.event.venue and self.event.venue.capacity:
            if not self.capacity:
                self.capacity = self.event.venue.capacity

    @fields.depends('start', 'end')
    def on_change_start(self):
        if self.start and (not self.end or self.end < self.start):
            self.end = self.start + dt.timedelta(hours=2)

    @fields.depends('event', '_parent_event.company')
    def on_change_with_company(self, name=None):
        return self.event.company if self.event else None

    @classmethod
    def search_company(cls, name, clause):
        return [('event.company',) + tuple(clause[1:])]

    @fields.depends('event', '_parent_event.timezone')
    def on_change_with_timezone(self, name=None):
        return self.event.timezone if self.event else None

    def get_local(self, name):
        value = self.start if name == 'local_start' else self.end
        return format_local(value, self.timezone) if value else None

    def get_rec_name(self, name):
        saved = self.id is not None and self.id >= 0
        key = (self.id, Transaction().language)
        label = _labels.get(key) if saved else None
        if label is None:
            label = f'{self.event.rec_name} - {self.local_start}'
            if self.name:
                label += f' ({self.name})'
            if saved:
                _labels.set(key, label)
        return label

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('event.rec_name', operator, value),
            ('name', operator, value),
            ]

    @property
    def effective_venue(self):
        return self.venue or self.event.venue

    @classmethod
    def get_counts(cls, sessions, names):
        result = {n: {} for n in names}
        for session in sessions:
            own = session.pool
            values = {
                'sold': own.sold if own else 0,
                'held': own.held if own else 0,
                'available': min(
                    (p.available for p in session.pools), default=0),
                }
            for name in names:
                result[name][session.id] = values[name]
        return result

    @classmethod
    def create(cls, vlist):
        CapacityPool = Pool().get('ticket.pool')
        sessions = super().create(vlist)
        pools = CapacityPool.create([{
                    'name': s.get_pool_name(),
                    'event': s.event.id,
                    'capacity': s.capacity,
                    'sessions': [('add', [s.id])],
                    } for s in sessions])
        for session, pool in zip(sessions, pools):
            session.pool = pool
        cls.save(sessions)
        return sessions

    def get_pool_name(self):
        return format_local(self.start, self.timezone)

    @classmethod
    def write(cls, *args):
        CapacityPool = Pool().get('ticket.pool')
        super().write(*args)
        actions = iter(args)
        to_write = []
        for sessions, values in zip(actions, actions):
            if 'capacity' in values:
                pools = [s.pool for s in sessions if s.pool]
                if pools:
                    to_write.extend((pools, {'capacity': values['capacity']}))
        if to_write:
            CapacityPool.write(*to_write)

    @classmethod
    def copy(cls, sessions, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('pool', None)
        default.setdefault('state', 'scheduled')
        event = default.get('event')

        def shared_pools(data):
            # Pools shared with other sessions follow a copy within the
            # same event; the own pool is always new.
            if event is not None and event != data['event']:
                return []
            return [p for p in data['pools'] if p != data['pool']]
        default.setdefault('pools', shared_pools)
        return super().copy(sessions, default=default)

    @classmethod
    def copy_to_event(cls, sessions, event, shift=None):
        """Copy sessions to event, their dates moved by shift on the clock
        of the event's time zone: a show at 20:30 stays at 20:30 across a
        change of daylight saving time"""
        shift = shift or dt.timedelta()
        zone = event.timezone

        def moved(field):
            def value(data):
                if data.get(field):
                    local = to_local(data[field], zone).replace(tzinfo=None)
                    return to_utc(local + shift, zone)
            return value
        return cls.copy(sessions, default={
                'event': event.id,
                'start': moved('start'),
                'end': moved('end'),
                'sale_start': moved('sale_start'),
                'sale_end': moved('sale_end'),
                })

    @property
    def sale_values(self):
        """The values of the session that a hold checks (a dict of plain
        values), kept per process"""
        saved = self.id is not None and self.id >= 0
        values = _sale_values.get(self.id) if saved else None
        if values is None:
            session = self.__class__(self.id) if saved else self
            values = {
                'state': session.state,
                'event': session.event.id,
                'event_state': session.event.state,
                'event_visibility': session.event.visibility,
                'company': session.event.company.id,
                'visibility': tuple(session.visibility or ()),
                'sale_start': session.sale_start,
                'sale_end': session.sale_end,
                'start': session.start,
                'end': session.end,
                'pools': tuple(p.id for p in session.pools),
                }
            values.update(session._more_sale_values())
            if saved:
                _sale_values.set(self.id, values)
        return values

    @classmethod
    def sale_values_of(cls, session_id):
        """The sale values of the session of session_id (kept per process),
        or None when there is no such session"""
        values = _sale_values.get(session_id)
        if values is None:
            if not cls.search([('id', '=', session_id)], limit=1):
                return None
            values = cls(session_id).sale_values
        return values

    def _more_sale_values(self):
        "The plain values modules add to sale_values (kept with them)"
        return {}

    def check_on_sale(self, channel, at=None):
        "Raise SaleClosedError unless channel may sell this session now"
        at = at or now()
        values = self.sale_values
        if values['state'] == 'sold_out':
            raise SaleClosedError(gettext(
                    'ticket_event.msg_session_sold_out',
                    session=self.rec_name))
        if (values['state'] != 'on_sale'
                or values['event_state'] != 'published'
                or not (CHANNEL_VISIBILITY.get(channel, set())
                    & set(values['visibility']))):
            raise SaleClosedError(gettext(
                    'ticket_event.msg_session_not_on_sale',
                    session=self.rec_name))
        if values['sale_start'] and at < values['sale_start']:
            raise SaleClosedError(gettext(
                    'ticket_event.msg_session_sale_not_open',
                    session=self.rec_name))
        # The box office sells until the doors close, online until the
        # sale closing date.
        if channel in {'box_office', 'phone'}:
            closing = values['end'] or values['start']
        else:
            closing = values['sale_end'] or values['start']
        if at > closing:
            raise SaleClosedError(gettext(
                    'ticket_event.msg_session_sale_closed',
                    session=self.rec_name))

    @classmethod
    def delete(cls, sessions):
        "Delete the sessions and their own pools"
        CapacityPool = Pool().get('ticket.pool')
        pools = [s.pool for s in sessions if s.pool]
        super().delete(sessions)
        CapacityPool.delete(pools)

    @classmethod
    def validate_fields(cls, sessions, field_names):
        pool = Pool()
        Event = pool.get('ticket.event')
        super().validate_fields(sessions, field_names)
        if field_names & {'event', 'start', 'end'}:
            Event.check_hide_dates(list({s.event for s in sessions}))
        if field_names & {'event', 'venue'}:
            for session in sessions:
                if (session.venue
                        and session.venue.company != session.event.company):
                    raise ValidationError(gettext(
                            'ticket_event.msg_session_venue_company',
                            session=session.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('on_sale')
    def open_sale(cls, sessions):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('scheduled')
    def unschedule(cls, sessions):
        pass

    @classmethod
    @Workflow.transition('sold_out')
    def sell_out(cls, sessions):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, sessions):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, sessions):
        pass

    @classmethod
    def update_sale_states(cls):
        "Open, close and mark sold out the sessions as time and sales go"
        at = now()
        to_open, to_close, to_sell_out, to_reopen = [], [], [], []
        for session in cls.search([
                    ('state', 'in', ['scheduled', 'on_sale', 'sold_out']),
                    ('event.state', '=', 'published'),
                    ]):
            closing = session.end or session.start
            if at > closing:
                to_close.append(session)
            elif session.state == 'scheduled':
                if session.sale_start and session.sale_start <= at:
                    to_open.append(session)
            elif session.state == 'on_sale' and session.available <= 0:
                to_sell_out.append(session)
            elif session.state == 'sold_out' and session.available > 0:
                to_reopen.append(session)
        cls.open_sale(to_open + to_reopen)
        cls.sell_out(to_sell_out)
        cls.close(to_close)


class Event(SaleValuesCacheMixin, metaclass=PoolMeta):
    "Clear the sessions' sale values when an event changes (its state)"
    __name__ = 'ticket.event'


class CreateSessionsStart(ModelView):
    __name__ = 'ticket.session.create.start'
    event = fields.Many2One('ticket.event', "Event", required=True)
    timezone = fields.Function(
        fields.Char("Time Zone"), 'on_change_with_timezone')
    mode = fields.Selection([
            ('weekly', "Weekly Repeat"),
            ('dates', "Copies on Dates"),
            ], "Mode", required=True)
    from_date = fields.Date(
        "From", states={
            'required': Eval('mode') == 'weekly',
            'invisible': Eval('mode') != 'weekly',
            })
    to_date = fields.Date(
        "To", states={
            'required': Eval('mode') == 'weekly',
            'invisible': Eval('mode') != 'weekly',
            },
        domain=[If(Bool(Eval('from_date')) & Bool(Eval('to_date')),
                ('to_date', '>=', Eval('from_date')), ())])
    weekdays = fields.MultiSelection(
        WEEKDAYS, "Weekdays", sort=False,
        states={
            'required': Eval('mode') == 'weekly',
            'invisible': Eval('mode') != 'weekly',
            })
    time = fields.Time(
        "Start Time", states={
            'required': Eval('mode') == 'weekly',
            'invisible': Eval('mode') != 'weekly',
            }, help="In the event's time zone.")
    duration = fields.TimeDelta(
        "Duration", states={
            'invisible': Eval('mode') != 'weekly',
            })
    capacity = fields.Integer(
        "Capacity", domain=[('capacity', '>=', 0)],
        states={
            'required': Eval('mode') == 'weekly',
            'invisible': Eval('mode') != 'weekly',
            })
    template = fields.Many2One(
        'ticket.session', "Session to Copy",
        domain=[('event', '=', Eval('event', -1))],
        states={
            'required': Eval('mode') == 'dates',
            'invisible': Eval('mode') != 'dates',
            })
    dates = fields.One2Many(
        'ticket.session.create.date', None, "Dates",
        states={
            'invisible': Eval('mode') != 'dates',
            },
        help="The copies start on these days at the copied session's time.")

    @classmethod
    def default_mode(cls):
        return 'weekly'

    @fields.depends('event')
    def on_change_with_timezone(self, name=None):
        return self.event.timezone if self.event else None

    @fields.depends('event', 'capacity')
    def on_change_event(self):
        if self.event and not self.capacity and self.event.venue:
            self.capacity = self.event.venue.capacity

    def create_sessions(self):
        "Create the sessions described and return them"
        Session = Pool().get('ticket.session')
        if self.mode == 'weekly':
            return Session.create(self.weekly_values())
        template = self.template
        day = to_local(template.start, template.event.timezone).date()
        sessions = []
        for line in self.dates:
            sessions.extend(Session.copy_to_event(
                    [template], template.event, shift=line.date - day))
        return sessions

    def weekly_values(self):
        zone = self.event.timezone
        values = []
        weekdays = {int(d) for d in self.weekdays or []}
        day = self.from_date
        while day <= self.to_date:
            if day.weekday() in weekdays:
                start = to_utc(dt.datetime.combine(day, self.time), zone)
                values.append({
                        'event': self.event.id,
                        'start': start,
                        'end': (start + self.duration
                            if self.duration else None),
                        'capacity': self.capacity,
                        })
            day += dt.timedelta(days=1)
        return values


class CreateSessionsDate(ModelView):
    __name__ = 'ticket.session.create.date'
    date = fields.Date("Date", required=True)


class CreateSessions(Wizard):
    "Create sessions in bulk"
    __name__ = 'ticket.session.create'
    start = StateView(
        'ticket.session.create.start',
        'ticket_event.session_create_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Create", 'create_', 'tryton-ok', default=True),
            ])
    create_ = StateAction('ticket_event.act_session_form')

    def default_start(self, fields):
        values = {}
        model = self.model.__name__ if self.model else None
        if model == 'ticket.event' and self.record:
            values['event'] = self.record.id
            if self.record.venue.capacity:
                values['capacity'] = self.record.venue.capacity
        elif model == 'ticket.session' and self.record:
            values['event'] = self.record.event.id
            values['mode'] = 'dates'
            values['template'] = self.record.id
        return values

    def do_create_(self, action):
        sessions = self.start.create_sessions()
        if not sessions:
            raise ValidationError(gettext(
                    'ticket_event.msg_session_create_none'))
        action['pyson_domain'] = PYSONEncoder().encode(
            [('id', 'in', [s.id for s in sessions])])
        return action, {}
