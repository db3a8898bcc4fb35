"Small helpers shared by the event core."
import datetime as dt

from trytond.cache import Cache
from trytond.pool import Pool, PoolMeta
from trytond.tools import timezone as tz

TIMEZONES = sorted((z, z) for z in tz.available_timezones())
DEFAULT_TIMEZONE = 'Europe/Paris'
UTC = dt.timezone.utc


def to_local(value, zone):
    "Return the naive UTC datetime value as an aware datetime in zone"
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(tz.get_tzinfo(zone))


def to_utc(value, zone):
    "Return a naive UTC datetime from value, naive in zone or aware"
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz.get_tzinfo(zone))
    return value.astimezone(UTC).replace(tzinfo=None)


def format_local(value, zone, lang=None):
    "Format a naive UTC datetime in zone, e.g. 'Sat 05/12/2026 20:00 CET'"
    local = to_local(value, zone)
    if local is None:
        return ''
    if lang is not None:
        return '%s %s' % (
            lang.strftime(local, '%a %x %H:%M'), local.tzname())
    return local.strftime('%a %Y-%m-%d %H:%M ') + local.tzname()


def now():
    return dt.datetime.now(UTC).replace(tzinfo=None)


def forget_records(Model, ids):
    "Drop the transaction's cached values of records changed by plain SQL"
    from trytond.transaction import Transaction
    transaction = Transaction()
    transaction.counter += 1
    for cache in transaction.cache.values():
        if Model.__name__ in cache:
            for id_ in ids:
                cache[Model.__name__].pop(id_, None)


def lock_now(Model, records):
    """Lock the rows of records like Model.lock, taken in place when the
    transaction runs at READ COMMITTED (the API's and the shop's writing
    routes) instead of Tryton's restart of the whole transaction with the
    lock taken first.

    At READ COMMITTED every statement after the lock sees what the previous
    holder committed; the transaction's record caches are cleared so that
    records instantiated after the call are read again. The caller must
    re-instantiate the records it decides on (as Payment.record does)."""
    from psycopg import IsolationLevel
    from trytond.transaction import Transaction

    from .routes import LOCK_TIMEOUT  # noqa: the routes' import order
    transaction = Transaction()
    connection = transaction.connection
    table = Model._table
    new = set(transaction.create_records[Model.__name__])
    missing = sorted({int(r) for r in records} - new
        - transaction._locked_records[table])
    if (missing and table not in transaction._locked_tables
            and getattr(connection, 'isolation_level', None)
            == IsolationLevel.READ_COMMITTED):
        cursor = connection.cursor()
        # one round trip: the lock waits at most LOCK_TIMEOUT, then the
        # transaction waits without limit again (integers only: the
        # statements are sent unparametrized, as one simple query)
        ids = ','.join(str(int(i)) for i in missing)
        cursor.execute(
            f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT * 1000)}ms'; "
            f'SELECT id FROM "{table}" WHERE id IN ({ids}) '
            'ORDER BY id FOR UPDATE; '
            "SET LOCAL lock_timeout = 0")
        transaction._locked_records[table].update(missing)
        transaction.counter += 1
        for cache in transaction.cache.values():
            cache.clear()
    Model.lock(records)


def clears_caches(*caches):
    """A mixin whose create, write and delete clear caches: the trytond
    Caches kept per process of what its records are a source of (cleared in
    every process through ir_cache)"""
    class ClearsCaches:
        __slots__ = ()

        @classmethod
        def create(cls, vlist):
            for cache in caches:
                cache.clear()
            return super().create(vlist)

        @classmethod
        def write(cls, *args):
            for cache in caches:
                cache.clear()
            super().write(*args)

        @classmethod
        def delete(cls, records):
            for cache in caches:
                cache.clear()
            super().delete(records)
    return ClearsCaches


# The currency of each company with what rounding needs, read once per
# process (cleared in every process when a company or a currency changes)
_company_currencies = Cache('ticket_event.company_currency', context=False)
CURRENCY_ROUNDING = ('digits', 'rounding')


def company_currency(company):
    """The currency of company, whose digits and rounding the transaction
    knows without a query (the orders' amounts round with them on the
    payment's path)"""
    from trytond.transaction import Transaction
    Currency = Pool().get('currency.currency')
    if company.id is None or company.id < 0:
        return company.currency
    values = _company_currencies.get(company.id)
    if values is None:
        currency = company.currency
        if currency is None:
            return None
        values = {'id': currency.id}
        values.update((n, getattr(currency, n)) for n in CURRENCY_ROUNDING)
        _company_currencies.set(company.id, values)
    values = dict(values)
    currency_id = values.pop('id')
    Transaction().get_cache()[Currency.__name__][currency_id]._update(values)
    return Currency(currency_id)


class _ClearCompanyCurrencies:
    __slots__ = ()

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        _company_currencies.clear()


class Company(_ClearCompanyCurrencies, metaclass=PoolMeta):
    __name__ = 'company.company'


class Currency(_ClearCompanyCurrencies, metaclass=PoolMeta):
    __name__ = 'currency.currency'


def cache_getter_signatures():
    """Keep per getter function the answer of trytond's
    Function.getter_multiple (whether the getter takes the field names):
    trytond asks inspect.signature at every read of function fields, a few
    hundred times per order in the shop, while the answer depends on the
    function alone. Done once per process (ticket_event's import)."""
    from trytond.model.fields import Function
    original = Function.getter_multiple
    if getattr(original, 'cached_per_function', False):
        return
    answers = {}

    def getter_multiple(self, method):
        function = getattr(method, '__func__', method)
        try:
            return answers[function]
        except KeyError:
            answer = answers[function] = original(self, method)
            return answer
        except TypeError:
            # not hashable: asked each time
            return original(self, method)
    getter_multiple.cached_per_function = True
    getter_multiple.__doc__ = original.__doc__
    Function.getter_multiple = getter_multiple
