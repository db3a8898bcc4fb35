"""The OpenAPI description of the invoice route (routes.py), added to the
one document of the event core."""
from guichet.ticket_event import openapi
from guichet.ticket_event.openapi import JSON, _json, _ref, _schema
from guichet.ticket_pricing.openapi import MONEY, _object

TEXT = {'type': 'string', 'minLength': 1, 'maxLength': 200}

SCHEMAS = {
    'InvoiceRequest': _object({
            'name': TEXT,
            'street': {'type': 'string', 'minLength': 1, 'maxLength': 500},
            'postal_code': {'type': 'string', 'minLength': 1,
                'maxLength': 20},
            'city': TEXT,
            'country': {'type': 'string', 'pattern': '^[A-Za-z]{2}$',
                'description': "ISO 3166 code of the country (FR)."},
            'vat_number': {'type': 'string', 'minLength': 1,
                'maxLength': 32,
                'description': "The buyer's EU VAT number "
                "(FR40303265045), checked."},
            'siret': {'type': ['string', 'null'], 'maxLength': 32,
                'description': "The SIRET of the buyer's establishment "
                "(optional), checked."},
            }, required=['name', 'street', 'postal_code', 'city', 'country',
            'vat_number'],
        description="The business buyer the invoice is made out to."),
    'Invoice': _object({
            'order': {'type': 'string'},
            'number': {'type': 'string'},
            'date': {'type': 'string', 'format': 'date'},
            'state': {'enum': ['posted', 'paid']},
            'buyer': {'type': 'string'},
            'vat_number': {'type': 'string'},
            'currency': {'type': 'string'},
            'untaxed': MONEY,
            'tax': MONEY,
            'total': MONEY,
            }, description="The invoice of the order, paid by the order's "
        "payment."),
    }

PATHS = {
    '/ticket/api/v1/orders/{token}/invoice': {
        'parameters': [{
                'name': 'token', 'in': 'path', 'required': True,
                'description': "The order's link token (the shop's "
                "\"manage my order\" link).",
                'schema': {'type': 'string'}}],
        'post': {
            'operationId': 'invoiceOrder',
            'summary': "Make out the invoice of a paid order to a business "
            "buyer, once",
            'requestBody': {'required': True, 'content': {
                    JSON: {'schema': _schema('InvoiceRequest')}}},
            'responses': {
                '201': _json(_schema('Invoice'), "The invoice, made out."),
                '400': _json(_schema('Error'), "Malformed body or invalid "
                    "buyer: invalid_json, invalid_body, invalid_buyer "
                    "(VAT number, SIRET, country)."),
                '404': _ref('responses', 'NotFound'),
                '409': _json(_schema('Error'), "The order cannot be "
                    "invoiced: order_not_paid, already_invoiced, "
                    "not_invoiceable."),
                '413': _ref('responses', 'PayloadTooLarge'),
                '415': _ref('responses', 'UnsupportedMediaType'),
                '503': _ref('responses', 'ServiceUnavailable'),
                },
            },
        },
    }


def describe_api():
    "Add the invoice route to the OpenAPI document"
    openapi.register(paths=PATHS, schemas=SCHEMAS)
