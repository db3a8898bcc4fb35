import unittest

from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import (
    ModuleTestCase, activate_module, drop_db)

from guichet.ticket_event.tests.translations import TranslationTestMixin
from guichet.ticket_event.tests.views import ListViewTestMixin

from .offline import OfflineTestMixin
from .scans import ScanTestMixin
from .passes import PassTestMixin


class TicketAccessTestCase(
        PassTestMixin, ScanTestMixin, OfflineTestMixin, CompanyTestMixin,
        ListViewTestMixin, TranslationTestMixin, ModuleTestCase):
    "Test the ticket_access module with the pricing module"
    module = 'ticket_access'
    extras = ['ticket_pricing']


class TicketAccessCoreTestCase(
        ScanTestMixin, OfflineTestMixin, unittest.TestCase):
    "The scan service and offline mode without the pricing module"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['ticket_access'])

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()


del ModuleTestCase
