"""Holds under contention, on real PostgreSQL over real HTTP.

Many clients race for the places of one pool: the pool never oversells, no
request is refused while it had the places, the counters always equal the
allocations, and expiry or release gives every place back exactly once.
"""
import random
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from psycopg import IsolationLevel

from tests.server import API, ApiServer, Client, OpenAPIChecker

HOLDS = f'{API}/holds'
SEED = 20261123
CLIENTS = 16
REQUESTS = 400
SERVER = None


def setUpModule():
    global SERVER
    SERVER = ApiServer('test_concurrency')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


class ConcurrencyTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = SERVER
        document = SERVER.client.get(f'{API}/openapi.json').json
        cls.client = Client(SERVER.port, SERVER.database,
            OpenAPIChecker(document))
        cls.sessions = SERVER.ids['sessions']

    def active_holds(self):
        return self.server.sql(
            "SELECT count(*) FROM ticket_hold WHERE state = 'active'")[0][0]

    def assertCountersMatchAllocations(self):
        "Every pool's counters equal the places of its live allocations"
        rows = self.server.sql(
            "SELECT p.id, p.held, p.sold, "
            "COALESCE(SUM(a.quantity) FILTER (WHERE a.state = 'held'), 0), "
            "COALESCE(SUM(a.quantity) FILTER (WHERE a.state = 'sold'), 0) "
            "FROM ticket_pool p LEFT JOIN ticket_allocation a "
            "ON a.pool = p.id GROUP BY p.id ORDER BY p.id")
        for pool_id, held, sold, allocated, allocated_sold in rows:
            self.assertEqual((held, sold), (allocated, allocated_sold),
                f"pool {pool_id}")
        # The held allocations are those of the active holds.
        self.assertEqual(self.server.sql(
                "SELECT count(*) FROM ticket_allocation a "
                "JOIN ticket_hold h ON a.hold = h.id "
                "WHERE (a.state = 'held') <> (h.state = 'active')"),
            [(0,)])
        with self.server.transaction(readonly=True) as pool:
            self.assertEqual(pool.get('ticket.pool').check_counts(), [])

    def test_no_oversell_under_contention(self):
        "400 requests of 1-4 places from 16 clients on a pool of 100"
        small = self.sessions['small']
        self.assertEqual(self.server.pool_of(small), (100, 0, 0))
        rng = random.Random(SEED)
        quantities = [rng.randint(1, 4) for _ in range(REQUESTS)]
        start = threading.Barrier(CLIENTS)

        def hold(quantity):
            return quantity, self.client.hold([(small, quantity)])

        def client(part):
            start.wait()
            return [hold(q) for q in part]
        with ThreadPoolExecutor(CLIENTS) as executor:
            parts = [quantities[i::CLIENTS] for i in range(CLIENTS)]
            results = [r for rs in executor.map(client, parts) for r in rs]

        granted = [(q, r) for q, r in results if r.status == 201]
        refused = [(q, r) for q, r in results if r.status != 201]
        self.assertEqual(len(granted) + len(refused), REQUESTS)
        self.assertTrue(granted)
        self.assertTrue(refused)
        for quantity, reply in refused:
            self.assertEqual(reply.status, 409, reply)
            self.assertEqual(
                reply.json['error']['code'], 'capacity_exceeded', reply)
            self.assertIn(f'{quantity} asked', reply.json['error']['message'])
        places = sum(q for q, _ in granted)
        self.assertLessEqual(places, 100)
        self.assertEqual(self.server.pool_of(small), (100, 0, places))
        # Places only went down: a refusal came when fewer were left than
        # asked, so no refusal happened while the pool had the places.
        available = 100 - places
        self.assertLess(available, min(q for q, _ in refused))
        reply = self.client.get(f'{API}/sessions/{small}')
        self.assertEqual(
            (reply.json['held'], reply.json['available']),
            (places, available))
        tokens = {r.json['token'] for _, r in granted}
        self.assertEqual(len(tokens), len(granted))
        self.assertEqual(self.active_holds(), len(granted))
        self.assertCountersMatchAllocations()

        self.assertEqual(self.server.expire_all_holds(), len(granted))
        self.assertEqual(self.server.pool_of(small), (100, 0, 0))
        reply = self.client.get(f'{API}/sessions/{small}')
        self.assertEqual(
            (reply.json['held'], reply.json['available']), (0, 100))
        self.assertEqual(self.active_holds(), 0)
        self.assertCountersMatchAllocations()
        # Expiring again finds nothing to give back.
        self.assertEqual(self.server.expire_all_holds(), 0)
        self.assertEqual(self.server.pool_of(small), (100, 0, 0))

    def test_release_and_expire_race(self):
        "A hold released and expired at once gives its places back once"
        for isolation in [
                IsolationLevel.READ_COMMITTED,
                IsolationLevel.REPEATABLE_READ]:
            with self.subTest(isolation=isolation.name):
                self._race(isolation)

    def _race(self, isolation):
        open_ = self.sessions['open']
        before = self.server.pool_of(open_)
        reply = self.client.hold([(open_, 3)])
        self.assertEqual(reply.status, 201, reply)
        token = reply.json['token']
        self.server.sql(
            "UPDATE ticket_hold SET expires_at = expires_at - "
            "interval '1 hour' WHERE token = %s", (token,))
        released = threading.Event()
        ended = {}
        attempts = {'expire': 0}

        def release():
            with self.server.transaction() as pool:
                _connection().isolation_level = isolation
                Hold = pool.get('ticket.hold')
                hold, = Hold.search([('token', '=', token)])
                Hold.release([hold])
                released.set()
                # Commit only once the other transaction waits for us.
                self._wait_for_lock_waiter()
                ended['release'] = Hold(hold.id).state

        def expire():
            from trytond import backend
            released.wait(30)
            for _ in range(5):
                attempts['expire'] += 1
                try:
                    with self.server.transaction() as pool:
                        _connection().isolation_level = isolation
                        Hold = pool.get('ticket.hold')
                        ended['expire'] = Hold.expire_stale()
                    return
                except backend.DatabaseOperationalError:
                    time.sleep(0.05)
            raise AssertionError("expire_stale never went through")
        threads = [threading.Thread(target=f) for f in [release, expire]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(ended.get('release'), 'released')
        self.assertEqual(ended.get('expire'), [])
        if isolation == IsolationLevel.REPEATABLE_READ:
            # The waiting transaction failed to serialize and retried.
            self.assertGreater(attempts['expire'], 1)
        self.assertEqual(self.server.pool_of(open_), before)
        self.assertEqual(self.server.sql(
                "SELECT state FROM ticket_hold WHERE token = %s", (token,)),
            [('released',)])
        self.assertCountersMatchAllocations()

    def _wait_for_lock_waiter(self, timeout=20):
        "Wait until a session of the database waits for a lock"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.sql(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")[0][0]:
                return
            time.sleep(0.02)
        raise AssertionError("the other transaction never waited")

    def test_concurrent_deletes(self):
        "Many clients release the same hold: one succeeds, places back once"
        open_ = self.sessions['open']
        before = self.server.pool_of(open_)
        reply = self.client.hold([(open_, 4)])
        self.assertEqual(reply.status, 201, reply)
        path = f"{HOLDS}/{reply.json['token']}"
        start = threading.Barrier(CLIENTS)

        def delete(_):
            start.wait()
            return self.client.delete(path)
        with ThreadPoolExecutor(CLIENTS) as executor:
            replies = list(executor.map(delete, range(CLIENTS)))
        statuses = sorted(r.status for r in replies)
        self.assertEqual(statuses, [200] + [409] * (CLIENTS - 1), replies)
        for reply in replies:
            if reply.status == 409:
                self.assertEqual(
                    reply.json['error']['code'], 'hold_not_active')
        self.assertEqual(self.server.pool_of(open_), before)
        self.assertCountersMatchAllocations()

    def test_hold_and_release_storm(self):
        "Holds and releases interleaved by many clients leave no place behind"
        open_ = self.sessions['open']
        before = self.server.pool_of(open_)
        rng = random.Random(SEED + 1)
        quantities = [rng.randint(1, 4) for _ in range(CLIENTS * 8)]

        def cycle(quantity):
            reply = self.client.hold([(open_, quantity)])
            self.assertEqual(reply.status, 201, reply)
            return self.client.delete(
                f"{HOLDS}/{reply.json['token']}").status
        with ThreadPoolExecutor(CLIENTS) as executor:
            statuses = list(executor.map(cycle, quantities))
        self.assertEqual(statuses, [200] * len(quantities))
        self.assertEqual(self.server.pool_of(open_), before)
        self.assertCountersMatchAllocations()


def _connection():
    from trytond.transaction import Transaction
    return Transaction().connection


if __name__ == '__main__':
    unittest.main()
