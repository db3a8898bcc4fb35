"""Partners: resellers that sell the organizer's tickets through the API.

A partner (a travel agency, a tourist office, a ticketing marketplace) is a
party of the organizer with its own API key, a Tryton user application
(``res.user.application``, application "Ticket Partner"):
``Authorization: Bearer <key>``. With it the partner creates paid orders in
one request (``POST /ticket/api/v1/partner/orders``): the tariffs sold on the
"Partners" channel, of the events the partner may sell (all the company's
when none is chosen), priced by the engine, held and paid at once. The
partner collects the money: its payment is booked with the provider
"Partner" and the partner's order reference, which makes a retried request
find the first order instead of selling twice. Revoking the partner cancels
the application; its next request is refused.
"""
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from guichet.ticket_event.api_key import ApiKeyMixin, ArrayAgg

APPLICATION = 'ticket_partner'
PROVIDER = 'partner'


class UserApplication(metaclass=PoolMeta):
    __name__ = 'res.user.application'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.application.selection.append((APPLICATION, "Ticket Partner"))


class Payment(metaclass=PoolMeta):
    __name__ = 'ticket.order.payment'

    @classmethod
    def get_providers(cls):
        return super().get_providers() + [(PROVIDER, "Partner")]


class Partner(ApiKeyMixin, Workflow, ModelSQL, ModelView):
    "A reseller that sells tickets through the partner API"
    __name__ = 'ticket.partner'
    _application = APPLICATION
    name = fields.Char("Name", required=True)
    company = fields.Many2One('company.company', "Company", required=True)
    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="The reseller, who owes the organizer the money it collects.")
    events = fields.Many2Many(
        'ticket.partner-ticket.event', 'partner', 'event', "Events",
        domain=[('company', '=', Eval('company', -1))],
        help="The only events the partner may sell; all the company's when "
        "empty. Only the tariffs sold on the \"Partners\" channel are "
        "offered.")
    application = fields.Many2One(
        'res.user.application', "API Key", readonly=True,
        ondelete='RESTRICT')
    key = fields.Function(fields.Char(
            "Key", help="Give it to the partner once; revoke the partner "
            "or make a new key if it leaks."), 'get_key')

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_key(self, name):
        "The key, shown to the ticketing administrators only"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        if self.state != 'active' or not self.application:
            return None
        if Transaction().user and ModelData.get_id(
                'ticket_event', 'group_ticket_admin') not in User.get_groups():
            return None
        return self.application.key

    @classmethod
    def authenticate(cls, key):
        """Return (partner id, company id, [event ids]) of an active partner
        with a validated key, or None; no event ids: every event"""
        PartnerEvent = Pool().get('ticket.partner-ticket.event')
        partner_event = PartnerEvent.__table__()
        row = cls.key_owner(key, lambda t: t.id, lambda t: t.company,
            lambda t: ArrayAgg(partner_event.select(partner_event.event,
                    where=partner_event.partner == t.id)))
        if not row:
            return None
        partner_id, company, events = row
        return partner_id, company, sorted(events)

    @classmethod
    def payment_reference(cls, partner_id, reference):
        "The reference of the payment of the partner's order reference"
        return f'{PROVIDER}-{partner_id}:{reference}'

    @classmethod
    def check_modification(cls, mode, partners, values=None,
            external=False):
        super().check_modification(
            mode, partners, values=values, external=external)
        if mode == 'delete':
            for partner in partners:
                if partner.state == 'active':
                    raise AccessError(gettext(
                            'ticket_pricing.msg_partner_delete_active',
                            partner=partner.rec_name))


class PartnerEvent(ModelSQL):
    __name__ = 'ticket.partner-ticket.event'
    partner = fields.Many2One(
        'ticket.partner', "Partner", required=True, ondelete='CASCADE')
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE')


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'
    partner = fields.Many2One(
        'ticket.partner', "Partner", readonly=True, ondelete='RESTRICT',
        states={'invisible': ~Eval('partner')},
        help="The reseller that sold the order through the partner API.")
    partner_reference = fields.Char(
        "Partner Reference", readonly=True,
        states={'invisible': ~Eval('partner')},
        help="The partner's own reference of the order.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints.append(
            ('partner_reference_unique',
                Unique(t, t.partner, t.partner_reference),
                'ticket_pricing.msg_partner_reference_unique'))

    @classmethod
    def copy(cls, orders, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('partner', None)
        default.setdefault('partner_reference', None)
        return super().copy(orders, default=default)

    @classmethod
    def partner_order_values(cls, send_email, language):
        """The values of a new order of a partner, or None when send_email
        asks to e-mail the tickets to the buyer and no module can (the web
        shop adds what its confirmation e-mail needs)"""
        return None if send_email else {}
