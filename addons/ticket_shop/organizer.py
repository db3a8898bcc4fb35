"""The organizer's public profile: the page of the company in the shop,
its terms of sale and the consents the shop asks buyers for."""
import dataclasses

from trytond.cache import Cache
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields, sequence_ordered)
from trytond.pool import Pool
from trytond.transaction import Transaction

from guichet.ticket_event.common import clears_caches

# What the checkout of a company shows and checks (payment methods, terms,
# consents), read once per process and language instead of on every
# checkout page and form; cleared in every process (through ir_cache) by
# any change of an organizer, a consent or a payment method.
_checkout_settings = Cache('ticket.shop.checkout_settings', context=False)


# Clear the checkout settings kept when a record changes
CheckoutSettingsCacheMixin = clears_caches(_checkout_settings)


@dataclasses.dataclass(frozen=True)
class MethodChoice:
    "A payment method offered at checkout"
    id: int
    name: str
    provider: str

    @property
    def is_online(self):
        "Whether the buyer pays at once (a card), not in days (a transfer)"
        return self.provider != 'offline'


@dataclasses.dataclass(frozen=True)
class ConsentChoice:
    "A consent asked at checkout"
    id: int
    name: str
    required: bool


@dataclasses.dataclass(frozen=True)
class CheckoutSettings:
    "What the checkout of a company offers and asks"
    organizer: int | None       # the id of the organizer's profile
    privacy_url: str | None
    terms: bool                 # whether buyers accept terms of sale
    consents: tuple             # of ConsentChoice
    methods: tuple              # of MethodChoice


def checkout_settings(company):
    "The CheckoutSettings of company, in the language of the transaction"
    pool = Pool()
    Organizer = pool.get('ticket.shop.organizer')
    Method = pool.get('ticket.shop.payment.method')
    key = (company.id, Transaction().language)
    cached = _checkout_settings.get(key)
    if cached is None:
        # the size of the terms, not the PDF
        with Transaction().set_context({
                    'ticket.shop.organizer.terms': 'size'}):
            organizers = Organizer.search(
                [('company', '=', company.id)], limit=1)
            organizer = organizers[0] if organizers else None
            cached = (
                organizer.id if organizer else None,
                organizer.privacy_url if organizer else None,
                bool(organizer and organizer.terms),
                tuple((p.id, p.name, bool(p.required))
                    for p in organizer.consent_purposes)
                if organizer else (),
                tuple((m.id, m.name, m.provider)
                    for m in Method.available(company)))
        _checkout_settings.set(key, cached)
    organizer, privacy_url, terms, consents, methods = cached
    return CheckoutSettings(organizer=organizer, privacy_url=privacy_url,
        terms=terms, consents=tuple(ConsentChoice(*c) for c in consents),
        methods=tuple(MethodChoice(*m) for m in methods))


class Organizer(CheckoutSettingsCacheMixin, ModelSQL, ModelView):
    "The shop profile of an organizer"
    __name__ = 'ticket.shop.organizer'
    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='CASCADE')
    description = fields.Text(
        "Description", translate=True,
        help="Shown on the organizer's page of the shop.")
    website = fields.Char("Website")
    contact_email = fields.Char(
        "Contact E-mail", help="Where buyers write to; shown in e-mails.")
    terms = fields.Binary(
        "Terms of Sale", filename='terms_filename',
        help="A PDF that buyers accept before they order.")
    terms_filename = fields.Char("Terms File Name")
    privacy_url = fields.Char(
        "Privacy Policy URL", help="Linked next to the consents.")
    consent_purposes = fields.One2Many(
        'ticket.shop.consent.purpose', 'organizer', "Consents",
        help="The checkboxes the checkout asks (GDPR).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('company_unique', Unique(t, t.company),
                'ticket_shop.msg_organizer_company_unique'),
            ]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_rec_name(self, name):
        return self.company.rec_name

    @classmethod
    def for_company(cls, company):
        "The profile of company, or an unsaved empty one"
        # its id kept per process with the checkout settings
        organizer = checkout_settings(company).organizer
        return cls(organizer) if organizer else cls(company=company)


class ConsentPurpose(CheckoutSettingsCacheMixin,
        sequence_ordered(), DeactivableMixin, ModelSQL, ModelView):
    "A consent asked at checkout, e.g. to receive the newsletter"
    __name__ = 'ticket.shop.consent.purpose'
    organizer = fields.Many2One(
        'ticket.shop.organizer', "Organizer", required=True,
        ondelete='CASCADE')
    name = fields.Char(
        "Text", required=True, translate=True,
        help="The sentence next to the checkbox.")
    required = fields.Boolean(
        "Required", help="The buyer cannot order without giving it.")
