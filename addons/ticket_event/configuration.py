import datetime as dt

from trytond.cache import Cache
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Id

DEFAULT_HOLD_DELAY = dt.timedelta(minutes=15)
DEFAULT_PAYMENT_DELAY = dt.timedelta(days=3)
# The configuration's values that every hold, order and ticket reads (the
# delays, the sequences), kept per process instead of read in each request;
# cleared in every process (through ir_cache) by any change of it.
_values = Cache('ticket.configuration.values', context=False)
# What the cache keeps: values of these types (relations as their id)
CACHED_TYPES = {'integer', 'float', 'numeric', 'boolean', 'char',
    'selection', 'timedelta', 'many2one'}


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
    def create(cls, vlist):
        _values.clear()
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        _values.clear()
        super().write(*args)

    @classmethod
    def delete(cls, records):
        _values.clear()
        super().delete(records)

    @classmethod
    def setting(cls, name):
        """The value of the configuration's field name (the id of a
        relation), kept per process; for fields that are not translated
        nor computed (the delays, the sequences...)"""
        values = _values.get('values')
        if values is None:
            names = [n for n, f in cls._fields.items()
                if f._type in CACHED_TYPES and not getattr(f, 'translate', 0)
                and not hasattr(f, 'getter') and n != 'id']
            config = cls(1)
            values = {}
            for name_ in names:
                value = getattr(config, name_)
                values[name_] = value.id if hasattr(value, 'id') else value
            _values.set('values', values)
        return values[name]

    @classmethod
    def sequence(cls, name):
        "The ir.sequence of the configuration's field name"
        return Pool().get('ir.sequence')(cls.setting(name))

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
