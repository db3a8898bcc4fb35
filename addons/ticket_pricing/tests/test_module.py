from trytond.tests.test_tryton import ModuleTestCase


class TicketPricingTestCase(ModuleTestCase):
    "Test the ticket_pricing module"
    module = 'ticket_pricing'


del ModuleTestCase
