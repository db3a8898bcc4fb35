"""Public JSON route: the invoice of a paid order for a business buyer.

``POST /ticket/api/v1/orders/<token>/invoice`` calls
``Order.invoice_order``, as the back office wizard does. The order is
reached by its link token, which the web shop gives its buyers; the module
does not depend on the shop: where the order model has no
``find_by_token`` (the shop not activated), every token is unknown (404).
A bad buyer (VAT number, SIRET, country, missing field) answers 400, an
order not paid or already invoiced 409; a refusal writes nothing."""
from trytond.protocols.wrappers import HTTPStatus
from trytond.transaction import Transaction
from trytond.wsgi import app

from guichet.ticket_event.routes import (
    PREFIX, TOKEN, ApiError, api, bad_request, json_body, json_response,
    not_found)

from .invoice import Buyer, InvoiceError
from .exceptions import AccountingError
from .openapi import describe_api

REQUIRED = ['name', 'street', 'postal_code', 'city', 'country', 'vat_number']
# the maximum length of each field, as the OpenAPI document has it
LENGTHS = {
    'name': 200, 'street': 500, 'postal_code': 20, 'city': 200,
    'country': 2, 'vat_number': 32, 'siret': 32,
    }


def buyer_from(body):
    "The Buyer of the request's body; 400 if malformed"
    if not isinstance(body, dict):
        raise bad_request('invalid_body', "The body must be a JSON object.")
    unknown = set(body) - set(Buyer.FIELDS)
    if unknown:
        raise bad_request('invalid_body',
            "Unknown fields: %s." % ', '.join(sorted(unknown)))
    for name in Buyer.FIELDS:
        value = body.get(name)
        if name in REQUIRED and (not isinstance(value, str)
                or not value.strip()):
            raise bad_request('invalid_body', f"{name} is required.")
        if value is not None and (not isinstance(value, str)
                or len(value) > LENGTHS[name] or '\x00' in value):
            raise bad_request('invalid_body',
                f"{name} must be a string of at most {LENGTHS[name]} "
                "characters.")
    return Buyer(**{n: body.get(n) for n in Buyer.FIELDS})


def invoice_json(order, invoice):
    currency = invoice.currency

    def money(amount):
        return str(currency.round(amount))
    vat = [i.code for i in invoice.party.identifiers if i.type == 'eu_vat']
    return {
        'order': order.number,
        'number': invoice.number,
        'date': invoice.invoice_date.isoformat(),
        'state': invoice.state,
        'buyer': invoice.party.name,
        'vat_number': vat[0] if vat else '',
        'currency': currency.code,
        'untaxed': money(invoice.untaxed_amount),
        'tax': money(invoice.tax_amount),
        'total': money(invoice.total_amount),
        }


@app.route(f'{PREFIX}/orders/<token>/invoice', methods=['POST'])
@api(readonly=False, read_committed=True)
def invoice_order(request, pool, token):
    "Make out the invoice of the paid order of token to the buyer"
    Order = pool.get('ticket.order')
    buyer = buyer_from(json_body(request))
    find = getattr(Order, 'find_by_token', None)
    order = find(token) if find and TOKEN.fullmatch(token) else None
    if order is None:
        raise not_found('order_not_found', "Unknown order.")
    with Transaction().set_context(company=order.company.id):
        try:
            invoice = Order.invoice_order(order, buyer)
        except InvoiceError as error:
            if error.code == 'invalid':
                raise ApiError(HTTPStatus.BAD_REQUEST, 'invalid_buyer',
                    error.message)
            order = Order(order.id)
            raise ApiError(HTTPStatus.CONFLICT,
                'already_invoiced' if order.invoice else 'order_not_paid',
                error.message)
        except AccountingError as error:
            raise ApiError(HTTPStatus.CONFLICT, 'not_invoiceable',
                error.message)
        return json_response(invoice_json(Order(order.id), invoice),
            HTTPStatus.CREATED)


describe_api()
