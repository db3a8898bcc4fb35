"""The cart (places held for 15 minutes by default, with a countdown), the
checkout, and the waiting list sign-up and offers."""
import re
from decimal import Decimal, InvalidOperation

from trytond.i18n import gettext

from guichet.ticket_event.routes import REACHABLE
from guichet.ticket_pricing.exceptions import PricingError

from .checkout import (
    CheckoutErrors, add_to_cart, checkout_form, clean_codes, live_holds,
    place_order, pricing_error, quote_holds)
from .exceptions import ShopError
from .render import text
from .routes import (
    as_id, cached_event_page, event_page, find_event, session_sold_out)
from .web import MAX_UPLOAD, Refusal, page, route

MAX_QUANTITY = 50
QUANTITY = re.compile(r'[0-9]{1,3}')


def wanted_places(web, event):
    """The (tariff, quantity, amount) asked by the form for the tariffs of
    event; raise ShopError on a malformed value"""
    Tariff = web.pool.get('ticket.tariff')
    form = web.form
    wanted = []
    # the event's tariffs, kept per process (cleared when a tariff changes)
    for tariff_id, pay_what_you_want in Tariff.sold_of_event(event):
        raw = (form.get(f'q-{tariff_id}') or '').strip()
        if not raw:
            continue
        if not QUANTITY.fullmatch(raw) or int(raw) > MAX_QUANTITY:
            raise ShopError(gettext('ticket_shop.msg_quantity',
                    maximum=MAX_QUANTITY), f'q-{tariff_id}')
        quantity = int(raw)
        if not quantity:
            continue
        tariff = Tariff(tariff_id)
        amount = None
        if pay_what_you_want:
            raw = (form.get(f'amount-{tariff.id}') or '').strip()
            try:
                amount = Decimal(raw.replace(',', '.'))
                if not amount.is_finite() or amount < 0:
                    raise InvalidOperation
            except InvalidOperation:
                raise ShopError(gettext('ticket_shop.msg_amount'),
                    f'amount-{tariff.id}')
        wanted.append((tariff, quantity, amount))
    return wanted


def reachable_session(web, session_id, event):
    "The session of id of event that the shop sells, or None"
    Session = web.pool.get('ticket.session')
    sessions = Session.search([
            ('id', '=', session_id),
            ('event', '=', event.id),
            ('visibility', 'in', REACHABLE),
            ]) if session_id else []
    return sessions[0] if sessions else None


def form_event(web):
    "The event of the add-to-cart form: public, or private with its token"
    token = web.form.get('event_token')
    if token:
        return find_event(web, token=token)
    event_id = as_id(web.form.get('event'))
    return find_event(web, event_id) if event_id else None


def form_session(web):
    """The event and the session of the add-to-cart form, or None for
    both: a published public event's session that the shop sells in one
    search (the rush's holds), a private event's session by its token"""
    session_id = as_id(web.form.get('session'))
    if web.form.get('event_token'):
        event = form_event(web)
        session = event and reachable_session(web, session_id, event)
        return (event, session) if session else (None, None)
    event_id = as_id(web.form.get('event'))
    if not event_id or not session_id:
        return None, None
    pool = web.pool
    Event, Session = pool.get('ticket.event'), pool.get('ticket.session')
    # from the values kept per process: no query in a rush
    values = Session.sale_values_of(session_id)
    if (values is None or values['event'] != event_id
            or values['event_visibility'] != 'public'
            or values['event_state'] != 'published'
            or not set(values['visibility']) & set(REACHABLE)):
        return None, None
    return Event(event_id), Session(session_id)


@route('/cart', methods=['POST'])
@page(methods=('POST',), readonly=False)
def add(web):
    "Hold the places chosen on an event page and put them in the cart"
    event, session = form_session(web)
    if session is None:
        raise Refusal(web.error_page(404, text('msg_event_unknown')))
    if session_sold_out(session.id):
        # the refusal of a rush's late buyers at once, on the cached page
        # the session's label and values are kept per process
        errors = {'quantity': gettext('ticket_shop.msg_sold_out',
                session=session.rec_name)}
        values = session.sale_values
        if values['event_visibility'] == 'public' and 'online' in (
                values['visibility']):
            raise Refusal(cached_event_page(web, event.id, 409, errors))
        raise Refusal(event_page(web, event, 409, errors,
                chosen={'session': session.id, 'values': {}}))
    chosen = {'session': session.id, 'values': dict(web.form.items())}
    holds, _ = live_holds(web.cart)
    try:
        if holds and holds[0].company != event.company:
            raise ShopError(gettext('ticket_shop.msg_cart_other_company'))
        hold = add_to_cart(session, wanted_places(web, event))
    except ShopError as error:
        raise Refusal(event_page(web, event, status=error.status,
                errors={error.field or 'session': error.message},
                chosen=chosen))
    web.set_cart([h.token for h in holds] + [hold.token])
    return web.redirect('/cart')


def cart_values(web, holds, promo_code=None, credit_codes=()):
    "The lines and totals of the cart"
    quote = quote_holds(holds, promo_code, credit_codes) if holds else None
    return {
        'holds': holds,
        'quote': quote,
        # the quote's currency: the holds' company's (no read of it)
        'currency': quote.currency if quote else None,
        'expires_at': min(h.expires_at for h in holds) if holds else None,
        }


@route('/cart', methods=['GET'])
@page()
def cart(web):
    holds, dropped = live_holds(web.cart)
    if dropped:
        web.set_cart([h.token for h in holds])
    try:
        values = cart_values(web, holds)
    except PricingError as error:
        return web.error_page(409, error.message)
    return web.render('cart.html', title=text('web_cart_title'),
        dropped=dropped, **values)


@route('/cart/remove', methods=['POST'])
@page(methods=('POST',), readonly=False)
def remove(web):
    "Release one hold of the cart, or all of them: the places are free"
    Hold = web.pool.get('ticket.hold')
    holds, _ = live_holds(web.cart)
    token = web.form.get('hold')
    removed = [h for h in holds if token == 'all' or h.token == token]
    Hold.release(removed)
    web.set_cart([h.token for h in holds if h not in removed])
    return web.redirect('/cart')


def checkout_page(web, holds, status=200, errors=None):
    form_data = web.form if web.request.method == 'POST' else {}
    values = {}
    errors = dict(errors or {})
    promo_code = credit_codes = None
    if form_data:
        codes_errors = {}
        promo_code, credit_codes = clean_codes(form_data, codes_errors)
        if codes_errors or 'promo_code' in errors or (
                'credit_codes' in errors):
            promo_code, credit_codes = None, ()
    try:
        values = cart_values(web, holds, promo_code, credit_codes or ())
    except PricingError as error:
        refusal = pricing_error(error)
        errors.setdefault(refusal.field, refusal.message)
        values = cart_values(web, holds)
    form = checkout_form(values['quote'])
    return web.render('checkout.html', status=status,
        title=text('web_checkout_title'), form=form, errors=errors,
        data=form_data, **values)


@route('/checkout', methods=['GET'])
@page()
def checkout(web):
    holds, _ = live_holds(web.cart)
    if not holds:
        return web.redirect('/cart')
    return checkout_page(web, holds)


@route('/checkout', methods=['POST'])
@page(methods=('POST',), readonly=False, max_size=MAX_UPLOAD)
def order(web):
    """Apply the codes (action apply) or place the order and go to its
    payment page"""
    holds, dropped = live_holds(web.cart)
    if not holds or dropped:
        web.set_cart([h.token for h in holds])
        raise Refusal(web.render('cart.html', status=409,
                title=text('web_cart_title'), dropped=True,
                **cart_values(web, holds)))
    if web.form.get('action') == 'apply':
        errors = {}
        promo_code, credit_codes = clean_codes(web.form, errors)
        if not errors and (promo_code or credit_codes):
            if web.rate_limited('code'):
                errors['promo_code'] = text('msg_rate_limited')
            else:
                try:
                    quote_holds(holds, promo_code, credit_codes)
                except PricingError as error:
                    refusal = pricing_error(error)
                    errors[refusal.field] = refusal.message
                    raise Refusal(checkout_page(web, holds, 400, errors),
                        limit='code')
        return checkout_page(web, holds, 400 if errors else 200, errors)
    if (web.form.get('promo_code') or web.form.get('credit_codes')) and (
            web.rate_limited('code')):
        raise Refusal(checkout_page(web, holds, 429,
                {'promo_code': text('msg_rate_limited')}))
    try:
        order = place_order(holds, web.form, web.request.files,
            web.language, web.base_url)
    except CheckoutErrors as error:
        codes = {'promo_code', 'credit_codes'} & set(error.errors)
        raise Refusal(checkout_page(web, holds, 400, error.errors),
            limit='code' if codes else None)
    except ShopError as error:
        raise Refusal(checkout_page(web, holds, error.status,
                {error.field: error.message}))
    web.set_cart([])
    if order.state == 'paid':
        return web.redirect(f'/order/{order.shop_token}')
    return web.redirect(f'/order/{order.shop_token}/pay')


# Waiting list

@route('/waitlist', methods=['POST'])
@page(methods=('POST',), readonly=False)
def waitlist_sign_up(web):
    "Put the person on the waiting list of a sold-out session"
    Entry = web.pool.get('ticket.shop.waitlist')
    event = form_event(web)
    session = event and reachable_session(
        web, as_id(web.form.get('session')), event)
    if session is None:
        raise Refusal(web.error_page(404, text('msg_event_unknown')))
    chosen = {'session': session.id, 'values': dict(web.form.items())}
    errors = {}
    name = (web.form.get('name') or '').strip()[:120]
    email = (web.form.get('email') or '').strip().lower()
    raw = (web.form.get('quantity') or '1').strip()
    from .checkout import EMAIL
    if not EMAIL.fullmatch(email) or len(email) > 254:
        errors['email'] = text('msg_buyer_email')
    if not QUANTITY.fullmatch(raw) or not int(raw):
        errors['quantity'] = text('msg_waitlist_quantity',
            maximum=event.waitlist_max_quantity)
    if web.rate_limited('waitlist'):
        errors['email'] = text('msg_rate_limited')
    if not errors:
        try:
            Entry.sign_up(session, name, email, int(raw), web.language,
                web.base_url)
        except ShopError as error:
            errors[error.field or 'email'] = error.message
    if errors:
        raise Refusal(event_page(web, event, status=400,
                errors={f'waitlist-{k}': v for k, v in errors.items()},
                chosen=chosen), limit='waitlist')
    return event_page(web, event, chosen=chosen, waitlist_done=session)


def offer_page(web, entry, status=200, errors=None):
    from .routes import session_offers
    session = entry.session
    return web.render('waitlist.html', status=status,
        title=text('web_waitlist_offer_title'), entry=entry,
        session=session, event=session.event,
        offers=session_offers(web, session.event, session),
        errors=errors or {}, currency=session.event.company.currency)


@route('/waitlist/<token>', methods=['GET'])
@page()
def waitlist_offer(web, token):
    Entry = web.pool.get('ticket.shop.waitlist')
    entry = Entry.find_by_token(token)
    if entry is None:
        return web.error_page(404, text('msg_waitlist_unknown'))
    return offer_page(web, entry)


@route('/waitlist/<token>', methods=['POST'])
@page(methods=('POST',), readonly=False)
def waitlist_claim(web, token):
    "Turn an offer into places in the cart, or leave the list"
    Entry = web.pool.get('ticket.shop.waitlist')
    entry = Entry.find_by_token(token)
    if entry is None:
        raise Refusal(web.error_page(404, text('msg_waitlist_unknown')))
    if web.form.get('action') == 'leave':
        Entry.cancel([entry])
        return web.render('message.html', title=text('web_waitlist_left'),
            message=text('web_waitlist_left'))
    holds, _ = live_holds(web.cart)
    try:
        if holds and holds[0].company != entry.company:
            raise ShopError(gettext('ticket_shop.msg_cart_other_company'))
        hold = entry.claim_places(wanted_places(web, entry.session.event))
    except ShopError as error:
        raise Refusal(offer_page(web, entry, error.status,
                {error.field or 'quantity': error.message}))
    web.set_cart([h.token for h in holds] + [hold.token])
    return web.redirect('/cart')
