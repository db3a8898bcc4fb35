from sql.functions import CurrentTimestamp, Function

import trytond.config as config
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class PgNotify(Function):
    "NOTIFY as a function: what trytond's database.notify runs"
    __slots__ = ()
    _function = 'PG_NOTIFY'


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('ticket.shop.waitlist|process',
                    "Offer Freed Places to the Waiting Lists"),
                ('ticket.shop.rate_limit|clean',
                    "Clean Shop Rate Limits"),
                ])


class Queue(metaclass=PoolMeta):
    __name__ = 'ir.queue'

    @classmethod
    def push(cls, name, data, scheduled_at=None, expected_at=None):
        """Push a task by one INSERT that notifies the workers too: the
        row the ORM's create gives (the name, data, dates, the enqueued
        time by default_enqueued_at, the create user and date) without
        reading it back to validate it, and the NOTIFY of trytond's push
        in its RETURNING. A confirmation e-mail is queued at each payment.

        trytond's push (the ORM) when a module creates, validates or
        defaults queue tasks its own way or an ir.trigger watches their
        creation, or for a missing name."""
        if not cls._push_plain(name):
            return super().push(name, data, scheduled_at=scheduled_at,
                expected_at=expected_at)
        transaction = Transaction()
        database = transaction.database
        table = cls.__table__()
        returning = [table.id]
        if database.has_channel():
            returning.append(PgNotify(cls.__name__, ''))
        cursor = transaction.connection.cursor()
        cursor.execute(*table.insert(
                [table.create_uid, table.create_date, table.name,
                    table.data, table.enqueued_at, table.scheduled_at,
                    table.expected_at],
                [[transaction.user, CurrentTimestamp(), name,
                        cls.data.sql_format(data),
                        cls.enqueued_at.sql_format(cls.default_enqueued_at()),
                        cls.scheduled_at.sql_format(scheduled_at),
                        cls.expected_at.sql_format(expected_at)]],
                returning=returning))
        task_id = cursor.fetchone()[0]
        transaction.create_records[cls.__name__].append(task_id)
        if not config.getboolean('queue', 'worker', default=False):
            transaction.tasks.append(task_id)
        return task_id

    @classmethod
    def _push_plain(cls, name):
        "Whether push may insert the task by SQL (see push)"
        pool = Pool()
        Trigger = pool.get('ir.trigger')
        return bool(isinstance(name, str) and name
            and not cls._history
            and set(cls._defaults) <= {'enqueued_at', 'create_uid',
                'create_date', 'write_uid', 'write_date'}
            and all(klass.__module__.startswith('trytond.')
                for klass in cls.__mro__
                if {'create', 'validate', 'validate_fields',
                    'default_enqueued_at'} & set(vars(klass)))
            and not Trigger.get_triggers(cls.__name__, 'create'))
