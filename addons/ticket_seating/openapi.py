"""The OpenAPI description of the seating routes (routes.py), added to the
one document of the event core."""
from guichet.ticket_event import openapi
from guichet.ticket_event.openapi import ID, JSON, _json, _nullable, _ref, \
    _schema
from guichet.ticket_pricing.openapi import MONEY

MAX_SEATS = 50
CHANNEL = {'enum': ['web', 'api'], 'default': 'web'}
MODE = {'enum': ['pick', 'auto_view', 'auto_change', 'auto'],
    'description': "How the channel sells the seats: pick on the map, "
    "automatic with the map shown, automatic that the buyer may change, "
    "automatic only (no map)."}
SEAT_IDS = {
    'type': 'array', 'minItems': 1, 'maxItems': MAX_SEATS,
    'uniqueItems': True, 'items': ID}
NUMBER = {'type': 'number'}


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
    'Seat': _object({
            'id': ID,
            'label': {'type': 'string'},
            'x': NUMBER,
            'y': NUMBER,
            'category': {'oneOf': [ID, {'type': 'null'}]},
            'status': {'enum': ['free', 'taken']},
            'wheelchair': {'type': 'boolean'},
            'companion': {'type': 'boolean'},
            'restricted_view': {'type': 'boolean'},
            }, description="A seat; x and y in seat widths, y away from "
        "the stage. A wheelchair or companion seat is chosen only when "
        "asked for."),
    'SeatCategory': _object({
            'id': ID,
            'name': {'type': 'string'},
            'color': {'type': 'string', 'pattern': '^#[0-9a-fA-F]{6}$'},
            'free': {'type': 'integer', 'minimum': 0},
            'tariffs': {'type': 'array', 'items': _object({
                        'id': ID,
                        'name': {'type': 'string'},
                        'price': MONEY,
                        })},
            }, description="A price zone and the tariffs on sale for its "
        "seats on the channel, in order (the first is the default)."),
    'SeatMap': _object({
            'session': ID,
            'channel': {'enum': ['web', 'api']},
            'mode': MODE,
            'map': _object({
                    'id': ID,
                    'name': {'type': 'string'},
                    'focal_point': _object({'x': NUMBER, 'y': NUMBER}),
                    'bounds': _object({
                            'x': NUMBER, 'y': NUMBER,
                            'width': NUMBER, 'height': NUMBER}),
                    }),
            'categories': {
                'type': 'array', 'items': _schema('SeatCategory')},
            'free': {'type': 'integer', 'minimum': 0},
            'sections': {'type': 'array', 'items': _object({
                        'id': ID,
                        'name': {'type': 'string'},
                        'rows': {'type': 'array', 'items': _object({
                                    'id': ID,
                                    'name': {'type': 'string'},
                                    'seats': {'type': 'array',
                                        'items': _schema('Seat')},
                                    })},
                        })},
            }, description="The seats of a session by section and row; "
        "taken covers held, sold, blocked and kept for another channel."),
    'SeatHoldRequest': _object({
            'channel': CHANNEL,
            'seats': {**SEAT_IDS, 'description': "The seats picked on "
                "the map (pick mode only)."},
            'quantity': {'type': 'integer', 'minimum': 1,
                'maximum': MAX_SEATS,
                'description': "Best available: how many seats."},
            'category': {**ID, 'description': "Best available in this "
                "seat category only."},
            'tariffs': {
                'type': 'array', 'minItems': 1, 'maxItems': MAX_SEATS,
                'items': _object({
                        'tariff': ID,
                        'quantity': {'type': 'integer', 'minimum': 1,
                            'maximum': MAX_SEATS},
                        }),
                'description': "The tariffs of the seats, in order; by "
                "default each seat's category's first tariff. A season "
                "pass holds the same seat in each of its sessions."},
            'wheelchair': {'type': 'boolean', 'default': False,
                'description': "Best available among wheelchair and "
                "companion seats, with a wheelchair seat."},
            'allow_split': {'type': 'boolean', 'default': True,
                'description': "When no row fits the group, hold the best "
                "split (and say so) instead of refusing."},
            'contingent': {**ID, 'description': "Only the seats kept for "
                "this contingent of the channel."},
            }, required=[], description="Either seats, or quantity "
        "and/or tariffs (best available)."),
    'HeldSeat': _object({
            'id': ID,
            'session': ID,
            'section': {'type': 'string'},
            'row': {'type': 'string'},
            'label': {'type': 'string'},
            'name': {'type': 'string'},
            'category': {'oneOf': [_schema('EventRef'), {'type': 'null'}]},
            'tariff': {'oneOf': [ID, {'type': 'null'}]},
            }),
    'SeatHold': _object({
            'hold': _schema('Hold'),
            'quote': _schema('Quote'),
            'seats': {'type': 'array', 'items': _schema('HeldSeat')},
            'split': {'type': 'boolean',
                'description': "The group could not sit together."},
            'message': _nullable('string'),
            }),
    'SeatChangeRequest': _object({'seats': SEAT_IDS}),
    'SeatChange': _object({
            'hold': _schema('Hold'),
            'seats': {'type': 'array', 'items': _schema('HeldSeat')},
            }),
    }

RESPONSES = {
    'SeatingBadRequest': _json(_schema('Error'),
        "Malformed request: invalid_json, invalid_body, invalid_channel, "
        "invalid_quantity, invalid_parameter, invalid_seat, "
        "invalid_request, invalid_amount, mixed_companies."),
    'SeatingForbidden': _json(_schema('Error'),
        "The seating mode of the channel forbids it: seat_map_hidden, "
        "seat_choice_not_allowed, seat_change_not_allowed; or restricted."),
    'SeatingConflict': _json(_schema('Error'),
        "The state of the sale forbids it: seats_unavailable, "
        "seats_not_together, isolated_seat, seat_taken, "
        "tariff_not_for_seat, tariff_not_for_session, "
        "tariff_not_for_channel, tariff_window_closed, sale_closed, "
        "capacity_exceeded, hold_not_active."),
    }

_ERRORS = {
    '400': _ref('responses', 'SeatingBadRequest'),
    '403': _ref('responses', 'SeatingForbidden'),
    '404': _ref('responses', 'NotFound'),
    '409': _ref('responses', 'SeatingConflict'),
    '413': _ref('responses', 'PayloadTooLarge'),
    '415': _ref('responses', 'UnsupportedMediaType'),
    '503': _ref('responses', 'ServiceUnavailable'),
    }
_CHANNEL = {'name': 'channel', 'in': 'query', 'schema': CHANNEL}


def _body(name):
    return {'required': True, 'content': {JSON: {'schema': _schema(name)}}}


PATHS = {
    '/ticket/api/v1/sessions/{session_id}/seats': {
        'parameters': [_ref('parameters', 'SessionId')],
        'get': {
            'operationId': 'getSeatMap',
            'summary': "The seats of a numbered session and their status",
            'parameters': [_CHANNEL, {
                    'name': 'section', 'in': 'query', 'schema': ID,
                    'description': "Only this section."}],
            'responses': {
                '200': _json(_schema('SeatMap'), "The seat map."),
                '400': _ref('responses', 'BadRequest'),
                '403': _ref('responses', 'SeatingForbidden'),
                '404': _ref('responses', 'NotFound'),
                },
            },
        },
    '/ticket/api/v1/sessions/{session_id}/seats.svg': {
        'parameters': [_ref('parameters', 'SessionId')],
        'get': {
            'operationId': 'getSeatMapPicture',
            'summary': "The seat map as an SVG picture: seats colored by "
            "category when free, grey when taken, labels on hover, "
            "data-seat attributes with the seat ids",
            'parameters': [_CHANNEL],
            'responses': {
                '200': {'description': "The picture.", 'content': {
                        'image/svg+xml': {'schema': {'type': 'string'}}}},
                '400': _ref('responses', 'BadRequest'),
                '403': _ref('responses', 'SeatingForbidden'),
                '404': _ref('responses', 'NotFound'),
                },
            },
        },
    '/ticket/api/v1/sessions/{session_id}/seats/holds': {
        'parameters': [_ref('parameters', 'SessionId')],
        'post': {
            'operationId': 'holdSeats',
            'summary': "Hold seats picked on the map, or the best "
            "available, priced by the engine; order them with POST "
            "/orders, release them with DELETE /holds/{token}",
            'requestBody': _body('SeatHoldRequest'),
            'responses': {
                '201': _json(_schema('SeatHold'),
                    "The seats are held; the hold's token orders them."),
                **_ERRORS,
                },
            },
        },
    '/ticket/api/v1/sessions/{session_id}/seats/holds/{token}': {
        'parameters': [
            _ref('parameters', 'SessionId'), _ref('parameters', 'HoldToken')],
        'put': {
            'operationId': 'changeSeats',
            'summary': "Move the seats of an active hold to others picked "
            "on the map, as many, at the same tariffs",
            'requestBody': _body('SeatChangeRequest'),
            'responses': {
                '200': _json(_schema('SeatChange'), "The hold's new seats."),
                **_ERRORS,
                },
            },
        },
    }


def describe_api():
    "Add the seating routes to the OpenAPI document"
    openapi.register(paths=PATHS, schemas=SCHEMAS, responses=RESPONSES)
