from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase

from guichet.ticket_event.tests.translations import TranslationTestMixin
from guichet.ticket_event.tests.views import ListViewTestMixin

from .services import ServiceTestMixin


class TicketPosTestCase(
        ServiceTestMixin, TranslationTestMixin, CompanyTestMixin,
        ListViewTestMixin, ModuleTestCase):
    "Test the ticket_pos module"
    module = 'ticket_pos'
    extras = ['ticket_seating']


del ModuleTestCase
