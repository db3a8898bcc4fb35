"""Jinja2 templates of the shop pages and e-mails, with the helpers they
use: translated texts (ir.message of this module), money and dates in the
buyer's language and the event's time zone."""
import pathlib

from jinja2 import Environment, FileSystemLoader, select_autoescape

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from guichet.ticket_event.common import to_local

TEMPLATES = pathlib.Path(__file__).resolve().parent / 'templates'
LANGUAGES = ('en', 'fr')


def text(key, **variables):
    "The translated text of the module's message key"
    return gettext(f'ticket_shop.{key}', **variables)


def lang():
    return Pool().get('ir.lang').get()


def money(amount, currency):
    if amount is None:
        return ''
    return lang().currency(amount, currency)


def local(value, zone):
    "A naive UTC datetime as an aware datetime in zone"
    return to_local(value, zone)


def date(value, zone=None, format='web_format_date'):
    if value is None:
        return ''
    if zone:
        value = to_local(value, zone)
    return lang().strftime(value, text(format))


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
            trim_blocks=True, lstrip_blocks=True)
        from .seating import seat_labels
        env.globals.update(_=text, money=money, date=date, time=time,
            datetime=datetime, local=local, language=current_language,
            seats_of=seat_labels)
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
