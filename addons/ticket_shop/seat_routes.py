"""The seat picker pages (with ticket_seating): the map of a seated session,
the best available seats or the seats picked, held and put in the cart."""
import re

from trytond.i18n import gettext

from .cart_routes import form_event, reachable_session
from .checkout import live_holds
from .exceptions import ShopError
from .render import text
from .routes import as_id, find_event, session_status
from .seating import (
    MAP_MODES, MAX_SEATS, PICK_MODES, hold_seats, picker_values, seat_mode)
from .web import Refusal, page, route

QUANTITY = re.compile(r'[0-9]{1,2}')


def picker_page(web, event, session, status=200, errors=None, data=None):
    mode = seat_mode(session)
    values = picker_values(session)
    return web.render('seats.html', status=status,
        title=text('web_seats_title', event=event.name), event=event,
        session=session, mode=mode, show_map=mode in MAP_MODES,
        can_pick=mode in PICK_MODES, errors=errors or {}, data=data or {},
        picked={int(s) for s in (data or {}).get('seats', [])
            if s.isdigit()}, sale=session_status(session),
        currency=event.company.currency, max_seats=MAX_SEATS, **values)


def seated_session(web, event, session_id):
    "The seated session of event, or a 404 page"
    session = event and reachable_session(web, session_id, event)
    if session is None or seat_mode(session) is None:
        raise Refusal(web.error_page(404, text('msg_event_unknown')))
    return session


@route('/event/<int:event_id>/seats/<int:session_id>', methods=['GET'])
@page()
def seats(web, event_id, session_id):
    event = find_event(web, event_id)
    return picker_page(web, event, seated_session(web, event, session_id))


@route('/e/<token>/seats/<int:session_id>', methods=['GET'])
@page()
def private_seats(web, token, session_id):
    event = find_event(web, token=token)
    response = picker_page(web, event,
        seated_session(web, event, session_id))
    response.headers['X-Robots-Tag'] = 'noindex'
    return response


@route('/seats', methods=['POST'])
@page(methods=('POST',), readonly=False)
def hold(web):
    """Hold the best available seats (action best) or the seats ticked on
    the map (action pick) and put them in the cart"""
    Category = web.pool.get('ticket.seat.category')
    event = form_event(web)
    session = seated_session(web, event, as_id(web.form.get('session')))
    form = web.form
    data = {k: form.get(k) for k in form if k != 'seats'}
    data['seats'] = form.getlist('seats')
    holds, _ = live_holds(web.cart)
    try:
        if holds and holds[0].company != event.company:
            raise ShopError(gettext('ticket_shop.msg_cart_other_company'),
                'quantity')
        if form.get('action') == 'pick':
            picked = data['seats']
            if (not picked or len(picked) > MAX_SEATS
                    or not all(s.isdigit() and len(s) < 10 for s in picked)
                    or len(set(picked)) != len(picked)):
                raise ShopError(text('msg_seats_pick', maximum=MAX_SEATS),
                    'seats')
            hold = hold_seats(session, seats=[int(s) for s in picked])
        else:
            raw = (form.get('quantity') or '').strip()
            if not QUANTITY.fullmatch(raw) or not (
                    0 < int(raw) <= MAX_SEATS):
                raise ShopError(text('msg_seats_quantity',
                        maximum=MAX_SEATS), 'quantity')
            category = None
            category_id = as_id(form.get('category'))
            if form.get('category'):
                categories = Category.search([
                        ('id', '=', category_id or -1),
                        ('map', '=', session.seat_map.id),
                        ])
                if not categories:
                    raise ShopError(text('msg_seats_category'), 'category')
                category, = categories
            hold = hold_seats(session, quantity=int(raw), category=category)
    except ShopError as error:
        raise Refusal(picker_page(web, event, session, error.status,
                {error.field or 'quantity': error.message}, data))
    web.set_cart([h.token for h in holds] + [hold.token])
    return web.redirect('/cart')
