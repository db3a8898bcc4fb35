"""The check-in API in the OpenAPI document (``ticket_event.openapi``)."""
from guichet.ticket_event import openapi
from guichet.ticket_event.openapi import (
    DATE_TIME, ID, JSON, _json, _nullable, _ref, _schema)

from .offline import MAX_UPLOAD
from .scan import MAX_SECRET, RESULTS
from .signing import MAX_CODE

BASE = '/ticket/api/v1/checkin'
RESULT = {
    'enum': [r for r, _ in RESULTS],
    'description': "ok; already_used (admitted before on this list, or "
    "left when going out); unknown; wrong_list (another event, or a tariff "
    "the list does not admit); wrong_session (a session the list does not "
    "admit, or whose gates closed); not_yet_valid (gates not open yet); "
    "cancelled; invalid_signature (a signed code cut short, altered or "
    "signed by another key).",
    }
DIRECTION = {'enum': ['in', 'out']}
IDS = {'type': 'array', 'items': ID}
SECONDS = _nullable('integer', minimum=0)
SCANNED_CODE = {
    'type': 'string', 'minLength': 1, 'maxLength': max(MAX_CODE, MAX_SECRET),
    'description': "The content of the QR code: a signed code (G1...) or "
    "a plain ticket secret."}
AUTH = [{'deviceKey': []}]

SCHEMAS = {
    'CheckinList': {
        'type': 'object',
        'description': "The rules of a check-in list. open_before and "
        "close_after are seconds around a session's start and end (null: "
        "no limit); empty sessions, tariffs and categories mean all.",
        'required': [
            'id', 'name', 'event', 'allow_reentry', 'count_only',
            'open_before', 'close_after', 'sessions', 'tariffs',
            'categories', 'show_fields'],
        'additionalProperties': False,
        'properties': {
            'id': ID,
            'name': {'type': 'string'},
            'event': ID,
            'allow_reentry': {'type': 'boolean'},
            'count_only': {'type': 'boolean'},
            'open_before': SECONDS,
            'close_after': SECONDS,
            'sessions': IDS,
            'tariffs': IDS,
            'categories': IDS,
            'show_fields': {'type': 'array', 'items': {'type': 'string'}},
            },
        },
    'CheckinDevice': {
        'type': 'object',
        'required': ['id', 'name', 'lists'],
        'additionalProperties': False,
        'properties': {
            'id': ID,
            'name': {'type': 'string'},
            'lists': {'type': 'array', 'items': _schema('CheckinList')},
            },
        },
    'ScanRequest': {
        'type': 'object',
        'description': "Give the scanned code, or the id of a ticket found "
        "by search. Without direction, a re-entry list toggles in and out; "
        "other lists scan in. session chooses the admission of a pass.",
        'required': ['list'],
        'additionalProperties': False,
        'properties': {
            'list': ID,
            'code': SCANNED_CODE,
            'ticket': ID,
            'direction': DIRECTION,
            'session': ID,
            },
        },
    'ScannedTicket': {
        'type': 'object',
        'required': ['id', 'number', 'holder_name', 'tariff', 'session'],
        'additionalProperties': False,
        'properties': {
            'id': ID,
            'number': {'type': 'string'},
            'holder_name': _nullable('string'),
            'tariff': _nullable('string'),
            'session': {'oneOf': [{'type': 'null'}, {
                        'type': 'object', 'required': ['id', 'start'],
                        'additionalProperties': False,
                        'properties': {'id': ID, 'start': DATE_TIME}}]},
            },
        },
    'ScanResult': {
        'type': 'object',
        'description': "Every scan is answered 200 with its result, "
        "refusals included; fields holds what the list shows.",
        'required': [
            'scan', 'result', 'ok', 'direction', 'message', 'list',
            'ticket', 'fields'],
        'additionalProperties': False,
        'properties': {
            'scan': ID,
            'result': RESULT,
            'ok': {'type': 'boolean'},
            'direction': DIRECTION,
            'message': {'type': 'string'},
            'list': ID,
            'ticket': {'oneOf': [
                    {'type': 'null'}, _schema('ScannedTicket')]},
            'fields': {'type': 'object'},
            },
        },
    'CheckinSearch': {
        'type': 'object',
        'required': ['tickets'],
        'additionalProperties': False,
        'properties': {
            'tickets': {'type': 'array', 'items': {
                    'type': 'object',
                    'required': ['id', 'number', 'holder_name', 'tariff',
                        'state', 'order', 'entries'],
                    'additionalProperties': False,
                    'properties': {
                        'id': ID,
                        'number': {'type': 'string'},
                        'holder_name': _nullable('string'),
                        'tariff': _nullable('string'),
                        'state': {'enum': ['valid', 'used', 'cancelled']},
                        'order': {'type': 'string'},
                        'entries': {'type': 'array', 'items': {
                                'type': 'object',
                                'required': ['session', 'state'],
                                'additionalProperties': False,
                                'properties': {
                                    'session': ID,
                                    'state': {'enum': [
                                            'void', 'inside', 'outside']},
                                    }}},
                        },
                    }},
            },
        },
    'OfflineBundle': {
        'type': 'object',
        'description': "A full bundle (since null) or the changes since a "
        "token. tickets are valid tickets by the hash of their secret "
        "(base64url of the first 16 bytes of its SHA-256); revoked are "
        "cancelled tickets; keys are the events' Ed25519 public keys "
        "(base64url raw). Keep sync_token for the next sync.",
        'required': ['sync_token', 'since', 'generated_at', 'keys', 'lists',
            'sessions', 'tickets', 'revoked', 'entries'],
        'additionalProperties': False,
        'properties': {
            'sync_token': {'type': 'string', 'pattern': '^[0-9]+$'},
            'since': _nullable('string'),
            'generated_at': DATE_TIME,
            'keys': {'type': 'object',
                'additionalProperties': {'type': 'string'}},
            'lists': {'type': 'array', 'items': _schema('CheckinList')},
            'sessions': {'type': 'array', 'items': {
                    'type': 'object',
                    'required': ['id', 'event', 'start', 'end', 'cancelled'],
                    'additionalProperties': False,
                    'properties': {
                        'id': ID, 'event': ID, 'start': DATE_TIME,
                        'end': {'oneOf': [DATE_TIME, {'type': 'null'}]},
                        'cancelled': {'type': 'boolean'},
                        }}},
            'tickets': {'type': 'array', 'items': {
                    'type': 'object',
                    'required': ['id', 'h', 'number', 'holder_name',
                        'tariff', 'admissions'],
                    'additionalProperties': False,
                    'properties': {
                        'id': ID,
                        'h': {'type': 'string'},
                        'number': {'type': 'string'},
                        'holder_name': _nullable('string'),
                        'tariff': _nullable('string'),
                        'admissions': {'type': 'array', 'items': {
                                'type': 'object',
                                'required': ['session', 'tariffs',
                                    'categories', 'cancelled'],
                                'additionalProperties': False,
                                'properties': {
                                    'session': ID, 'tariffs': IDS,
                                    'categories': IDS,
                                    'cancelled': {'type': 'boolean'},
                                    }}},
                        }}},
            'revoked': {'type': 'array', 'items': {
                    'type': 'object', 'required': ['id', 'h'],
                    'additionalProperties': False,
                    'properties': {'id': ID, 'h': {'type': 'string'}}}},
            'entries': {'type': 'array', 'items': {
                    'type': 'object',
                    'required': ['list', 'ticket', 'session', 'state'],
                    'additionalProperties': False,
                    'properties': {
                        'list': ID, 'ticket': ID, 'session': ID,
                        'state': {'enum': ['void', 'inside', 'outside']},
                        }}},
            },
        },
    'OfflineUpload': {
        'type': 'object',
        'required': ['scans'],
        'additionalProperties': False,
        'properties': {
            'scans': {
                'type': 'array', 'minItems': 1, 'maxItems': MAX_UPLOAD,
                'items': {
                    'type': 'object',
                    'description': "id is the device's own unique id of "
                    "the scan (uploading it again records it once); "
                    "result is what the device answered offline.",
                    'required': ['id', 'list', 'scanned_at'],
                    'additionalProperties': False,
                    'properties': {
                        'id': {'type': 'string', 'minLength': 1,
                            'maxLength': 64},
                        'list': ID,
                        'code': SCANNED_CODE,
                        'ticket': ID,
                        'direction': DIRECTION,
                        'session': ID,
                        'scanned_at': DATE_TIME,
                        'result': RESULT,
                        },
                    },
                },
            },
        },
    'OfflineUploadResult': {
        'type': 'object',
        'description': "The server's result of each scan, in the order "
        "sent; conflict marks a scan that another came before (by time).",
        'required': ['results'],
        'additionalProperties': False,
        'properties': {
            'results': {'type': 'array', 'items': {
                    'type': 'object',
                    'required': ['id', 'scan', 'result', 'conflict'],
                    'additionalProperties': False,
                    'properties': {
                        'id': {'type': 'string'}, 'scan': ID,
                        'result': RESULT, 'conflict': {'type': 'boolean'},
                        }}},
            },
        },
    'UndoneScan': {
        'type': 'object',
        'required': ['scan', 'undone'],
        'additionalProperties': False,
        'properties': {'scan': ID, 'undone': {'const': True}},
        },
    }

RESPONSES = {
    'Unauthorized': _json(_schema('Error'),
        "No valid device key (Authorization: Bearer <key>), or the device "
        "was revoked: unauthorized."),
    'Forbidden': _json(_schema('Error'),
        "The device may not use this check-in list: list_not_allowed."),
    }

_ERRORS = {
    '400': _ref('responses', 'BadRequest'),
    '401': _ref('responses', 'Unauthorized'),
    '403': _ref('responses', 'Forbidden'),
    '404': _ref('responses', 'NotFound'),
    '503': _ref('responses', 'ServiceUnavailable'),
    }
_BODY_ERRORS = {
    '413': _ref('responses', 'PayloadTooLarge'),
    '415': _ref('responses', 'UnsupportedMediaType'),
    }


def _operation(operation_id, summary, response, description, body=None,
        parameters=None, extra=None):
    operation = {
        'operationId': operation_id,
        'summary': summary,
        'security': AUTH,
        'responses': {'200': _json(_schema(response), description),
            **_ERRORS, **(extra or {})},
        }
    if body:
        operation['requestBody'] = {
            'required': True, 'content': {JSON: {'schema': _schema(body)}}}
        operation['responses'].update(_BODY_ERRORS)
    if parameters:
        operation['parameters'] = parameters
    return operation


PATHS = {
    f'{BASE}/device': {'get': _operation(
            'getCheckinDevice', "The device and its check-in lists",
            'CheckinDevice', "The device.")},
    f'{BASE}/scan': {'post': _operation(
            'scanTicket', "Scan a ticket at a gate, in one round trip",
            'ScanResult', "The scan and its result.", body='ScanRequest')},
    f'{BASE}/search': {'get': _operation(
            'searchCheckin', "Find tickets of a list's event by holder "
            "name, ticket or order number", 'CheckinSearch',
            "At most 20 tickets.", parameters=[
                {'name': 'list', 'in': 'query', 'required': True,
                    'schema': ID},
                {'name': 'q', 'in': 'query', 'required': True,
                    'schema': {'type': 'string', 'minLength': 2,
                        'maxLength': 100}},
                ])},
    f'{BASE}/bundle': {'get': _operation(
            'getCheckinBundle', "The offline bundle of the device's lists",
            'OfflineBundle', "The whole bundle.")},
    f'{BASE}/sync': {'get': _operation(
            'syncCheckin', "What changed since a sync token",
            'OfflineBundle', "The changes.", parameters=[
                {'name': 'since', 'in': 'query', 'required': True,
                    'schema': {'type': 'string', 'pattern': '^[0-9]+$'}},
                ])},
    f'{BASE}/offline-scans': {'post': _operation(
            'uploadOfflineScans', "Upload the scans made offline",
            'OfflineUploadResult', "The server's results.",
            body='OfflineUpload')},
    f'{BASE}/scans/{{scan_id}}/undo': {
        'parameters': [{'name': 'scan_id', 'in': 'path', 'required': True,
                'schema': ID}],
        'post': _operation(
            'undoScan', "Undo an admitting scan of this device",
            'UndoneScan', "The scan is undone.",
            extra={'409': _ref('responses', 'Conflict')})},
    }

SECURITY_SCHEMES = {
    'deviceKey': {
        'type': 'http', 'scheme': 'bearer',
        'description': "The API key of a check-in device (a Tryton user "
        "application \"Ticket Scanner\"); revoking the device refuses it "
        "at once.",
        },
    }


def describe_api():
    openapi.register(paths=PATHS, schemas=SCHEMAS, responses=RESPONSES,
        security_schemes=SECURITY_SCHEMES)
