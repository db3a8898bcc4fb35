"Small helpers shared by the event core."
import datetime as dt

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
