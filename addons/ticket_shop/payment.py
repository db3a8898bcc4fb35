"""The payment methods an organizer offers in the shop, each served by a
provider (see provider.py): the test provider for demos and tests, offline
methods (bank transfer, cheque) that the organizer marks paid. A card
provider such as Stripe plugs in as another provider (provider.py)."""
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.pool import PoolMeta
from trytond.transaction import Transaction

from guichet.ticket_event.payment import METHODS

from .organizer import CheckoutSettingsCacheMixin


class PaymentMethod(CheckoutSettingsCacheMixin,
        sequence_ordered(), DeactivableMixin, ModelSQL, ModelView):
    "A way to pay offered at checkout"
    __name__ = 'ticket.shop.payment.method'
    company = fields.Many2One('company.company', "Company", required=True)
    name = fields.Char("Name", required=True, translate=True,
        help="As buyers see it, e.g. 'Credit card' or 'Bank transfer'.")
    provider = fields.Selection('get_providers', "Provider", required=True)
    method = fields.Selection(METHODS, "Method", required=True)
    instructions = fields.Text(
        "Instructions", translate=True,
        help="Shown after checkout and in the e-mail, e.g. the bank "
        "details and the reference to write on the transfer.")

    @classmethod
    def get_providers(cls):
        return [
            ('test', "Test (demo)"),
            ('offline', "Offline (marked paid by the organizer)"),
            ]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_provider(cls):
        return 'offline'

    @classmethod
    def default_method(cls):
        return 'transfer'

    @property
    def is_online(self):
        "Whether the buyer pays at once (a card), not in days (a transfer)"
        return self.provider != 'offline'

    @classmethod
    def available(cls, company):
        "The active methods of company, in order"
        return cls.search([('company', '=', company.id)])


class Payment(metaclass=PoolMeta):
    __name__ = 'ticket.order.payment'

    @classmethod
    def get_providers(cls):
        return super().get_providers() + [('test', "Test")]

