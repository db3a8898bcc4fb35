"""The box office API in the OpenAPI document (``ticket_event.openapi``)."""
from guichet.ticket_event import openapi
from guichet.ticket_event.openapi import ID, _json, _nullable, _ref, _schema

BASE = '/ticket/api/v1/pos'
POINT = BASE + '/points/{point_id}'
AMOUNT = {'type': 'string', 'pattern': r'^-?[0-9]+(\.[0-9]+)?$',
    'description': "A decimal amount of the currency, e.g. \"12.50\"."}
AMOUNT_IN = {'oneOf': [
        {'type': 'string', 'pattern': r'^[0-9]{1,9}(\.[0-9]{1,6})?$'},
        {'type': 'integer', 'minimum': 0}]}
AUTH = [{'operatorSession': []}]
TEXT = {'type': 'string', 'minLength': 1}
PAYMENTS = {
    'type': 'array', 'maxItems': 10,
    'description': "Payments over the point's methods; cash may exceed "
    "what is due, the change is given back in cash.",
    'items': {
        'type': 'object', 'required': ['method', 'amount'],
        'additionalProperties': False,
        'properties': {'method': ID, 'amount': AMOUNT_IN}}}
SEATS = {
    'type': 'array',
    'description': "Seats picked on the map per seated session; without, "
    "the best available seats.",
    'items': {
        'type': 'object', 'required': ['session', 'seats'],
        'additionalProperties': False,
        'properties': {'session': ID,
            'seats': {'type': 'array', 'items': ID, 'minItems': 1}}}}
LINES = {
    'type': 'array', 'minItems': 1, 'maxItems': openapi.MAX_ITEMS,
    'items': {
        'type': 'object', 'required': ['tariff', 'quantity'],
        'additionalProperties': False,
        'properties': {
            'tariff': ID, 'session': ID,
            'quantity': {'type': 'integer', 'minimum': 1,
                'maximum': 1000}}}}
CODES = {'type': 'array', 'maxItems': 10, 'items': TEXT}

SCHEMAS = {
    'PosLogin': {
        'type': 'object', 'required': ['token', 'user', 'points'],
        'additionalProperties': False,
        'properties': {
            'token': {'type': 'string', 'description':
                "Send as Authorization: Session <token>."},
            'user': {'type': 'object'},
            'points': {'type': 'array', 'items': {'type': 'object'}},
            },
        },
    'PosTicket': {
        'type': 'object',
        'required': ['id', 'number', 'state', 'holder_name', 'type',
            'session', 'seat'],
        'additionalProperties': False,
        'properties': {
            'id': ID, 'number': {'type': 'string'},
            'state': {'type': 'string'},
            'holder_name': _nullable('string'),
            'type': _nullable('string'),
            'session': {'oneOf': [ID, {'type': 'null'}]},
            'seat': _nullable('string'),
            },
        },
    'PosOrder': {
        'type': 'object',
        'required': ['id', 'number', 'state', 'channel', 'buyer', 'email',
            'total', 'paid', 'created', 'lines', 'tickets'],
        'additionalProperties': False,
        'properties': {
            'id': ID, 'number': {'type': 'string'},
            'state': {'enum': ['reserved', 'paid', 'cancelled', 'expired']},
            'channel': {'type': 'string'},
            'buyer': _nullable('string'),
            'email': _nullable('string'),
            'total': AMOUNT, 'paid': AMOUNT,
            'created': _nullable('string'),
            'lines': {'type': 'array', 'items': {'type': 'object'}},
            'tickets': {'type': 'array', 'items': _schema('PosTicket')},
            },
        },
    'PosOperation': {
        'type': 'object',
        'required': ['id', 'kind', 'operator', 'order', 'new_order', 'sale',
            'amount', 'change', 'credit', 'ticket'],
        'additionalProperties': False,
        'properties': {
            'id': ID,
            'kind': {'enum': ['sale', 'refund', 'refund_credit', 'exchange',
                    'holder']},
            'operator': {'type': 'string'},
            'order': _schema('PosOrder'),
            'new_order': {'oneOf': [_schema('PosOrder'), {'type': 'null'}]},
            'sale': _nullable('string'),
            'amount': AMOUNT,
            'change': AMOUNT,
            'credit': _nullable('string'),
            'ticket': _nullable('string'),
            },
        },
    'PosSale': {
        'type': 'object',
        'required': ['id', 'kind', 'operator', 'order', 'new_order', 'sale',
            'amount', 'change', 'credit', 'ticket'],
        'additionalProperties': False,
        'properties': {
            'id': ID,
            'kind': {'enum': ['sale']},
            'operator': {'type': 'string'},
            'order': _schema('PosOrder'),
            'new_order': {'type': 'null'},
            'sale': _nullable('string'),
            'amount': AMOUNT,
            'change': AMOUNT,
            'credit': _nullable('string'),
            'ticket': _nullable('string'),
            'sessions': {'type': 'array', 'items': {
                    'type': 'object', 'required': ['id', 'available'],
                    'properties': {'id': ID,
                        'available': {'type': 'integer'}}}},
            'tickets_pdf': {'type': 'string', 'contentEncoding': 'base64',
                'contentMediaType': 'application/pdf'},
            },
        },
    'PosCashSession': {
        'type': 'object',
        'required': ['id', 'state', 'opened_by', 'opened_at', 'float',
            'operations'],
        'properties': {
            'id': ID,
            'state': {'enum': ['open', 'closed', 'posted']},
            'opened_by': _nullable('string'),
            'opened_at': _nullable('string'),
            'float': AMOUNT,
            'operations': {'type': 'integer'},
            'expected': {'type': 'array', 'items': {'type': 'object'}},
            'counts': {'type': 'array', 'items': {'type': 'object'}},
            },
        },
    'PosState': {
        'type': 'object', 'required': ['point', 'methods', 'session'],
        'additionalProperties': False,
        'properties': {
            'point': {'type': 'object'},
            'methods': {'type': 'array', 'items': {'type': 'object'}},
            'session': {'oneOf': [
                    _schema('PosCashSession'), {'type': 'null'}]},
            },
        },
    }


def _body(schema):
    return {'required': True, 'content': {openapi.JSON: {'schema': schema}}}


def _object(required, properties):
    return {'type': 'object', 'required': required,
        'additionalProperties': False, 'properties': properties}


def _errors(*statuses):
    names = {
        '400': 'BadRequest', '404': 'NotFound', '409': 'Conflict',
        '413': 'PayloadTooLarge', '415': 'UnsupportedMediaType',
        '503': 'ServiceUnavailable'}
    result = {s: _ref('responses', names[s]) for s in statuses}
    result['401'] = _ref('responses', 'PosUnauthorized')
    result['403'] = _ref('responses', 'PosForbidden')
    return result


def _operation(operation_id, summary, ok, statuses=('400', '404', '503'),
        body=None, parameters=None, secured=True):
    result = {
        'operationId': operation_id,
        'summary': summary,
        'tags': ['Box office'],
        'responses': {**ok, **_errors(*statuses)},
        }
    if secured:
        result['security'] = AUTH
    if body is not None:
        result['requestBody'] = _body(body)
    if parameters:
        result['parameters'] = parameters
    return result


PDF = {'description': "A PDF document.",
    'content': {'application/pdf': {'schema': {'type': 'string'}}}}
POST_ERRORS = ('400', '404', '409', '413', '415', '503')
POINT_ID = _ref('parameters', 'PointId')
PRINTER = {'name': 'printer', 'in': 'query',
    'schema': {'enum': ['thermal', 'a4']}}
QUERY = {'name': 'q', 'in': 'query', 'required': True,
    'schema': {'type': 'string', 'minLength': 2, 'maxLength': 100}}


def _path_id(name):
    return {'name': name, 'in': 'path', 'required': True, 'schema': ID}


PATHS = {
    f'{BASE}/login': {'post': _operation('posLogin',
            "Log an operator in with a Tryton login and password",
            {'200': _json(_schema('PosLogin'), "The session token."),
                '429': _json(_schema('Error'),
                    "Too many failed logins: too_many_requests.")},
            ('400', '404', '413', '415', '503'),
            _object(['login', 'password'], {
                    'login': TEXT, 'password': TEXT}), secured=False)},
    f'{BASE}/logout': {'post': _operation('posLogout',
            "End the operator's session",
            {'200': _json({'type': 'object'}, "Logged out.")},
            ('404',))},
    f'{POINT}/cash-session': {
        'parameters': [POINT_ID],
        'get': _operation('posState',
            "The point, its payment methods and its open cash session",
            {'200': _json(_schema('PosState'), "The state.")}),
        'post': _operation('posOpenCashSession',
            "Open the cash session with the float counted",
            {'201': _json(_schema('PosCashSession'), "Opened.")},
            POST_ERRORS, _object(['float'], {'float': AMOUNT_IN})),
        },
    f'{POINT}/cash-session/close': {
        'parameters': [POINT_ID],
        'post': _operation('posCloseCashSession',
            "Close the cash session with a count per payment method; a "
            "cash difference is booked and the session posted",
            {'200': _json(_schema('PosCashSession'), "Closed.")},
            POST_ERRORS, _object(['counts'], {'counts': {
                        'type': 'array', 'items': _object(
                            ['method', 'amount'],
                            {'method': ID, 'amount': AMOUNT_IN})}})),
        },
    f'{POINT}/cash-sessions/{{session_id}}/z-report.pdf': {
        'parameters': [POINT_ID, _path_id('session_id')],
        'get': _operation('posZReport', "The Z report of a cash session",
            {'200': PDF}, parameters=[PRINTER]),
        },
    f'{POINT}/catalogue': {
        'parameters': [POINT_ID],
        'get': _operation('posCatalogue',
            "The sessions on sale at the box office, today's first, with "
            "their box office tariffs",
            {'200': _json({'type': 'object', 'required': ['sessions']},
                    "The sessions.")}),
        },
    f'{POINT}/sessions/{{session_id}}/seats': {
        'parameters': [POINT_ID, _path_id('session_id')],
        'get': _operation('posSeats',
            "The seat map of a seated session for the box office",
            {'200': _json({'type': 'object'}, "The seats.")}),
        },
    f'{POINT}/quote': {
        'parameters': [POINT_ID],
        'post': _operation('posQuote',
            "Price a sale on the box office channel",
            {'200': _json(_schema('Quote'), "The quote.")},
            POST_ERRORS, _object(['lines'], {
                    'lines': LINES, 'promo_code': TEXT,
                    'credit_codes': CODES})),
        },
    f'{POINT}/sales': {
        'parameters': [POINT_ID],
        'post': _operation('posSell',
            "Sell: hold the places (seats), create the order and pay it in "
            "the cash session, all or nothing",
            {'201': _json(_schema('PosSale'),
                    "The sale, the places left in its sessions and, when "
                    "print is given, its tickets' PDF.")},
            POST_ERRORS, _object(['lines', 'payments'], {
                    'lines': LINES, 'payments': PAYMENTS, 'seats': SEATS,
                    'buyer': _object([], {
                            'party': ID, 'name': TEXT, 'email': TEXT,
                            'phone': TEXT}),
                    'promo_code': TEXT, 'credit_codes': CODES,
                    'print': {'enum': ['thermal', 'a4'],
                        'description': "Answer the tickets' PDF for this "
                        "printer too (tickets_pdf, base64)."}})),
        },
    f'{POINT}/customers': {
        'parameters': [POINT_ID],
        'get': _operation('posCustomers',
            "Customers by name, e-mail or phone",
            {'200': _json({'type': 'object', 'required': ['customers']},
                    "The customers.")}, parameters=[QUERY]),
        },
    f'{POINT}/orders': {
        'parameters': [POINT_ID],
        'get': _operation('posOrders',
            "Orders by number, buyer, e-mail or ticket number",
            {'200': _json({'type': 'object', 'required': ['orders'],
                        'properties': {'orders': {'type': 'array',
                                'items': _schema('PosOrder')}}},
                    "The orders.")}, parameters=[QUERY]),
        },
    f'{POINT}/orders/{{order_id}}': {
        'parameters': [POINT_ID, _path_id('order_id')],
        'get': _operation('posOrder', "An order",
            {'200': _json(_schema('PosOrder'), "The order.")}),
        },
    f'{POINT}/orders/{{order_id}}/refund': {
        'parameters': [POINT_ID, _path_id('order_id')],
        'post': _operation('posRefund',
            "Cancel a paid order; give its money back in cash or as a "
            "credit",
            {'201': _json(_schema('PosOperation'), "The refund.")},
            POST_ERRORS, _object(['mode'], {
                    'mode': {'enum': ['cash', 'credit']}})),
        },
    f'{POINT}/orders/{{order_id}}/exchange': {
        'parameters': [POINT_ID, _path_id('order_id')],
        'post': _operation('posExchange',
            "Exchange the tickets for another session of the same event; "
            "the difference is charged or given back in cash",
            {'201': _json(_schema('PosOperation'), "The exchange.")},
            POST_ERRORS, _object(['session'], {
                    'session': ID, 'payments': PAYMENTS, 'seats': SEATS})),
        },
    f'{POINT}/tickets/{{ticket_id}}/holder': {
        'parameters': [POINT_ID, _path_id('ticket_id')],
        'post': _operation('posChangeHolder',
            "Print another holder name on a ticket",
            {'201': _json(_schema('PosOperation'), "Changed.")},
            POST_ERRORS, _object(['name'], {'name': TEXT})),
        },
    f'{POINT}/tickets/{{ticket_id}}/refund': {
        'parameters': [POINT_ID, _path_id('ticket_id')],
        'post': _operation('posRefundTicket',
            "Cancel one ticket of a paid order; give its part back in cash "
            "or as a credit (the last ticket refunds the whole order)",
            {'201': _json(_schema('PosOperation'), "The refund.")},
            POST_ERRORS, _object(['mode'], {
                    'mode': {'enum': ['cash', 'credit']}})),
        },
    f'{POINT}/orders/{{order_id}}/tickets.pdf': {
        'parameters': [POINT_ID, _path_id('order_id')],
        'get': _operation('posTickets',
            "The tickets of an order, 80 mm thermal or A4",
            {'200': PDF}, parameters=[PRINTER]),
        },
    f'{POINT}/operations/{{operation_id}}/receipt.pdf': {
        'parameters': [POINT_ID, _path_id('operation_id')],
        'get': _operation('posReceipt', "The receipt of an operation",
            {'200': PDF}, parameters=[PRINTER]),
        },
    f'{POINT}/orders/{{order_id}}/email': {
        'parameters': [POINT_ID, _path_id('order_id')],
        'post': _operation('posEmailTickets',
            "E-mail the tickets of an order to its buyer",
            {'200': _json({'type': 'object', 'required': ['sent_to']},
                    "Sent.")},
            POST_ERRORS, _object([], {'email': TEXT})),
        },
    }

RESPONSES = {
    'PosUnauthorized': _json(_schema('Error'),
        "No valid operator session: unauthorized."),
    'PosForbidden': _json(_schema('Error'),
        "The user is not a box office operator: forbidden."),
    }


def describe_api():
    "Add the box office API to the document once"
    if f'{BASE}/login' in openapi.PATHS:
        return
    openapi.register(paths=PATHS, schemas=SCHEMAS, responses=RESPONSES,
        parameters={'PointId': _path_id('point_id')},
        security_schemes={'operatorSession': {
                'type': 'http', 'scheme': 'session',
                'description': "Tryton session of a box office operator "
                "(POST /pos/login)."}})
