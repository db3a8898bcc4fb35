"""The seating endpoints over real HTTP: the seat map of a session and its
SVG, holds of picked and best-available seats priced by the engine, their
change, order and release, the seating modes of the channels and refusals
that change nothing; every reply checked against the OpenAPI document."""
import unittest
from decimal import Decimal

from tests.server import API, ApiServer, Client, OpenAPIChecker

SERVER = None


def setUpModule():
    global SERVER
    SERVER = ApiServer('test_seating_api')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


def in_transaction(func):
    "Run func() in a committed transaction of the server's database"
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        try:
            with Transaction().start(SERVER.database, 1, **extras):
                result = func()
                Transaction().commit()
                return result
        except TransactionError as error:
            error.fix(extras)


class SeatingApiTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = SERVER
        reply = SERVER.client.get(f'{API}/openapi.json', check=False)
        assert reply.status == 200, reply
        cls.document = reply.json
        cls.client = Client(
            SERVER.port, SERVER.database, OpenAPIChecker(reply.json))
        cls.addClassCleanup(cls.client.close)
        cls.ids = in_transaction(cls.create_theatre)

    @classmethod
    def create_theatre(cls):
        """The theatre map of the helpers at venue "hall", an event with a
        session on it for each test group, tariffs linked to the zones"""
        from trytond.modules.company.tests import set_company
        from trytond.pool import Pool
        from trytond.transaction import Transaction

        from guichet.ticket_seating.tests.helpers import (
            create_theatre, seated_event)
        pool = Pool()
        Company = pool.get('company.company')
        company_id = SERVER.ids['companies']['Guichet']
        with Transaction().set_context(company=company_id):
            company = Company(company_id)
            with set_company(company):
                theatre = create_theatre(company)
                event, sessions, tariffs = seated_event(
                    company, theatre, sessions=5)
                seats = {(s.row.section.name, s.row.name, s.label): s.id
                    for s in pool.get('ticket.seat').search(
                        [('map', '=', theatre.id)])}
                return {
                    'event': event.id,
                    'sessions': [s.id for s in sessions],
                    'tariffs': {k: t.id for k, t in tariffs.items()},
                    'seats': seats,
                    'categories': {c.name: c.id
                        for c in theatre.categories},
                    }

    def seat(self, section, row, label):
        return self.ids['seats'][(section, row, label)]

    def path(self, session, suffix=''):
        return f'{API}/sessions/{session}/seats{suffix}'

    def hold(self, session, body, **kwargs):
        return self.client.post(self.path(session, '/holds'), body, **kwargs)

    def snapshot(self, session):
        return {
            **self.server.snapshot(),
            'bookings': self.server.sql(
                'SELECT id, state FROM ticket_seat_booking ORDER BY id'),
            'states': self.server.sql(
                'SELECT row, states FROM ticket_seat_row_state '
                'WHERE session = %s ORDER BY row', (session,)),
            }

    def set_mode(self, channel, mode):
        def func():
            from trytond.pool import Pool
            Mode = Pool().get('ticket.seat.mode')
            Mode.delete(Mode.search([
                        ('event', '=', self.ids['event']),
                        ('channel', '=', channel)]))
            if mode:
                Mode.create([{'event': self.ids['event'],
                            'channel': channel, 'mode': mode}])
        in_transaction(func)

    def test_seat_map(self):
        "The map lists every seat, free, with its zone's tariffs"
        session = self.ids['sessions'][0]
        reply = self.client.get(self.path(session))
        self.assertEqual(reply.status, 200, reply)
        data = reply.json
        self.assertEqual((data['mode'], data['free']), ('pick', 74))
        self.assertEqual([s['name'] for s in data['sections']],
            ["Orchestre", "Balcon"])
        stalls = data['sections'][0]
        self.assertEqual([r['name'] for r in stalls['rows']],
            ['A', 'B', 'C', 'D', 'E'])
        self.assertEqual(len(stalls['rows'][0]['seats']), 10)
        self.assertEqual(
            [(c['name'], [(t['name'], t['price']) for t in c['tariffs']])
                for c in data['categories']],
            [("Orchestre", [("Plein", '30.00'), ("Réduit", '20.00')]),
                ("Balcon", [("Plein", '15.00')])])
        section = stalls['id']
        reply = self.client.get(self.path(session, f'?section={section}'))
        self.assertEqual([s['name'] for s in reply.json['sections']],
            ["Orchestre"])

    def test_seat_map_errors(self):
        small = self.server.ids['sessions']['small']
        for path, status, code in [
                (self.path(small), 404, 'seat_map_not_found'),
                (self.path(999999), 404, 'session_not_found'),
                (self.path(self.server.ids['sessions']['private_session']),
                    404, 'session_not_found'),
                (self.path(self.ids['sessions'][0], '?channel=phone'), 400,
                    'invalid_channel'),
                (self.path(self.ids['sessions'][0], '?section=x'), 400,
                    'invalid_parameter'),
                (self.path(self.ids['sessions'][0], '?section=999999'), 404,
                    'section_not_found'),
                ]:
            with self.subTest(path=path):
                reply = self.client.get(path)
                self.assertEqual(reply.status, status, reply)
                self.assertEqual(reply.json['error']['code'], code)

    def test_svg(self):
        "The picture: a circle per seat with its label, taken ones grey"
        session = self.ids['sessions'][0]
        reply = self.hold(session, {'quantity': 2})
        self.assertEqual(reply.status, 201, reply)
        reply = self.client.get(self.path(session, '.svg'), check=False)
        self.assertEqual(reply.status, 200)
        self.assertTrue(reply.content_type.startswith('image/svg+xml'))
        svg = reply.raw.decode()
        self.assertTrue(svg.startswith('<svg'))
        self.assertEqual(svg.count('<circle'), 74)
        self.assertEqual(svg.count('class="t '), 2)
        self.assertIn('<title>Balcon, row C, seat 8 · Balcon · free'
            '</title>', svg)
        self.assertIn(f'data-seat="{self.seat("Orchestre", "A", "1")}"', svg)

    def test_best_available_order_release(self):
        "Best available holds the best seats, priced; ordered, then paid"
        session = self.ids['sessions'][1]
        reply = self.hold(session, {'quantity': 3, 'channel': 'api'})
        self.assertEqual(reply.status, 201, reply)
        data = reply.json
        self.assertEqual([s['name'] for s in data['seats']], [
                "Orchestre, row A, seat 3", "Orchestre, row A, seat 4",
                "Orchestre, row A, seat 5"])
        self.assertEqual(data['quote']['total'], '90.00')
        self.assertFalse(data['split'])
        self.assertEqual(data['hold']['quantity'], 3)
        token = data['hold']['token']

        reply = self.client.post(f'{API}/orders', {
                'holds': [token],
                'buyer': {'name': "Éliante", 'email': 'eliante@example.org'},
                })
        self.assertEqual(reply.status, 201, reply)
        self.assertEqual(reply.json['total'], '90.00')
        number = reply.json['number']

        def pay():
            from trytond.pool import Pool
            Order = Pool().get('ticket.order')
            order, = Order.search([('number', '=', number)])
            Order.pay([order])
            return sorted(t.seat.rec_name for t in Order(order.id).tickets)
        self.assertEqual(in_transaction(pay), [
                "Orchestre, row A, seat 3", "Orchestre, row A, seat 4",
                "Orchestre, row A, seat 5"])
        taken = [s['label'] for r in self.client.get(self.path(session)).json[
                'sections'][0]['rows'][:1] for s in r['seats']
            if s['status'] == 'taken']
        self.assertEqual(taken, ['3', '4', '5'])

        # a cart released gives its seats back
        reply = self.hold(session, {'quantity': 2})
        held = [s['id'] for s in reply.json['seats']]
        reply = self.client.delete(
            f"{API}/holds/{reply.json['hold']['token']}")
        self.assertEqual(reply.status, 200, reply)
        reply = self.hold(session, {'seats': held})
        self.assertEqual(reply.status, 201, reply)

    def test_pick_taken_isolated(self):
        "A pick is held once; taken or leaving a single seat, refused"
        session = self.ids['sessions'][2]
        pair = [self.seat('Orchestre', 'B', '4'),
            self.seat('Orchestre', 'B', '5')]
        reply = self.hold(session, {'seats': pair, 'tariffs': [
                    {'tariff': self.ids['tariffs']['Orchestre Réduit'],
                        'quantity': 2}]})
        self.assertEqual(reply.status, 201, reply)
        self.assertEqual(reply.json['quote']['total'], '40.00')
        before = self.snapshot(session)
        for body, status, code in [
                ({'seats': pair}, 409, 'seat_taken'),
                ({'seats': [self.seat('Orchestre', 'B', '2'),
                            self.seat('Orchestre', 'B', '3')]}, 409,
                    'isolated_seat'),
                ({'seats': [self.seat('Balcon', 'A', '1')], 'tariffs': [
                            {'tariff': self.ids['tariffs']['Orchestre Plein'],
                                'quantity': 1}]}, 409,
                    'tariff_not_for_seat'),
                ({'seats': [999999]}, 400, 'invalid_seat'),
                ({'seats': pair, 'quantity': 2}, 400, 'invalid_body'),
                ({'seats': [pair[0], pair[0]]}, 400, 'invalid_body'),
                ({'quantity': 0}, 400, 'invalid_quantity'),
                ({'quantity': 2, 'spare': True}, 400, 'invalid_body'),
                ({'quantity': 2, 'wheelchair': 'yes'}, 400, 'invalid_body'),
                ({'quantity': 2, 'category': 999999}, 404,
                    'category_not_found'),
                ({'quantity': 2, 'tariffs': [{'tariff': 999999,
                                'quantity': 2}]}, 404, 'tariff_not_found'),
                ({}, 400, 'invalid_body'),
                ({'quantity': 40, 'category':
                        self.ids['categories']['Balcon']}, 409,
                    'seats_unavailable'),
                ({'quantity': 12, 'allow_split': False, 'category':
                        self.ids['categories']['Balcon']}, 409,
                    'seats_not_together'),
                ({'quantity': 2, 'wheelchair': True}, 409,
                    'seats_unavailable'),
                ]:
            with self.subTest(body=body):
                reply = self.hold(session, body)
                self.assertEqual(reply.status, status, reply)
                self.assertEqual(reply.json['error']['code'], code)
        reply = self.client.post(self.path(session, '/holds'),
            data=b'{"quantity": ', headers={
                'Content-Type': 'application/json'})
        self.assertEqual(reply.json['error']['code'], 'invalid_json')
        self.assertEqual(self.snapshot(session), before)

    def test_split(self):
        "No row fits: the best split, said so"
        session = self.ids['sessions'][3]
        reply = self.hold(session, {'quantity': 12,
                'category': self.ids['categories']['Balcon']})
        self.assertEqual(reply.status, 201, reply)
        self.assertTrue(reply.json['split'])
        self.assertIn("2 groups", reply.json['message'])
        self.assertEqual(len(reply.json['seats']), 12)

    def test_modes_and_change(self):
        "The seating mode of a channel decides what its buyers may do"
        session = self.ids['sessions'][4]
        try:
            self.set_mode('web', 'auto')
            reply = self.client.get(self.path(session))
            self.assertEqual(reply.status, 403, reply)
            self.assertEqual(reply.json['error']['code'], 'seat_map_hidden')
            self.assertEqual(self.client.get(self.path(session, '.svg'),
                    check=False).status, 403)
            reply = self.hold(session, {'seats': [
                        self.seat('Orchestre', 'E', '1')]})
            self.assertEqual(reply.json['error']['code'],
                'seat_choice_not_allowed')
            reply = self.hold(session, {'quantity': 2})
            self.assertEqual(reply.status, 201, reply)
            token = reply.json['hold']['token']
            wanted = [self.seat('Orchestre', 'D', '9'),
                self.seat('Orchestre', 'D', '10')]
            path = self.path(session, f'/holds/{token}')
            reply = self.client.request('PUT', path, body={'seats': wanted})
            self.assertEqual(reply.status, 403, reply)

            self.set_mode('web', 'auto_change')
            self.assertEqual(self.client.get(self.path(session)).json['mode'],
                'auto_change')
            reply = self.client.request('PUT', path, body={'seats': wanted})
            self.assertEqual(reply.status, 200, reply)
            self.assertEqual([s['label'] for s in reply.json['seats']],
                ['9', '10'])
            for body, status, code in [
                    ({'seats': wanted[:1]}, 400, 'invalid_seat'),
                    ({'seats': wanted, 'x': 1}, 400, 'invalid_body'),
                    ]:
                reply = self.client.request('PUT', path, body=body)
                self.assertEqual((reply.status, reply.json['error']['code']),
                    (status, code))
            reply = self.client.request('PUT',
                self.path(session, '/holds/unknown-token-1234567'),
                body={'seats': wanted})
            self.assertEqual(reply.status, 404)
        finally:
            self.set_mode('web', None)

    def test_openapi_documents_seating(self):
        paths = self.document['paths']
        for path, method in [
                ('/ticket/api/v1/sessions/{session_id}/seats', 'get'),
                ('/ticket/api/v1/sessions/{session_id}/seats.svg', 'get'),
                ('/ticket/api/v1/sessions/{session_id}/seats/holds', 'post'),
                ('/ticket/api/v1/sessions/{session_id}/seats/holds/{token}',
                    'put'),
                ]:
            self.assertIn(method, paths[path])
        from openapi_spec_validator import validate
        validate(self.document)
        self.assertEqual(Decimal(self.client.get(self.path(
                        self.ids['sessions'][0])).json['categories'][0][
                    'tariffs'][0]['price']), Decimal('30'))


if __name__ == '__main__':
    unittest.main()
