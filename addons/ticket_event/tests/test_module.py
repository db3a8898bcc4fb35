from trytond.tests.test_tryton import ModuleTestCase


class TicketEventTestCase(ModuleTestCase):
    "Test the ticket_event module"
    module = 'ticket_event'


del ModuleTestCase
