"""The public JSON API over real HTTP, against a trytond server subprocess.

Every reply is checked against the OpenAPI document the server serves (the
path, method and status must be documented and the body must match the
schema); every refused request is checked to change nothing.
"""
import datetime as dt
import json
import types
import unittest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server import API, ApiServer, Client, OpenAPIChecker, Reply

HOLDS = f'{API}/holds'
SERVER = None


def setUpModule():
    global SERVER
    SERVER = ApiServer('test_api')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


def day(days):
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


class ApiTestCase(unittest.TestCase):
    "The shared server, its client and the checks of every reply"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = SERVER
        cls.database = SERVER.database
        reply = SERVER.client.get(f'{API}/openapi.json', check=False)
        assert reply.status == 200, reply
        cls.document = reply.json
        cls.checker = OpenAPIChecker(cls.document)
        cls.client = Client(SERVER.port, SERVER.database, cls.checker)
        cls.addClassCleanup(cls.client.close)
        cls.sessions = cls.server.ids['sessions']
        cls.events = cls.server.ids['events']

    def assertError(self, reply, status, code):
        "reply is a JSON error with status, code and a message"
        self.assertEqual(reply.status, status, reply)
        self.assertEqual(reply.json['error']['code'], code, reply)
        self.assertTrue(reply.json['error']['message'].strip(), reply)
        self.assertEqual(self.checker.schema_errors('Error', reply.json), [])

    def assertRefused(self, send, status, code):
        "send() is refused with status and code and changes nothing"
        before = self.server.snapshot()
        reply = send()
        self.assertError(reply, status, code)
        self.assertEqual(self.server.snapshot(), before, reply)
        return reply

    def session(self, name):
        reply = self.client.get(f'{API}/sessions/{self.sessions[name]}')
        self.assertEqual(reply.status, 200, reply)
        return reply.json


class OpenAPITestCase(ApiTestCase):
    "The served document and the checker"

    def test_document_is_valid_openapi_31(self):
        from openapi_spec_validator import validate
        from openapi_spec_validator.validation.exceptions import (
            OpenAPIValidationError)
        self.assertEqual(self.document['openapi'], '3.1.0')
        validate(self.document)
        self.client.get(f'{API}/openapi.json')
        broken = json.loads(json.dumps(self.document))
        del broken['components']['responses']['Conflict']['description']
        with self.assertRaises(OpenAPIValidationError):
            validate(broken)

    def test_document_serves_database_url(self):
        self.assertEqual(
            self.document['servers'], [{'url': f'/{self.database}'}])

    def test_every_route_documented(self):
        """Every API route of the server has its path and methods documented

        The HTML applications (scanner, shop) live outside /ticket/api/ and
        are not part of the API."""
        from trytond.wsgi import app
        prefix = '/<database_name>'
        found = 0
        for rule in app.url_map.iter_rules():
            if (not rule.rule.startswith(f'{prefix}/ticket/api/')
                    # the catch-all answering the JSON 404 and 405
                    or rule.endpoint.__name__ == 'unknown_endpoint'):
                continue
            path = rule.rule.removeprefix(prefix)
            for converter in ['int:', 'string:']:
                path = path.replace(f'<{converter}', '<')
            path = path.replace('<', '{').replace('>', '}')
            self.assertIn(path, self.document['paths'])
            for method in rule.methods - {'HEAD', 'OPTIONS'}:
                self.assertIn(method.lower(), self.document['paths'][path])
                found += 1
        self.assertGreaterEqual(found, 7)

    def test_checker_refuses_undocumented_answers(self):
        "A reply the document does not describe fails the test"
        token = 'x' * 32
        error = b'{"error":{"code":"x","message":"m"}}'
        json_type = {'Content-Type': 'application/json'}

        def reply(method, path, status, raw, headers=json_type):
            return Reply(method, path, status, headers, raw)
        self.checker(reply('GET', f'{HOLDS}/{token}', 404, error))
        for bad in [
                reply('GET', f'{HOLDS}/{token}', 418, error),
                reply('GET', f'{HOLDS}/{token}', 500, error),
                reply('PUT', f'{HOLDS}/{token}', 404, error),
                reply('GET', f'{API}/nowhere', 404, error),
                reply('GET', f'{HOLDS}/{token}', 404, b'{"error":"x"}'),
                reply('GET', f'{HOLDS}/{token}', 404, error, {}),
                reply('GET', f'{HOLDS}/{token}', 200, b'{"token":"x"}'),
                ]:
            with self.subTest(reply=bad), self.assertRaises(AssertionError):
                self.checker(bad)

    def test_addons_extend_document(self):
        "register and extend_schema add to the one document, never twice"
        from openapi_spec_validator import validate

        from guichet.ticket_event import openapi
        saved = json.loads(json.dumps(openapi.DOCUMENT))
        error = {'$ref': '#/components/responses/NotFound'}
        try:
            openapi.register(
                paths={'/ticket/example/v1/carts/{token}': {
                        'parameters': [
                            {'$ref': '#/components/parameters/HoldToken'}],
                        'get': {'responses': {
                                '200': {'description': "A cart",
                                    'content': {'application/json': {
                                            'schema': {'$ref':
                                                '#/components/schemas/'
                                                'ExampleCart'}
                                            }}},
                                '404': error}}}},
                schemas={'ExampleCart': {'type': 'object'}})
            openapi.register(paths={f'{HOLDS}/{{token}}': {
                        'patch': {'responses': {'404': error}}}})
            openapi.extend_schema('Hold', {'order': {'type': 'integer'}},
                required=['order'])
            document = openapi.document('shop')
            validate(document)
            self.assertEqual(document['servers'], [{'url': '/shop'}])
            self.assertIn('/ticket/example/v1/carts/{token}', document['paths'])
            self.assertEqual(set(document['paths'][f'{HOLDS}/{{token}}']),
                {'parameters', 'get', 'delete', 'patch'})
            self.assertIn("'order' is a required property",
                OpenAPIChecker(document).schema_errors('Hold', {}))
            for kwargs in [
                    {'paths': {HOLDS: {'post': {}}}},
                    {'schemas': {'Hold': {}}},
                    {'responses': {'NotFound': {}}},
                    ]:
                with self.subTest(kwargs=kwargs):
                    self.assertRaises(ValueError, openapi.register, **kwargs)
            with self.assertRaises(ValueError):
                openapi.extend_schema('Hold', {'token': {}})
        finally:
            for key in ['paths']:
                openapi.DOCUMENT[key].clear()
                openapi.DOCUMENT[key].update(saved[key])
            for key, value in saved['components'].items():
                openapi.DOCUMENT['components'][key].clear()
                openapi.DOCUMENT['components'][key].update(value)
        self.assertEqual(openapi.document(self.database), self.document)

    def test_schemas_refuse_wrong_bodies(self):
        self.assertTrue(self.checker.schema_errors('Session', {'id': 1}))
        self.assertTrue(self.checker.schema_errors(
                'Hold', {'token': 'x' * 20, 'state': 'active',
                    'channel': 'web', 'expires_at': 'yesterday',
                    'live': True, 'quantity': 1, 'items': []}))


class CatalogueTestCase(ApiTestCase):
    "Events and sessions"

    def test_list_events(self):
        reply = self.client.get(f'{API}/events')
        self.assertEqual(reply.status, 200, reply)
        events = {e['name']: e for e in reply.json['events']}
        self.assertEqual(set(events), {'main', 'concert', 'other'})
        main = events['main']
        self.assertEqual(main['tags'], ['theatre'])
        self.assertEqual(main['venue']['name'], "Grande Salle")
        self.assertEqual(
            [s['id'] for s in main['sessions']],
            [self.sessions[n]
                for n in ['open', 'small', 'scheduled', 'closed']])
        by_id = {s['id']: s for s in main['sessions']}
        open_ = by_id[self.sessions['open']]
        self.assertEqual(
            (open_['capacity'], open_['held'], open_['available']),
            (1000, 0, 1000))
        self.assertTrue(open_['on_sale'])
        self.assertFalse(by_id[self.sessions['scheduled']]['on_sale'])
        self.assertFalse(by_id[self.sessions['closed']]['on_sale'])
        self.assertEqual(by_id[self.sessions['closed']]['state'], 'closed')

    def test_dates_carry_event_time_zone(self):
        other = self.session('other')
        self.assertEqual(other['timezone'], 'America/New_York')
        start = dt.datetime.fromisoformat(other['start'])
        self.assertEqual(start.strftime('%H:%M'), '20:00')
        self.assertIn(start.utcoffset(),
            {dt.timedelta(hours=-5), dt.timedelta(hours=-4)})
        paris = dt.datetime.fromisoformat(self.session('open')['start'])
        self.assertIn(paris.utcoffset(),
            {dt.timedelta(hours=1), dt.timedelta(hours=2)})

    def test_filter_events(self):
        def names(query):
            reply = self.client.get(f'{API}/events?{query}')
            self.assertEqual(reply.status, 200, reply)
            return {e['name']: [s['id'] for s in e['sessions']]
                for e in reply.json['events']}
        s = self.sessions
        self.assertEqual(list(names('tag=theatre')), ['main'])
        self.assertEqual(names('tag=music'), {'concert': [s['concert']]})
        self.assertEqual(names('tag=nothing'), {})
        self.assertEqual(
            names(f"venue={self.server.ids['venues']['club']}"),
            {'concert': [s['concert']]})
        self.assertEqual(names('venue=999999'), {})
        self.assertEqual(names(f'from={day(60)}'), {'concert': [s['concert']]})
        # "other" starts at 20:00 in New York: the next day in UTC.
        self.assertEqual(names(f'from={day(29)}&to={day(30)}'), {
                'main': [s['open']], 'other': [s['other']]})
        self.assertEqual(names(f'from={day(31)}&to={day(31)}'), {
                'main': [s['small']]})
        self.assertEqual(names(f'to={day(1)}'), {})
        self.assertEqual(
            names(f'tag=theatre&from={day(32)}&to={day(40)}'),
            {'main': [s['scheduled'], s['closed']]})

    def test_filter_events_malformed(self):
        for query in [
                'from=2026-13-01', 'from=tomorrow', 'from=20260501',
                'to=2026-02-30', f'from={day(10)}&to={day(9)}',
                'venue=abc', 'venue=0', 'venue=-1', 'venue=1.5',
                'venue=99999999999', 'tag=', 'tag=%20', 'tag=' + 'x' * 101,
                ]:
            with self.subTest(query=query):
                self.assertError(
                    self.client.get(f'{API}/events?{query}'),
                    400, 'invalid_parameter')

    def test_get_event(self):
        reply = self.client.get(f"{API}/events/{self.events['main']}")
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json['name'], 'main')
        self.assertEqual(reply.json['description'], "About main.")
        self.assertEqual(len(reply.json['sessions']), 4)
        for name in ['private', 'draft']:
            with self.subTest(event=name):
                self.assertError(
                    self.client.get(f'{API}/events/{self.events[name]}'),
                    404, 'event_not_found')
        for id_ in [999999, 2 ** 31, 10 ** 30]:
            with self.subTest(id=id_):
                self.assertError(self.client.get(f'{API}/events/{id_}'),
                    404, 'event_not_found')

    def test_get_session(self):
        for name in ['open', 'link', 'scheduled', 'concert', 'other']:
            with self.subTest(session=name):
                self.assertEqual(self.session(name)['id'], self.sessions[name])
        self.assertFalse(self.session('scheduled')['on_sale'])
        for name in ['box_office', 'private_session', 'draft_session']:
            with self.subTest(session=name):
                self.assertError(self.client.get(
                        f'{API}/sessions/{self.sessions[name]}'),
                    404, 'session_not_found')
        for id_ in [999999, 2 ** 31, 10 ** 30]:
            with self.subTest(id=id_):
                self.assertError(self.client.get(f'{API}/sessions/{id_}'),
                    404, 'session_not_found')

    def test_unknown_paths_and_methods(self):
        "Paths and methods the API lacks answer a JSON 404 or 405"
        for method, path, status, code in [
                ('GET', f'{API}/nowhere', 404, 'not_found'),
                ('GET', f'{API}/events/abc', 404, 'not_found'),
                ('GET', f'{API}/events/-1', 404, 'not_found'),
                ('GET', f'{API}/events/', 404, 'not_found'),
                # a line break in a path parameter (found by schemathesis)
                ('GET', f'{API}/events/%0A1', 404, 'not_found'),
                ('POST', f'{API}/pos/points/%0A%C2%B8/quote', 404,
                    'not_found'),
                ('POST', f'{API}/events', 405, 'method_not_allowed'),
                ('PUT', f'{HOLDS}/{"x" * 32}', 405, 'method_not_allowed'),
                ('GET', HOLDS, 405, 'method_not_allowed'),
                ]:
            with self.subTest(method=method, path=path):
                reply = self.client.request(method, path, check=False)
                self.assertError(reply, status, code)
        reply = self.client.request('PATCH', f'{HOLDS}/{"x" * 32}',
            check=False)
        self.assertEqual(set(reply.headers['Allow'].split(', ')),
            {'GET', 'DELETE'})

    def test_unknown_database(self):
        client = Client(self.server.port, 'test_no_such_db', self.checker)
        self.assertError(client.get(f'{API}/events'), 404,
            'database_not_found')
        self.assertError(client.hold([(1, 1)]), 404, 'database_not_found')
        client.close()


class HoldTestCase(ApiTestCase):
    "Holding and releasing places"

    def test_hold_and_release(self):
        small = self.sessions['small']
        held = self.server.pool_of(small)[2]
        reply = self.client.hold([(small, 3)])
        self.assertEqual(reply.status, 201, reply)
        hold = reply.json
        self.assertEqual(hold['quantity'], 3)
        self.assertEqual(hold['items'], [
                {'session': small, 'quantity': 3, 'description': None}])
        self.assertEqual((hold['state'], hold['channel'], hold['live']),
            ('active', 'web', True))
        self.assertGreaterEqual(len(hold['token']), 32)
        expires = dt.datetime.fromisoformat(hold['expires_at'])
        self.assertAlmostEqual(
            (expires - dt.datetime.now(dt.timezone.utc)).total_seconds(),
            15 * 60, delta=60)
        self.assertEqual(reply.headers['Location'],
            f"/{self.database}{HOLDS}/{hold['token']}")
        self.assertEqual(self.server.pool_of(small)[2], held + 3)
        self.assertEqual(self.session('small')['held'], held + 3)
        self.assertEqual(
            self.session('small')['available'], 100 - held - 3)

        path = f"{HOLDS}/{hold['token']}"
        reply = self.client.get(path)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json, hold)

        reply = self.client.delete(path)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual((reply.json['state'], reply.json['live']),
            ('released', False))
        self.assertEqual(self.server.pool_of(small)[2], held)
        self.assertEqual(self.client.get(path).json['state'], 'released')
        # Releasing twice gives nothing back twice.
        self.assertRefused(lambda: self.client.delete(path),
            409, 'hold_not_active')

    def test_hold_several_sessions_and_api_channel(self):
        open_, small = self.sessions['open'], self.sessions['small']
        reply = self.client.post(HOLDS, {'channel': 'api', 'items': [
                    {'session': open_, 'quantity': 2},
                    {'session': small, 'quantity': 1},
                    {'session': open_, 'quantity': 1}]})
        self.assertEqual(reply.status, 201, reply)
        self.assertEqual(reply.json['channel'], 'api')
        self.assertEqual(reply.json['quantity'], 4)
        self.assertEqual(self.server.pool_of(open_)[2], 3)
        self.assertEqual(
            self.client.delete(f"{HOLDS}/{reply.json['token']}").status, 200)
        self.assertEqual(self.server.pool_of(open_)[2], 0)

    def test_hold_link_session(self):
        reply = self.client.hold([(self.sessions['link'], 2)])
        self.assertEqual(reply.status, 201, reply)
        self.client.delete(f"{HOLDS}/{reply.json['token']}")

    def test_refused_bodies(self):
        "Malformed requests: 400/413/415 and nothing written"
        small = self.sessions['small']
        good = {'session': small, 'quantity': 1}
        json_type = {'Content-Type': 'application/json'}

        def raw(data, headers=json_type):
            return lambda: self.client.post(HOLDS, data=data, headers=headers)
        cases = [
            (raw(b'{bad'), 400, 'invalid_json'),
            (raw(b''), 400, 'invalid_json'),
            (raw(b'\xff\xfe{}'), 400, 'invalid_json'),
            (raw(b'{"items": [{"session": 1, "quantity": NaN}]}'),
                400, 'invalid_json'),
            (raw(b'[' * 30000), 400, 'invalid_json'),
            (raw(b'{"items": []}', {'Content-Type': 'text/plain'}),
                415, 'unsupported_media_type'),
            (raw(b'{"items": []}', {}), 415, 'unsupported_media_type'),
            (raw(json.dumps({'items': [good]}).encode(), {
                        'Content-Type': 'application/json',
                        'Content-Encoding': 'gzip'}),
                415, 'unsupported_media_type'),
            (raw(b' ' * (65 * 1024) + b'{}'), 413, 'body_too_large'),
            ]
        bodies = [
            ([], 'invalid_body'), ('items', 'invalid_body'),
            (1, 'invalid_body'), (None, 'invalid_body'),
            ({}, 'invalid_body'), ({'items': []}, 'invalid_body'),
            ({'items': good}, 'invalid_body'),
            ({'items': [good] * 51}, 'invalid_body'),
            ({'items': [good], 'extra': 1}, 'invalid_body'),
            ({'items': [[small, 1]]}, 'invalid_body'),
            ({'items': [{'session': small}]}, 'invalid_body'),
            ({'items': [dict(good, price=0)]}, 'invalid_body'),
            ({'items': [{'session': str(small), 'quantity': 1}]},
                'invalid_body'),
            ({'items': [{'session': float(small), 'quantity': 1}]},
                'invalid_body'),
            ({'items': [{'session': True, 'quantity': 1}]}, 'invalid_body'),
            ({'items': [{'session': 0, 'quantity': 1}]}, 'invalid_body'),
            ({'items': [{'session': -small, 'quantity': 1}]},
                'invalid_body'),
            ({'items': [{'session': 2 ** 31, 'quantity': 1}]},
                'invalid_body'),
            ]
        for quantity in [0, -1, 1001, 10 ** 30, True, False, 1.5, 2.0, '2',
                None, [1]]:
            bodies.append(({'items': [{'session': small,
                                'quantity': quantity}]}, 'invalid_quantity'))
        for channel in ['box_office', 'partner', 'WEB', 5, None, ['web']]:
            bodies.append(({'items': [good], 'channel': channel},
                    'invalid_channel'))
        for body, code in bodies:
            data = json.dumps(body).encode()
            cases.append((raw(data), 400, code))
            # The document refuses what the server refuses, but for 2.0
            # that JSON Schema takes as an integer and the server does not.
            if '.0' not in data.decode():
                self.assertTrue(
                    self.checker.request_errors('POST', HOLDS, body), body)
        self.assertEqual(self.checker.request_errors(
                'POST', HOLDS, {'items': [good], 'channel': 'api'}), [])
        for send, status, code in cases:
            with self.subTest(status=status, code=code):
                self.assertRefused(send, status, code)

    def test_refused_sessions(self):
        "Unknown, hidden, closed and full sessions: nothing written"
        s = self.sessions
        for items, status, code in [
                ([(999999, 1)], 404, 'session_not_found'),
                ([(s['open'], 1), (999999, 1)], 404, 'session_not_found'),
                ([(s['box_office'], 1)], 404, 'session_not_found'),
                ([(s['private_session'], 1)], 404, 'session_not_found'),
                ([(s['draft_session'], 1)], 404, 'session_not_found'),
                ([(s['scheduled'], 1)], 409, 'sale_closed'),
                ([(s['closed'], 1)], 409, 'sale_closed'),
                ([(s['open'], 2), (s['scheduled'], 1)], 409, 'sale_closed'),
                ([(s['open'], 1), (s['other'], 1)], 400, 'mixed_companies'),
                ([(s['small'], 101)], 409, 'capacity_exceeded'),
                ([(s['small'], 60), (s['small'], 41)],
                    409, 'capacity_exceeded'),
                # The first pool is taken, then the second fails: all or none.
                ([(s['open'], 5), (s['small'], 101)],
                    409, 'capacity_exceeded'),
                ]:
            with self.subTest(items=items):
                reply = self.assertRefused(
                    lambda: self.client.hold(items), status, code)
        self.assertIn('100 available', reply.json['error']['message'])

    def test_capacity_exceeded_after_holds(self):
        small = self.sessions['small']
        reply = self.client.hold([(small, 98)])
        self.assertEqual(reply.status, 201, reply)
        path = f"{HOLDS}/{reply.json['token']}"
        try:
            reply = self.assertRefused(lambda: self.client.hold([(small, 3)]),
                409, 'capacity_exceeded')
            self.assertIn('2 available', reply.json['error']['message'])
            second = self.client.hold([(small, 2)])
            self.assertEqual(second.status, 201, second)
            self.assertEqual(self.session('small')['available'], 0)
            self.assertRefused(lambda: self.client.hold([(small, 1)]),
                409, 'capacity_exceeded')
            self.client.delete(f"{HOLDS}/{second.json['token']}")
        finally:
            self.client.delete(path)
        self.assertEqual(self.server.pool_of(small), (100, 0, 0))

    def test_unknown_tokens(self):
        for token in ['x' * 32, 'abc', 'a' * 500, '%00' * 20, '%C3%A9' * 20]:
            with self.subTest(token=token):
                self.assertRefused(lambda: self.client.get(
                        f'{HOLDS}/{token}'), 404, 'hold_not_found')
                self.assertRefused(lambda: self.client.delete(
                        f'{HOLDS}/{token}'), 404, 'hold_not_found')

    def test_expired_hold(self):
        small = self.sessions['small']
        reply = self.client.hold([(small, 4)])
        self.assertEqual(reply.status, 201, reply)
        path = f"{HOLDS}/{reply.json['token']}"
        self.assertEqual(self.server.expire_all_holds(), 1)
        self.assertEqual(self.server.pool_of(small), (100, 0, 0))
        reply = self.client.get(path)
        self.assertEqual((reply.json['state'], reply.json['live']),
            ('expired', False))
        self.assertRefused(lambda: self.client.delete(path),
            409, 'hold_not_active')


class TransactionTestCase(ApiTestCase):
    "The transaction of a route: rolled back on error, retried when busy"

    def run_route(self, route):
        from trytond.pool import Pool

        from guichet.ticket_event import routes
        request = types.SimpleNamespace(context={})
        return routes.run_in_transaction(
            route, request, Pool(self.database), {}, False, True)

    def session_name(self):
        return self.server.sql('SELECT name FROM ticket_session WHERE id = %s',
            (self.sessions['concert'],))[0][0]

    def rename(self, pool, name):
        Session = pool.get('ticket.session')
        Session.write([Session(self.sessions['concert'])], {'name': name})

    def test_errors_roll_back(self):
        from guichet.ticket_event.exceptions import CapacityError
        from guichet.ticket_event.routes import ApiError
        for error, status, code in [
                (CapacityError("full"), 409, 'capacity_exceeded'),
                (ApiError(400, 'invalid_body', "bad"), 400, 'invalid_body'),
                (ValueError("bug"), None, None),
                ]:
            def route(request, pool):
                self.rename(pool, 'changed')
                raise error
            with self.subTest(error=error):
                with self.assertRaises(type(error) if status is None
                        else ApiError) as context:
                    self.run_route(route)
                if status:
                    self.assertEqual(
                        (context.exception.status, context.exception.code),
                        (status, code))
                self.assertIsNone(self.session_name())

    def test_operational_errors_retried(self):
        from psycopg import IsolationLevel

        from trytond import backend
        from trytond.transaction import Transaction
        levels = []

        def route(request, pool):
            levels.append(Transaction().connection.isolation_level)
            self.rename(pool, f'try {len(levels)}')
            if len(levels) < 3:
                raise backend.DatabaseOperationalError("could not serialize")
            return 'done'
        try:
            self.assertEqual(self.run_route(route), 'done')
            self.assertEqual(levels, [IsolationLevel.READ_COMMITTED] * 3)
            self.assertEqual(self.session_name(), 'try 3')
        finally:
            self.server.sql('UPDATE ticket_session SET name = NULL '
                'WHERE id = %s', (self.sessions['concert'],))

    def test_locks_keep_read_committed(self):
        "ModelSQL.lock restarts the transaction: still READ COMMITTED"
        from trytond.transaction import Transaction
        seen = []

        def route(request, pool):
            Session = pool.get('ticket.session')
            Session.lock([Session(self.sessions['concert'])])
            cursor = Transaction().connection.cursor()
            cursor.execute('SHOW transaction_isolation')
            seen.append(cursor.fetchone()[0])
            cursor.execute('SELECT count(*) FROM pg_locks l '
                'JOIN pg_class c ON c.oid = l.relation '
                "WHERE l.pid = pg_backend_pid() AND c.relname = "
                "'ticket_session' AND l.mode = 'RowShareLock'")
            seen.append(cursor.fetchone()[0])
            self.rename(pool, 'locked')
            return 'done'
        try:
            self.assertEqual(self.run_route(route), 'done')
            # first try asks for the lock, the second runs with it
            self.assertEqual(seen[-2:], ['read committed', 1])
            self.assertEqual(self.session_name(), 'locked')
        finally:
            self.server.sql('UPDATE ticket_session SET name = NULL '
                'WHERE id = %s', (self.sessions['concert'],))

    def test_read_only_keeps_prepared_statements(self):
        """A read-only route ends by a COMMIT: the statements psycopg
        prepared on the connection stay prepared for the next requests (a
        ROLLBACK, as after an error, deallocates them all)"""
        from trytond.pool import Pool
        from trytond.transaction import Transaction

        from guichet.ticket_event import routes
        query = 'SELECT name FROM ticket_session WHERE id = %s'
        request = types.SimpleNamespace(context={})

        def run(route):
            return routes.run_in_transaction(
                route, request, Pool(self.database), {}, True, False)

        def prepare(request, pool):
            cursor = Transaction().connection.cursor()
            # psycopg prepares a statement at its 6th execution
            for _ in range(6):
                cursor.execute(query, (self.sessions['concert'],))
            cursor.execute('SELECT pg_backend_pid()')
            return cursor.fetchone()[0]

        def prepared(request, pool):
            cursor = Transaction().connection.cursor()
            cursor.execute('SELECT pg_backend_pid(), count(*) '
                'FROM pg_prepared_statements WHERE statement LIKE %s',
                ('%FROM ticket_session WHERE id = $1',))
            return cursor.fetchone()

        def on_connection(pid):
            # the pool hands its connections out in turn
            for _ in range(50):
                backend, count = run(prepared)
                if backend == pid:
                    return count
            self.fail("the pool never gave the connection back")

        failed_on = []

        def fails(request, pool):
            failed_on.append(prepare(request, pool))
            raise ValueError("bug")

        pid = run(prepare)
        self.assertEqual(on_connection(pid), 1)
        # still there after more read-only requests on it
        self.assertEqual(on_connection(pid), 1)
        # the control: an error rolls back, and the statement is gone
        while pid not in failed_on:
            self.assertLess(len(failed_on), 50, "never on the connection")
            with self.assertRaises(ValueError):
                run(fails)
        self.assertEqual(on_connection(pid), 0)

    def test_locked_record_waited_for(self):
        "A record locked by another transaction for a moment: waited for"
        import threading

        import psycopg

        from tests.server import pgctl
        calls = []

        def route(request, pool):
            calls.append(1)
            Session = pool.get('ticket.session')
            Session.lock([Session(self.sessions['concert'])])
            self.rename(pool, 'after the wait')
            return 'done'
        try:
            with psycopg.connect(pgctl.uri(self.server.database)) as other:
                other.execute('SELECT id FROM ticket_session WHERE id = %s '
                    'FOR UPDATE', (self.sessions['concert'],))
                threading.Timer(0.5, other.commit).start()
                self.assertEqual(self.run_route(route), 'done')
            # the first try asks for the lock, the second waits for it
            self.assertEqual(len(calls), 2)
            self.assertEqual(self.session_name(), 'after the wait')
        finally:
            self.server.sql('UPDATE ticket_session SET name = NULL '
                'WHERE id = %s', (self.sessions['concert'],))

    def test_locked_record_waits_then_busy(self):
        "A record locked longer than LOCK_TIMEOUT: retried, then 503 busy"
        from unittest import mock

        import psycopg

        from guichet.ticket_event import routes
        from guichet.ticket_event.routes import ApiError
        from tests.server import pgctl
        calls = []

        def route(request, pool):
            calls.append(1)
            Session = pool.get('ticket.session')
            Session.lock([Session(self.sessions['concert'])])
            self.rename(pool, 'changed')
        with psycopg.connect(pgctl.uri(self.server.database)) as other, \
                mock.patch.object(routes, 'LOCK_TIMEOUT', 0.2):
            other.execute('SELECT id FROM ticket_session WHERE id = %s '
                'FOR UPDATE', (self.sessions['concert'],))
            with self.assertRaises(ApiError) as context:
                self.run_route(route)
        self.assertEqual((context.exception.status, context.exception.code),
            (503, 'busy'))
        self.assertEqual(len(calls), 1)
        self.assertIsNone(self.session_name())

    def test_busy_after_retries(self):
        from trytond import backend
        from trytond.config import config

        from guichet.ticket_event.routes import ApiError
        calls = []

        def route(request, pool):
            calls.append(1)
            self.rename(pool, 'changed')
            raise backend.DatabaseOperationalError("deadlock detected")
        with self.assertRaises(ApiError) as context:
            self.run_route(route)
        self.assertEqual((context.exception.status, context.exception.code),
            (503, 'busy'))
        self.assertEqual(len(calls), config.getint('database', 'retry') + 1)
        self.assertIsNone(self.session_name())


class FuzzTestCase(ApiTestCase):
    "Random bodies never get a 5xx nor an undocumented answer"

    @settings(max_examples=150, deadline=None, database=None,
        suppress_health_check=list(HealthCheck))
    @given(st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats()
            | st.text(max_size=10),
            lambda children: st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(['items', 'channel', 'session', 'quantity',
                        'x']), children, max_size=4),
            max_leaves=12))
    def test_random_bodies(self, body):
        try:
            data = json.dumps(body, allow_nan=False).encode()
        except ValueError:
            data = json.dumps(body).encode()
        before = self.server.snapshot()
        reply = self.client.post(HOLDS, data=data,
            headers={'Content-Type': 'application/json'})
        self.assertLess(reply.status, 500, reply)
        if reply.status == 201:
            self.assertEqual(
                self.client.delete(f"{HOLDS}/{reply.json['token']}").status,
                200)
        else:
            self.assertEqual(self.server.snapshot(), before, reply)

    @settings(max_examples=60, deadline=None, database=None,
        suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.integers(-5, 15), st.integers(-2, 120)),
            min_size=1, max_size=3))
    def test_random_items(self, items):
        pools = self.server.snapshot()['pools']
        reply = self.client.hold(items)
        self.assertIn(reply.status, {201, 400, 404, 409}, reply)
        if reply.status == 201:
            self.assertNotEqual(self.server.snapshot()['pools'], pools)
            self.client.delete(f"{HOLDS}/{reply.json['token']}")
        self.assertEqual(self.server.snapshot()['pools'], pools)


if __name__ == '__main__':
    unittest.main()
