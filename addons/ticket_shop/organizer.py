"""The organizer's public profile: the page of the company in the shop,
its terms of sale and the consents the shop asks buyers for."""
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields, sequence_ordered)
from trytond.transaction import Transaction


class Organizer(ModelSQL, ModelView):
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
        organizers = cls.search([('company', '=', company.id)], limit=1)
        return organizers[0] if organizers else cls(company=company)


class ConsentPurpose(
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
