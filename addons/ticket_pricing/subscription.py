"""Subscriptions: season passes, their pass codes and their renewal.

A season pass is a pass tariff (``pass_kind`` 'season') of a season
(``ticket.season``) whose components may be sessions of several events of
the organizer. Each ticket of a paid season pass makes a subscription
(``ticket.subscription``) with a pass code. During the renewal window of
the next season, its passes are sold only to the holders of last season's
passes, recognised by their e-mail or their pass code
(``QuoteRequest.email`` / ``passwords``); a renewal keeps the holder, the
pass code and the seat (``Subscription.from_ticket``, the hook for seating).
``Subscription.renew`` creates the renewal orders (the shop, the box office
and the season's Renew button call it).
"""
import secrets
from collections import defaultdict

from sql import Literal
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import Exclude, ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.tools import escape_wildcard
from trytond.transaction import Transaction

from guichet.ticket_event.common import now
from guichet.ticket_event.exceptions import CapacityError

from .engine import LineRequest, QuoteRequest
from .exceptions import PricingError
from .multipass import PassQuoteLine

PASS_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'


def new_pass_code():
    "A pass code: 10 characters (50 random bits), e.g. 'K7QX2-MB4TZ'"
    code = ''.join(secrets.choice(PASS_CODE_ALPHABET) for _ in range(10))
    return f'{code[:5]}-{code[5:]}'


def normalize_pass_code(value):
    "The pass code as stored, from what a buyer typed"
    code = ''.join(c for c in str(value).upper() if c.isalnum())
    return f'{code[:5]}-{code[5:]}' if len(code) == 10 else code


class Season(ModelSQL, ModelView):
    "A season of subscriptions, e.g. 2026-2027"
    __name__ = 'ticket.season'
    company = fields.Many2One('company.company', "Company", required=True)
    name = fields.Char("Name", required=True, translate=True)
    start_date = fields.Date("Start Date")
    end_date = fields.Date(
        "End Date",
        domain=[If(Bool(Eval('start_date')) & Bool(Eval('end_date')),
                ('end_date', '>=', Eval('start_date')), ())])
    previous = fields.Many2One(
        'ticket.season', "Previous Season", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('id', '!=', Eval('id', -1)),
            ],
        help="The season whose pass holders may renew in this one.")
    renewal_start = fields.DateTime(
        "Renewal Start",
        states={
            'invisible': ~Eval('previous'),
            'required': Bool(Eval('renewal_end')),
            },
        help="From then until the renewal end, the passes of the season "
        "are sold only to the holders of the previous season's passes.")
    renewal_end = fields.DateTime(
        "Renewal End",
        domain=[If(Bool(Eval('renewal_start')) & Bool(Eval('renewal_end')),
                ('renewal_end', '>=', Eval('renewal_start')), ())],
        states={
            'invisible': ~Eval('previous'),
            'required': Bool(Eval('renewal_start')),
            })
    tariffs = fields.One2Many('ticket.tariff', 'season', "Passes")
    subscriptions = fields.One2Many(
        'ticket.subscription', 'season', "Subscriptions", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('start_date', 'DESC NULLS FIRST'), ('id', 'DESC')]
        cls._buttons.update(
            renew={
                'invisible': ~Eval('previous'),
                'icon': 'tryton-refresh',
                'depends': ['previous'],
                },
            )

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def validate_fields(cls, seasons, field_names):
        super().validate_fields(seasons, field_names)
        for season in seasons:
            if season.renewal_start and not season.previous:
                raise ValidationError(gettext(
                        'ticket_pricing.msg_season_renewal_previous',
                        season=season.rec_name))

    def in_renewal(self, at=None):
        "Whether at (now by default) is in the renewal window"
        at = at or now()
        return bool(self.previous and self.renewal_start
            and self.renewal_start <= at <= self.renewal_end)

    @classmethod
    @ModelView.button
    def renew(cls, seasons):
        """Create a reserved renewal order for each holder of the previous
        season's passes who has not renewed; skip those refused (e.g. a
        full pool)"""
        Subscription = Pool().get('ticket.subscription')
        for season in seasons:
            for subscription in Subscription.unrenewed(season):
                try:
                    Subscription.renew([subscription], season)
                except (PricingError, CapacityError):
                    continue


class Tariff(metaclass=PoolMeta):
    __name__ = 'ticket.tariff'
    season = fields.Many2One(
        'ticket.season', "Season", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'invisible': Eval('pass_kind') != 'season',
            'required': Eval('pass_kind') == 'season',
            })
    renews = fields.Many2One(
        'ticket.tariff', "Renews", ondelete='SET NULL',
        domain=[
            ('pass_kind', '=', 'season'),
            ('company', '=', Eval('company', -1)),
            ('id', '!=', Eval('id', -1)),
            ],
        states={'invisible': Eval('pass_kind') != 'season'},
        help="The pass of the previous season whose holders renew at this "
        "tariff.")

    @classmethod
    def copy(cls, tariffs, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('renews', None)
        return super().copy(tariffs, default=default)


class Subscription(Workflow, ModelSQL, ModelView):
    "A holder's pass of a season"
    __name__ = 'ticket.subscription'
    _rec_name = 'pass_code'
    season = fields.Many2One(
        'ticket.season', "Season", required=True, readonly=True,
        ondelete='RESTRICT')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    pass_code = fields.Char(
        "Pass Code", required=True, readonly=True,
        help="The holder's code, kept from season to season.")
    party = fields.Many2One(
        'party.party', "Holder", ondelete='RESTRICT',
        context={'company': Eval('company', -1)}, depends={'company'})
    email = fields.Char("E-mail")
    tariff = fields.Many2One(
        'ticket.tariff', "Pass", readonly=True, ondelete='RESTRICT')
    order = fields.Many2One(
        'ticket.order', "Order", readonly=True, ondelete='RESTRICT')
    ticket = fields.Many2One(
        'ticket.ticket', "Ticket", readonly=True, ondelete='RESTRICT')
    seat = fields.Char(
        "Seat", readonly=True,
        help="The seat kept on renewal (set by the seating module).")
    renewed_from = fields.Many2One(
        'ticket.subscription', "Renewed From", readonly=True,
        ondelete='RESTRICT')
    renewal = fields.Function(
        fields.Many2One('ticket.subscription', "Renewal"), 'get_renewal')
    state = fields.Selection([
            ('active', "Active"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('pass_code_unique',
                Exclude(t, (t.season, Equal), (t.pass_code, Equal),
                    where=t.state == Literal('active')),
                'ticket_pricing.msg_subscription_pass_code_unique'),
            ('renewed_once',
                Exclude(t, (t.renewed_from, Equal),
                    where=(t.state == Literal('active'))
                    & (t.renewed_from != Literal(None))),
                'ticket_pricing.msg_subscription_renewed_once'),
            ]
        cls.__access__.add('season')
        cls._order = [('id', 'DESC')]
        cls._transitions |= {('active', 'cancelled')}

    @classmethod
    def default_state(cls):
        return 'active'

    @fields.depends('season', '_parent_season.company')
    def on_change_with_company(self, name=None):
        return self.season.company if self.season else None

    @classmethod
    def search_company(cls, name, clause):
        return [('season.company',) + tuple(clause[1:])]

    @classmethod
    def get_renewal(cls, subscriptions, name):
        renewals = {s.id: None for s in subscriptions}
        for renewal in cls.search([
                    ('renewed_from', 'in', list(renewals)),
                    ('state', '=', 'active'),
                    ]):
            renewals[renewal.renewed_from.id] = renewal.id
        return renewals

    @classmethod
    @Workflow.transition('cancelled')
    def cancel(cls, subscriptions):
        pass

    @classmethod
    def renewable(cls, season, email=None, pass_codes=()):
        """The previous season's passes that the buyer identified by email
        or pass_codes may renew in season: those given by pass code first"""
        codes = [normalize_pass_code(c) for c in pass_codes or ()
            if isinstance(c, str) and c.strip()]
        identity = []
        if codes:
            identity.append(('pass_code', 'in', codes))
        if email and isinstance(email, str) and email.strip():
            identity.append(
                ('email', 'ilike', escape_wildcard(email.strip())))
        if not identity:
            return []
        subscriptions = cls.unrenewed(season, ['OR'] + identity)
        return sorted(subscriptions, key=lambda s: s.pass_code not in codes)

    @classmethod
    def unrenewed(cls, season, domain=None):
        """The active passes of season's previous season that no paid or
        reserved order renews"""
        OrderLine = Pool().get('ticket.order.line')
        if not season.previous:
            return []
        subscriptions = cls.search([
                ('season', '=', season.previous.id),
                ('state', '=', 'active'),
                domain or [],
                ], order=[('id', 'ASC')])
        ids = [s.id for s in subscriptions]
        taken = {s.renewed_from.id for s in cls.search([
                    ('renewed_from', 'in', ids),
                    ('state', '=', 'active'),
                    ])}
        for line in OrderLine.search([
                    ('renewals', 'in', ids),
                    ('order.state', '=', 'reserved'),
                    ]):
            taken.update(s.id for s in line.renewals)
        return [s for s in subscriptions if s.id not in taken]

    def renewal_tariff(self, season):
        "The pass of season that renews self"
        tariffs = [t for t in season.tariffs
            if t.active and t.pass_kind == 'season']
        for tariff in tariffs:
            if tariff.renews == self.tariff:
                return tariff
        if len(tariffs) == 1:
            return tariffs[0]
        raise PricingError(gettext(
                'ticket_pricing.msg_season_renewal_tariff',
                season=season.rec_name, subscription=self.rec_name),
            'invalid')

    def renewal_line(self, season):
        "The line of the candidate order that renews self in season"
        return LineRequest(tariff=self.renewal_tariff(season), quantity=1)

    @classmethod
    def renew(cls, subscriptions, season, channel='box_office',
            payment_delay=None):
        """Create a reserved order for the holder of each subscription that
        renews it in season (same holder and pass code); return the orders.

        Raise PricingError (or a capacity error) when a renewal is
        refused; the orders are due by the end of the renewal window."""
        pool = Pool()
        PriceEngine = pool.get('ticket.price_engine')
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        if (payment_delay is None and season.renewal_end
                and season.renewal_end > now()):
            payment_delay = season.renewal_end - now()
        orders = []
        for subscription in subscriptions:
            quote = PriceEngine.quote(QuoteRequest(
                    lines=[subscription.renewal_line(season)],
                    channel=channel, email=subscription.email,
                    passwords=(subscription.pass_code,)))
            renewals = [r for l in quote.lines
                if isinstance(l, PassQuoteLine) for r in l.renewals]
            if renewals[:1] != [subscription]:
                raise PricingError(gettext(
                        'ticket_pricing.msg_season_not_renewable',
                        subscription=subscription.rec_name), 'restricted')
            hold = Hold.reserve(quote.hold_items(), channel=channel,
                company=quote.company)
            orders.append(Order.create_from_quote(quote, [hold],
                    party=subscription.party, email=subscription.email,
                    payment_delay=payment_delay))
        return orders

    @classmethod
    def create_for_tickets(cls, tickets):
        "Create the subscriptions of the season passes of tickets"
        OrderLine = Pool().get('ticket.order.line')
        # the lines of season pass tariffs, from the tariffs kept per
        # process: a plain order's tickets need no query
        line_ids = {t.line.id for t in tickets if t.line and t.line.tariff
            and t.line.tariff.catalogue['pass_kind'] == 'season'}
        # one query finds the lines of season passes (usually none)
        season_lines = {l.id for l in OrderLine.search([
                    ('id', 'in', list(line_ids)),
                    ('tariff.pass_kind', '=', 'season'),
                    ('tariff.season', '!=', None),
                    ])} if line_ids else set()
        by_line = defaultdict(list)
        for ticket in tickets:
            line = ticket.line
            if line and line.id in season_lines:
                by_line[line].append(ticket)
        subscriptions = []
        for line, line_tickets in by_line.items():
            renewals = list(line.renewals)
            for i, ticket in enumerate(line_tickets):
                renewed = renewals[i] if i < len(renewals) else None
                subscriptions.append(cls.from_ticket(ticket, renewed))
        cls.save(subscriptions)
        return subscriptions

    @classmethod
    def from_ticket(cls, ticket, renewed=None):
        """The subscription of a season pass ticket; a renewal keeps the
        holder, the pass code and the seat of renewed"""
        line = ticket.line
        subscription = cls(
            season=line.tariff.season, tariff=line.tariff,
            order=ticket.order, ticket=ticket, state='active',
            party=ticket.order.party, email=ticket.order.email,
            pass_code=new_pass_code())
        if renewed:
            subscription.renewed_from = renewed
            subscription.party = renewed.party
            subscription.email = renewed.email or ticket.order.email
            subscription.pass_code = renewed.pass_code
            subscription.seat = renewed.seat
        return subscription


class PriceEngine(metaclass=PoolMeta):
    __name__ = 'ticket.price_engine'

    @classmethod
    def check_restrictions(cls, quote):
        """During the renewal window, a season's passes are sold only to the
        holders of the previous season's passes, one each"""
        Subscription = Pool().get('ticket.subscription')
        super().check_restrictions(quote)
        request = quote.request
        for season, count in cls.season_passes(request).items():
            if not season.in_renewal(request.at):
                continue
            renewable = Subscription.renewable(
                season, request.email, request.passwords)
            if len(renewable) < count:
                raise PricingError(gettext(
                        'ticket_pricing.msg_season_renewal_only',
                        season=season.rec_name,
                        count=len(renewable)), 'restricted')

    @staticmethod
    def season_passes(request):
        "The number of passes requested per season that renews another"
        counts = defaultdict(int)
        for line in request.lines:
            tariff = line.tariff
            if (tariff.catalogue['pass_kind'] == 'season' and tariff.season
                    and tariff.season.previous):
                counts[tariff.season] += (
                    line.quantity * tariff.tickets_per_unit)
        return counts

    @classmethod
    def price_lines(cls, quote):
        "The passes of a season renew those of its holder, in order"
        Subscription = Pool().get('ticket.subscription')
        super().price_lines(quote)
        request = quote.request
        renewable = {}
        for line in quote.lines:
            if not isinstance(line, PassQuoteLine):
                continue
            season = line.tariff.season
            if line.tariff.pass_kind != 'season' or not season.previous:
                continue
            if season not in renewable:
                renewable[season] = Subscription.renewable(
                    season, request.email, request.passwords)
            count = line.quantity * line.places_per_unit
            line.renewals = renewable[season][:count]
            renewable[season] = renewable[season][count:]


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'

    @classmethod
    def lines_from_quote(cls, quote):
        lines = super().lines_from_quote(quote)
        for quote_line, line in zip(quote.lines, lines):
            if isinstance(quote_line, PassQuoteLine):
                line.renewals = quote_line.renewals
        return lines


class OrderLine(metaclass=PoolMeta):
    __name__ = 'ticket.order.line'
    renewals = fields.Many2Many(
        'ticket.order.line-ticket.subscription', 'line', 'subscription',
        "Renewed Passes", readonly=True,
        help="The passes of last season that the passes of the line renew.")


class OrderLineSubscription(ModelSQL):
    __name__ = 'ticket.order.line-ticket.subscription'
    line = fields.Many2One(
        'ticket.order.line', "Order Line", required=True,
        ondelete='CASCADE')
    subscription = fields.Many2One(
        'ticket.subscription', "Subscription", required=True,
        ondelete='RESTRICT')


class Ticket(metaclass=PoolMeta):
    __name__ = 'ticket.ticket'

    @classmethod
    def issue(cls, lines):
        "A season pass ticket makes a subscription"
        Subscription = Pool().get('ticket.subscription')
        tickets = super().issue(lines)
        subscriptions = Subscription.create_for_tickets(tickets)
        renewed = [s for s in subscriptions if s.renewed_from and s.party]
        for subscription in renewed:
            subscription.ticket.holder_name = subscription.party.rec_name
        cls.save([s.ticket for s in renewed])
        return tickets

    @classmethod
    def cancel(cls, tickets):
        Subscription = Pool().get('ticket.subscription')
        super().cancel(tickets)
        Subscription.cancel(Subscription.search([
                    ('ticket', 'in', [t.id for t in tickets]),
                    ('state', '=', 'active'),
                    ]))
