"""What the shop shows and allows per event: image, remaining places,
holder names, refund rules, waiting list, links and the widget snippet."""
import datetime as dt
import urllib.parse
from decimal import Decimal
from html import escape

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import ValidationError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.url import http_base

from .question import QuestionCacheMixin
from .render import SessionViewCacheMixin

IMAGE_TYPES = {
    b'\x89PNG\r\n\x1a\n': 'image/png',
    b'\xff\xd8\xff': 'image/jpeg',
    b'RIFF': 'image/webp',
    }
MAX_IMAGE = 2 * 1024 * 1024


def image_type(data):
    "The MIME type of a PNG, JPEG or WebP image, None otherwise"
    for magic, mime in IMAGE_TYPES.items():
        if data and data.startswith(magic):
            if mime == 'image/webp' and data[8:12] != b'WEBP':
                return None
            return mime
    return None


class Event(QuestionCacheMixin, SessionViewCacheMixin, metaclass=PoolMeta):
    # any change clears the holder names and questions kept per process
    # (question.py) and what the pages show of its sessions (render.py); a
    # deletion takes the questions by the database's cascade
    __name__ = 'ticket.event'
    shop_image = fields.Binary(
        "Image", help="A PNG, JPEG or WebP picture shown in the shop "
        "(16:9, at most 2 MB).")
    shop_show_remaining = fields.Boolean(
        "Show Remaining Places",
        help="Show how many places are left on the event page.")
    shop_holder_names = fields.Selection([
            ('none', "Not Asked"),
            ('optional', "Optional"),
            ('required', "Required"),
            ], "Holder Names", required=True,
        help="Whether the checkout asks the name of each ticket's holder.")
    shop_holder_change = fields.Boolean(
        "Holders May Be Changed",
        help="Buyers may change the holder names from their order page "
        "until the start of the session.")
    shop_questions = fields.One2Many(
        'ticket.shop.question', 'event', "Questions")
    refund_rules = fields.One2Many(
        'ticket.shop.refund.rule', 'event', "Refund Rules",
        help="Self-service refunds from the buyer's order page; the first "
        "rule whose deadline is not past applies.")
    shop_refund_money = fields.Boolean(
        "Refund Money", help="Buyers may get their money back by the rules.")
    shop_refund_credit = fields.Boolean(
        "Refund as Credit",
        help="Buyers may turn their order into a credit by the rules.")
    shop_refund_fees = fields.Boolean(
        "Refund Booking Fees",
        help="Booking fees are refunded too; by default they are kept.")
    waitlist = fields.Boolean(
        "Waiting List", help="Buyers may sign up when a session is sold "
        "out.")
    waitlist_auto = fields.Boolean(
        "Automatic Waves", states={'invisible': ~Eval('waitlist')},
        help="Offer freed places to the waiting list automatically, in "
        "order of sign-up; otherwise the organizer sends the waves.")
    waitlist_max_quantity = fields.Integer(
        "Places per Sign-up", required=True,
        domain=[('waitlist_max_quantity', '>=', 1)],
        states={'invisible': ~Eval('waitlist')})
    shop_link = fields.Function(
        fields.Char("Shop Link", help="The public page of the event; for "
            "a private event the only way in."), 'get_shop_link')
    shop_embed = fields.Function(
        fields.Text("Widget", help="Paste this HTML into a page of your "
            "site to sell the event there."), 'get_shop_link')

    @classmethod
    def default_shop_holder_names(cls):
        return 'none'

    @classmethod
    def default_shop_refund_fees(cls):
        return False

    @classmethod
    def default_waitlist_max_quantity(cls):
        return 4

    @classmethod
    def copy(cls, events, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('shop_questions', None)
        default.setdefault('refund_rules', None)
        return super().copy(events, default=default)

    @classmethod
    def validate_fields(cls, events, field_names):
        super().validate_fields(events, field_names)
        if 'shop_image' in field_names:
            for event in events:
                image = event.shop_image
                if image and (len(image) > MAX_IMAGE
                        or not image_type(bytes(image))):
                    raise ValidationError(gettext(
                            'ticket_shop.msg_event_image',
                            event=event.rec_name))

    @property
    def shop_path(self):
        "The path of the event page below the shop's URL"
        if self.visibility == 'private':
            return f'/e/{self.token}'
        return f'/event/{self.id}'

    def get_shop_link(self, name):
        base = shop_url()
        link = base + self.shop_path
        if name == 'shop_link':
            return link
        return (f'<script src="{escape(base)}/widget.js" '
            f'data-src="{escape(link)}?embed=1" async></script>\n'
            f'<noscript><a href="{escape(link)}">{escape(self.name)}'
            '</a></noscript>')

    def refund_rule(self, at, start):
        "The refund rule that applies at the date for a session at start"
        days = (start - at) / dt.timedelta(days=1)
        for rule in sorted(self.refund_rules, key=lambda r: -r.days):
            if days >= rule.days:
                return rule
        return None


def shop_url():
    "The public URL of the shop of the current database"
    from trytond.transaction import Transaction
    Configuration = Pool().get('ticket.configuration')
    database = urllib.parse.quote(Transaction().database.name)
    return Configuration.shop_base_url() or (
        f'{http_base().rstrip("/")}/{database}/ticket/shop')


class RefundRule(ModelSQL, ModelView):
    """A refund a buyer gets by themself until some days before the
    session: a percentage of what they paid less a fixed fee"""
    __name__ = 'ticket.shop.refund.rule'
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    days = fields.Integer(
        "Until Days Before", required=True, domain=[('days', '>=', 0)],
        help="The rule applies until this many days before the session.")
    percentage = fields.Numeric(
        "Refund %", digits=(3, 2), required=True,
        domain=[('percentage', '>=', 0), ('percentage', '<=', 100)],
        help="The part of the amount paid given back in money.")
    credit_percentage = fields.Numeric(
        "Credit %", digits=(3, 2), required=True,
        domain=[('credit_percentage', '>=', 0),
            ('credit_percentage', '<=', 100)],
        help="The part of the amount paid given back as a credit.")
    fee = Monetary(
        "Fee", currency='currency', digits='currency', required=True,
        domain=[('fee', '>=', 0)],
        help="Kept on every refund, in money or in credit.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('event', 'ASC'), ('days', 'DESC'), ('id', 'ASC')]

    @classmethod
    def default_percentage(cls):
        return Decimal(100)

    @classmethod
    def default_credit_percentage(cls):
        return Decimal(100)

    @classmethod
    def default_fee(cls):
        return Decimal(0)

    @fields.depends('event', '_parent_event.company')
    def on_change_with_currency(self, name=None):
        if self.event and self.event.company:
            return self.event.company.currency

    def amount(self, paid, kind):
        "What a buyer who paid gets back in kind ('money' or 'credit')"
        percentage = self.percentage if kind == 'money' else (
            self.credit_percentage)
        amount = self.currency.round(paid * percentage / 100) - self.fee
        return max(amount, Decimal(0))
