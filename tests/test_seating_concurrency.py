"""Best available under contention, on real PostgreSQL over real HTTP.

32 clients ask best available for 2 to 6 seats of one session on a
1,000-seat map until it is full: no seat is held twice, every seat is held
by exactly one hold or free, the pool's counters equal the seats held, the
row strings equal the bookings; expiry gives every seat back.
"""
import random
import threading
import unittest
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.server import API, ApiServer, Client, OpenAPIChecker

CLIENTS = 32
SEED = 20261124
SEATS = 1000
SERVER = None


def setUpModule():
    global SERVER
    SERVER = ApiServer('test_seating_concurrency')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


def create_arena():
    """A 1,000-seat map (25 rows of 40 seats, aisles after the 10th and
    the 30th), an event at venue "hall" with a session on it and one tariff
    for every seat; return the session id"""
    from trytond.modules.company.tests import set_company
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from guichet.ticket_pricing.tests.helpers import (
        create_accounts, create_product, create_tariff, create_tax)
    from guichet.ticket_seating.layout import SectionSpec
    from guichet.ticket_seating.tests.helpers import create_map
    pool = Pool()
    Company = pool.get('company.company')
    Venue = pool.get('ticket.venue')
    Event = pool.get('ticket.event')
    Session = pool.get('ticket.session')
    company_id = SERVER.ids['companies']['Guichet']
    with Transaction().set_context(company=company_id):
        company = Company(company_id)
        with set_company(company):
            venue = Venue(SERVER.ids['venues']['hall'])
            seat_map = create_map(venue, "Arène", [SectionSpec(
                        name="Parterre", rows=25, seats=40, aisles=(10, 30),
                        category="Unique")], isolated_trigger=20)
            assert seat_map.seat_count == SEATS
            accounts = create_accounts(company)
            product = create_product(company, "Billetterie",
                [create_tax(company, '0.055', accounts)], accounts)
            event = Event(name="Concert", company=company, venue=venue,
                timezone=venue.timezone)
            event.save()
            start = Session(SERVER.ids['sessions']['open']).start
            session, = Session.create([{
                        'event': event.id, 'start': start, 'capacity': SEATS,
                        'seat_map': seat_map.id}])
            create_tariff(event, "Plein", '25.00', product)
            Event.publish([event])
            Session.open_sale([session])
            return session.id


class SeatingConcurrencyTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        from trytond.transaction import Transaction, TransactionError
        cls.server = SERVER
        document = SERVER.client.get(f'{API}/openapi.json').json
        cls.client = Client(SERVER.port, SERVER.database,
            OpenAPIChecker(document))
        cls.addClassCleanup(cls.client.close)
        extras = {}
        while True:
            try:
                with Transaction().start(SERVER.database, 1, **extras):
                    cls.session = create_arena()
                    Transaction().commit()
                break
            except TransactionError as error:
                # Tryton asks to start again with the locks it needs
                error.fix(extras)

    def hold(self, quantity):
        return self.client.post(
            f'{API}/sessions/{self.session}/seats/holds',
            {'quantity': quantity})

    def test_best_available_until_full(self):
        "32 clients take 2 to 6 seats until the map is full"
        start = threading.Barrier(CLIENTS)
        refusals = Counter()
        lock = threading.Lock()

        def client(number):
            rng = random.Random(SEED + number)
            granted = []
            start.wait()
            quantity = rng.randint(2, 6)
            while quantity >= 2:
                reply = self.hold(quantity)
                if reply.status == 201:
                    seats = [s['id'] for s in reply.json['seats']]
                    self.assertEqual(len(seats), quantity)
                    self.assertEqual(reply.json['hold']['quantity'],
                        quantity)
                    granted.append((reply.json['hold']['token'], seats))
                    quantity = rng.randint(2, 6)
                    continue
                self.assertEqual(reply.status, 409, reply)
                code = reply.json['error']['code']
                self.assertIn(code, {'seats_unavailable', 'isolated_seat'})
                with lock:
                    refusals[code] += 1
                quantity -= 1
            return granted

        with ThreadPoolExecutor(CLIENTS) as executor:
            results = list(executor.map(client, range(CLIENTS)))
        holds = [h for r in results for h in r]
        seats = [s for _, held in holds for s in held]

        # no seat held twice, every seat held or free
        self.assertEqual(len(seats), len(set(seats)))
        free = self.server.sql(
            "SELECT sum(length(states) - length(replace(states, 'F', ''))) "
            "FROM ticket_seat_row_state WHERE session = %s",
            (self.session,))[0][0]
        self.assertEqual(len(seats) + free, SEATS)
        self.assertLessEqual(free, 1)
        self.assertTrue(refusals)
        self.assertEqual(self.server.sql(
                "SELECT session, seat FROM ticket_seat_booking "
                "WHERE state IN ('held', 'sold') "
                "GROUP BY session, seat HAVING count(*) > 1"), [])
        booked = dict(self.server.sql(
                "SELECT b.seat, h.token FROM ticket_seat_booking b "
                "JOIN ticket_hold h ON b.hold = h.id "
                "WHERE b.session = %s AND b.state = 'held'",
                (self.session,)))
        self.assertEqual(booked, {s: token
                for token, held in holds for s in held})
        (capacity, sold, held), = self.server.sql(
            'SELECT p.capacity, p.sold, p.held FROM ticket_pool p '
            'JOIN ticket_session s ON s.pool = p.id WHERE s.id = %s',
            (self.session,))
        self.assertEqual((capacity, sold, held), (SEATS, 0, len(seats)))
        self.assertInventoryConsistent()

        # expiry gives every seat back, once
        self.assertEqual(self.server.expire_all_holds(), len(holds))
        self.assertEqual(self.server.sql(
                "SELECT count(*) FROM ticket_seat_booking "
                "WHERE session = %s AND state IN ('held', 'sold')",
                (self.session,)), [(0,)])
        reply = self.client.get(f'{API}/sessions/{self.session}/seats')
        self.assertEqual(reply.json['free'], SEATS)
        self.assertInventoryConsistent()

    def assertInventoryConsistent(self):
        from guichet.ticket_seating.inventory import Inventory
        with self.server.transaction(readonly=True) as pool:
            Session = pool.get('ticket.session')
            self.assertEqual(Inventory.check(Session(self.session)), [])
            self.assertEqual(pool.get('ticket.pool').check_counts(), [])


if __name__ == '__main__':
    unittest.main()
