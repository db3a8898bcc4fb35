"""The OpenAPI description of the partner routes (partner_routes.py)."""
import copy

from guichet.ticket_event import openapi
from guichet.ticket_event.openapi import (
    ID, JSON, MAX_ITEMS, _json, _ref, _schema)

from .engine import MAX_LINE_QUANTITY
from .openapi import SCHEMAS as PRICING_SCHEMAS
from .openapi import _object

BASE = '/ticket/api/v1/partner'
AUTH = [{'partnerKey': []}]
REFERENCE = {
    'type': 'string', 'pattern': r'^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$',
    'description': "The partner's own reference of the order: the same "
    "reference again gives the first order back."}

_order = copy.deepcopy(PRICING_SCHEMAS['Order'])
_order['properties']['reference'] = REFERENCE
_order['properties']['tickets'] = {
    'type': 'array', 'items': _schema('PartnerTicket')}
_order['required'] = _order['required'] + ['reference', 'tickets']
_order['description'] = "A paid order of the partner with its tickets."

SCHEMAS = {
    'PartnerOrderRequest': _object({
            'reference': REFERENCE,
            'lines': {
                'type': 'array', 'minItems': 1, 'maxItems': MAX_ITEMS,
                'items': _object({
                        'session': ID,
                        'tariff': ID,
                        'quantity': {'type': 'integer', 'minimum': 1,
                            'maximum': MAX_LINE_QUANTITY},
                        })},
            'buyer': _object({
                    'name': {'type': 'string', 'minLength': 1,
                        'maxLength': 200},
                    'email': {'type': 'string', 'maxLength': 254},
                    'phone': {'type': ['string', 'null'], 'maxLength': 50},
                    }, required=['name', 'email']),
            'send_email': {'type': 'boolean', 'default': False,
                'description': "E-mail the tickets to the buyer (with the "
                "web shop)."},
            'language': {'enum': ['fr', 'en'], 'default': 'fr'},
            'promo_code': {'type': ['string', 'null'], 'maxLength': 64},
            }, required=['reference', 'lines', 'buyer'],
        description="Lines of tariffs sold on the \"Partners\" channel."),
    'PartnerTicket': _object({
            'number': {'type': 'string'},
            'session': ID,
            'type': {'type': ['string', 'null']},
            'holder': {'type': ['string', 'null']},
            'state': {'type': 'string'},
            'code': {'type': 'string',
                'description': "The content of the ticket's QR code."},
            }),
    'PartnerOrder': _order,
    }
RESPONSES = {
    'PartnerUnauthorized': _json(_schema('Error'),
        "No valid partner key (Authorization: Bearer <key>), or the "
        "partner was revoked: unauthorized."),
    'PartnerBadRequest': _json(_schema('Error'),
        "Malformed request: invalid_json, invalid_body, invalid_reference, "
        "invalid_quantity, email_unavailable, promo_code_invalid, "
        "invalid_request."),
    }
_ERRORS = {
    '400': _ref('responses', 'PartnerBadRequest'),
    '401': _ref('responses', 'PartnerUnauthorized'),
    '404': _ref('responses', 'NotFound'),
    '503': _ref('responses', 'ServiceUnavailable'),
    }
_REFERENCE_PARAMETER = {
    'name': 'reference', 'in': 'path', 'required': True,
    'schema': REFERENCE}
PATHS = {
    f'{BASE}/orders': {
        'post': {
            'operationId': 'createPartnerOrder',
            'summary': "Sell a paid order: price, hold, pay and issue its "
            "tickets in one request",
            'security': AUTH,
            'requestBody': {'required': True,
                'content': {JSON: {'schema': _schema('PartnerOrderRequest')}}},
            'responses': {
                '201': _json(_schema('PartnerOrder'),
                    "The order, paid, with its tickets."),
                '200': _json(_schema('PartnerOrder'),
                    "The order sold before with this reference."),
                **_ERRORS,
                '403': _ref('responses', 'PricingForbidden'),
                '409': _ref('responses', 'PricingConflict'),
                '413': _ref('responses', 'PayloadTooLarge'),
                '415': _ref('responses', 'UnsupportedMediaType'),
                },
            },
        },
    f'{BASE}/orders/{{reference}}': {
        'parameters': [_REFERENCE_PARAMETER],
        'get': {
            'operationId': 'getPartnerOrder',
            'summary': "An order of the partner, by its reference",
            'security': AUTH,
            'responses': {
                '200': _json(_schema('PartnerOrder'), "The order."),
                **_ERRORS,
                },
            },
        },
    f'{BASE}/orders/{{reference}}/tickets.pdf': {
        'parameters': [_REFERENCE_PARAMETER],
        'get': {
            'operationId': 'getPartnerTickets',
            'summary': "The PDF tickets of an order of the partner",
            'security': AUTH,
            'responses': {
                '200': {'description': "A PDF document.", 'content': {
                        'application/pdf': {'schema': {'type': 'string'}}}},
                **_ERRORS,
                },
            },
        },
    }
SECURITY_SCHEMES = {
    'partnerKey': {
        'type': 'http', 'scheme': 'bearer',
        'description': "The API key of a partner (a Tryton user application "
        "\"Ticket Partner\"); revoking the partner refuses it at once.",
        },
    }


def describe_api():
    openapi.register(paths=PATHS, schemas=SCHEMAS, responses=RESPONSES,
        security_schemes=SECURITY_SCHEMES)
