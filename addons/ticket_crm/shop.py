"""With ticket_shop: the answers the buyers give to the shop's consents at
checkout go to the consent register, for the purposes the organizer maps
them to (e.g. "Send me the newsletter" -> newsletter). ticket_crm does not
depend on the shop: these classes are registered only when it is
activated."""
from trytond.model import fields
from trytond.pool import Pool, PoolMeta

from .consent import PURPOSES


class ConsentPurpose(metaclass=PoolMeta):
    __name__ = 'ticket.shop.consent.purpose'
    crm_purpose = fields.Selection([(None, "")] + PURPOSES, "Register As",
        help="The purpose in the customers' consent register that the "
        "answer gives or withdraws.")


class ShopConsent(metaclass=PoolMeta):
    __name__ = 'ticket.shop.consent'

    @classmethod
    def on_modification(cls, mode, consents, field_names=None):
        # on their creation by the ORM or by the checkout's plain INSERT
        # (Order.insert_plain, which calls the model's on_modification)
        super().on_modification(mode, consents, field_names=field_names)
        if mode == 'create':
            cls.record_in_register(consents)

    @classmethod
    def record_in_register(cls, consents):
        """Record the answers of consents whose purpose is mapped in the
        customers' consent register, with the order number as reference"""
        Consent = Pool().get('ticket.crm.consent')
        for consent in consents:
            purpose = consent.purpose.crm_purpose
            if not purpose or not consent.party:
                continue
            Consent.record_consent(consent.party, purpose,
                bool(consent.given), 'shop', date=consent.date,
                reference=consent.order.number,
                company=consent.order.company)
