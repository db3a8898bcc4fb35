"""Jinja2 templates of the shop pages and e-mails, with the helpers they
use: translated texts (ir.message of this module), money and dates in the
buyer's language and the event's time zone."""
import pathlib
from collections import namedtuple

from jinja2 import Environment, FileSystemLoader, select_autoescape

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction
from trytond.wsgi import app

from guichet.ticket_event.common import clears_caches, to_local

TEMPLATES = pathlib.Path(__file__).resolve().parent / 'templates'
LANGUAGES = ('en', 'fr')


def text(key, **variables):
    "The translated text of the module's message key"
    return gettext(f'ticket_shop.{key}', **variables)


# What formatting money and dates needs, read once per process: the
# monetary and date fields of each language and the digits and symbol of
# each currency (both cleared in every process when a language or a
# currency changes, see below)
LANG_MONEY_FIELDS = ('code', 'mon_thousands_sep', 'mon_grouping',
    'mon_decimal_point', 'thousands_sep', 'grouping', 'decimal_point',
    'p_cs_precedes', 'n_cs_precedes', 'p_sep_by_space', 'n_sep_by_space',
    'p_sign_posn', 'n_sign_posn', 'positive_sign', 'negative_sign',
    'date', 'am', 'pm')
_money_langs = Cache('ticket_shop.money_lang', context=False)
_money_currencies = Cache('ticket_shop.money_currency', context=False)
MoneyCurrency = namedtuple('MoneyCurrency', ['digits', 'symbol', 'code'])


def money_lang():
    """The transaction language as an unsaved ir.lang with only the values
    currency() and strftime() format with (no query once cached)"""
    Lang = Pool().get('ir.lang')
    code = Transaction().language
    values = _money_langs.get(code)
    if values is None:
        lang = Lang.get(code)
        values = {f: getattr(lang, f) for f in LANG_MONEY_FIELDS}
        _money_langs.set(code, values)
    return Lang(**values)


def money_currency(currency):
    "The digits, symbol and code of currency (cached per process)"
    values = _money_currencies.get(currency.id)
    if values is None:
        values = [currency.digits, currency.symbol, currency.code]
        _money_currencies.set(currency.id, values)
    return MoneyCurrency(*values)


def money(amount, currency):
    if amount is None:
        return ''
    return money_lang().currency(amount, money_currency(currency))


class _ClearMoneyFormats:
    __slots__ = ()

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        _money_langs.clear()
        _money_currencies.clear()


class Lang(_ClearMoneyFormats, metaclass=PoolMeta):
    __name__ = 'ir.lang'


class Currency(_ClearMoneyFormats, metaclass=PoolMeta):
    __name__ = 'currency.currency'


# What the pages show of a session and of its event (the session's start
# and end; the event's name in the language, time zone and whether it hides
# its dates), read once per process and language instead of the records at
# each page: cleared in every process by any change of a session, an event
# or a translation (Session below, event.py's Event and question.py's
# Translation)
_session_views = Cache('ticket_shop.session_view', context=False)
SessionViewCacheMixin = clears_caches(_session_views)
EventView = namedtuple('EventView', ['id', 'name', 'timezone', 'hide_dates'])
SessionView = namedtuple('SessionView', ['id', 'start', 'end', 'event'])
# The label of a tax in the totals, by language, the same way (account.tax)
_tax_labels = Cache('ticket_shop.tax_label', context=False)
TaxLabelCacheMixin = clears_caches(_tax_labels)


def shown_session(session):
    """The SessionView of session (a ticket.session or its id): what
    session_when() and the lines of the pages print of it"""
    session_id = getattr(session, 'id', session)
    key = (session_id, Transaction().language)
    values = _session_views.get(key)
    if values is None:
        record = Pool().get('ticket.session')(session_id)
        event = record.event
        values = (record.id, record.start, record.end,
            (event.id, event.name, event.timezone, event.hide_dates))
        _session_views.set(key, values)
    *session_values, event_values = values
    return SessionView(*session_values, EventView(*event_values))


def tax_label(tax):
    "The label of tax in the totals: its description, else its name"
    key = (tax.id, Transaction().language)
    label = _tax_labels.get(key)
    if label is None:
        record = Pool().get('account.tax')(tax.id)
        label = record.description or record.name
        _tax_labels.set(key, label)
    return label


class Session(SessionViewCacheMixin, metaclass=PoolMeta):
    __name__ = 'ticket.session'


class Tax(TaxLabelCacheMixin, metaclass=PoolMeta):
    __name__ = 'account.tax'


def local(value, zone):
    "A naive UTC datetime as an aware datetime in zone"
    return to_local(value, zone)


def date(value, zone=None, format='web_format_date'):
    if value is None:
        return ''
    if zone:
        value = to_local(value, zone)
    # the names of months and days: ir.calendar's own cache by language
    # code (an unsaved ir.lang gives its code without a read)
    return money_lang().strftime(value, text(format))


def time(value, zone=None):
    return date(value, zone, 'web_format_time')


def datetime(value, zone=None):
    return date(value, zone, 'web_format_datetime')


def current_language():
    return Transaction().language or 'en'


_environment = None


def environment():
    global _environment
    if _environment is None:
        env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(['html', 'xml']),
            trim_blocks=True, lstrip_blocks=True,
            # a template's file is looked at again (its modification time,
            # at each page) only in development (trytond --dev, the flag of
            # trytond's own reloading): in production they change with a
            # release only
            auto_reload=app.dev)
        from .seating import seat_labels
        env.globals.update(_=text, money=money, date=date, time=time,
            datetime=datetime, local=local, language=current_language,
            seats_of=seat_labels, shown=shown_session, tax_label=tax_label)
        _environment = env
    return _environment


def render(template, **values):
    return environment().get_template(template).render(**values)


_summary = None


def render_summary(errors):
    "The summary of errors at the top of a page (macros.html's summary)"
    global _summary
    if _summary is None:
        _summary = environment().from_string(
            '{% from "macros.html" import summary %}{{ summary(errors) }}')
    return _summary.render(errors=errors)
