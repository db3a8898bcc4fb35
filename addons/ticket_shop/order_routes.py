"""The buyer's order pages, reached only by the unguessable token of their
link: payment, confirmation and "manage my order" (tickets, calendar,
e-mail again, holder names, answers, refund by the rules, cancel an unpaid
order); the test provider's notifications; finding one's order link."""
import re

from trytond.protocols.wrappers import Response

from guichet.ticket_event.common import now

from .checkout import EMAIL, MAX_NAME
from .exceptions import AnswerError, ShopError
from .mail import calendar
from .provider import PROVIDERS, provider_of
from .render import text
from .web import MAX_UPLOAD, Refusal, json_answer, page, route

NUMBER = re.compile(r'[A-Za-z0-9-]{1,30}')
DONE = {'paid', 'payment_refunded', 'resent', 'holders', 'answers',
    'refunded', 'cancelled'}


def find_order(web, token):
    "The order of the link token, or a 404 page"
    Order = web.pool.get('ticket.order')
    order = Order.find_by_token(token)
    if order is None:
        raise Refusal(web.error_page(404, text('msg_order_unknown')))
    return order


def holders_editable(order):
    "Whether the buyer may still change the holder names"
    return order.state == 'paid' and bool(order.sessions) and all(
        s.event.shop_holder_change and s.start > now()
        for s in order.sessions)


def editable_answers(order):
    "The answers the buyer may still change: (question, attendee, answer)"
    if order.state not in {'paid', 'reserved'} or not order.sessions or (
            order.sessions[0].start <= now()):
        return []
    existing = {(a.question.id, a.attendee.id if a.attendee else None): a
        for a in order.answers}
    result = []
    events = {s.event for s in order.sessions}
    for event in events:
        for question in event.shop_questions:
            if not question.editable or question.type == 'file':
                continue
            if question.scope == 'order':
                result.append((question, None,
                        existing.get((question.id, None))))
            else:
                for attendee in order.attendees:
                    if attendee.line.tariff and question.applies_to(
                            [attendee.line.tariff]):
                        result.append((question, attendee,
                                existing.get((question.id, attendee.id))))
    return result


def order_page(web, order, status=200, errors=None, done=None):
    valid = sorted((t for t in order.tickets if t.state != 'cancelled'),
        key=lambda t: t.id)
    method = order.payment_method
    return web.render('order.html', status=status,
        title=text('web_order_title', number=order.number), order=order,
        tickets=valid, errors=errors or {},
        done=done or (web.request.args.get('done')
            if web.request.args.get('done') in DONE else None),
        refund=order.refund_offer(), holders=holders_editable(order),
        answers=editable_answers(order), method=method,
        can_pay=(order.state == 'reserved' and order.amount_due > 0
            and method is not None and method.is_online),
        currency=order.currency)


@route('/order/<token>', methods=['GET'])
@page()
def manage(web, token):
    return order_page(web, find_order(web, token))


@route('/order/<token>/pay', methods=['GET'])
@page()
def pay(web, token):
    order = find_order(web, token)
    method = order.payment_method
    if order.state != 'reserved' or method is None:
        return web.redirect(f'/order/{token}')
    # computed once for the page (its sums go through several fields)
    amount_due = order.amount_due
    if amount_due <= 0:
        return web.redirect(f'/order/{token}')
    provider = provider_of(method.provider)
    return web.render(provider.template or 'pay_offline.html',
        title=text('web_pay_title', number=order.number), order=order,
        method=method, currency=order.currency, amount_due=amount_due,
        **provider.page_values(order, method, amount_due=amount_due))


@route('/order/<token>/pay/test', methods=['POST'])
@page(methods=('POST',), readonly=False)
def pay_test(web, token):
    "The test provider's payment page answers: pay or decline"
    order = find_order(web, token)
    provider = PROVIDERS['test']
    method = order.payment_method
    if method is None or method.provider != 'test':
        raise Refusal(web.error_page(400, text('msg_provider_mismatch')))
    if web.form.get('action') == 'decline':
        raise Refusal(web.render('pay_test.html', status=402,
                title=text('web_pay_title', number=order.number),
                order=order, method=method, currency=order.currency,
                declined=True, **provider.page_values(order, method)))
    result = provider.notify(order, web.form.get('reference') or '',
        web.form.get('amount') or '', web.form.get('signature') or '')
    if result is None:
        raise Refusal(web.error_page(400, text('msg_signature')))
    payment, _ = result
    done = 'paid' if payment.state == 'succeeded' else 'payment_refunded'
    return web.redirect(f'/order/{token}', done=done)


@route('/providers/test/notify', methods=['POST'])
@page(methods=('POST',), readonly=False, csrf=False)
def notify_test(web):
    """The test provider's webhook: a signed JSON notification of a payment;
    the same notification twice makes one payment"""
    from guichet.ticket_event.routes import json_body
    Order = web.pool.get('ticket.order')
    body = json_body(web.request)
    if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) for k in [
                'order', 'reference', 'amount', 'signature']):
        raise Refusal(json_answer({'error': {'code': 'invalid_body',
                        'message': text('msg_notify_body')}}, 400))
    order = Order.find_by_token(body['order'])
    if order is None:
        raise Refusal(json_answer({'error': {'code': 'order_not_found',
                        'message': text('msg_order_unknown')}}, 404))
    result = PROVIDERS['test'].notify(order, body['reference'],
        body['amount'], body['signature'])
    if result is None:
        raise Refusal(json_answer({'error': {'code': 'invalid_signature',
                        'message': text('msg_signature')}}, 400))
    payment, created = result
    return json_answer({
            'created': created,
            'payment': {
                'reference': payment.reference,
                'amount': str(payment.amount),
                'state': payment.state,
                },
            'order': {'number': order.number,
                'state': Order(order.id).state},
            }, 201 if created else 200)


@route('/order/<token>/tickets.pdf', methods=['GET'])
@page()
def tickets_pdf(web, token):
    "The PDF of the valid tickets; with copy=1, without their price"
    order = find_order(web, token)
    if order.state != 'paid':
        return web.error_page(409, text('msg_order_not_paid'))
    copy = web.request.args.get('copy') == '1'
    Report = web.pool.get('ticket.order.tickets_copy' if copy
        else 'ticket.order.tickets', type='report')
    _, content, _, _ = Report.execute([order.id], {})
    response = Response(content, content_type='application/pdf')
    name = text('mail_tickets_file') + f'-{order.number}.pdf'
    response.headers['Content-Disposition'] = f'attachment; filename="{name}"'
    return response


@route('/order/<token>/calendar.ics', methods=['GET'])
@page()
def calendar_ics(web, token):
    order = find_order(web, token)
    response = Response(calendar(order),
        content_type='text/calendar; charset=utf-8')
    response.headers['Content-Disposition'] = (
        f'attachment; filename="{order.number}.ics"')
    return response


@route('/order/<token>/resend', methods=['POST'])
@page(methods=('POST',), readonly=False)
def resend(web, token):
    Order = web.pool.get('ticket.order')
    order = find_order(web, token)
    if web.rate_limited('lookup'):
        raise Refusal(order_page(web, order, 429,
                {'resend': text('msg_rate_limited')}))
    Order.queue_shop_email(order,
        'confirmation' if order.state == 'paid' else 'reserved')
    web.pool.get('ticket.shop.rate_limit').count(f'lookup:{web.client}')
    return web.redirect(f'/order/{token}', done='resent')


@route('/order/<token>/holders', methods=['POST'])
@page(methods=('POST',), readonly=False)
def holders(web, token):
    "Change the holder names of the tickets"
    Ticket = web.pool.get('ticket.ticket')
    order = find_order(web, token)
    if not holders_editable(order):
        raise Refusal(order_page(web, order, 409,
                {'holders': text('msg_holders_locked')}))
    errors, changed = {}, []
    for ticket in order.tickets:
        if ticket.state != 'valid':
            continue
        field = f'holder-{ticket.id}'
        if field not in web.form:
            continue
        name = web.form[field].strip()
        if not name or len(name) > MAX_NAME:
            errors[field] = text('msg_holder_required')
        elif name != ticket.holder_name:
            ticket.holder_name = name
            changed.append(ticket)
    if errors:
        raise Refusal(order_page(web, order, 400, errors))
    Ticket.save(changed)
    return web.redirect(f'/order/{token}', done='holders')


@route('/order/<token>/answers', methods=['POST'])
@page(methods=('POST',), readonly=False, max_size=MAX_UPLOAD)
def answers(web, token):
    "Change the answers to the editable questions"
    Answer = web.pool.get('ticket.shop.answer')
    order = find_order(web, token)
    editable = editable_answers(order)
    if not editable:
        raise Refusal(order_page(web, order, 409,
                {'answers': text('msg_answers_locked')}))
    errors, to_save, to_delete = {}, [], []
    for question, attendee, answer in editable:
        field = f'q-{question.id}' + (f'-{attendee.id}' if attendee else '')
        try:
            value = question.clean(web.form.get(field))
        except AnswerError as error:
            errors[field] = error.message
            continue
        if answer is None:
            if value:
                to_save.append(Answer(order=order, question=question,
                        attendee=attendee, value=value))
        elif not value:
            to_delete.append(answer)
        elif value != answer.value:
            answer.value = value
            to_save.append(answer)
    if errors:
        raise Refusal(order_page(web, order, 400, errors))
    Answer.save(to_save)
    Answer.delete(to_delete)
    return web.redirect(f'/order/{token}', done='answers')


@route('/order/<token>/refund', methods=['POST'])
@page(methods=('POST',), readonly=False)
def refund(web, token):
    "Cancel the order for a refund in money or as a credit, by the rules"
    Order = web.pool.get('ticket.order')
    order = find_order(web, token)
    kind = web.form.get('kind')
    if kind not in {'money', 'credit'}:
        raise Refusal(order_page(web, order, 400,
                {'refund': text('msg_refund_kind')}))
    if not web.form.get('confirm'):
        raise Refusal(order_page(web, order, 400,
                {'refund': text('msg_refund_confirm')}))
    try:
        amount = Order.refund_by_rules(order, kind)
    except ShopError as error:
        raise Refusal(order_page(web, order, error.status,
                {'refund': error.message}))
    order = Order(order.id)
    Order.queue_shop_email(order, 'refund', refund_kind=kind,
        amount=str(amount))
    return web.redirect(f'/order/{token}', done='refunded')


@route('/order/<token>/cancel', methods=['POST'])
@page(methods=('POST',), readonly=False)
def cancel(web, token):
    "Cancel an order not paid yet: its places return to sale"
    Order = web.pool.get('ticket.order')
    order = find_order(web, token)
    if order.state != 'reserved' or order.amount_paid > 0:
        raise Refusal(order_page(web, order, 409,
                {'cancel': text('msg_cancel_not_possible')}))
    Order.cancel([order])
    return web.redirect(f'/order/{token}', done='cancelled')


@route('/lookup', methods=['GET'])
@page()
def lookup_form(web):
    return web.render('lookup.html', title=text('web_lookup_title'),
        errors={}, data={})


@route('/lookup', methods=['POST'])
@page(methods=('POST',), readonly=False)
def lookup(web):
    """E-mail the link of an order to its buyer: the same answer whether an
    order matches or not, and a limit of attempts per client"""
    Order = web.pool.get('ticket.order')
    email = (web.form.get('email') or '').strip().lower()
    number = (web.form.get('number') or '').strip().upper()
    errors = {}
    if not EMAIL.fullmatch(email):
        errors['email'] = text('msg_buyer_email')
    if not NUMBER.fullmatch(number):
        errors['number'] = text('msg_order_number')
    if web.rate_limited('lookup'):
        errors['email'] = text('msg_rate_limited')
    if errors:
        raise Refusal(web.render('lookup.html', status=400,
                title=text('web_lookup_title'), errors=errors,
                data=web.form), limit='lookup')
    orders = Order.search([
            ('number', '=', number),
            ('email', 'ilike', email),
            ('shop_token', '!=', None),
            ], limit=1)
    if orders:
        Order.queue_shop_email(orders[0], 'lookup')
    web.pool.get('ticket.shop.rate_limit').count(f'lookup:{web.client}')
    return web.render('message.html', title=text('web_lookup_title'),
        message=text('web_lookup_sent'))

