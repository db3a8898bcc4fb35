from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase

from guichet.ticket_event.tests.translations import TranslationTestMixin
from guichet.ticket_event.tests.views import ListViewTestMixin

from .maps import MapTestMixin
from .sales import SalesTestMixin
from .seating import SeatingTestMixin


class TicketSeatingTestCase(
        MapTestMixin, SeatingTestMixin, SalesTestMixin, ListViewTestMixin,
        TranslationTestMixin, CompanyTestMixin, ModuleTestCase):
    "Test the ticket_seating module"
    module = 'ticket_seating'


del ModuleTestCase
