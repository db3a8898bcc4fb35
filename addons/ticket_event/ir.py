from trytond.cache import Cache
from trytond.ir.sequence import sql_sequence
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

# What Sequence.get needs to format the numbers of an incremental sequence of
# the database (False for the others), kept per process (cleared in every
# process when a sequence changes)
_sequence_formats = Cache('ticket_event.sequence_format', context=False)
SEQUENCE_FORMAT = ('padding', 'prefix', 'suffix')
# The methods of ir.sequence that sequence_get does the work of
SEQUENCE_METHODS = {'get', 'get_many', '_get_many', '_process',
    '_get_substitutions', '_convert_substitution_key', '_sql_sequence_name'}


def sequence_get(sequence_id):
    """The next value of the ir.sequence of sequence_id, as Sequence.get
    gives it, but by one NEXTVAL without reading the sequence: its padding,
    prefix and suffix are kept per process. Sequence.get for a strict or a
    timestamp sequence, or when a module overrides how a sequence gets its
    values."""
    number, = sequence_get_many(sequence_id, 1)
    return number


def sequence_get_many(sequence_id, count):
    """The count next values of the ir.sequence of sequence_id, as
    Sequence.get_many gives them, by one statement (sequence_get)"""
    pool = Pool()
    Sequence = pool.get('ir.sequence')
    if count <= 0:
        return []
    values = _sequence_formats.get(sequence_id)
    if values is None:
        sequence = Sequence(sequence_id)
        modules = {k.__module__ for k in Sequence.__mro__
            if SEQUENCE_METHODS & set(vars(k))}
        if (sql_sequence and not Sequence._strict
                and sequence.type == 'incremental'
                and modules <= {'trytond.ir.sequence'}):
            values = {n: getattr(sequence, n) for n in SEQUENCE_FORMAT}
        else:
            values = False
        _sequence_formats.set(sequence_id, values)
    if not values:
        return list(Sequence(sequence_id).get_many(count))
    transaction = Transaction()
    numbers = list(transaction.database.sequence_nextvals(
            transaction.connection, '%s_%s' % (Sequence._table, sequence_id),
            count))
    # as Sequence._get_many (the number_next of the transaction's cache)
    transaction.counter += 1
    prefix = _process(Sequence, values['prefix'])
    suffix = _process(Sequence, values['suffix'])
    padding = values['padding']
    return [f'{prefix}{n:0>{padding}d}{suffix}' for n in numbers]


def _process(Sequence, string):
    """Sequence._process of string: itself when it has no substitution
    (without the date of the company's time zone that a company's
    substitutions read)"""
    if not string or '$' not in string:
        return string or ''
    return Sequence._process(string)


class Sequence(metaclass=PoolMeta):
    __name__ = 'ir.sequence'

    @classmethod
    def write(cls, *args):
        super().write(*args)
        # not when a timestamp sequence saves its last timestamp (at each
        # of its numbers): what sequence_get keeps cannot have changed
        if any(set(values) - {'last_timestamp', 'number_next_internal'}
                for values in args[1::2]):
            _sequence_formats.clear()

    @classmethod
    def delete(cls, sequences):
        super().delete(sequences)
        _sequence_formats.clear()


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('ticket.hold|expire_stale', "Expire Ticket Holds"),
                ('ticket.order|expire_stale', "Expire Unpaid Ticket Orders"),
                ('ticket.session|update_sale_states',
                    "Update Session Sale States"),
                ])
