import datetime as dt

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Id

DEFAULT_HOLD_DELAY = dt.timedelta(minutes=15)
DEFAULT_PAYMENT_DELAY = dt.timedelta(days=3)


class Configuration(ModelSingleton, ModelSQL, ModelView):
    __name__ = 'ticket.configuration'
    order_sequence = fields.Many2One(
        'ir.sequence', "Order Sequence", required=True,
        domain=[('sequence_type', '=',
                Id('ticket_event', 'sequence_type_order'))])
    ticket_sequence = fields.Many2One(
        'ir.sequence', "Ticket Sequence", required=True,
        domain=[('sequence_type', '=',
                Id('ticket_event', 'sequence_type_ticket'))])
    hold_delay = fields.TimeDelta(
        "Hold Delay", required=True,
        help="How long places stay held in a cart before they return "
        "to sale.")
    payment_delay = fields.TimeDelta(
        "Payment Delay", required=True,
        help="How long a reserved order waits for an offline payment "
        "(transfer, cheque) before it expires.")
    ticket_instructions = fields.Text(
        "Ticket Instructions", translate=True,
        help="Printed on every ticket.")

    @classmethod
    def default_order_sequence(cls):
        return Pool().get('ir.model.data').get_id(
            'ticket_event', 'sequence_order')

    @classmethod
    def default_ticket_sequence(cls):
        return Pool().get('ir.model.data').get_id(
            'ticket_event', 'sequence_ticket')

    @classmethod
    def default_hold_delay(cls):
        return DEFAULT_HOLD_DELAY

    @classmethod
    def default_payment_delay(cls):
        return DEFAULT_PAYMENT_DELAY

    @classmethod
    def default_ticket_instructions(cls):
        return ("Show this ticket at the entrance, printed or on your "
            "phone. Each code is admitted once.")
