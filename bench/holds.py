"""Holds per second and latency through the HTTP API, clients contending on
one capacity pool, on the embedded PostgreSQL.

Starts a trytond server on a fresh database (tests/server.py), then for 1, 8
and 32 concurrent clients sends a fixed number of POST /holds of 1 to 4
places of the same session and prints holds/s and the p50/p99 latency. The
pool is emptied between rounds so that no request is refused for lack of
places.

Usage: .venv/bin/python bench/holds.py [--requests N] [--clients 1,8,32]
(GUICHET_PGDATA and GUICHET_PGPORT choose the PostgreSQL server.)
"""
import argparse
import pathlib
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import ApiServer, drop_database  # noqa: E402

DATABASE = 'bench_holds'
TEMPLATE = 'bench_ticket_event_template'
CAPACITY = 10000
SEED = 42


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_round(server, session, clients, requests):
    "Send requests holds from clients threads; return the figures"
    rng = random.Random(SEED)
    quantities = [rng.randint(1, 4) for _ in range(requests)]
    parts = [quantities[i::clients] for i in range(clients)]
    start = threading.Barrier(clients + 1)
    client = server.client

    def run(part):
        start.wait()
        timings = []
        for quantity in part:
            began = time.perf_counter()
            reply = client.hold([(session, quantity)], check=False)
            timings.append((time.perf_counter() - began, reply.status))
        return timings

    with ThreadPoolExecutor(clients) as executor:
        futures = [executor.submit(run, p) for p in parts]
        start.wait()
        began = time.perf_counter()
        timings = [t for f in futures for t in f.result()]
        elapsed = time.perf_counter() - began
    latencies = [t for t, _ in timings]
    granted = sum(1 for _, status in timings if status == 201)
    return {
        'clients': clients,
        'requests': len(timings),
        'granted': granted,
        'other': len(timings) - granted,
        'rate': granted / elapsed,
        'p50': percentile(latencies, 0.50) * 1000,
        'p99': percentile(latencies, 0.99) * 1000,
        'seconds': elapsed,
        }


def reset(server, session):
    "Give back every held place and check the pool is whole again"
    server.expire_all_holds()
    capacity, sold, held = server.pool_of(session)
    assert (sold, held) == (0, 0), (sold, held)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--requests', type=int, default=400)
    parser.add_argument('--clients', default='1,8,32')
    args = parser.parse_args()
    rounds = [int(c) for c in args.clients.split(',')]

    began = time.perf_counter()
    with ApiServer(DATABASE, template=TEMPLATE) as server:
        session = server.ids['sessions']['open']
        with server.transaction() as pool:
            Session = pool.get('ticket.session')
            Session.write([Session(session)], {'capacity': CAPACITY})
        setup = time.perf_counter() - began
        # Warm the server's caches before measuring.
        run_round(server, session, 4, 40)
        reset(server, session)
        results = []
        for clients in rounds:
            results.append(run_round(server, session, clients, args.requests))
            reset(server, session)
    drop_database(TEMPLATE)

    print(f"POST /holds, 1-4 places of one session (pool of {CAPACITY}), "
        f"{args.requests} requests per round; setup {setup:.0f} s")
    print(f"{'clients':>7} {'requests':>8} {'granted':>7} {'other':>5} "
        f"{'holds/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'time s':>6}")
    for r in results:
        print(f"{r['clients']:>7} {r['requests']:>8} {r['granted']:>7} "
            f"{r['other']:>5} {r['rate']:>8.1f} {r['p50']:>7.1f} "
            f"{r['p99']:>7.1f} {r['seconds']:>6.1f}")
    return 0 if all(r['other'] == 0 for r in results) else 1


if __name__ == '__main__':
    sys.exit(main())
