from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase

from guichet.ticket_event.tests.translations import TranslationTestMixin
from guichet.ticket_event.tests.views import ListViewTestMixin

from .shop import ShopTestMixin


class TicketShopTestCase(
        ShopTestMixin, ListViewTestMixin, TranslationTestMixin,
        CompanyTestMixin, ModuleTestCase):
    "Test the ticket_shop module"
    module = 'ticket_shop'
    extras = ['ticket_seating']


del ModuleTestCase
