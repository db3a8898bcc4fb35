"""Seated sessions: a session uses one seat map and has its own seat
inventory; an event sets how each channel sells its seats."""
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.wizard import Button, StateTransition, StateView, Wizard

from guichet.ticket_event.hold import CHANNELS

from .inventory import Inventory

MODES = [
    ('pick', "Pick on the Map"),
    ('auto_view', "Automatic, Map Shown"),
    ('auto_change', "Automatic, Buyer May Change"),
    ('auto', "Automatic Only, No Map"),
    ]
DEFAULT_MODE = 'pick'


class Session(metaclass=PoolMeta):
    __name__ = 'ticket.session'
    seat_map = fields.Many2One(
        'ticket.seat.map', "Seat Map", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': Eval('state').in_(['closed', 'cancelled']),
            },
        help="The seating plan of a numbered session; empty for free "
        "seating. It must be a map of the session's venue.")
    seat_bookings = fields.One2Many(
        'ticket.seat.booking', 'session', "Seats", readonly=True,
        states={'invisible': ~Eval('seat_map')},
        filter=[('state', '!=', 'released')])
    seats_free = fields.Function(
        fields.Integer("Free Seats",
            states={'invisible': ~Eval('seat_map')}), 'get_seat_counts')
    seats_held = fields.Function(
        fields.Integer("Held Seats",
            states={'invisible': ~Eval('seat_map')}), 'get_seat_counts')
    seats_sold = fields.Function(
        fields.Integer("Sold Seats",
            states={'invisible': ~Eval('seat_map')}), 'get_seat_counts')
    seats_blocked = fields.Function(
        fields.Integer("Blocked Seats",
            states={'invisible': ~Eval('seat_map')}), 'get_seat_counts')
    seats_contingent = fields.Function(
        fields.Integer("Seats in Contingents",
            states={'invisible': ~Eval('seat_map')}), 'get_seat_counts')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update(
            block_seats={
                'invisible': ~Eval('seat_map'),
                'icon': 'tryton-lock',
                'depends': ['seat_map'],
                },
            seat_plan={
                'invisible': ~Eval('seat_map'),
                'icon': 'tryton-print',
                'depends': ['seat_map'],
                },
            )

    @fields.depends('seat_map', 'capacity')
    def on_change_seat_map(self):
        if self.seat_map and not self.capacity:
            self.capacity = self.seat_map.seat_count

    @classmethod
    def get_seat_counts(cls, sessions, names):
        counts = Inventory.counts([s for s in sessions if s.seat_map])
        result = {n: {} for n in names}
        for session in sessions:
            values = counts.get(session.id)
            for name in names:
                result[name][session.id] = (
                    values[name[len('seats_'):]] if values else None)
        return result

    @classmethod
    def create(cls, vlist):
        sessions = super().create(vlist)
        Inventory.setup([s for s in sessions if s.seat_map])
        return sessions

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        changed = []
        for sessions, values in zip(actions, actions):
            if 'seat_map' in values:
                moved = [s for s in sessions
                    if (s.seat_map.id if s.seat_map else None)
                    != values['seat_map']]
                Inventory.lock(moved)
                Inventory.teardown(moved)
                changed.extend(moved)
        super().write(*args)
        if changed:
            Inventory.setup(cls.browse(changed))

    @classmethod
    def validate_fields(cls, sessions, field_names):
        super().validate_fields(sessions, field_names)
        if field_names & {'seat_map', 'venue', 'event'}:
            for session in sessions:
                if (session.seat_map
                        and session.seat_map.venue
                        != session.effective_venue):
                    raise ValidationError(gettext(
                            'ticket_seating.msg_session_map_venue',
                            session=session.rec_name,
                            map=session.seat_map.rec_name))

    def _more_sale_values(self):
        # whether the session is seated, kept per process: a payment of
        # its orders looks for seats only then (Order._pay, Ticket.issue)
        values = super()._more_sale_values()
        values['seat_map'] = self.seat_map.id if self.seat_map else None
        return values

    def seat_mode(self, channel):
        "How channel sells the seats of the session (MODES)"
        for mode in self.event.seat_modes:
            if mode.channel == channel:
                return mode.mode
        return DEFAULT_MODE

    @classmethod
    def block(cls, sessions, seats, note=None):
        """Block free seats of sessions (organizer's seats, technical
        places); raise SeatingError if one is not free"""
        for session in sessions:
            Inventory.lock([session])
            Inventory.book(session, session.seat_map.get_layout(),
                [s.id for s in seats], state='blocked', note=note)

    @classmethod
    def unblock(cls, sessions, seats):
        "Free the blocked seats of sessions"
        if not sessions or not seats:
            return
        session_ids = [s.id for s in sessions]
        seat_ids = [s.id for s in seats]
        Inventory.release(
            lambda t: t.session.in_(session_ids) & t.seat.in_(seat_ids),
            states=('blocked',))

    @classmethod
    @ModelView.button_action('ticket_seating.wizard_block')
    def block_seats(cls, sessions):
        pass

    @classmethod
    @ModelView.button_action('ticket_seating.report_seat_plan')
    def seat_plan(cls, sessions):
        pass


class Event(metaclass=PoolMeta):
    __name__ = 'ticket.event'
    seat_modes = fields.One2Many(
        'ticket.seat.mode', 'event', "Seating Modes",
        help="How each channel sells the seats of numbered sessions; "
        "picking on the map when not set.")
    contingents = fields.One2Many(
        'ticket.seat.contingent', 'event', "Seat Contingents")

    @classmethod
    def copy(cls, events, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('contingents', None)
        return super().copy(events, default=default)


class SeatMode(ModelSQL, ModelView):
    "How a channel sells the seats of an event"
    __name__ = 'ticket.seat.mode'
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE')
    channel = fields.Selection(CHANNELS, "Channel", required=True)
    mode = fields.Selection(MODES, "Mode", required=True,
        help="Pick on the map: the buyer chooses the seats (best available "
        "is offered too). Automatic, map shown: best available only, the "
        "buyer sees where. Automatic, buyer may change: best available, "
        "then the buyer may move the seats on the map. Automatic only: "
        "best available without a map.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('channel_unique', Unique(t, t.event, t.channel),
                'ticket_seating.msg_mode_channel_unique'),
            ]
        cls.__access__.add('event')

    @classmethod
    def default_mode(cls):
        return DEFAULT_MODE


class BlockStart(ModelView):
    "Block or free seats of a session"
    __name__ = 'ticket.seat.block.start'
    session = fields.Many2One('ticket.session', "Session", readonly=True)
    seat_map = fields.Many2One('ticket.seat.map', "Seat Map", readonly=True)
    action = fields.Selection([
            ('block', "Block"),
            ('unblock', "Free"),
            ], "Action", required=True)
    seats = fields.Many2Many(
        'ticket.seat', None, None, "Seats", required=True,
        domain=[('map', '=', Eval('seat_map', -1))])
    note = fields.Char(
        "Reason", states={'invisible': Eval('action') != 'block'},
        help="Shown as the holder of the seats, e.g. technical, artists.")

    @classmethod
    def default_action(cls):
        return 'block'


class Block(Wizard):
    "Block or free seats of a session"
    __name__ = 'ticket.seat.block'
    start = StateView('ticket.seat.block.start',
        'ticket_seating.seat_block_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("OK", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()

    def default_start(self, fields):
        return {
            'session': self.record.id,
            'seat_map': self.record.seat_map.id if self.record.seat_map
            else None,
            }

    def transition_apply(self):
        Session = Pool().get('ticket.session')
        if self.start.action == 'block':
            Session.block([self.record], self.start.seats, self.start.note)
        else:
            Session.unblock([self.record], self.start.seats)
        return 'end'
