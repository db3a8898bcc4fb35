"""Multipasses: one ticket that holds several admissions.

A pass tariff (``Tariff.pass_kind``) lists components, each an admission to
a session (optionally through a tariff whose category and own pools count
it). The mandatory components come with every pass; the buyer chooses
between ``min_choices`` and ``max_choices`` of the optional ones
(``LineRequest.components``). Each admission counts in its own session's
pools; the pass's own and category pools count it once per unit. A paid
pass gives one ticket per unit holding one admission per component, each
scanned once at its own session.
"""
import dataclasses

from trytond.i18n import gettext
from trytond.model import (
    ModelSQL,
    ModelView,
    Unique,
    Workflow,
    fields,
    sequence_ordered,
)
from trytond.model.exceptions import ValidationError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If

from guichet.ticket_event.common import format_local
from guichet.ticket_event.exceptions import SaleClosedError

from .engine import ZERO, LineRequest, QuoteLine
from .exceptions import PricingError

PASS_KINDS = [
    (None, "Single Admission"),
    ('multipass', "Multipass"),
    ('season', "Season Pass"),
    ]


@dataclasses.dataclass
class PassQuoteLine(QuoteLine):
    "A quote line of a pass: its components and the passes it renews"
    components: list = dataclasses.field(default_factory=list)
    renewals: list = dataclasses.field(default_factory=list)
    position: int = 0

    @property
    def hold_items(self):
        items = super().hold_items
        for item, component in zip(items, self.components):
            item['component'] = component.id
            item['pass_line'] = self.position
        return items


class Tariff(metaclass=PoolMeta):
    __name__ = 'ticket.tariff'
    pass_kind = fields.Selection(
        PASS_KINDS, "Pass",
        states={'invisible': ~Eval('issues_ticket')},
        help="A multipass admits to several sessions of the event with one "
        "ticket; a season pass to sessions of several events of a season.")
    components = fields.One2Many(
        'ticket.tariff.component', 'multipass', "Components",
        states={'invisible': ~Eval('pass_kind')})
    min_choices = fields.Integer(
        "Minimum Choices", required=True,
        domain=[('min_choices', '>=', 0)],
        states={'invisible': ~Eval('pass_kind')},
        help="How many optional components the buyer must choose at least.")
    max_choices = fields.Integer(
        "Maximum Choices",
        domain=['OR', ('max_choices', '=', None),
            ('max_choices', '>=', Eval('min_choices', 0))],
        states={'invisible': ~Eval('pass_kind')},
        help="How many optional components the buyer may choose at most; "
        "empty for all of them.")

    @classmethod
    def default_min_choices(cls):
        return 0

    @classmethod
    def validate_fields(cls, tariffs, field_names):
        super().validate_fields(tariffs, field_names)
        for tariff in tariffs:
            if tariff.pass_kind and not tariff.issues_ticket:
                raise ValidationError(gettext(
                        'ticket_pricing.msg_pass_issues_ticket',
                        tariff=tariff.rec_name))
            tariff.check_choices()

    def check_choices(self):
        "The buyer must be able to choose the minimum of components"
        optional = [c for c in self.components if not c.mandatory]
        if (self.pass_kind and self.components
                and self.min_choices > len(optional)):
            raise ValidationError(gettext(
                    'ticket_pricing.msg_pass_min_choices',
                    tariff=self.rec_name, count=len(optional)))

    def _catalogue_values(self):
        values = super()._catalogue_values()
        values['pass_kind'] = self.pass_kind
        return values

    def is_for_session(self, session):
        if self.catalogue['pass_kind']:
            return any(c.admission_session == session
                for c in self.components)
        return super().is_for_session(session)

    def choose_components(self, chosen=None):
        """The components of a unit of the pass for the buyer's choice: the
        mandatory ones and the optional ones chosen, in sequence order.

        chosen lists components (records or ids) or their sessions
        (records); raise PricingError 'invalid' for a choice that is not
        one of the pass or given twice, or too few or too many choices."""
        components = list(self.components)
        if not components:
            raise PricingError(gettext(
                    'ticket_pricing.msg_pass_no_component',
                    tariff=self.rec_name), 'invalid')
        picked = []
        for value in chosen or []:
            component = self._find_component(components, value)
            if component is None:
                raise PricingError(gettext(
                        'ticket_pricing.msg_pass_component_unknown',
                        tariff=self.rec_name), 'invalid')
            if component in picked:
                raise PricingError(gettext(
                        'ticket_pricing.msg_pass_component_twice',
                        tariff=self.rec_name,
                        component=component.rec_name), 'invalid')
            picked.append(component)
        optional = [c for c in components if not c.mandatory]
        count = len([c for c in picked if not c.mandatory])
        maximum = (self.max_choices if self.max_choices is not None
            else len(optional))
        if not self.min_choices <= count <= maximum:
            raise PricingError(gettext(
                    'ticket_pricing.msg_pass_choices',
                    tariff=self.rec_name, minimum=self.min_choices,
                    maximum=maximum), 'invalid')
        return [c for c in components if c.mandatory or c in picked]

    @staticmethod
    def _find_component(components, value):
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            matches = [c for c in components if c.id == value]
        elif getattr(value, '__name__', None) == 'ticket.tariff.component':
            matches = [c for c in components if c == value]
        elif getattr(value, '__name__', None) == 'ticket.session':
            matches = [c for c in components
                if c.admission_session == value]
        else:
            return None
        return matches[0] if len(matches) == 1 else None

    @classmethod
    def copy(cls, tariffs, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('components', None)
        return super().copy(tariffs, default=default)


class Component(sequence_ordered(), ModelSQL, ModelView):
    "An admission of a pass: a session, through a tariff or not"
    __name__ = 'ticket.tariff.component'
    multipass = fields.Many2One(
        'ticket.tariff', "Pass", required=True, ondelete='CASCADE',
        domain=[('pass_kind', '!=', None)])
    pass_kind = fields.Function(
        fields.Selection(PASS_KINDS, "Pass Kind"),
        'on_change_with_pass_kind')
    event = fields.Function(
        fields.Many2One('ticket.event', "Event"), 'on_change_with_event')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    session = fields.Many2One(
        'ticket.session', "Session", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            If(Eval('pass_kind') == 'multipass',
                ('event', '=', Eval('event', -1)), ()),
            ],
        states={'required': ~Eval('tariff')},
        help="Empty to admit to the only session of the tariff.")
    tariff = fields.Many2One(
        'ticket.tariff', "Tariff", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('pass_kind', '=', None),
            If(Eval('pass_kind') == 'multipass',
                ('event', '=', Eval('event', -1)), ()),
            ],
        help="Its category and own pool count the admission, and its "
        "label names it on the ticket.")
    price = Monetary(
        "Supplement", currency='currency', digits='currency', required=True,
        domain=[('price', '>=', 0)],
        help="Added to the price of the pass when the component is chosen; "
        "0 for a free component.")
    mandatory = fields.Boolean(
        "Mandatory", help="Unchecked for a component the buyer may choose.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('multipass')

    @classmethod
    def default_price(cls):
        return ZERO

    @classmethod
    def default_mandatory(cls):
        return True

    @fields.depends('multipass', '_parent_multipass.pass_kind')
    def on_change_with_pass_kind(self, name=None):
        return self.multipass.pass_kind if self.multipass else None

    @fields.depends('multipass', '_parent_multipass.event')
    def on_change_with_event(self, name=None):
        return self.multipass.event if self.multipass else None

    @fields.depends('multipass', '_parent_multipass.event')
    def on_change_with_company(self, name=None):
        if self.multipass and self.multipass.event:
            return self.multipass.event.company

    @classmethod
    def search_company(cls, name, clause):
        return [('multipass.event.company',) + tuple(clause[1:])]

    @fields.depends('multipass', '_parent_multipass.event')
    def on_change_with_currency(self, name=None):
        if self.multipass and self.multipass.event:
            return self.multipass.event.company.currency

    @property
    def admission_session(self):
        "The session the component admits to"
        if self.session:
            return self.session
        if self.tariff and len(self.tariff.sessions) == 1:
            return self.tariff.sessions[0]

    @property
    def pools(self):
        "The pools, besides its session's, that the admission counts in"
        if self.tariff:
            return self.tariff.pools_for(self.admission_session)
        return []

    @property
    def label(self):
        session = self.admission_session
        event = session.event
        when = format_local(session.start, event.timezone,
            Pool().get('ir.lang').get())
        label = f'{event.name} — {when}'
        if self.tariff:
            label += f' — {self.tariff.rec_name}'
        return label

    def get_rec_name(self, name):
        session = self.admission_session
        label = session.rec_name if session else ''
        if self.tariff:
            label = f'{label} ({self.tariff.rec_name})'
        return label

    @classmethod
    def validate_fields(cls, components, field_names):
        super().validate_fields(components, field_names)
        for component in components:
            component.check_admission()
        for multipass in {c.multipass for c in components}:
            multipass.check_choices()
            sessions = [c.admission_session for c in multipass.components]
            if len(sessions) != len(set(sessions)):
                raise ValidationError(gettext(
                        'ticket_pricing.msg_pass_session_twice',
                        tariff=multipass.rec_name))

    def check_admission(self):
        session = self.admission_session
        multipass = self.multipass
        if session is None:
            raise ValidationError(gettext(
                    'ticket_pricing.msg_component_no_session',
                    tariff=multipass.rec_name))
        if (session.event.company != multipass.event.company
                or (multipass.pass_kind == 'multipass'
                    and session.event != multipass.event)):
            raise ValidationError(gettext(
                    'ticket_pricing.msg_component_session_event',
                    tariff=multipass.rec_name, session=session.rec_name))
        if self.tariff and (self.tariff.pass_kind
                or not self.tariff.is_for_session(session)):
            raise ValidationError(gettext(
                    'ticket_pricing.msg_component_tariff_session',
                    tariff=self.tariff.rec_name, session=session.rec_name))


class PriceEngine(metaclass=PoolMeta):
    __name__ = 'ticket.price_engine'

    @classmethod
    def needs_session(cls, tariff):
        if tariff.catalogue['pass_kind']:
            return False
        return super().needs_session(tariff)

    @classmethod
    def check_lines(cls, quote):
        "A pass line: a valid choice of components, each on sale"
        super().check_lines(quote)
        request = quote.request
        for line in request.lines:
            tariff = line.tariff
            if tariff.catalogue['pass_kind']:
                for component in tariff.choose_components(line.components):
                    session = component.admission_session
                    tariff.check_sale(session, request.channel, request.at)
                    if request.check_capacity:
                        cls.check_admission_on_sale(quote, session)
            elif line.components:
                raise PricingError(gettext(
                        'ticket_pricing.msg_quote_components_not_pass',
                        tariff=tariff.rec_name), 'invalid')

    @classmethod
    def check_admission_on_sale(cls, quote, session):
        "Refuse an admission to a session whose sale is closed"
        try:
            session.check_on_sale(quote.request.channel, quote.request.at)
        except SaleClosedError as error:
            raise PricingError(error.message, 'sale_closed')

    @classmethod
    def price_line(cls, quote, line):
        "A pass costs its price plus the supplements of its components"
        quote_line = super().price_line(quote, line)
        tariff = line.tariff
        if not tariff.catalogue['pass_kind']:
            return quote_line
        components = tariff.choose_components(line.components)
        sessions = [c.admission_session for c in components]
        # The pass's own and category pools count a unit once.
        own = tariff.pools_for(sessions[0])
        admissions = []
        for i, (component, session) in enumerate(zip(components, sessions)):
            pools = (own if i == 0 else []) + list(component.pools)
            admissions.append((session, list(dict.fromkeys(pools))))
        values = {f.name: getattr(quote_line, f.name)
            for f in dataclasses.fields(QuoteLine)}
        values.update(
            session=sessions[0],
            unit_price=quote_line.unit_price + sum(
                (c.price for c in components), ZERO),
            pools=admissions[0][1],
            admissions=admissions)
        return PassQuoteLine(
            components=components, position=len(quote.lines), **values)


class HoldItem(metaclass=PoolMeta):
    __name__ = 'ticket.hold.item'
    component = fields.Many2One(
        'ticket.tariff.component', "Pass Component", ondelete='RESTRICT')
    pass_line = fields.Integer(
        "Pass Line", help="Groups the admissions of a line of passes.")


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'

    @classmethod
    def quote_request(cls, holds, **kwargs):
        "The admissions of a line of passes make one line of the request"
        request = super().quote_request(holds, **kwargs)
        lines, passes = [], {}
        items = [i for h in holds for i in h.items if i.tariff]
        for line, item in zip(request.lines, items):
            if not item.component:
                lines.append(line)
                continue
            key = (item.hold.id, item.pass_line)
            if key not in passes:
                passes[key] = LineRequest(
                    tariff=item.tariff, quantity=item.quantity,
                    components=[])
                lines.append(passes[key])
            passes[key].components.append(item.component)
        request.lines = lines
        return request

    @classmethod
    def lines_from_quote(cls, quote):
        lines = super().lines_from_quote(quote)
        for quote_line, line in zip(quote.lines, lines):
            if isinstance(quote_line, PassQuoteLine):
                line.components = quote_line.components
        return lines


class OrderLine(metaclass=PoolMeta):
    __name__ = 'ticket.order.line'
    components = fields.Many2Many(
        'ticket.order.line-ticket.tariff.component', 'line', 'component',
        "Pass Components", readonly=True,
        help="The admissions that each ticket of a pass holds.")


class OrderLineComponent(ModelSQL):
    __name__ = 'ticket.order.line-ticket.tariff.component'
    line = fields.Many2One(
        'ticket.order.line', "Order Line", required=True,
        ondelete='CASCADE')
    component = fields.Many2One(
        'ticket.tariff.component', "Component", required=True,
        ondelete='RESTRICT')


class Ticket(metaclass=PoolMeta):
    __name__ = 'ticket.ticket'
    admissions = fields.One2Many(
        'ticket.ticket.admission', 'ticket', "Admissions", readonly=True,
        help="The sessions a pass admits to, each scanned once.")

    @classmethod
    def issue(cls, lines):
        "A ticket of a pass holds an admission per component"
        Admission = Pool().get('ticket.ticket.admission')
        tickets = super().issue(lines)
        # only a pass's line has components (Quote.check_lines): the other
        # lines are known from the tariffs kept per process, not searched
        Admission.save([Admission(
                    ticket=t, component=c, session=c.admission_session,
                    state='valid')
                for t in tickets
                if t.line and t.line.tariff
                and t.line.tariff.catalogue['pass_kind']
                for c in t.line.components])
        return tickets

    @classmethod
    def cancel(cls, tickets):
        Admission = Pool().get('ticket.ticket.admission')
        super().cancel(tickets)
        Admission.cancel([a for t in tickets for a in t.admissions
                if a.state != 'cancelled'])

    @property
    def admission_labels(self):
        labels = super().admission_labels
        return labels + [a.label for a in self.admissions
            if a.state != 'cancelled']


class Admission(Workflow, ModelSQL, ModelView):
    "An admission of a pass's ticket to one session"
    __name__ = 'ticket.ticket.admission'
    ticket = fields.Many2One(
        'ticket.ticket', "Ticket", required=True, readonly=True,
        ondelete='CASCADE')
    session = fields.Many2One(
        'ticket.session', "Session", required=True, readonly=True,
        ondelete='RESTRICT')
    component = fields.Many2One(
        'ticket.tariff.component', "Component", readonly=True,
        ondelete='RESTRICT')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    state = fields.Selection([
            ('valid', "Valid"),
            ('used', "Used"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('ticket_session_unique', Unique(t, t.ticket, t.session),
                'ticket_pricing.msg_admission_unique'),
            ]
        cls.__access__.add('ticket')
        cls._transitions |= {
            ('valid', 'used'),
            ('used', 'valid'),
            ('valid', 'cancelled'),
            ('used', 'cancelled'),
            }

    @classmethod
    def default_state(cls):
        return 'valid'

    @fields.depends('ticket', '_parent_ticket.company')
    def on_change_with_company(self, name=None):
        return self.ticket.company if self.ticket else None

    @classmethod
    def search_company(cls, name, clause):
        return [('ticket.company',) + tuple(clause[1:])]

    @property
    def label(self):
        if self.component:
            return self.component.label
        return self.session.rec_name

    def get_rec_name(self, name):
        return f'{self.ticket.rec_name} @ {self.session.rec_name}'

    @classmethod
    @Workflow.transition('used')
    def use(cls, admissions):
        pass

    @classmethod
    @Workflow.transition('valid')
    def unuse(cls, admissions):
        pass

    @classmethod
    @Workflow.transition('cancelled')
    def cancel(cls, admissions):
        pass
