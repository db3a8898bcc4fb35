"""The organizer's questions, asked at checkout per order (the buyer) or
per attendee (each ticket), and their answers."""
import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from guichet.ticket_event.common import clears_caches

from .exceptions import AnswerError
from .organizer import CheckoutSettingsCacheMixin
from .render import SessionViewCacheMixin, TaxLabelCacheMixin

TYPES = [
    ('text', "Text"),
    ('number', "Number"),
    ('date', "Date"),
    ('choice', "Choice"),
    ('checkbox', "Checkbox"),
    ('file', "File"),
    ]
MAX_TEXT = 1000
MAX_FILE = 5 * 1024 * 1024
FILE_TYPES = {
    b'%PDF-': ('application/pdf', '.pdf'),
    b'\x89PNG\r\n\x1a\n': ('image/png', '.png'),
    b'\xff\xd8\xff': ('image/jpeg', '.jpg'),
    }


def file_type(data):
    "The (MIME type, extension) of a PDF, PNG or JPEG file, else None"
    for magic, kind in FILE_TYPES.items():
        if data.startswith(magic):
            return kind
    return None


# The questions of each event and whether it asks holder names, kept per
# process (and language) for the checkout page and form of every buyer;
# cleared in every process by any change of a question, of the tariffs it
# is asked for, or of an event.
_event_checkout_cache = Cache('ticket.shop.event_checkout', context=False)
FORM_FIELDS = ['name', 'help', 'type', 'choices', 'scope', 'required',
    'pattern', 'print_on_ticket', 'editable', 'sequence']


# Clear the questions kept per process when a record changes
QuestionCacheMixin = clears_caches(_event_checkout_cache)


class Translation(
        QuestionCacheMixin, CheckoutSettingsCacheMixin,
        SessionViewCacheMixin, TaxLabelCacheMixin, metaclass=PoolMeta):
    """A translation edited by itself (Administration ▸ Translations) may be
    a question's, a consent's or a payment method's text, an event's name or
    a tax's: the values kept per process go (the checkout settings:
    organizer.py; what the pages show of sessions and taxes: render.py)"""
    __name__ = 'ir.translation'


def _event_checkout(event_id):
    """What the checkout asks for the event of event_id: (holder names
    mode, the values of its active questions in their order), kept per
    process and language"""
    pool = Pool()
    Event = pool.get('ticket.event')
    Question = pool.get('ticket.shop.question')
    key = (event_id, Transaction().language)
    cached = _event_checkout_cache.get(key)
    if cached is None:
        cached = (Event(event_id).shop_holder_names, [
                dict({f: getattr(q, f) for f in FORM_FIELDS},
                    id=q.id, event=event_id, active=True,
                    tariffs=[t.id for t in q.tariffs])
                # in the transaction's language (not a record's context)
                for q in Question.search([('event', '=', event_id)])])
        _event_checkout_cache.set(key, cached)
    return cached


def event_questions(events):
    """The active questions of events (records or ids), each event's in
    their order: records whose values come from this process's cache (no
    query once kept)"""
    Question = Pool().get('ticket.shop.question')
    return [Question(v['id'], **{k: x for k, x in v.items() if k != 'id'})
        for event in events for v in _event_checkout(int(event))[1]]


def event_holder_names(event):
    "Whether the checkout asks holder names for event (record or id)"
    return _event_checkout(int(event))[0]


class Question(QuestionCacheMixin, sequence_ordered(), DeactivableMixin,
        ModelSQL, ModelView):
    "A question the organizer asks at checkout"
    __name__ = 'ticket.shop.question'
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE')
    name = fields.Char("Question", required=True, translate=True)
    help = fields.Char("Help", translate=True,
        help="Shown under the field, e.g. the expected format.")
    type = fields.Selection(TYPES, "Type", required=True)
    choices = fields.Text(
        "Choices", translate=True,
        states={
            'invisible': Eval('type') != 'choice',
            'required': Eval('type') == 'choice',
            },
        help="One choice per line.")
    scope = fields.Selection([
            ('order', "Per Buyer"),
            ('attendee', "Per Attendee"),
            ], "Asked", required=True,
        help="Once per order, or once for each ticket.")
    tariffs = fields.Many2Many(
        'ticket.shop.question-ticket.tariff', 'question', 'tariff',
        "Tariffs", domain=[('event', '=', Eval('event', -1))],
        help="Asked only when the order has these tariffs; empty for all.")
    required = fields.Boolean("Required")
    pattern = fields.Char(
        "Pattern", states={'invisible': Eval('type') != 'text'},
        help="A regular expression the whole answer must match, e.g. "
        "[0-9]{5} for a postal code.")
    print_on_ticket = fields.Boolean(
        "Print on Ticket", help="The answer is printed on the tickets.")
    editable = fields.Boolean(
        "Editable", help="Buyers may change their answer from their order "
        "page until the session starts.")

    @classmethod
    def default_type(cls):
        return 'text'

    @classmethod
    def default_scope(cls):
        return 'order'

    @classmethod
    def validate_fields(cls, questions, field_names):
        super().validate_fields(questions, field_names)
        if field_names & {'pattern', 'type', 'choices'}:
            for question in questions:
                if question.pattern:
                    try:
                        re.compile(question.pattern)
                    except re.error:
                        raise ValidationError(gettext(
                                'ticket_shop.msg_question_pattern',
                                question=question.rec_name))
                if question.type == 'choice' and not question.choice_list:
                    raise ValidationError(gettext(
                            'ticket_shop.msg_question_choices',
                            question=question.rec_name))

    @property
    def choice_list(self):
        return [c.strip() for c in (self.choices or '').splitlines()
            if c.strip()]

    def applies_to(self, tariffs):
        "Whether the question is asked for an order or ticket of tariffs"
        return not self.tariffs or bool(set(self.tariffs) & set(tariffs))

    def clean(self, value, upload=None):
        """Return the answer to store for the raw form value (and the
        uploaded (name, data) for a file); raise AnswerError"""
        if self.type == 'file':
            return self._clean_file(upload)
        value = (value or '').strip()
        if self.type == 'checkbox':
            checked = value in {'on', 'yes', '1', 'true'}
            if self.required and not checked:
                raise AnswerError(gettext('ticket_shop.msg_answer_checkbox'))
            return 'yes' if checked else ''
        if not value:
            if self.required:
                raise AnswerError(gettext('ticket_shop.msg_answer_required'))
            return ''
        if len(value) > MAX_TEXT:
            raise AnswerError(gettext(
                    'ticket_shop.msg_answer_too_long', maximum=MAX_TEXT))
        return getattr(self, f'_clean_{self.type}')(value)

    def _clean_text(self, value):
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise AnswerError(gettext(
                    'ticket_shop.msg_answer_pattern',
                    help=self.help or self.pattern))
        return value

    def _clean_number(self, value):
        try:
            number = Decimal(value.replace(',', '.').replace(' ', ''))
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise AnswerError(gettext('ticket_shop.msg_answer_number'))
        return str(number)

    def _clean_date(self, value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise AnswerError(gettext('ticket_shop.msg_answer_date'))

    def _clean_choice(self, value):
        if value not in self.choice_list:
            raise AnswerError(gettext('ticket_shop.msg_answer_choice'))
        return value

    def _clean_file(self, upload):
        if not upload or not upload[1]:
            if self.required:
                raise AnswerError(gettext('ticket_shop.msg_answer_required'))
            return None
        name, data = upload
        if len(data) > MAX_FILE:
            raise AnswerError(gettext(
                    'ticket_shop.msg_answer_file_size',
                    maximum=MAX_FILE // (1024 * 1024)))
        kind = file_type(data)
        if not kind:
            raise AnswerError(gettext('ticket_shop.msg_answer_file_type'))
        stem = re.sub(r'[^\w.-]+', '_', (name or 'file').rsplit('.', 1)[0])
        return (stem[:80] + kind[1], data)


class QuestionTariff(QuestionCacheMixin, ModelSQL):
    __name__ = 'ticket.shop.question-ticket.tariff'
    question = fields.Many2One(
        'ticket.shop.question', "Question", required=True,
        ondelete='CASCADE')
    tariff = fields.Many2One(
        'ticket.tariff', "Tariff", required=True, ondelete='CASCADE')


class Attendee(ModelSQL, ModelView):
    """The future holder of one ticket of an order line: the name and
    answers given at checkout, then the ticket once issued"""
    __name__ = 'ticket.shop.attendee'
    order = fields.Many2One(
        'ticket.order', "Order", required=True, ondelete='CASCADE',
        readonly=True)
    line = fields.Many2One(
        'ticket.order.line', "Order Line", required=True,
        ondelete='CASCADE', readonly=True)
    position = fields.Integer("Position", required=True, readonly=True)
    holder_name = fields.Char("Holder")
    ticket = fields.Many2One(
        'ticket.ticket', "Ticket", readonly=True, ondelete='SET NULL')
    answers = fields.One2Many(
        'ticket.shop.answer', 'attendee', "Answers", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.order, Index.Range())))
        cls._order = [('line', 'ASC'), ('position', 'ASC'), ('id', 'ASC')]
        cls.__access__.add('order')

    def get_rec_name(self, name):
        return f'{self.line.rec_name} #{self.position + 1}'


class Answer(ModelSQL, ModelView):
    "The answer to a question, for an order or one of its attendees"
    __name__ = 'ticket.shop.answer'
    order = fields.Many2One(
        'ticket.order', "Order", required=True, ondelete='CASCADE',
        readonly=True)
    attendee = fields.Many2One(
        'ticket.shop.attendee', "Attendee", ondelete='CASCADE',
        readonly=True)
    question = fields.Many2One(
        'ticket.shop.question', "Question", required=True,
        ondelete='RESTRICT', readonly=True)
    value = fields.Text("Answer")
    file = fields.Binary("File", filename='file_name', readonly=True)
    file_name = fields.Char("File Name", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.order, Index.Range())))
        cls.__access__.add('order')

    @property
    def label(self):
        "The answer as printed"
        if self.question.type == 'file':
            return self.file_name or ''
        if self.question.type == 'checkbox':
            return gettext('ticket_shop.msg_yes') if self.value else (
                gettext('ticket_shop.msg_no'))
        return self.value or ''
