from trytond.modules.company.tests import CompanyTestMixin
from guichet.ticket_event.tests.translations import TranslationTestMixin
from guichet.ticket_event.tests.views import ListViewTestMixin
from trytond.tests.test_tryton import ModuleTestCase

from .buyers import BuyerTestMixin
from .engine import EngineTestMixin
from .fees import FeeTestMixin
from .orders import OrderTestMixin
from .passes import PassTestMixin
from .promotions import PromotionTestMixin
from .properties import PropertyTestMixin
from .tariffs import TariffTestMixin


class TicketPricingTestCase(
        PromotionTestMixin, ListViewTestMixin, TranslationTestMixin,
        TariffTestMixin, EngineTestMixin, FeeTestMixin, OrderTestMixin,
        PropertyTestMixin, PassTestMixin, BuyerTestMixin, CompanyTestMixin,
        ModuleTestCase):
    "Test the ticket_pricing module"
    module = 'ticket_pricing'


del ModuleTestCase
