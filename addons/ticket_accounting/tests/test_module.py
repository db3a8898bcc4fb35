from guichet.ticket_event.tests.translations import TranslationTestMixin
from guichet.ticket_event.tests.views import ListViewTestMixin
from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase

from .fec import FecTestMixin
from .helpers import SharedChartMixin
from .invoices import InvoiceTestMixin
from .mandates import MandateTestMixin
from .postings import PostingTestMixin
from .properties import PropertyTestMixin
from .reconcile import ReconcileTestMixin
from .sepa import SepaTestMixin


class TicketAccountingTestCase(
        SharedChartMixin, PostingTestMixin, MandateTestMixin, SepaTestMixin,
        FecTestMixin, PropertyTestMixin, InvoiceTestMixin, ReconcileTestMixin,
        ListViewTestMixin, TranslationTestMixin, CompanyTestMixin,
        ModuleTestCase):
    "Test the ticket_accounting module"
    module = 'ticket_accounting'
    extras = ['account_fr']


del ModuleTestCase
