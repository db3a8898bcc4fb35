from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase

from guichet.ticket_event.tests.translations import TranslationTestMixin
from guichet.ticket_event.tests.views import ListViewTestMixin

from .customers import CustomerTestMixin
from .gdpr import GDPRTestMixin
from .messages import MessageTestMixin
from .segments import SegmentTestMixin
from .shop import ShopConsentTestMixin


class TicketCrmTestCase(
        CustomerTestMixin, SegmentTestMixin, MessageTestMixin,
        GDPRTestMixin, ShopConsentTestMixin, ListViewTestMixin,
        TranslationTestMixin, CompanyTestMixin, ModuleTestCase):
    "Test the ticket_crm module"
    module = 'ticket_crm'
    extras = ['ticket_access', 'ticket_shop']


del ModuleTestCase
