"""The cart and the checkout of the shop as services, without HTTP.

A cart is a list of holds (``Hold.reserve_quote`` of the price engine's
quote of the tariffs chosen); the checkout quotes the places of its live
holds again with the buyer's codes and turns them into an order
(``Order.create_from_quote``) with the answers, holder names and consents
given. Every refusal raises ShopError (one message) or CheckoutErrors (a
message per field) and the transaction must be rolled back: nothing is
written."""
import dataclasses
import re

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from guichet.ticket_event.common import company_currency, now
from guichet.ticket_pricing.engine import LineRequest, QuoteRequest
from guichet.ticket_pricing.exceptions import PricingError

from .exceptions import AnswerError, ShopError
from .organizer import checkout_settings
from .question import event_holder_names, event_questions

MAX_HOLDS = 10
MAX_NAME = 120
EMAIL = re.compile(r'[^@\s<>",;]+@[^@\s<>",;]+\.[^@\s<>",;.]+')
PHONE = re.compile(r'[0-9+().\s-]{4,30}')
CODE = re.compile(r'[A-Za-z0-9 _-]{1,64}')
# The fields a refusal of the price engine belongs to
PRICING_FIELDS = {
    'code_invalid': 'promo_code',
    'code_exhausted': 'promo_code',
    'credit_invalid': 'credit_codes',
    }


class CheckoutErrors(ShopError):
    "Refusals of a checkout form, by field (None for the whole form)"

    def __init__(self, errors):
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def pricing_error(error):
    "The ShopError of a refusal of the price engine"
    status = 409 if error.code in {
        'capacity', 'sale_closed', 'window_closed', 'code_exhausted'} else 400
    return ShopError(error.message, PRICING_FIELDS.get(error.code), status)


# Cart

def add_to_cart(session, wanted, channel='web'):
    """Hold places of session for wanted, a list of (tariff, quantity,
    amount or None); return the hold. The tariffs must be the event's."""
    pool = Pool()
    PriceEngine = pool.get('ticket.price_engine')
    Hold = pool.get('ticket.hold')
    lines = [LineRequest(tariff=t, session=session, quantity=q, amount=a)
        for t, q, a in wanted if q]
    if not lines:
        raise ShopError(gettext('ticket_shop.msg_cart_nothing'), 'quantity')
    # the company of the event's tariffs, kept per process
    company = lines[0].tariff.catalogue['company']
    with Transaction().set_context(company=company):
        try:
            quote = PriceEngine.quote(
                QuoteRequest(lines=lines, channel=channel))
            return Hold.reserve_quote(quote)
        except PricingError as error:
            if error.code == 'capacity':
                sold_out(session)
            raise pricing_error(error)
        except UserError as error:
            sold_out(session)
            raise ShopError(error.message, status=409)


def sold_out(session):
    "Raise the sold out refusal when session has no place left"
    Session = Pool().get('ticket.session')
    session = Session(session.id)
    if session.available <= 0:
        raise ShopError(gettext('ticket_shop.msg_sold_out',
                session=session.rec_name), 'quantity', status=409)


def live_holds(tokens):
    """The live holds of the cart tokens, in order, and whether some
    expired or were ordered since"""
    Hold = Pool().get('ticket.hold')
    tokens = [t for t in tokens if t][:MAX_HOLDS]
    if not tokens:
        return [], False
    holds = {h.token: h for h in Hold.search([('token', 'in', tokens)])}
    live = [holds[t] for t in tokens if t in holds and holds[t].is_live]
    return live, len(live) != len(tokens)


def quote_holds(holds, promo_code=None, credit_codes=(), email=None):
    "The price engine's quote of the places of holds (PricingError)"
    pool = Pool()
    Order = pool.get('ticket.order')
    PriceEngine = pool.get('ticket.price_engine')
    company = holds[0].company
    with Transaction().set_context(company=company.id):
        return PriceEngine.quote(Order.quote_request(holds,
                promo_code=promo_code or None,
                credit_codes=tuple(credit_codes), email=email))


# Checkout form

@dataclasses.dataclass
class Slot:
    "A ticket to be: its line of the quote and its position on the line"
    index: int
    position: int
    line: object
    questions: list

    @property
    def key(self):
        return f'{self.index}-{self.position}'

    @property
    def event(self):
        return self.line.tariff.event


@dataclasses.dataclass
class Form:
    "What the checkout asks for a quote"
    quote: object
    slots: list
    order_questions: list
    holder_names: str           # 'none', 'optional' or 'required'
    settings: object            # organizer.CheckoutSettings

    @property
    def events(self):
        return list(dict.fromkeys(
                l.tariff.event for l in self.quote.lines if l.tariff))

    @property
    def methods(self):
        return list(self.settings.methods)

    @property
    def organizer(self):
        return self.settings

    @property
    def consents(self):
        return list(self.settings.consents)

    @property
    def terms(self):
        return self.settings.terms


def checkout_form(quote):
    "The form of the checkout of quote"
    tariffs = [l.tariff for l in quote.lines if l.tariff]
    # the events' ids from the tariffs' values kept per process
    event_of = {t: t.catalogue['event'] for t in tariffs}
    events = list(dict.fromkeys(event_of.values()))
    asked = {e: [] for e in events}
    for question in event_questions(events):
        asked[question.event.id].append(question)
    slots = []
    for index, line in enumerate(quote.lines):
        if line.kind != 'ticket':
            continue
        questions = [q for q in asked[event_of[line.tariff]]
            if q.scope == 'attendee' and q.applies_to([line.tariff])]
        for position in range(line.quantity * line.places_per_unit):
            slots.append(Slot(index, position, line, questions))
    order_questions = [q for e in events for q in asked[e]
        if q.scope == 'order' and q.applies_to(tariffs)]
    modes = {event_holder_names(e) for e in events}
    holder_names = next(
        (m for m in ['required', 'optional'] if m in modes), 'none')
    return Form(quote=quote, slots=slots, order_questions=order_questions,
        holder_names=holder_names,
        settings=checkout_settings(quote.company))


@dataclasses.dataclass
class Buyer:
    name: str
    email: str
    phone: str | None


def clean_buyer(data, errors):
    "The buyer of the form data; errors by field added to errors"
    name = (data.get('name') or '').strip()
    email = (data.get('email') or '').strip()
    phone = (data.get('phone') or '').strip()
    if not name:
        errors['name'] = gettext('ticket_shop.msg_buyer_name')
    elif len(name) > MAX_NAME:
        errors['name'] = gettext(
            'ticket_shop.msg_too_long', maximum=MAX_NAME)
    if not EMAIL.fullmatch(email) or len(email) > 254:
        errors['email'] = gettext('ticket_shop.msg_buyer_email')
    if phone and not PHONE.fullmatch(phone):
        errors['phone'] = gettext('ticket_shop.msg_buyer_phone')
    return Buyer(name, email.lower(), phone or None)


def clean_codes(data, errors):
    "The promo code and the credit codes of the form data"
    promo = (data.get('promo_code') or '').strip()
    if promo and not CODE.fullmatch(promo):
        errors['promo_code'] = gettext('ticket_shop.msg_code_characters')
    credits = [c.strip() for c in re.split(
            r'[,;\s]+', data.get('credit_codes') or '') if c.strip()]
    if len(credits) > 5 or not all(CODE.fullmatch(c) for c in credits):
        errors['credit_codes'] = gettext('ticket_shop.msg_code_characters')
    return promo or None, tuple(credits)


def clean_answers(form, data, files, errors):
    """The answers of the form data: (question, slot or None, value) with
    value a string or a (file name, data) tuple; errors by field added"""
    answers = []

    def answer(question, field, slot):
        upload = None
        if question.type == 'file':
            storage = files.get(field)
            if storage is not None and storage.filename:
                upload = (storage.filename,
                    storage.stream.read(8 * 1024 * 1024))
        try:
            value = question.clean(data.get(field), upload)
        except AnswerError as error:
            errors[field] = error.message
            return
        if value:
            answers.append((question, slot, value))

    for question in form.order_questions:
        answer(question, f'q-{question.id}', None)
    for slot in form.slots:
        for question in slot.questions:
            answer(question, f'q-{question.id}-{slot.key}', slot)
    return answers


def clean_holders(form, data, errors):
    "The holder name of each slot key"
    holders = {}
    if form.holder_names == 'none':
        return holders
    for slot in form.slots:
        field = f'holder-{slot.key}'
        name = (data.get(field) or '').strip()
        if len(name) > MAX_NAME:
            errors[field] = gettext(
                'ticket_shop.msg_too_long', maximum=MAX_NAME)
        elif not name and form.holder_names == 'required':
            errors[field] = gettext('ticket_shop.msg_holder_required')
        elif name:
            holders[slot.key] = name
    return holders


def place_order(holds, data, files, language, shop_url):
    """Turn the live holds of a cart into an order with the checkout form
    data (a mapping of the fields) and files; return the order.

    Raises CheckoutErrors with a message per field, or ShopError."""
    pool = Pool()
    Configuration = pool.get('ticket.configuration')
    Order = pool.get('ticket.order')
    OrderLine = pool.get('ticket.order.line')
    Attendee = pool.get('ticket.shop.attendee')
    Answer = pool.get('ticket.shop.answer')
    from guichet.ticket_pricing.routes import find_party
    if not holds:
        raise ShopError(gettext('ticket_shop.msg_cart_expired'), status=409)
    errors = {}
    buyer = clean_buyer(data, errors)
    promo_code, credit_codes = clean_codes(data, errors)
    try:
        quote = quote_holds(holds, promo_code, credit_codes,
            buyer.email if 'email' not in errors else None)
    except PricingError as error:
        refusal = pricing_error(error)
        errors[refusal.field] = refusal.message
        # Without the codes, to check the rest of the form
        try:
            quote = quote_holds(holds)
        except PricingError as error:
            raise pricing_error(error)
    form = checkout_form(quote)
    answers = clean_answers(form, data, files, errors)
    holders = clean_holders(form, data, errors)
    method = None
    if quote.to_pay > 0:
        methods = {str(m.id): m for m in form.methods}
        method = methods.get(data.get('method') or '')
        if method is None:
            errors['method'] = gettext('ticket_shop.msg_method_required')
    if form.terms and not data.get('terms'):
        errors['terms'] = gettext('ticket_shop.msg_terms_required')
    given = set()
    for purpose in form.consents:
        if data.get(f'consent-{purpose.id}'):
            given.add(purpose)
        elif purpose.required:
            errors[f'consent-{purpose.id}'] = gettext(
                'ticket_shop.msg_consent_required')
    if errors:
        raise CheckoutErrors(errors)

    delay = Configuration.setting('online_payment_delay'
        if method is None or method.is_online else 'payment_delay')
    company = quote.company
    with Transaction().set_context(company=company.id):
        party = find_party(pool, buyer.name, buyer.email)
        from guichet.ticket_event.hold import new_token
        token = new_token()
        try:
            # the shop's fields saved with the order, not written after
            order = Order.create_from_quote(quote, holds, party=party,
                email=buyer.email, phone=buyer.phone, payment_delay=delay,
                values={
                    'shop_token': token,
                    'shop_url': shop_url,
                    'language': language,
                    'payment_method': method.id if method else None,
                    'terms_accepted_at': now() if form.terms else None,
                    })
        except PricingError as error:
            raise pricing_error(error)
        if order.promo_uses:
            Order.write([order], {'shop_promo_uses': order.promo_uses})
        # the ids of the lines only (no read of the order nor its lines)
        lines = OrderLine.search(
            [('order', '=', order.id)], order=[('id', 'ASC')])
        # one INSERT, without reading the attendees back to validate them
        # (Order.insert_plain: the ORM's create for what it cannot insert)
        keys = [slot.key for slot in form.slots]
        ids = Order.insert_plain('ticket.shop.attendee', [{
                    'order': order.id,
                    'line': lines[slot.index].id,
                    'position': slot.position,
                    'holder_name': holders.get(slot.key),
                    } for slot in form.slots], company_currency(company))
        attendees = dict(zip(keys, Attendee.browse(ids)))
        Answer.save([answer_record(order, question, slot and attendees[
                        slot.key], value)
                for question, slot, value in answers])
        # one INSERT, the consents' values kept in the transaction's cache
        # (the consent register's record reads them)
        Order.insert_plain('ticket.shop.consent', [{
                    'order': order.id,
                    'party': party.id if party else None,
                    'purpose': p.id,
                    'text': p.name,
                    'given': p in given,
                    'date': now(),
                    } for p in form.consents], company_currency(company),
            cache=True)
        # nothing to pay (free, or all paid by credits): the quote knows
        if quote.to_pay <= 0:
            Order.pay([Order(order.id)])
            return Order(order.id)
        elif method and not method.is_online:
            Order.queue_shop_email(order, 'reserved')
    order = Order(order.id)
    # the state and the token of the new order, as created (what the
    # checkout's redirect asks, not read again)
    order._cache[order.id]._update(
        {'state': 'reserved', 'shop_token': token})
    return order


def answer_record(order, question, attendee, value):
    Answer = Pool().get('ticket.shop.answer')
    answer = Answer(order=order, question=question, attendee=attendee)
    if isinstance(value, tuple):
        answer.file_name, answer.file = value
    else:
        answer.value = value
    return answer
