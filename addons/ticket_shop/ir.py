"""The queue of the shop's e-mails: one INSERT per task, and a worker that
lets the buyers' requests have the CPU during an on-sale rush."""
import datetime as dt
import multiprocessing
import os
import time

from sql import Null
from sql.aggregate import Min
from sql.conditionals import Coalesce
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


class HostLoad:
    """The share of the host's CPU that the processes other than this one
    and its children (the worker's task processes) used since the previous
    sample, from Linux's /proc; None where /proc does not say.

    A figure is taken over WINDOW seconds at least: asked sooner, busy()
    answers the previous one."""
    WINDOW = 0.5

    def __init__(self, proc='/proc', children=None):
        self.proc = proc
        self.children = children or (
            lambda: [c.pid for c in multiprocessing.active_children()])
        self.last = None
        self.value = None

    def _host(self):
        "Total and idle clock ticks of the host's CPUs"
        with open(os.path.join(self.proc, 'stat')) as file:
            fields = file.readline().split()
        if not fields or fields[0] != 'cpu':
            raise ValueError("no cpu line")
        # user nice system idle iowait irq softirq steal
        values = [int(v) for v in fields[1:9]]
        return sum(values), values[3] + values[4]

    def _own(self):
        "Clock ticks used by this process and each child, by process id"
        ticks = {}
        for pid in [os.getpid()] + list(self.children()):
            try:
                with open(os.path.join(self.proc, str(pid), 'stat')) as file:
                    fields = file.read().rsplit(')', 1)[1].split()
            except (OSError, IndexError):
                continue
            # utime and stime, the 14th and 15th fields
            ticks[pid] = int(fields[11]) + int(fields[12])
        return ticks

    def busy(self):
        "The share (0 to 1) of the CPU the others used, or None"
        at = time.monotonic()
        if self.last is not None and at - self.last[0] < self.WINDOW:
            return self.value
        try:
            (total, idle), own = self._host(), self._own()
        except (OSError, ValueError):
            return None
        if self.last is not None:
            _, last_total, last_idle, last_own = self.last
            elapsed = total - last_total
            if elapsed > 0:
                mine = sum(max(t - last_own.get(p, 0), 0)
                    for p, t in own.items())
                self.value = min(max(
                        (elapsed - (idle - last_idle) - mine) / elapsed,
                        0.0), 1.0)
        self.last = (at, total, idle, own)
        return self.value


class Queue(metaclass=PoolMeta):
    __name__ = 'ir.queue'
    _host_load = None
    _waiting_since = None

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

    @classmethod
    def pull(cls, database, connection, name=None):
        """Pull the next task as trytond-worker does, unless the host is
        busy: while the other processes (the buyers' requests, PostgreSQL)
        use more than [ticket_shop] queue_yield_load of the CPU (0.8 by
        default, 0 to never wait), the tasks wait, each at most
        queue_yield_max seconds (60 by default) after it was due (queued,
        or its scheduled time: a retry); the e-mails of an on-sale rush go
        out once it leaves the CPU."""
        wait = cls._yield_to_load(connection, name)
        if wait:
            return None, wait
        return super().pull(database, connection, name=name)

    @classmethod
    def _yield_to_load(cls, connection, name=None):
        "The seconds to wait before pulling a task again, or None"
        limit = config.getfloat('ticket_shop', 'queue_yield_load',
            default=0.8)
        if not limit:
            return None
        if cls._host_load is None:
            cls._host_load = HostLoad()
        load = cls._host_load.busy()
        if load is None or load < limit:
            cls._waiting_since = None
            return None
        if cls._waiting_since is None:
            table = cls.__table__()
            where = (table.dequeued_at == Null) & (
                (table.scheduled_at == Null)
                | (table.scheduled_at <= CurrentTimestamp()))
            if name:
                where &= table.name == name
            cursor = connection.cursor()
            cursor.execute(*table.select(
                    Min(Coalesce(table.scheduled_at, table.enqueued_at)),
                    where=where))
            oldest, = cursor.fetchone()
            if oldest is None:
                return None
            cls._waiting_since = oldest
        maximum = config.getfloat('ticket_shop', 'queue_yield_max',
            default=60)
        left = (cls._waiting_since + dt.timedelta(seconds=maximum)
            - dt.datetime.now()).total_seconds()
        if left <= 0:
            cls._waiting_since = None
            return None
        return min(left, HostLoad.WINDOW)
