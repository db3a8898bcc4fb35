"""The OpenAPI document of every public JSON endpoint of Guichet.

The event core describes its API here; other addons add their paths and
schemas with ``register`` (and grow a core schema with ``extend_schema``)
when they are imported, so that one document describes the whole API. The
routes serve ``document(database_name)``. Paths start after the database
name (``/ticket/...``); the server URL carries the database.
"""
import copy

from .hold import MAX_QUANTITY

VERSION = '1.0.0'
MAX_ITEMS = 50
MAX_ID = 2 ** 31 - 1
JSON = 'application/json'


def _ref(kind, name):
    return {'$ref': f'#/components/{kind}/{name}'}


def _schema(name):
    return _ref('schemas', name)


def _json(schema, description):
    return {'description': description, 'content': {JSON: {'schema': schema}}}


def _error(description):
    return _json(_schema('Error'), description)


def _nullable(type_, **extra):
    return {'type': [type_, 'null'], **extra}


DATE_TIME = {'type': 'string', 'format': 'date-time'}
ID = {'type': 'integer', 'minimum': 1, 'maximum': MAX_ID}
REF = {
    'type': 'object',
    'required': ['id', 'name'],
    'additionalProperties': False,
    'properties': {'id': ID, 'name': {'type': 'string'}},
    }

SCHEMAS = {
    'Error': {
        'type': 'object',
        'description': "Every error answer; code is stable, message is "
        "meant for people.",
        'required': ['error'],
        'additionalProperties': False,
        'properties': {
            'error': {
                'type': 'object',
                'required': ['code', 'message'],
                'additionalProperties': False,
                'properties': {
                    'code': {'type': 'string', 'pattern': '^[a-z_]+$'},
                    'message': {'type': 'string', 'minLength': 1},
                    },
                },
            },
        },
    'Venue': REF,
    'EventRef': REF,
    'Session': {
        'type': 'object',
        'description': "A performance; dates carry the event's time zone "
        "offset. capacity, sold and held are the session's own pool; "
        "available is the smallest availability of all its pools.",
        'required': [
            'id', 'event', 'name', 'start', 'end', 'timezone', 'state',
            'capacity', 'sold', 'held', 'available', 'on_sale', 'venue'],
        'additionalProperties': False,
        'properties': {
            'id': ID,
            'event': _schema('EventRef'),
            'name': _nullable('string'),
            'start': DATE_TIME,
            'end': {'oneOf': [DATE_TIME, {'type': 'null'}]},
            'timezone': {'type': 'string'},
            'state': {'enum': [
                    'scheduled', 'on_sale', 'sold_out', 'closed',
                    'cancelled']},
            'capacity': {'type': 'integer', 'minimum': 0},
            'sold': {'type': 'integer', 'minimum': 0},
            'held': {'type': 'integer', 'minimum': 0},
            'available': {'type': 'integer', 'minimum': 0},
            'on_sale': {
                'type': 'boolean',
                'description': "The web channel may sell it now."},
            'venue': _schema('Venue'),
            },
        },
    'Event': {
        'type': 'object',
        'required': [
            'id', 'name', 'description', 'timezone', 'hide_dates', 'venue',
            'tags', 'sessions'],
        'additionalProperties': False,
        'properties': {
            'id': ID,
            'name': {'type': 'string'},
            'description': _nullable('string'),
            'timezone': {'type': 'string'},
            'hide_dates': {
                'type': 'boolean',
                'description': "Show the event without its dates "
                "(exhibitions, seasons)."},
            'venue': _schema('Venue'),
            'tags': {'type': 'array', 'items': {'type': 'string'}},
            'sessions': {
                'type': 'array', 'items': _schema('Session'),
                'description': "The sessions listed online, by start."},
            },
        },
    'EventList': {
        'type': 'object',
        'required': ['events'],
        'additionalProperties': False,
        'properties': {
            'events': {'type': 'array', 'items': _schema('Event')},
            },
        },
    'HoldRequest': {
        'type': 'object',
        'description': "Session ids and quantities are written as JSON "
        "integers (2, not 2.0 nor \"2\"); unknown members are refused.",
        'required': ['items'],
        'additionalProperties': False,
        'properties': {
            'items': {
                'type': 'array', 'minItems': 1, 'maxItems': MAX_ITEMS,
                'items': {
                    'type': 'object',
                    'required': ['session', 'quantity'],
                    'additionalProperties': False,
                    'properties': {
                        'session': ID,
                        'quantity': {
                            'type': 'integer', 'minimum': 1,
                            'maximum': MAX_QUANTITY},
                        },
                    },
                },
            'channel': {'enum': ['web', 'api'], 'default': 'web'},
            },
        },
    'Hold': {
        'type': 'object',
        'description': "Places held until expires_at (UTC); the token is "
        "the only reference to the hold.",
        'required': [
            'token', 'state', 'channel', 'expires_at', 'live', 'quantity',
            'items'],
        'additionalProperties': False,
        'properties': {
            'token': {'type': 'string', 'minLength': 16},
            'state': {'enum': ['active', 'converted', 'released', 'expired']},
            'channel': {'type': 'string'},
            'expires_at': DATE_TIME,
            'live': {
                'type': 'boolean',
                'description': "Active and not past its expiry date."},
            'quantity': {'type': 'integer', 'minimum': 1},
            'items': {
                'type': 'array',
                'items': {
                    'type': 'object',
                    'required': ['session', 'quantity', 'description'],
                    'additionalProperties': False,
                    'properties': {
                        'session': ID,
                        'quantity': {'type': 'integer', 'minimum': 1},
                        'description': _nullable('string'),
                        },
                    },
                },
            },
        },
    }

RESPONSES = {
    'BadRequest': _error(
        "Malformed request: invalid_json, invalid_body, invalid_parameter, "
        "invalid_quantity, invalid_channel, mixed_companies, "
        "invalid_request."),
    'NotFound': _error(
        "Unknown or not public: not_found, event_not_found, "
        "session_not_found, hold_not_found, database_not_found."),
    'Conflict': _error(
        "The request is valid but the state forbids it: sale_closed, "
        "capacity_exceeded, hold_not_active."),
    'PayloadTooLarge': _error("The body is too large: body_too_large."),
    'UnsupportedMediaType': _error(
        "The body is not JSON: unsupported_media_type."),
    'ServiceUnavailable': _error(
        "The database stayed busy after retries; try again: busy."),
    }

PARAMETERS = {
    'EventId': {
        'name': 'event_id', 'in': 'path', 'required': True, 'schema': ID},
    'SessionId': {
        'name': 'session_id', 'in': 'path', 'required': True, 'schema': ID},
    'HoldToken': {
        'name': 'token', 'in': 'path', 'required': True,
        'schema': {'type': 'string'}},
    }

PATHS = {
    '/ticket/api/v1/events': {
        'get': {
            'operationId': 'listEvents',
            'summary': "Published public events and their sessions listed "
            "online",
            'parameters': [
                {'name': 'tag', 'in': 'query', 'schema': {
                        'type': 'string', 'minLength': 1,
                        'maxLength': 100}},
                {'name': 'from', 'in': 'query', 'description':
                    "Sessions starting on or after this day (event time "
                    "zone).", 'schema': {'type': 'string', 'format': 'date'}},
                {'name': 'to', 'in': 'query', 'description':
                    "Sessions starting on or before this day (event time "
                    "zone).", 'schema': {'type': 'string', 'format': 'date'}},
                {'name': 'venue', 'in': 'query', 'schema': ID},
                ],
            'responses': {
                '200': _json(_schema('EventList'),
                    "Events with at least one listed session matching the "
                    "filters, by first session."),
                '400': _ref('responses', 'BadRequest'),
                '404': _ref('responses', 'NotFound'),
                },
            },
        },
    '/ticket/api/v1/events/{event_id}': {
        'parameters': [_ref('parameters', 'EventId')],
        'get': {
            'operationId': 'getEvent',
            'summary': "A published public event",
            'responses': {
                '200': _json(_schema('Event'), "The event."),
                '404': _ref('responses', 'NotFound'),
                },
            },
        },
    '/ticket/api/v1/sessions/{session_id}': {
        'parameters': [_ref('parameters', 'SessionId')],
        'get': {
            'operationId': 'getSession',
            'summary': "A session of a published public event, listed or "
            "reachable by link",
            'responses': {
                '200': _json(_schema('Session'), "The session."),
                '404': _ref('responses', 'NotFound'),
                },
            },
        },
    '/ticket/api/v1/holds': {
        'post': {
            'operationId': 'createHold',
            'summary': "Hold places of sessions, all or none",
            'requestBody': {
                'required': True,
                'content': {JSON: {'schema': _schema('HoldRequest')}},
                },
            'responses': {
                '201': _json(_schema('Hold'), "The places are held."),
                '400': _ref('responses', 'BadRequest'),
                '404': _ref('responses', 'NotFound'),
                '409': _ref('responses', 'Conflict'),
                '413': _ref('responses', 'PayloadTooLarge'),
                '415': _ref('responses', 'UnsupportedMediaType'),
                '503': _ref('responses', 'ServiceUnavailable'),
                },
            },
        },
    '/ticket/api/v1/holds/{token}': {
        'parameters': [_ref('parameters', 'HoldToken')],
        'get': {
            'operationId': 'getHold',
            'summary': "A hold",
            'responses': {
                '200': _json(_schema('Hold'), "The hold."),
                '404': _ref('responses', 'NotFound'),
                },
            },
        'delete': {
            'operationId': 'releaseHold',
            'summary': "Give the places of an active hold back",
            'responses': {
                '200': _json(_schema('Hold'), "The released hold."),
                '404': _ref('responses', 'NotFound'),
                '409': _ref('responses', 'Conflict'),
                '503': _ref('responses', 'ServiceUnavailable'),
                },
            },
        },
    '/ticket/api/v1/openapi.json': {
        'get': {
            'operationId': 'getOpenAPI',
            'summary': "This document",
            'responses': {
                '200': _json({'type': 'object'}, "The OpenAPI document."),
                },
            },
        },
    }

DOCUMENT = {
    'openapi': '3.1.0',
    'info': {
        'title': "Guichet public API",
        'version': VERSION,
        'description': "Events, sessions and holds. Every error answers "
        "{\"error\": {\"code\", \"message\"}} with a 4xx status (503 when "
        "the database stays busy) and changes nothing; a path the API lacks "
        "answers 404 not_found, a method it lacks 405 method_not_allowed.",
        },
    'servers': [{
            'url': '/{database}',
            'variables': {'database': {'default': 'guichet'}},
            }],
    'paths': PATHS,
    'components': {
        'schemas': SCHEMAS,
        'responses': RESPONSES,
        'parameters': PARAMETERS,
        },
    }


def _merge(target, values, kind):
    for name, value in (values or {}).items():
        if name in target:
            raise ValueError(f"OpenAPI {kind} {name!r} is already described")
        target[name] = copy.deepcopy(value)


def register(paths=None, schemas=None, responses=None, parameters=None,
        security_schemes=None):
    """Add the paths and components of an addon to the document.

    A path already described may get new methods, never a method described
    twice; a component name must be new."""
    for path, operations in (paths or {}).items():
        _merge(PATHS.setdefault(path, {}), operations, f'path {path}')
    components = DOCUMENT['components']
    _merge(components['schemas'], schemas, 'schema')
    _merge(components['responses'], responses, 'response')
    _merge(components['parameters'], parameters, 'parameter')
    if security_schemes:
        _merge(components.setdefault('securitySchemes', {}),
            security_schemes, 'security scheme')


def extend_schema(name, properties, required=()):
    "Add properties to an object schema, e.g. the fields an addon serves"
    schema = SCHEMAS[name]
    _merge(schema['properties'], properties, f'property of {name}')
    schema['required'] = schema['required'] + list(required)


def document(database_name=None):
    "Return a copy of the document, for database_name's server if given"
    result = copy.deepcopy(DOCUMENT)
    if database_name is not None:
        result['servers'] = [{'url': f'/{database_name}'}]
    return result
