"""The box office API over real HTTP: login, cash session, sales with mixed
payments, GA and seated, after-sale and closing, every reply checked
against the served OpenAPI document, and refusals that change nothing."""
import base64
import unittest

from tests.pos import POS, log_in, setup_pos
from tests.server import API, ApiServer, Client, OpenAPIChecker

SERVER = None


def setUpModule():
    global SERVER
    SERVER = ApiServer('test_pos_api')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


class PosApiTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = SERVER
        reply = SERVER.client.get(f'{API}/openapi.json', check=False)
        assert reply.status == 200, reply
        cls.checker = OpenAPIChecker(reply.json)
        cls.client = Client(SERVER.port, SERVER.database, cls.checker)
        cls.addClassCleanup(cls.client.close)
        cls.ids = setup_pos(SERVER)
        cls.auth = log_in(cls.client)
        cls.base = f'{POS}/points/{cls.ids["point"]}'

    def call(self, method, path, body=None, status=200, auth=True):
        reply = self.client.request(method, self.base + path, body=body,
            headers=self.auth if auth else None)
        self.assertEqual(reply.status, status, reply)
        return reply

    def snapshot(self):
        return (self.server.snapshot(),
            self.server.sql('SELECT count(*) FROM sale_point_sale'),
            self.server.sql('SELECT count(*) FROM ticket_order_payment'),
            self.server.sql('SELECT count(*) FROM ticket_pos_operation'))

    def method(self, key):
        return self.ids['methods'][key]

    def test_1_login_and_auth(self):
        "Only a logged-in box office operator reaches the point"
        for body in [{'login': 'guichet', 'password': 'wrong'},
                {'login': 'nobody', 'password': 'x'}]:
            reply = self.client.post(f'{POS}/login', body)
            self.assertEqual(reply.status, 401, reply)
        reply = self.client.post(f'{POS}/login', {'login': 'guichet'})
        self.assertEqual(reply.status, 400, reply)
        reply = self.client.get(f'{self.base}/cash-session')
        self.assertEqual(reply.status, 401, reply)
        reply = self.client.get(f'{self.base}/cash-session', headers={
                'Authorization': 'Session Z3VpY2hldDoxOm5vcGU='})
        self.assertEqual(reply.status, 401, reply)
        reply = self.client.get(f'{POS}/points/999999/cash-session',
            headers=self.auth)
        self.assertEqual(reply.status, 404, reply)
        state = self.call('GET', '/cash-session').json
        self.assertEqual([m['name'] for m in state['methods']],
            ["Cash", "Card", "Cheque"])

    def test_2_evening(self):
        "Open, sell GA and seated with mixed payments, refund, exchange, close"
        ids = self.ids
        before = self.snapshot()
        reply = self.call('POST', '/sales', {
                'lines': [{'tariff': ids['tariffs']['adult'],
                        'session': self.server.ids['sessions']['open'],
                        'quantity': 1}],
                'payments': [{'method': self.method('cash'),
                        'amount': '20.00'}]}, status=409)
        self.assertEqual(reply.json['error']['code'], 'session_closed')
        self.assertEqual(self.snapshot(), before)
        for body in [{'float': '-1'}, {'float': 'abc'}, {}, {'float': 1,
                    'x': 1}]:
            self.call('POST', '/cash-session', body, status=400)
        opened = self.call('POST', '/cash-session', {'float': '100.00'},
            status=201).json
        self.assertEqual(opened['float'], '100.00')
        self.assertEqual(opened['opened_by'], "Camille Guichet")
        self.call('POST', '/cash-session', {'float': '100.00'}, status=409)

        catalogue = self.call('GET', '/catalogue').json['sessions']
        open_session = self.server.ids['sessions']['open']
        listed = {s['id']: s for s in catalogue}
        self.assertIn(open_session, listed)
        names = [t['name'] for t in listed[open_session]['tariffs']]
        self.assertIn("Counter", names)
        self.assertTrue(listed[ids['play_sessions'][0]]['seated'])

        quote = self.call('POST', '/quote', {'lines': [
                    {'tariff': ids['tariffs']['adult'],
                        'session': open_session, 'quantity': 2},
                    {'tariff': ids['tariffs']['counter'],
                        'session': open_session, 'quantity': 1}]}).json
        self.assertEqual(quote['to_pay'], '45.00')

        before = self.snapshot()
        for body, status in [
                ({'lines': [], 'payments': []}, 400),
                ({'lines': [{'tariff': ids['tariffs']['adult'],
                            'session': open_session, 'quantity': 1}],
                    'payments': [{'method': self.method('card'),
                            'amount': '5.00'}]}, 400),
                ({'lines': [{'tariff': ids['tariffs']['adult'],
                            'session': open_session, 'quantity': 1}],
                    'payments': [{'method': self.method('card'),
                            'amount': '25.00'}]}, 400),
                ({'lines': [{'tariff': ids['tariffs']['adult'],
                            'session': open_session, 'quantity': 1}],
                    'payments': [{'method': self.method('credit'),
                            'amount': '20.00'}]}, 400),
                ({'lines': [{'tariff': 999999, 'session': open_session,
                            'quantity': 1}], 'payments': []}, 404),
                ({'lines': [{'tariff': ids['tariffs']['adult'],
                            'session': open_session, 'quantity': 2000}],
                    'payments': []}, 400),
                ({'lines': [{'tariff': ids['tariffs']['adult'],
                            'session': open_session, 'quantity': 1}],
                    'payments': [{'method': self.method('cash'),
                            'amount': '20.00'}],
                    'seats': [{'session': open_session,
                            'seats': [1]}]}, 400),
                ({'lines': [{'tariff': ids['tariffs']['adult'],
                            'session': open_session, 'quantity': 1}],
                    'payments': [{'method': self.method('cash'),
                            'amount': '20.00'}], 'print': 'x'}, 400),
                ]:
            with self.subTest(body=body):
                self.call('POST', '/sales', body, status=status)
        self.assertEqual(self.snapshot(), before)

        sale = self.call('POST', '/sales', {
                'lines': [{'tariff': ids['tariffs']['adult'],
                        'session': open_session, 'quantity': 2},
                    {'tariff': ids['tariffs']['counter'],
                        'session': open_session, 'quantity': 1}],
                'payments': [
                    {'method': self.method('card'), 'amount': '20.00'},
                    {'method': self.method('cash'), 'amount': '30.00'}],
                'buyer': {'name': "Jeanne Moreau",
                    'email': 'jeanne@example.org'},
                'print': 'thermal'}, status=201).json
        self.assertEqual(sale['order']['state'], 'paid')
        # the tickets' PDF and the places left come with the sale
        self.assertTrue(
            base64.b64decode(sale['tickets_pdf']).startswith(b'%PDF'))
        left = {s['id']: s['available'] for s in sale['sessions']}
        self.assertEqual(list(left), [open_session])
        self.assertEqual(left[open_session], [s['available'] for s in
                self.call('GET', '/catalogue').json['sessions']
                if s['id'] == open_session][0])
        self.assertEqual(sale['change'], '5.00')
        self.assertEqual(sale['operator'], "Camille Guichet")
        self.assertEqual(len(sale['order']['tickets']), 3)
        self.assertEqual(sale['order']['buyer'], "Jeanne Moreau")

        play = ids['play_sessions'][0]
        seats = self.call('GET', f'/sessions/{play}/seats').json
        free = [s['id'] for sec in seats['sections'] for r in sec['rows']
            for s in r['seats'] if s['status'] == 'free']
        seated = self.call('POST', '/sales', {
                'lines': [{'tariff': ids['seated']['Orchestre Plein'],
                        'session': play, 'quantity': 2}],
                'seats': [{'session': play, 'seats': free[:2]}],
                'payments': [{'method': self.method('cheque'),
                        'amount': '60.00'}]}, status=201).json
        self.assertTrue(all(t['seat'] for t in seated['order']['tickets']))
        self.call('POST', '/sales', {
                'lines': [{'tariff': ids['seated']['Orchestre Plein'],
                        'session': play, 'quantity': 2}],
                'seats': [{'session': play, 'seats': free[:2]}],
                'payments': [{'method': self.method('cheque'),
                        'amount': '60.00'}]}, status=409)
        best = self.call('POST', '/sales', {
                'lines': [{'tariff': ids['seated']['Balcon Plein'],
                        'session': play, 'quantity': 1}],
                'payments': [{'method': self.method('card'),
                        'amount': '15.00'}]}, status=201).json
        self.assertTrue(best['order']['tickets'][0]['seat'])

        pdf = self.client.get(
            f'{self.base}/orders/{sale["order"]["id"]}/tickets.pdf',
            headers=self.auth, check=False)
        self.assertEqual(pdf.status, 200)
        self.assertTrue(pdf.raw.startswith(b'%PDF'))
        self.assertEqual(pdf.content_type, 'application/pdf')
        self.assertIn('get', self.checker.document['paths'][
                self.checker.match(f'{self.base}/orders/1/tickets.pdf')])
        receipt = self.client.get(
            f'{self.base}/operations/{sale["id"]}/receipt.pdf?printer=a4',
            headers=self.auth, check=False)
        self.assertTrue(receipt.raw.startswith(b'%PDF'))
        self.call('GET', f'/orders/{sale["order"]["id"]}/tickets.pdf'
            '?printer=x', status=400)

        found = self.call('GET', '/orders?q=' + sale['order']['number'])
        self.assertEqual([o['id'] for o in found.json['orders']],
            [sale['order']['id']])
        found = self.call('GET', '/orders?q=Moreau').json['orders']
        self.assertIn(sale['order']['id'], [o['id'] for o in found])
        self.call('GET', '/orders?q=x', status=400)
        customers = self.call('GET', '/customers?q=jeanne@').json
        self.assertEqual(customers['customers'][0]['name'], "Jeanne Moreau")

        ticket = sale['order']['tickets'][0]
        holder = self.call('POST', f'/tickets/{ticket["id"]}/holder',
            {'name': "Delphine Seyrig"}, status=201).json
        self.assertIn("Delphine Seyrig",
            [t['holder_name'] for t in holder['order']['tickets']])
        self.call('POST', f'/tickets/{ticket["id"]}/holder', {'name': ''},
            status=400)

        exchange = self.call('POST', f'/orders/{seated["order"]["id"]}'
            '/exchange', {'session': ids['play_sessions'][1]},
            status=201).json
        self.assertEqual(exchange['order']['state'], 'cancelled')
        self.assertEqual(exchange['new_order']['state'], 'paid')
        self.assertEqual(exchange['amount'], '0.00')

        refund = self.call('POST', f'/orders/{best["order"]["id"]}/refund',
            {'mode': 'cash'}, status=201).json
        self.assertEqual(refund['amount'], '-15.00')
        self.call('POST', f'/orders/{best["order"]["id"]}/refund',
            {'mode': 'cash'}, status=409)
        self.call('POST', f'/orders/{best["order"]["id"]}/refund',
            {'mode': 'other'}, status=400)

        adult = [t for t in sale['order']['tickets']
            if 'Adult' in (t['type'] or '')][-1]
        before = self.snapshot()
        self.call('POST', f'/tickets/{adult["id"]}/refund',
            {'mode': 'other'}, status=400)
        self.call('POST', '/tickets/999999/refund', {'mode': 'cash'},
            status=404)
        self.assertEqual(self.snapshot(), before)
        one = self.call('POST', f'/tickets/{adult["id"]}/refund',
            {'mode': 'cash'}, status=201).json
        self.assertEqual(one['kind'], 'refund')
        self.assertEqual(one['ticket'], adult['number'])
        self.assertEqual(one['amount'], '-20.00')
        self.assertEqual(one['order']['state'], 'paid')
        self.assertEqual(one['order']['paid'], '25.00')
        self.assertEqual({t['id']: t['state']
                for t in one['order']['tickets']}[adult['id']], 'cancelled')
        self.call('POST', f'/tickets/{adult["id"]}/refund',
            {'mode': 'cash'}, status=409)

        state = self.call('GET', '/cash-session').json['session']
        expected = {e['name']: e['amount'] for e in state['expected']}
        self.assertEqual(expected['Cash'], '90.00')
        self.assertEqual(expected['Card'], '35.00')
        self.assertEqual(expected['Cheque'], '60.00')
        self.call('POST', '/cash-session/close', {'counts': [
                    {'method': 999, 'amount': '1'}]}, status=400)
        closed = self.call('POST', '/cash-session/close', {'counts': [
                    {'method': self.method('cash'), 'amount': '88.00'},
                    {'method': self.method('card'), 'amount': '35.00'},
                    {'method': self.method('cheque'), 'amount': '60.00'},
                    ]}).json
        self.assertEqual(closed['state'], 'posted')
        gaps = {c['name']: c['difference'] for c in closed['counts']}
        self.assertEqual(gaps['Cash'], '-2.00')
        z = self.client.get(
            f'{self.base}/cash-sessions/{closed["id"]}/z-report.pdf',
            headers=self.auth, check=False)
        self.assertTrue(z.raw.startswith(b'%PDF'))
        (moves, unbalanced), = self.server.sql(
            'SELECT count(*), count(*) FILTER (WHERE (SELECT '
            'sum(debit) - sum(credit) FROM account_move_line l '
            'WHERE l.move = m.id) != 0) FROM account_move m '
            "WHERE m.state = 'posted'")
        self.assertGreaterEqual(moves, 4)
        self.assertEqual(unbalanced, 0)

    def test_3_openapi_and_unknown(self):
        "The page is served; a non-operator is refused"
        page = self.client.get('/ticket/pos/', check=False)
        self.assertEqual(page.status, 200)
        self.assertIn(b'pos.js', page.raw)
        script = self.client.get('/ticket/pos/static/pos.js', check=False)
        self.assertEqual(script.status, 200)
        missing = self.client.get('/ticket/pos/static/x.js', check=False)
        self.assertEqual(missing.status, 404)
