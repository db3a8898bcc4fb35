"""The OpenAPI description of the price engine's routes (routes.py), added
to the one document of the event core."""
from guichet.ticket_event import openapi
from guichet.ticket_event.openapi import (
    ID, JSON, MAX_ITEMS, _json, _nullable, _ref, _schema)

from .engine import MAX_LINE_QUANTITY
from .fee import DELIVERIES

MONEY = {
    'type': 'string', 'pattern': r'^-?[0-9]+(\.[0-9]+)?$',
    'description': "An amount in the currency, as a decimal string."}
CODES = {
    'type': 'array', 'maxItems': 10,
    'items': {'type': 'string', 'minLength': 1, 'maxLength': 64}}
PASSWORDS = {
    'type': 'array', 'maxItems': 10,
    'items': {'type': 'string', 'minLength': 1, 'maxLength': 128}}
DELIVERY = {'enum': [d for d, _ in DELIVERIES], 'default': 'e_ticket'}


def _object(properties, required=None, description=None):
    schema = {
        'type': 'object',
        'required': list(properties) if required is None else required,
        'additionalProperties': False,
        'properties': properties,
        }
    if description:
        schema['description'] = description
    return schema


SCHEMAS = {
    'Tariff': _object({
            'id': ID,
            'name': {'type': 'string'},
            'description': _nullable('string'),
            'category': {'oneOf': [
                    _schema('EventRef'), {'type': 'null'}]},
            'price': MONEY,
            'price_tax_included': MONEY,
            'min_quantity': {'type': 'integer', 'minimum': 1},
            'max_quantity': _nullable('integer', minimum=1),
            'pay_what_you_want': {'type': 'boolean'},
            'minimum_price': {'oneOf': [MONEY, {'type': 'null'}]},
            'maximum_price': {'oneOf': [MONEY, {'type': 'null'}]},
            'issues_ticket': {'type': 'boolean'},
            'tickets_per_unit': {'type': 'integer', 'minimum': 1},
            'available': _nullable('integer', minimum=0, description=(
                    "Units still for sale in the pools of the tariff.")),
            }, description="A tariff of a session. price is in the event's "
        "price display basis; category is the tariff category, printed "
        "above the name."),
    'TariffList': _object({
            'session': ID,
            'channel': {'enum': ['web', 'api']},
            'currency': {'type': 'string'},
            'price_display': {'enum': ['tax_included', 'tax_excluded']},
            'tariffs': {'type': 'array', 'items': _schema('Tariff')},
            }),
    'QuoteRequest': _object({
            'lines': {
                'type': 'array', 'minItems': 1, 'maxItems': MAX_ITEMS,
                'items': _object({
                        'tariff': ID,
                        'session': {'oneOf': [ID, {'type': 'null'}],
                            'description': "Required for a tariff that "
                            "issues tickets."},
                        'quantity': {
                            'type': 'integer', 'minimum': 1,
                            'maximum': MAX_LINE_QUANTITY},
                        'amount': {
                            'oneOf': [MONEY, {'type': 'integer'},
                                {'type': 'null'}],
                            'description': "The price chosen for a "
                            "pay-what-you-want tariff."},
                        }, required=['tariff', 'quantity']),
                },
            'promo_code': _nullable('string', maxLength=64),
            'credit_codes': CODES,
            'email': _nullable('string', maxLength=254),
            'passwords': PASSWORDS,
            'delivery': DELIVERY,
            'channel': {'enum': ['web', 'api'], 'default': 'web'},
            }, required=['lines']),
    'AmountLine': _object({
            'kind': {'enum': ['ticket', 'product', 'fee']},
            'tariff': {'oneOf': [ID, {'type': 'null'}]},
            'session': {'oneOf': [ID, {'type': 'null'}]},
            'description': {'type': 'string'},
            'quantity': {'type': 'integer', 'minimum': 1},
            'unit_price': MONEY,
            'discount': MONEY,
            'untaxed': MONEY,
            'tax': MONEY,
            'total': MONEY,
            'notes': {'type': 'array', 'items': {'type': 'string'}},
            }, description="unit_price and discount are in the price "
        "display basis; total = untaxed + tax."),
    'TaxAmount': _object({
            'name': {'type': 'string'},
            'rate': _nullable('string'),
            'base': MONEY,
            'amount': MONEY,
            }),
    'Quote': _object({
            'currency': {'type': 'string'},
            'price_display': {'enum': ['tax_included', 'tax_excluded']},
            'lines': {'type': 'array', 'items': _schema('AmountLine')},
            'fees': {'type': 'array', 'items': _schema('AmountLine')},
            'taxes': {'type': 'array', 'items': _schema('TaxAmount')},
            'untaxed': MONEY,
            'tax': MONEY,
            'total': MONEY,
            'discount': MONEY,
            'promo_code': _nullable('string'),
            'credit': MONEY,
            'to_pay': MONEY,
            }, description="total is the sum of the lines and fees; the "
        "taxes per rate sum to tax; to_pay is total less credit."),
    'Cart': _object({
            'hold': _schema('Hold'),
            'quote': _schema('Quote'),
            }),
    'OrderRequest': _object({
            'holds': {
                'type': 'array', 'minItems': 1, 'maxItems': 10,
                'uniqueItems': True, 'items': {'type': 'string'},
                'description': "Tokens of carts (POST /carts)."},
            'buyer': _object({
                    'name': {'type': 'string', 'minLength': 1,
                        'maxLength': 200},
                    'email': {'type': 'string', 'maxLength': 254},
                    'phone': _nullable('string', maxLength=50),
                    }, required=['name', 'email']),
            'promo_code': _nullable('string', maxLength=64),
            'credit_codes': CODES,
            'passwords': PASSWORDS,
            'delivery': DELIVERY,
            }, required=['holds', 'buyer']),
    'Order': _object({
            'number': {'type': 'string'},
            'state': {'enum': ['reserved', 'paid', 'cancelled', 'expired']},
            'channel': {'type': 'string'},
            'email': _nullable('string'),
            'reserved_until': {'oneOf': [
                    {'type': 'string', 'format': 'date-time'},
                    {'type': 'null'}]},
            'currency': {'type': 'string'},
            'lines': {'type': 'array', 'items': _schema('AmountLine')},
            'fees': {'type': 'array', 'items': _schema('AmountLine')},
            'taxes': {'type': 'array', 'items': _schema('TaxAmount')},
            'untaxed': MONEY,
            'tax': MONEY,
            'total': MONEY,
            'credit': MONEY,
            'to_pay': MONEY,
            }),
    }

RESPONSES = {
    'PricingBadRequest': _json(_schema('Error'),
        "Malformed request or candidate order: invalid_json, invalid_body, "
        "invalid_channel, invalid_quantity, invalid_amount, "
        "mixed_companies, invalid_request, promo_code_invalid, "
        "credit_invalid."),
    'PricingForbidden': _json(_schema('Error'),
        "The buyer may not buy a tariff restricted to a list: restricted."),
    'PricingConflict': _json(_schema('Error'),
        "The state of the sale forbids it: tariff_not_for_session, "
        "tariff_not_for_channel, tariff_window_closed, sale_closed, "
        "capacity_exceeded, promo_code_exhausted, hold_not_active."),
    }

_BODY_ERRORS = {
    '400': _ref('responses', 'PricingBadRequest'),
    '403': _ref('responses', 'PricingForbidden'),
    '404': _ref('responses', 'NotFound'),
    '409': _ref('responses', 'PricingConflict'),
    '413': _ref('responses', 'PayloadTooLarge'),
    '415': _ref('responses', 'UnsupportedMediaType'),
    '503': _ref('responses', 'ServiceUnavailable'),
    }


def _body(name):
    return {'required': True, 'content': {JSON: {'schema': _schema(name)}}}


PATHS = {
    '/ticket/api/v1/sessions/{session_id}/tariffs': {
        'parameters': [_ref('parameters', 'SessionId')],
        'get': {
            'operationId': 'listSessionTariffs',
            'summary': "The tariffs offered for a session on a channel",
            'parameters': [{
                    'name': 'channel', 'in': 'query',
                    'schema': {'enum': ['web', 'api'], 'default': 'web'}}],
            'responses': {
                '200': _json(_schema('TariffList'),
                    "The tariffs on sale now, listed online (not the "
                    "hidden ones), in order."),
                '400': _ref('responses', 'BadRequest'),
                '404': _ref('responses', 'NotFound'),
                },
            },
        },
    '/ticket/api/v1/quotes': {
        'post': {
            'operationId': 'createQuote',
            'summary': "Price a candidate order; nothing is held or written",
            'requestBody': _body('QuoteRequest'),
            'responses': {
                '200': _json(_schema('Quote'), "The priced order."),
                **_BODY_ERRORS,
                },
            },
        },
    '/ticket/api/v1/carts': {
        'post': {
            'operationId': 'createCart',
            'summary': "Price lines of tariffs and hold their places in "
            "every pool (session, category, tariff), all or none",
            'requestBody': _body('QuoteRequest'),
            'responses': {
                '201': _json(_schema('Cart'),
                    "The places are held; the hold's token orders them."),
                **_BODY_ERRORS,
                },
            },
        },
    '/ticket/api/v1/orders': {
        'post': {
            'operationId': 'createOrder',
            'summary': "Create a reserved order over carts, priced by the "
            "engine",
            'requestBody': _body('OrderRequest'),
            'responses': {
                '201': _json(_schema('Order'),
                    "The order, reserved until paid."),
                **_BODY_ERRORS,
                },
            },
        },
    }


def describe_api():
    "Add the routes of the price engine to the OpenAPI document"
    openapi.register(paths=PATHS, schemas=SCHEMAS, responses=RESPONSES)
