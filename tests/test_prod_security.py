"""Security over real HTTP: what a scanner key may read, what the hold
tokens give away, and the login rate limit of trytond.

- a device key reads its own event only: its bundle and sync carry no
  session, ticket or key of another event; another event's list is a 403;
  search finds nothing of another event; another device's scan cannot be
  undone; a scan of another event's ticket (by its code or by its id)
  tells nothing about that ticket (no holder, no number); a revoked key is
  refused;
- hold tokens carry 192 random bits and unknown tokens are 404s;
- trytond limits failed logins (429 after the allowed attempts);
- a box office operator's session (the POS login) reads orders but no
  accounting: no move, move line, account or ledger report of the company.

The shop's order tokens, promo code and order lookup rate limits and signed
provider notifications are tested in tests/test_shop_http.py.
"""
import json
import re
import unittest

from tests.checkin import CHECKIN, auth, create_gate, sell_tickets
from tests.pos import POS, log_in, setup_pos
from tests.server import API, ApiServer, Client, OpenAPIChecker

SERVER = None


def setUpModule():
    global SERVER
    SERVER = ApiServer('test_prod_security')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


class ScannerKeyTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = SERVER
        document = SERVER.client.get(f'{API}/openapi.json').json
        cls.client = Client(SERVER.port, SERVER.database,
            OpenAPIChecker(document))
        cls.addClassCleanup(cls.client.close)
        ids = SERVER.ids
        with SERVER.transaction() as pool:
            main = sell_tickets(pool, ids['sessions']['open'], 5)
            concert = sell_tickets(pool, ids['sessions']['concert'], 5)
            other = sell_tickets(pool, ids['sessions']['other'], 2)
            cls.main = [(t.id, t.qr_data, t.holder_name, t.number)
                for t in main]
            cls.concert = [(t.id, t.qr_data, t.number) for t in concert]
            cls.other = [(t.id, t.qr_data) for t in other]
            cls.list_id, (cls.key,) = create_gate(pool, ids['events']['main'])
            cls.concert_list, (cls.concert_key,) = create_gate(
                pool, ids['events']['concert'], name="Concert")
            cls.other_list, (cls.other_key,) = create_gate(
                pool, ids['events']['other'], name="Other")
        cls.ids = ids

    def get(self, path, key):
        return self.client.get(f'{CHECKIN}{path}', headers=auth(key))

    def scan(self, body, key=None):
        return self.client.post(f'{CHECKIN}/scan', body,
            headers=auth(key or self.key))

    def test_bundle_and_sync_of_own_event_only(self):
        for path in ['/bundle', '/sync?since=1']:
            with self.subTest(path=path):
                reply = self.get(path, self.key)
                self.assertEqual(reply.status, 200, reply)
                bundle = reply.json
                self.assertEqual({s['event'] for s in bundle['sessions']},
                    {self.ids['events']['main']})
                self.assertEqual(set(bundle['keys']),
                    {str(self.ids['events']['main'])})
                self.assertEqual({t['id'] for t in bundle['tickets']},
                    {t[0] for t in self.main})
                self.assertEqual([l['id'] for l in bundle['lists']],
                    [self.list_id])
                text = reply.raw.decode()
                for _, code, number in self.concert:
                    self.assertNotIn(number, text)
        # and the other way round
        bundle = self.get('/bundle', self.concert_key).json
        self.assertEqual({t['id'] for t in bundle['tickets']},
            {t[0] for t in self.concert})

    def test_other_lists_forbidden(self):
        for list_id in [self.concert_list, self.other_list]:
            with self.subTest(list=list_id):
                reply = self.scan({'list': list_id,
                        'code': self.concert[0][1]})
                self.assertEqual(reply.status, 403, reply)
                self.assertEqual(reply.json['error']['code'],
                    'list_not_allowed')
                reply = self.get(f'/search?list={list_id}&q=Fan', self.key)
                self.assertEqual(reply.status, 403, reply)

    def test_search_finds_own_event_only(self):
        number = self.main[0][3]
        reply = self.get(f'/search?list={self.list_id}&q={number}',
            self.key)
        self.assertEqual(reply.status, 200, reply)
        found = {t['id'] for t in reply.json['tickets']}
        self.assertTrue(found)
        self.assertTrue(found <= {t[0] for t in self.main})
        for _, _, number in self.concert:
            reply = self.get(f'/search?list={self.list_id}&q={number}',
                self.key)
            self.assertEqual(reply.json['tickets'], [])

    def test_scan_of_another_event_tells_nothing(self):
        "By code or by id, another event's ticket is refused, unread"
        cases = [
            ({'code': self.concert[0][1]}, 'wrong_list'),
            ({'ticket': self.concert[1][0]}, 'wrong_list'),
            ({'code': self.other[0][1]}, 'unknown'),
            ({'ticket': self.other[1][0]}, 'unknown'),
            ]
        for body, result in cases:
            with self.subTest(body=body):
                reply = self.scan(dict(body, list=self.list_id))
                self.assertEqual(reply.status, 200, reply)
                self.assertEqual(reply.json['result'], result)
                self.assertIsNone(reply.json['ticket'], reply)
                self.assertEqual(reply.json['fields'], {})
        # ticket ids of another event cannot be enumerated for names
        names = set()
        for ticket_id, _, _ in self.concert:
            reply = self.scan({'list': self.list_id, 'ticket': ticket_id})
            names.add(json.dumps(reply.json['ticket']))
        self.assertEqual(names, {'null'})
        # its own tickets are shown
        reply = self.scan({'list': self.list_id, 'code': self.main[0][1]})
        self.assertEqual(reply.json['result'], 'ok')
        self.assertEqual(reply.json['ticket']['holder_name'], self.main[0][2])

    def test_undo_of_another_device_scan(self):
        reply = self.scan({'list': self.concert_list,
                'code': self.concert[2][1]}, key=self.concert_key)
        self.assertEqual(reply.json['result'], 'ok', reply)
        scan = reply.json['scan']
        reply = self.client.post(f'{CHECKIN}/scans/{scan}/undo',
            headers=auth(self.key))
        self.assertEqual(reply.status, 404, reply)

    def test_unknown_and_revoked_keys(self):
        for key in ['', 'x' * 40, self.key[:-1], self.key + 'x']:
            with self.subTest(key=key):
                reply = self.get('/device', key)
                self.assertEqual(reply.status, 401, reply)
        with SERVER.transaction() as pool:
            Device = pool.get('ticket.access.device')
            device, = Device.search([('lists', '=', self.other_list)])
            Device.revoke([device])
        self.assertEqual(self.get('/device', self.other_key).status, 401)


class TokenTestCase(unittest.TestCase):

    def test_hold_tokens_unguessable(self):
        client = SERVER.client
        tokens = []
        for _ in range(20):
            reply = client.hold([(SERVER.ids['sessions']['small'], 1)])
            self.assertEqual(reply.status, 201, reply)
            tokens.append(reply.json['token'])
        for token in tokens:
            # 24 random bytes, URL-safe base64: 192 bits
            self.assertRegex(token, r'^[A-Za-z0-9_-]{32}$')
        self.assertEqual(len(set(tokens)), len(tokens))
        prefixes = {t[:4] for t in tokens}
        self.assertGreater(len(prefixes), 15)
        # neighbours of a real token are unknown
        token = tokens[0]
        for guess in [token[:-1] + ('A' if token[-1] != 'A' else 'B'),
                token.lower(), token.upper(), token[1:] + token[0]]:
            if guess == token:
                continue
            reply = client.get(f'{API}/holds/{guess}')
            self.assertEqual(reply.status, 404, reply)
        for token in tokens:
            client.delete(f'{API}/holds/{token}')


class LoginRateLimitTestCase(unittest.TestCase):

    def login(self, password):
        body = {'id': 1, 'method': 'common.db.login',
            'params': ['admin', {'password': password}, 'en']}
        return SERVER.client.request('POST', '/rpc/', data=json.dumps(
                body).encode(), headers={'Content-Type': 'application/json'},
            check=False)

    def test_failed_logins_limited(self):
        "5 failed logins of a user are answered 401, then 429"
        statuses = [self.login(f'wrong-{i}').status for i in range(8)]
        self.assertIn(429, statuses, statuses)
        first = statuses.index(429)
        self.assertGreaterEqual(first, 5)
        self.assertTrue(all(s == 401 for s in statuses[:first]), statuses)
        self.assertTrue(re.fullmatch(r'(429)+', ''.join(
                    str(s) for s in statuses[first:])), statuses)


class BoxOfficeOperatorTestCase(unittest.TestCase):
    "A box office operator sells; the company's books are not theirs"

    # the accounting a cashier must not read: Tryton model and fields (the
    # chart of accounts itself is readable by every user, its amounts not)
    ACCOUNTING = [
        ('account.move', ['id']),
        ('account.move.line', ['id']),
        ('account.move.reconciliation', ['id']),
        ('account.general_ledger.account', ['id']),
        ('account.account', ['balance']),
        ('account.account', ['debit']),
        ('account.account', ['credit']),
        ('account.payment', ['amount']),
        ('ticket.accounting.posting', ['id']),
        ('ticket.accounting.posting.line', ['amount']),
        ('ticket.accounting.statement', ['net_due']),
        ('ticket.accounting.statement.line', ['amount']),
        ('ticket.accounting.payout', ['amount']),
        ('ticket.accounting.provider_payout', ['fees']),
        ]

    @classmethod
    def setUpClass(cls):
        cls.ids = setup_pos(SERVER, login='cashier')
        cls.auth = log_in(SERVER.client, login='cashier')

    def rpc(self, method, *params):
        body = {'id': 1, 'method': method, 'params': list(params) + [{}]}
        return SERVER.client.request('POST', '/rpc/', data=json.dumps(
                body).encode(), headers=dict(self.auth,
                **{'Content-Type': 'application/json'}), check=False)

    def test_session_works_at_the_point(self):
        reply = SERVER.client.request('GET',
            f'{POS}/points/{self.ids["point"]}/cash-session',
            headers=self.auth, check=False)
        self.assertEqual(reply.status, 200, reply)
        reply = self.rpc('model.ticket.order.search', [], 0, 5, None)
        self.assertEqual(reply.status, 200, reply)
        self.assertIsInstance(reply.json.get('result'), list, reply.json)

    def test_no_accounting(self):
        for model, fields in self.ACCOUNTING:
            with self.subTest(model=model, fields=fields):
                reply = self.rpc(f'model.{model}.search_read',
                    [], 0, 5, None, fields)
                self.assertEqual(reply.status, 200, reply)
                self.assertNotIn('result', reply.json, reply)
                kind, (message, *_) = reply.json['error']
                self.assertEqual(kind, 'UserError', reply)
                self.assertIn('You are not allowed to access', message)

if __name__ == '__main__':
    unittest.main()
