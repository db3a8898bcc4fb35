"""A mailing list address added from a segment remembers whose consent it
came from: the unsubscribe link of a marketing e-mail withdraws that consent
in the register (source *Unsubscribe Link*), so that no later list, segment
or message counts the customer in."""
from trytond.model import fields
from trytond.pool import Pool, PoolMeta

from .consent import PURPOSES


class Email(metaclass=PoolMeta):
    __name__ = 'marketing.email'
    ticket_party = fields.Many2One(
        'party.party', "Customer", readonly=True, ondelete='SET NULL',
        help="The customer whose consent added the address to the list.")
    ticket_purpose = fields.Selection([(None, "")] + PURPOSES,
        "Consent", readonly=True,
        help="The consent that unsubscribing withdraws.")

    @classmethod
    def unsubscribe(cls, tokens):
        leaving = cls.search([('email_token', 'in', tokens)])
        result = super().unsubscribe(tokens)
        cls.withdraw_consents(leaving)
        return result

    @classmethod
    def withdraw_consents(cls, emails):
        """Record the withdrawal of the consents that added emails to lists,
        in every company where the customer's latest answer is yes (a list
        is not a company's: the person's no stops every sending)"""
        pool = Pool()
        Consent = pool.get('ticket.crm.consent')
        Company = pool.get('company.company')
        for email in emails:
            party, purpose = email.ticket_party, email.ticket_purpose
            if not (party and purpose):
                continue
            for company in Company.search([]):
                if party.id in Consent.given_ids(
                        [party.id], purpose, company.id):
                    Consent.record_consent(party, purpose, False,
                        'unsubscribe', reference=email.list_.name[:100],
                        company=company)
