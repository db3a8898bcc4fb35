"""trytond's WSGI application plus the notification endpoint of a simulated
payment provider, for the load and fault scenarios only.

The rush pays the orders it makes through the public API with this
endpoint, which does what the shop providers' notification handlers do — ``Payment.record``
(idempotent per provider reference) in one short transaction of the
application processes under test, so that killing a process or a database
connection mid-payment is exercised for real (``tests/load/checkout.py``,
``ApiCheckout.pay``).

Served by ``GUICHET_WSGI_APP=tests.load.webhook:app tools/serve_prod.py``;
never imported by the test process (the route is outside the public API and
its OpenAPI document).
"""
from decimal import Decimal, InvalidOperation

from trytond.application import app  # noqa: F401 (starts the pool)
from trytond.protocols.wrappers import HTTPStatus
from trytond.transaction import Transaction

from guichet.ticket_event.routes import (
    ApiError, api, bad_request, json_body, not_found)

PAYMENTS = '/<database_name>/ticket/loadtest/payments'


@app.route(PAYMENTS, methods=['POST'])
@api(readonly=False, read_committed=True)
def notify_payment(request, pool):
    "A provider notifies that an order was paid: record it once"
    Order = pool.get('ticket.order')
    Payment = pool.get('ticket.order.payment')
    body = json_body(request)
    if not isinstance(body, dict) or set(body) != {
            'order', 'reference', 'amount'}:
        raise bad_request('invalid_body',
            "order, reference and amount are required.")
    try:
        amount = Decimal(str(body['amount']))
    except InvalidOperation:
        raise bad_request('invalid_amount', "amount must be a number.")
    orders = Order.search([('number', '=', str(body['order']))], limit=1)
    if not orders:
        raise not_found('order_not_found', "Unknown order.")
    order, = orders
    with Transaction().set_context(company=order.company.id):
        payment, new = Payment.record(order, 'manual',
            str(body['reference']), amount, method='card')
        order = Order(order.id)
        if payment.state != 'succeeded':
            raise ApiError(HTTPStatus.CONFLICT, 'payment_refused',
                f"Payment {payment.reference} is {payment.state}.")
        return {'payment': payment.id, 'new': new, 'order': order.number,
            'state': order.state, 'tickets': len(order.tickets)}
