"""The check-in API over real HTTP on PostgreSQL, with concurrent devices.

Every reply is checked against the OpenAPI document; refused requests are
checked to write nothing; 16 devices scanning the same tickets at the same
time admit each exactly once.
"""
import datetime as dt
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

from tests.checkin import CHECKIN, auth, create_gate, sell_tickets
from tests.server import API, ApiServer, Client, OpenAPIChecker

SERVER = None
DEVICES = 16


def setUpModule():
    global SERVER
    SERVER = ApiServer('test_checkin_api')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


class CheckinApiTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = SERVER
        document = SERVER.client.get(f'{API}/openapi.json').json
        cls.document = document
        cls.checker = OpenAPIChecker(document)
        cls.client = Client(SERVER.port, SERVER.database, cls.checker)
        cls.addClassCleanup(cls.client.close)
        ids = SERVER.ids
        with SERVER.transaction() as pool:
            cls.tickets = [(t.id, t.secret, t.qr_data, t.holder_name)
                for t in sell_tickets(pool, ids['sessions']['open'], 60)]
            cls.list_id, cls.keys = create_gate(pool, ids['events']['main'],
                devices=DEVICES, show_fields=['number', 'order'])
            cls.concert_list, (cls.concert_key,) = create_gate(
                pool, ids['events']['concert'], name="Concert")
            cls.other_ticket, = [t.secret for t in sell_tickets(
                    pool, ids['sessions']['concert'], 1)]

    def scan(self, body, key=None, **kwargs):
        return self.client.post(f'{CHECKIN}/scan', body,
            headers=auth(key or self.keys[0]), **kwargs)

    def count(self, table, where='true'):
        return self.server.sql(
            f'SELECT count(*) FROM {table} WHERE {where}')[0][0]

    def written(self):
        return (self.count('ticket_access_scan'),
            self.count('ticket_access_entry'),
            self.server.sql('SELECT id, state FROM ticket_ticket '
                'ORDER BY id'))

    def assertError(self, reply, status, code):
        self.assertEqual(reply.status, status, reply)
        self.assertEqual(reply.json['error']['code'], code, reply)
        self.assertTrue(reply.json['error']['message'])

    def test_document(self):
        "The check-in paths are in the valid OpenAPI document"
        from openapi_spec_validator import validate
        validate(self.document)
        for path in ['scan', 'search', 'bundle', 'sync', 'offline-scans',
                'device', 'scans/{scan_id}/undo']:
            self.assertIn(f'{CHECKIN}/{path}', self.document['paths'])
        self.assertIn('deviceKey',
            self.document['components']['securitySchemes'])

    def test_scan_one_round_trip(self):
        "A scan answers the result, holder, tariff and the chosen fields"
        ticket_id, _, code, holder = self.tickets[0]
        reply = self.scan({'list': self.list_id, 'code': code})
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual((reply.json['result'], reply.json['ok']),
            ('ok', True))
        self.assertEqual(reply.json['ticket']['id'], ticket_id)
        self.assertEqual(reply.json['ticket']['holder_name'], holder)
        # Tickets sold without a tariff (core holds) carry no type label.
        self.assertIn('tariff', reply.json['ticket'])
        self.assertEqual(set(reply.json['fields']), {'number', 'order'})
        again = self.scan({'list': self.list_id, 'code': code})
        self.assertEqual(again.json['result'], 'already_used')
        self.assertFalse(again.json['ok'])

    def test_concurrent_scans_admit_once(self):
        "16 devices scan the same 20 tickets at once: one ok per ticket"
        tickets = self.tickets[10:30]
        start = threading.Barrier(DEVICES)

        def device(key):
            start.wait()
            return [(t[0], self.scan({'list': self.list_id, 'code': t[1]},
                        key=key).json['result']) for t in tickets]
        with ThreadPoolExecutor(DEVICES) as executor:
            results = [r for rs in executor.map(device, self.keys)
                for r in rs]
        self.assertEqual(len(results), DEVICES * len(tickets))
        for ticket_id, _, _, _ in tickets:
            answers = sorted(r for t, r in results if t == ticket_id)
            self.assertEqual(answers,
                ['already_used'] * (DEVICES - 1) + ['ok'], ticket_id)
        ids = ','.join(str(t[0]) for t in tickets)
        self.assertEqual(self.count('ticket_access_entry',
                f"ticket IN ({ids}) AND state = 'inside'"), len(tickets))
        self.assertEqual(self.count('ticket_access_scan',
                f"ticket IN ({ids}) AND result = 'ok'"), len(tickets))
        self.assertEqual(self.count('ticket_ticket',
                f"id IN ({ids}) AND state = 'used'"), len(tickets))

    def test_refused_requests_write_nothing(self):
        "Bad bodies are 400, a missing or unknown key 401, a list 403"
        before = self.written()
        code = self.tickets[1][1]
        for body, code_ in [
                ({'list': self.list_id}, 'invalid_body'),
                ({'list': self.list_id, 'code': code, 'ticket': 1},
                    'invalid_body'),
                ({'list': 'x', 'code': code}, 'invalid_body'),
                ({'list': self.list_id, 'code': ''}, 'invalid_code'),
                ({'list': self.list_id, 'code': 'x' * 1000},
                    'invalid_code'),
                ({'list': self.list_id, 'code': code, 'direction': 'up'},
                    'invalid_body'),
                ({'list': self.list_id, 'code': code, 'extra': 1},
                    'invalid_body'),
                ([], 'invalid_body'),
                ]:
            with self.subTest(body=body):
                self.assertError(self.scan(body), 400, code_)
        self.assertError(self.client.request('POST', f'{CHECKIN}/scan',
                data=b'{"list":', headers=dict(auth(self.keys[0]),
                    **{'Content-Type': 'application/json'})),
            400, 'invalid_json')
        self.assertError(self.client.post(f'{CHECKIN}/scan',
                {'list': self.list_id, 'code': code}), 401, 'unauthorized')
        self.assertError(self.scan({'list': self.list_id, 'code': code},
                key='nope'), 401, 'unauthorized')
        self.assertError(self.scan({'list': self.concert_list,
                    'code': code}), 403, 'list_not_allowed')
        self.assertError(self.client.get(f'{CHECKIN}/sync?since=abc',
                headers=auth(self.keys[0])), 400, 'invalid_parameter')
        self.assertError(self.client.post(f'{CHECKIN}/offline-scans',
                {'scans': [{'id': 'a', 'list': self.list_id, 'code': code,
                            'scanned_at': '2020-01-01T00:00:00'}]},
                headers=auth(self.keys[0])), 400, 'invalid_body')
        self.assertEqual(self.written(), before)

    def test_results_over_http(self):
        "Unknown, wrong list and invalid signature answer 200 with a result"
        code = self.tickets[2][2]
        forged = code[:-4] + ('AAAA' if code[-4:] != 'AAAA' else 'BBBB')
        for body, result in [
                ({'code': 'x' * 32}, 'unknown'),
                ({'code': self.other_ticket}, 'wrong_list'),
                ({'code': forged}, 'invalid_signature'),
                ({'code': code[:50]}, 'invalid_signature'),
                ({'ticket': self.tickets[2][0]}, 'ok'),
                ]:
            with self.subTest(result=result):
                reply = self.scan(dict(body, list=self.list_id))
                self.assertEqual(reply.json['result'], result, reply)

    def test_device_revoked_at_once(self):
        "A revoked device is refused on its next request"
        with self.server.transaction() as pool:
            list_id, (key,) = create_gate(
                pool, self.server.ids['events']['main'], name="Temp")
        reply = self.client.get(f'{CHECKIN}/device', headers=auth(key))
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual([l['id'] for l in reply.json['lists']], [list_id])
        with self.server.transaction() as pool:
            Device = pool.get('ticket.access.device')
            device, = Device.search([('name', '=', "Temp 1")])
            Device.revoke([device])
        self.assertError(self.client.get(f'{CHECKIN}/device',
                headers=auth(key)), 401, 'unauthorized')
        self.assertError(self.scan({'list': list_id,
                    'code': self.tickets[3][1]}, key=key), 401,
            'unauthorized')

    def test_search_and_undo(self):
        "Find a ticket by number, admit it by id, undo the scan"
        ticket_id = self.tickets[4][0]
        number, = self.server.sql(
            'SELECT number FROM ticket_ticket WHERE id = %s', (ticket_id,))[0]
        headers = auth(self.keys[1])
        reply = self.client.get(
            f'{CHECKIN}/search?list={self.list_id}&q={number}',
            headers=headers)
        self.assertEqual([t['id'] for t in reply.json['tickets']],
            [ticket_id])
        scan = self.scan({'list': self.list_id, 'ticket': ticket_id},
            key=self.keys[1]).json
        self.assertEqual(scan['result'], 'ok')
        reply = self.client.get(
            f'{CHECKIN}/search?list={self.list_id}&q={number}',
            headers=headers)
        self.assertEqual(reply.json['tickets'][0]['entries'][0]['state'],
            'inside')
        self.assertError(self.client.post(
                f'{CHECKIN}/scans/{scan["scan"]}/undo',
                headers=auth(self.keys[2])), 404, 'scan_not_found')
        reply = self.client.post(f'{CHECKIN}/scans/{scan["scan"]}/undo',
            headers=headers)
        self.assertEqual(reply.json, {'scan': scan['scan'], 'undone': True})
        self.assertError(self.client.post(
                f'{CHECKIN}/scans/{scan["scan"]}/undo', headers=headers),
            409, 'not_undoable')
        self.assertEqual(self.scan({'list': self.list_id,
                    'ticket': ticket_id}).json['result'], 'ok')

    def test_offline_bundle_sync_upload(self):
        "Download a bundle, scan offline, upload, sync the changes"
        from guichet.ticket_access.offline import OfflineVerifier
        headers = auth(self.keys[3])
        bundle = self.client.get(f'{CHECKIN}/bundle', headers=headers).json
        device = OfflineVerifier(bundle)
        now = dt.datetime.now(dt.timezone.utc)
        _, secret, code, _ = self.tickets[40]
        _, secret2, code2, _ = self.tickets[41]
        self.assertEqual(device.admit(code, self.list_id, now.replace(
                    tzinfo=None)), 'ok')
        self.assertEqual(device.admit(code, self.list_id, now.replace(
                    tzinfo=None)), 'already_used')
        # Another gate admits the second ticket online after the offline
        # scan: the offline scan came first and wins.
        online = self.scan({'list': self.list_id, 'code': secret2})
        self.assertEqual(online.json['result'], 'ok')
        scans = [
            {'id': 'off-1', 'list': self.list_id, 'code': code,
                'scanned_at': now.isoformat(), 'result': 'ok'},
            {'id': 'off-2', 'list': self.list_id, 'code': code2,
                'scanned_at': (now - dt.timedelta(minutes=2)).isoformat(),
                'result': 'ok'},
            ]
        reply = self.client.post(f'{CHECKIN}/offline-scans',
            {'scans': scans}, headers=headers)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(
            [(r['id'], r['result'], r['conflict'])
                for r in reply.json['results']],
            [('off-1', 'ok', False), ('off-2', 'ok', True)])
        again = self.client.post(f'{CHECKIN}/offline-scans',
            {'scans': scans}, headers=headers)
        self.assertEqual(again.json, reply.json)
        self.assertEqual(self.server.sql(
                'SELECT result, conflict FROM ticket_access_scan '
                'WHERE id = %s', (online.json['scan'],)),
            [('already_used', True)])

        changes = self.client.get(
            f'{CHECKIN}/sync?since={bundle["sync_token"]}',
            headers=headers).json
        self.assertLess(len(changes['tickets']), len(bundle['tickets']))
        entries = {(e['ticket'], e['state']) for e in changes['entries']}
        self.assertIn((self.tickets[40][0], 'inside'), entries)
        self.assertIn((self.tickets[41][0], 'inside'), entries)
        device.apply(changes)
        self.assertEqual(device.check(code2, self.list_id, now.replace(
                    tzinfo=None))[0], 'already_used')
