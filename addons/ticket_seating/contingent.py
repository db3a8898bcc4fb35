"""Contingents: seats of sessions set aside for a channel or a partner
(agency, company, press) that only that channel sells, until they are
released to general sale by hand or at a date (cron)."""
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Eval

from guichet.ticket_event.common import now
from guichet.ticket_event.hold import CHANNELS

from .inventory import Inventory


class Contingent(Workflow, ModelSQL, ModelView):
    "Seats reserved for a channel or a partner"
    __name__ = 'ticket.seat.contingent'
    _states = {'readonly': Eval('state') != 'draft'}
    name = fields.Char("Name", required=True)
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE',
        states=_states)
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    sessions = fields.Many2Many(
        'ticket.seat.contingent-ticket.session', 'contingent', 'session',
        "Sessions", required=True, states=_states,
        domain=[
            ('event', '=', Eval('event', -1)),
            ('seat_map', '!=', None),
            ])
    seat_maps = fields.Function(
        fields.Many2Many('ticket.seat.map', None, None, "Seat Maps"),
        'on_change_with_seat_maps')
    seats = fields.Many2Many(
        'ticket.seat.contingent-ticket.seat', 'contingent', 'seat', "Seats",
        required=True, states=_states,
        domain=[('map', 'in', Eval('seat_maps', []))])
    channel = fields.Selection(
        CHANNELS, "Channel", required=True, states=_states,
        help="Only this channel sells the seats.")
    party = fields.Many2One(
        'party.party', "Partner", ondelete='RESTRICT', states=_states,
        context={'company': Eval('company', -1)}, depends={'company'},
        help="The agency, company or press the seats are kept for.")
    release_at = fields.DateTime(
        "Release At",
        states={'readonly': Eval('state') == 'released'},
        help="The seats not sold by then return to general sale.")
    seats_kept = fields.Function(
        fields.Integer("Seats Kept"), 'get_counts')
    seats_sold = fields.Function(
        fields.Integer("Seats Sold or Held"), 'get_counts')
    seats_missing = fields.Function(
        fields.Integer(
            "Seats Not Kept",
            help="Seats that were not free when the contingent started."),
        'get_counts')
    state = fields.Selection([
            ('draft', "Draft"),
            ('active', "Active"),
            ('released', "Released"),
            ], "State", required=True, readonly=True, sort=False)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'active'),
            ('active', 'released'),
            }
        cls._buttons.update(
            activate={
                'invisible': Eval('state') != 'draft',
                'icon': 'tryton-ok',
                'depends': ['state'],
                },
            release={
                'invisible': Eval('state') != 'active',
                'icon': 'tryton-forward',
                'depends': ['state'],
                },
            )

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_channel(cls):
        return 'partner'

    @fields.depends('event', '_parent_event.company')
    def on_change_with_company(self, name=None):
        return self.event.company if self.event else None

    @classmethod
    def search_company(cls, name, clause):
        return [('event.company',) + tuple(clause[1:])]

    @fields.depends('sessions')
    def on_change_with_seat_maps(self, name=None):
        return list({s.seat_map.id for s in self.sessions or []
                if s.seat_map})

    @classmethod
    def get_counts(cls, contingents, name):
        Booking = Pool().get('ticket.seat.booking')
        result = {}
        for contingent in contingents:
            kept = sold = 0
            if contingent.state != 'draft':
                for booking in Booking.search([
                            ('contingent', '=', contingent.id),
                            ('state', 'in', ['contingent', 'held', 'sold']),
                            ]):
                    if booking.state == 'contingent':
                        kept += 1
                    else:
                        sold += 1
            wanted = len(contingent.seats) * len(contingent.sessions)
            result[contingent.id] = {
                'seats_kept': kept,
                'seats_sold': sold,
                'seats_missing': (max(wanted - kept - sold, 0)
                    if contingent.state == 'active' else 0),
                }[name]
        return result

    @classmethod
    def validate_fields(cls, contingents, field_names):
        super().validate_fields(contingents, field_names)
        for contingent in contingents:
            maps = {s.seat_map for s in contingent.sessions}
            for seat in contingent.seats:
                if seat.map not in maps:
                    raise ValidationError(gettext(
                            'ticket_seating.msg_contingent_seat_map',
                            seat=seat.rec_name,
                            contingent=contingent.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def activate(cls, contingents):
        """Keep the seats for the channel in every session, those that are
        free: the others are counted as not kept"""
        for contingent in contingents:
            for session in sorted(contingent.sessions, key=lambda s: s.id):
                Inventory.lock([session])
                layout = session.seat_map.get_layout()
                states = Inventory.states(session, layout)
                free = []
                for seat in contingent.seats:
                    if seat.map != session.seat_map:
                        continue
                    index, position = layout.position(seat.id)
                    if states[index] and states[index][position] == 'F':
                        free.append(seat.id)
                if free:
                    Inventory.book(session, layout, free,
                        state='contingent', contingent=contingent)

    @classmethod
    @ModelView.button
    @Workflow.transition('released')
    def release(cls, contingents):
        "Give the seats still kept back to general sale"
        ids = [c.id for c in contingents]
        if ids:
            # released first, so that the seats do not return to it
            cls.write(contingents, {'state': 'released'})
            Inventory.release(lambda t: t.contingent.in_(ids),
                states=('contingent',))

    @classmethod
    def release_due(cls):
        "Release the active contingents past their release date (cron)"
        contingents = cls.search([
                ('state', '=', 'active'),
                ('release_at', '<=', now()),
                ], order=[('id', 'ASC')])
        cls.release(contingents)
        return contingents

    @classmethod
    def copy(cls, contingents, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('state', 'draft')
        return super().copy(contingents, default=default)

    @classmethod
    def check_modification(cls, mode, contingents, values=None,
            external=False):
        super().check_modification(
            mode, contingents, values=values, external=external)
        if mode == 'delete':
            for contingent in contingents:
                if contingent.state == 'active':
                    raise ValidationError(gettext(
                            'ticket_seating.msg_contingent_delete_active',
                            contingent=contingent.rec_name))


class ContingentSession(ModelSQL):
    __name__ = 'ticket.seat.contingent-ticket.session'
    contingent = fields.Many2One(
        'ticket.seat.contingent', "Contingent", required=True,
        ondelete='CASCADE')
    session = fields.Many2One(
        'ticket.session', "Session", required=True, ondelete='CASCADE')


class ContingentSeat(ModelSQL):
    __name__ = 'ticket.seat.contingent-ticket.seat'
    contingent = fields.Many2One(
        'ticket.seat.contingent', "Contingent", required=True,
        ondelete='CASCADE')
    seat = fields.Many2One(
        'ticket.seat', "Seat", required=True, ondelete='CASCADE')
