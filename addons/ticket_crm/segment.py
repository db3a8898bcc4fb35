"""Segments: saved, dynamic sets of customers.

A segment is a list of filter lines combined with "all" (and) or "any"
(or); a line may be negated, and a line "member of segment" nests another
segment, so that (A and B) or C can be written. Each line compiles to one
condition on a customer's summary row (``SegmentLine.condition``): a
column of the summary itself or an EXISTS over the sessions bought and the
paid orders (stat.py), the attendances (``ticket.crm.history``), the RFM
scores, the passes, the addresses and the consent register; the segment is
one query over the summary (``Segment.query``) that the
live count, the members list, the exports, the mailing lists and the
marketing scenarios all use."""
import datetime as dt

from sql import Literal, Null
from sql.aggregate import Count, Sum
from sql.operators import Exists, Like

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.tools import escape_wildcard
from trytond.transaction import Transaction

from guichet.ticket_event.common import now, to_utc

from .consent import PURPOSES

KINDS = [
    ('purchase', "Bought"),
    ('attendance', "Attended"),
    ('orders', "Number of Orders"),
    ('amount', "Amount Spent"),
    ('rfm', "RFM Scores"),
    ('subscription', "Season Pass Holders"),
    ('lapsed', "Lapsed Subscribers"),
    ('address', "Address"),
    ('consent', "Consent Given"),
    ('segment', "Member of Segment"),
    ]
# The fields each kind of line uses
KIND_FIELDS = {
    'purchase': {'event', 'session', 'tag', 'venue', 'tariff', 'category',
        'date_from', 'date_to', 'date_basis'},
    'attendance': {'event', 'session', 'tag', 'venue', 'date_from',
        'date_to'},
    'orders': {'minimum', 'maximum', 'date_from', 'date_to'},
    'amount': {'amount_minimum', 'amount_maximum', 'date_from', 'date_to'},
    'rfm': {'r_min', 'r_max', 'f_min', 'f_max', 'm_min', 'm_max'},
    'subscription': {'season'},
    'lapsed': {'season'},
    'address': {'postal_codes', 'country'},
    'consent': {'purpose'},
    'segment': {'segment_ref'},
    }


def _quintile(name):
    return ['OR', (name, '=', None), (name, 'in', [1, 2, 3, 4, 5])]


LINE_FIELDS = sorted({f for v in KIND_FIELDS.values() for f in v}
    | {'kind', 'negate'})


class Segment(DeactivableMixin, ModelSQL, ModelView):
    "A saved set of customers, evaluated when used"
    __name__ = 'ticket.crm.segment'
    name = fields.Char("Name", required=True)
    company = fields.Many2One('company.company', "Company", required=True)
    match = fields.Selection([
            ('all', "All the Lines"),
            ('any', "Any Line"),
            ], "Match", required=True,
        help="Whether a member matches all the lines (and) or at least one "
        "(or).")
    lines = fields.One2Many('ticket.crm.segment.line', 'segment', "Filters")
    count = fields.Function(
        fields.Integer("Members",
            help="The customers matching the filters now."),
        'get_count')
    member_count = fields.Integer("Members at Last Count", readonly=True)
    counted_at = fields.DateTime("Counted At", readonly=True)
    description = fields.Text("Description")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('name', 'ASC'), ('id', 'ASC')]
        cls._buttons.update(
            members={'icon': 'tryton-party'},
            export={'icon': 'tryton-export'},
            mail={'icon': 'tryton-email'},
            refresh={'icon': 'tryton-refresh'},
            )

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_match(cls):
        return 'all'

    @fields.depends('company', 'match', 'lines', 'id')
    def on_change_with_count(self, name=None):
        if not self.company:
            return None
        return self.get_count(name)

    def get_count(self, name=None):
        "The number of members now"
        cursor = Transaction().connection.cursor()
        query = self.query()
        cursor.execute(*query.select(Count()))
        return cursor.fetchone()[0]

    def query(self, _seen=None):
        """The members of the segment as a query: column id (party).

        The customers of the company are the rows of its customer summary
        (``ticket.crm.party.stat``) whose party is active; each line is a
        condition on that row."""
        pool = Pool()
        Party = pool.get('party.party')
        Stat = pool.get('ticket.crm.party.stat')
        SegmentLine = pool.get('ticket.crm.segment.line')
        party = Party.__table__()
        stat = Stat.__table__()
        seen = (_seen or set()) | ({self.id} if self.id else set())
        company = self.company.id
        conditions = []
        lines = [l for l in (self.lines or []) if l.complete]
        for line in lines:
            line._fill()
        if self.match != 'any':
            # The order count and amount lines of the same dates: one sum
            merged = {}
            for line in lines:
                if (line.kind in {'orders', 'amount'} and not line.negate
                        and (line.date_from or line.date_to)):
                    merged.setdefault(
                        (line.date_from, line.date_to), []).append(line)
            for group in merged.values():
                if len(group) > 1:
                    conditions.append(
                        SegmentLine.spending(group, stat, company))
                    lines = [l for l in lines
                        if not any(l is g for g in group)]
        for line in lines:
            condition = line.condition(stat, company, seen)
            conditions.append(~condition if line.negate else condition)
        where = (stat.company == company) & (party.active == Literal(True))
        if conditions:
            combined = conditions[0]
            for condition in conditions[1:]:
                if self.match == 'any':
                    combined |= condition
                else:
                    combined &= condition
            where &= combined
        return stat.join(party, condition=party.id == stat.party).select(
            stat.party.as_('id'), where=where)

    def member_ids(self):
        cursor = Transaction().connection.cursor()
        cursor.execute(*self.query())
        return [r[0] for r in cursor]

    @classmethod
    def refresh_counts(cls, segments=None):
        "Store the member count of segments (all active ones by default)"
        if segments is None:
            segments = cls.search([])
        at = now()
        for segment in segments:
            segment.member_count = segment.get_count()
            segment.counted_at = at
        cls.save(segments)

    @classmethod
    @ModelView.button
    def refresh(cls, segments):
        cls.refresh_counts(segments)

    @classmethod
    @ModelView.button_action('ticket_crm.act_segment_members')
    def members(cls, segments):
        pass

    @classmethod
    @ModelView.button_action('ticket_crm.wizard_segment_export')
    def export(cls, segments):
        pass

    @classmethod
    @ModelView.button_action('ticket_crm.wizard_segment_mail')
    def mail(cls, segments):
        pass

    @classmethod
    def validate_fields(cls, segments, field_names):
        super().validate_fields(segments, field_names)
        for segment in segments:
            segment.check_cycle()

    def check_cycle(self, path=()):
        "Raise ValidationError if the segment contains itself"
        if self.id in path:
            raise ValidationError(gettext(
                    'ticket_crm.msg_segment_cycle', segment=self.rec_name))
        for line in self.lines:
            if line.kind == 'segment' and line.segment_ref:
                line.segment_ref.check_cycle(path + (self.id,))


class SegmentLine(sequence_ordered(), ModelSQL, ModelView):
    "A filter of a segment"
    __name__ = 'ticket.crm.segment.line'
    segment = fields.Many2One(
        'ticket.crm.segment', "Segment", required=True, ondelete='CASCADE')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company')
    negate = fields.Boolean("Not",
        help="Keep the customers that do not match the line.")
    kind = fields.Selection(KINDS, "Filter", required=True)

    def _shows(kind_names, required=False):
        kinds = [k for k, f in KIND_FIELDS.items() if kind_names in f]
        states = {'invisible': ~Eval('kind').in_(kinds)}
        if required:
            states['required'] = Eval('kind').in_(kinds)
        return states

    event = fields.Many2One('ticket.event', "Event", ondelete='CASCADE',
        domain=[('company', '=', Eval('company', -1))],
        states=_shows('event'))
    session = fields.Many2One('ticket.session', "Session",
        ondelete='CASCADE',
        domain=[If(Bool(Eval('event')), ('event', '=', Eval('event', -1)),
                ('event.company', '=', Eval('company', -1)))],
        states=_shows('session'))
    tag = fields.Many2One('ticket.event.tag', "Tag", ondelete='CASCADE',
        states=_shows('tag'))
    venue = fields.Many2One('ticket.venue', "Venue", ondelete='CASCADE',
        states=_shows('venue'))
    tariff = fields.Many2One('ticket.tariff', "Tariff", ondelete='CASCADE',
        domain=[If(Bool(Eval('event')), ('event', '=', Eval('event', -1)),
                ())],
        states=_shows('tariff'))
    category = fields.Many2One('ticket.tariff.category', "Tariff Category",
        ondelete='CASCADE',
        domain=[If(Bool(Eval('event')), ('event', '=', Eval('event', -1)),
                ())],
        states=_shows('category'))
    date_basis = fields.Selection([
            ('purchase', "Purchase Date"),
            ('session', "Session Date"),
            ], "Dates Of", states=_shows('date_basis', required=True))
    date_from = fields.Date("From", states=_shows('date_from'))
    date_to = fields.Date("To", states=_shows('date_to'),
        domain=[If(Bool(Eval('date_from')) & Bool(Eval('date_to')),
                ('date_to', '>=', Eval('date_from')), ())])
    minimum = fields.Integer("Minimum", states=_shows('minimum'))
    maximum = fields.Integer("Maximum", states=_shows('maximum'))
    amount_minimum = fields.Numeric("Minimum Amount", digits=(16, 2),
        states=_shows('amount_minimum'))
    amount_maximum = fields.Numeric("Maximum Amount", digits=(16, 2),
        states=_shows('amount_maximum'))
    r_min = fields.Integer("R from", states=_shows('r_min'),
        domain=_quintile('r_min'))
    r_max = fields.Integer("R to", states=_shows('r_max'),
        domain=_quintile('r_max'))
    f_min = fields.Integer("F from", states=_shows('f_min'),
        domain=_quintile('f_min'))
    f_max = fields.Integer("F to", states=_shows('f_max'),
        domain=_quintile('f_max'))
    m_min = fields.Integer("M from", states=_shows('m_min'),
        domain=_quintile('m_min'))
    m_max = fields.Integer("M to", states=_shows('m_max'),
        domain=_quintile('m_max'))
    season = fields.Many2One('ticket.season', "Season", ondelete='CASCADE',
        domain=[('company', '=', Eval('company', -1))],
        states=_shows('season', required=True),
        help="For lapsed subscribers: the season they did not renew into "
        "(its previous season's holders without a pass of it).")
    postal_codes = fields.Char("Postal Codes", states=_shows('postal_codes'),
        help="Postal codes or their beginnings, separated by commas "
        "(e.g. 69, 38200).")
    country = fields.Many2One('country.country', "Country",
        states=_shows('country'))
    purpose = fields.Selection(PURPOSES, "Purpose",
        states=_shows('purpose', required=True))
    segment_ref = fields.Many2One('ticket.crm.segment', "Segment",
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1)),
            ('id', '!=', Eval('segment', -1))],
        states=_shows('segment_ref', required=True))
    del _shows

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('segment')

    @classmethod
    def default_kind(cls):
        return 'purchase'

    @classmethod
    def default_date_basis(cls):
        return 'purchase'

    @classmethod
    def default_purpose(cls):
        return 'marketing'

    @fields.depends('segment', '_parent_segment.company')
    def on_change_with_company(self, name=None):
        return self.segment.company if self.segment else None

    @fields.depends('kind', *LINE_FIELDS)
    def on_change_kind(self):
        for name in LINE_FIELDS:
            if name in {'kind', 'negate', 'date_basis', 'purpose'}:
                continue
            if name not in KIND_FIELDS.get(self.kind, ()):
                setattr(self, name, None)

    def get_rec_name(self, name):
        kinds = dict(self.__class__.kind.selection)
        return ('¬ ' if self.negate else '') + kinds.get(self.kind, '')

    @property
    def complete(self):
        "Whether the line has what its kind requires"
        required = {
            'subscription': 'season', 'lapsed': 'season',
            'consent': 'purpose', 'segment': 'segment_ref'}
        try:
            return bool(self.kind) and (self.kind not in required
                or getattr(self, required[self.kind]) is not None)
        except AttributeError:
            return False

    def _fill(self):
        for name in LINE_FIELDS:
            # an unsaved line edited in the form may lack some values
            try:
                getattr(self, name)
            except AttributeError:
                setattr(self, name, None)

    def query(self, company, seen=frozenset()):
        "The parties matching the line as a query: column party"
        self._fill()
        return getattr(self, f'_query_{self.kind}')(company, seen)

    def condition(self, stat, company, seen=frozenset()):
        """The condition on the customer summary row stat (of company) of
        the members of the line"""
        self._fill()
        method = getattr(self, f'_condition_{self.kind}', None)
        if method is not None:
            condition = method(stat)
            if condition is not None:
                return condition
        sub = self.query(company, seen)
        return Exists(sub.select(sub.party, where=sub.party == stat.party))

    def _condition_orders(self, stat):
        if not self.date_from and not self.date_to:
            return (stat.orders > 0) & self._range(
                stat.orders, self.minimum, self.maximum)

    def _condition_amount(self, stat):
        if not self.date_from and not self.date_to:
            return (stat.orders > 0) & self._range(
                stat.amount, self.amount_minimum, self.amount_maximum)

    def _bounds(self, company):
        "The UTC datetimes of date_from (inclusive) and date_to (exclusive)"
        Company = Pool().get('company.company')
        zone = Company(company).timezone or 'UTC'
        start = end = None
        if self.date_from:
            start = to_utc(dt.datetime.combine(
                    self.date_from, dt.time()), zone)
        if self.date_to:
            end = to_utc(dt.datetime.combine(
                    self.date_to + dt.timedelta(days=1), dt.time()), zone)
        return start, end

    @staticmethod
    def _between(column, start, end):
        condition = Literal(True)
        if start:
            condition &= column >= start
        if end:
            condition &= column < end
        return condition

    def _event_filters(self, session, event):
        "The condition on session and its event of the line's filters"
        pool = Pool()
        EventTag = pool.get('ticket.event-ticket.event.tag')
        condition = Literal(True)
        if self.session:
            condition &= session.id == self.session.id
        if self.event:
            condition &= session.event == self.event.id
        if self.venue:
            condition &= ((session.venue == self.venue.id)
                | ((session.venue == Null) & (event.venue == self.venue.id)))
        if self.tag:
            event_tag = EventTag.__table__()
            condition &= Exists(event_tag.select(event_tag.id,
                    where=(event_tag.event == event.id)
                    & (event_tag.tag == self.tag.id)))
        return condition

    def _query_purchase(self, company, seen):
        "From the sessions bought (``ticket.crm.purchase``)"
        pool = Pool()
        Purchase = pool.get('ticket.crm.purchase')
        Session = pool.get('ticket.session')
        Event = pool.get('ticket.event')
        Tariff = pool.get('ticket.tariff')
        bought = Purchase.__table__()
        start, end = self._bounds(company)
        condition = bought.company == company
        if (self.session or self.event or self.venue or self.tag
                or self.date_basis == 'session' and (start or end)):
            # The few sessions matching, then their purchases by index
            session, event = Session.__table__(), Event.__table__()
            where = self._event_filters(session, event)
            if self.date_basis == 'session':
                where &= self._between(session.start, start, end)
            condition &= bought.session.in_(session.join(
                    event, condition=event.id == session.event).select(
                    session.id, where=where))
        if self.tariff:
            condition &= bought.tariff == self.tariff.id
        if self.category:
            tariff = Tariff.__table__()
            condition &= bought.tariff.in_(tariff.select(tariff.id,
                    where=tariff.category == self.category.id))
        if self.date_basis != 'session':
            condition &= self._between(bought.paid_at, start, end)
        return bought.select(bought.party.as_('party'), where=condition)

    def _query_attendance(self, company, seen):
        pool = Pool()
        History = pool.get('ticket.crm.history')
        Session = pool.get('ticket.session')
        Event = pool.get('ticket.event')
        attended = History.attendances(company)
        session, event = Session.__table__(), Event.__table__()
        from_ = attended.join(session,
            condition=session.id == attended.session
            ).join(event, condition=event.id == session.event)
        condition = self._event_filters(session, event)
        start, end = self._bounds(company)
        condition &= self._between(session.start, start, end)
        return from_.select(attended.party.as_('party'), where=condition)

    def _spends(self, company):
        "The paid orders of company with a buyer, between the line's dates"
        Spend = Pool().get('ticket.crm.spend')
        spend = Spend.__table__()
        start, end = self._bounds(company)
        where = ((spend.company == company)
            & self._between(spend.paid_at, start, end))
        return spend, where

    @staticmethod
    def _range(aggregate, minimum, maximum):
        having = Literal(True)
        if minimum is not None:
            having &= aggregate >= minimum
        if maximum is not None:
            having &= aggregate <= maximum
        return having

    @classmethod
    def spending(cls, lines, stat, company):
        """The condition of order count and amount lines between the same
        dates, summed in one query"""
        first = lines[0]
        first._fill()
        spend, where = first._spends(company)
        having = Literal(True)
        for line in lines:
            line._fill()
            if line.kind == 'orders':
                having &= cls._range(Count(), line.minimum, line.maximum)
            else:
                having &= cls._range(Sum(spend.amount),
                    line.amount_minimum, line.amount_maximum)
        sub = spend.select(spend.party.as_('party'), where=where,
            group_by=[spend.party], having=having)
        return Exists(sub.select(sub.party, where=sub.party == stat.party))

    def _query_orders(self, company, seen):
        spend, where = self._spends(company)
        return spend.select(spend.party.as_('party'), where=where,
            group_by=[spend.party],
            having=self._range(Count(), self.minimum, self.maximum))

    def _query_amount(self, company, seen):
        spend, where = self._spends(company)
        return spend.select(
            spend.party.as_('party'), where=where, group_by=[spend.party],
            having=self._range(Sum(spend.amount),
                self.amount_minimum, self.amount_maximum))

    def _query_rfm(self, company, seen):
        Score = Pool().get('ticket.crm.party.score')
        score = Score.__table__()
        condition = score.company == company
        for name in ['r', 'f', 'm']:
            column = getattr(score, name)
            low, high = getattr(self, f'{name}_min'), getattr(
                self, f'{name}_max')
            if low is not None:
                condition &= column >= low
            if high is not None:
                condition &= column <= high
        return score.select(score.party.as_('party'), where=condition)

    def _subscribers(self, season):
        Subscription = Pool().get('ticket.subscription')
        subscription = Subscription.__table__()
        return subscription.select(subscription.party.as_('party'),
            where=(subscription.season == season)
            & (subscription.state == 'active')
            & (subscription.party != Null))

    def _query_subscription(self, company, seen):
        return self._subscribers(self.season.id)

    def _query_lapsed(self, company, seen):
        previous = self._subscribers(
            self.season.previous.id if self.season.previous else -1)
        current = self._subscribers(self.season.id)
        return previous.select(previous.party.as_('party'),
            where=~Exists(current.select(current.party,
                    where=current.party == previous.party)))

    def _query_address(self, company, seen):
        Address = Pool().get('party.address')
        address = Address.__table__()
        condition = address.active == Literal(True)
        codes = [c.strip() for c in (self.postal_codes or '').split(',')
            if c.strip()]
        if codes:
            matches = Literal(False)
            for code in codes:
                matches |= Like(
                    address.postal_code, escape_wildcard(code) + '%')
            condition &= matches
        if self.country:
            condition &= address.country == self.country.id
        return address.select(address.party.as_('party'), where=condition)

    def _query_consent(self, company, seen):
        Consent = Pool().get('ticket.crm.consent')
        return Consent.consenting(self.purpose, company)

    def _query_segment(self, company, seen):
        if self.segment_ref.id in seen:
            raise ValidationError(gettext('ticket_crm.msg_segment_cycle',
                    segment=self.segment_ref.rec_name))
        members = self.segment_ref.query(_seen=seen)
        return members.select(members.id.as_('party'))
