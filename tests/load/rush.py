"""An on-sale rush through the JSON API against the production processes,
then the checks of the invariants.

N simulated buyers (default 2,000) rush a general-admission session of
1,000 places and a numbered session of 500 seats (20 rows of 25) of one
event, as many at once as --clients (default 64): each takes a cart of 1 to
4 places (``POST /carts``) or a seat hold of 1 to 4 best-available seats
(``POST /sessions/{id}/seats/holds``), orders it (``POST /orders``) and
pays it (the provider's notification, ``Payment.record``); one in twenty
leaves a cart behind. The server is serve-prod's: gunicorn with --workers
processes (trytond's WSGI application), trytond-cron and trytond-worker on
a fresh database of the embedded PostgreSQL.

With --faults, an application process is killed with SIGKILL at 30 % of the
buyers and every PostgreSQL connection of the database is terminated
(pg_terminate_backend) at 60 %; the processes are restarted after the rush.

Then the expiry cron runs (holds and unpaid orders past their deadline) and
the checks: no place or seat sold twice (bookings, tickets), the pools'
counters equal their allocations and the tickets, nothing held any more,
every order a buyer saw paid is paid with its tickets and one payment, every
account move in balance, every refused buyer got a 4xx with a code and a
message. It prints orders/s, latencies and "conflicts found = N".

Usage: .venv/bin/python -m tests.load.rush [--buyers 2000] [--places 1000]
    [--rows 20] [--seats-per-row 25] [--clients 64] [--workers 2]
    [--threads 4] [--faults] [--keep]
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tests.server import (
    ROOT, ApiServer, configure_trytond, create_database, free_port,
    load_catalogue, pgctl, utc_at)

from .checkout import ApiCheckout

SEED = 20261123
SERVE = [sys.executable, str(ROOT / 'tools' / 'serve_prod.py')]
ABANDON = 0.05
SEATED_SHARE = 1 / 3


def percentile(values, fraction):
    if not values:
        return float('nan')
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class RushServer(ApiServer):
    """A fresh database with the rush's event, served by serve-prod's
    processes (gunicorn + trytond-cron + trytond-worker)"""

    def __init__(self, database, places, rows, seats_per_row, workers=2,
            threads=4, **kwargs):
        super().__init__(database, **kwargs)
        self.places = places
        self.rows = rows
        self.seats_per_row = seats_per_row
        self.env = dict(os.environ,
            GUICHET_PROD_PORT=str(free_port()),
            GUICHET_PROD_RUN=str(ROOT / 'var' / 'run' / database),
            GUICHET_PROD_LOG=str(ROOT / 'var' / 'log' / database),
            GUICHET_APP_WORKERS=str(workers),
            GUICHET_APP_THREADS=str(threads),
            GUICHET_WSGI_APP='tests.load.webhook:app')
        self.port = int(self.env['GUICHET_PROD_PORT'])
        self.sale = None

    def start(self):
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        create_database(self.database, self.template)
        configure_trytond()
        with Transaction().start(self.database, 0, readonly=True):
            Pool(self.database).init()
        self.ids = in_transaction(self.database, load_catalogue)
        self.new_sale(self.places, self.rows, self.seats_per_row)
        self.start_trytond()

    def new_sale(self, places, rows, seats_per_row):
        "Another event of the same shape on the running server"
        self.sale = in_transaction(self.database, lambda pool: create_sale(
                pool, self.ids, places, rows, seats_per_row))
        return self.sale

    def serve(self, command):
        return subprocess.run(SERVE + [command, self.database],
            env=self.env, capture_output=True, text=True, timeout=300,
            check=True)

    def start_trytond(self):
        self.serve('start')

    def stop(self):
        subprocess.run(SERVE + ['stop', self.database], env=self.env,
            capture_output=True, timeout=300)
        self.process = None
        super().stop()

    def restart_trytond(self):
        self.serve('restart')

    def app_workers(self):
        master = int((ROOT / 'var' / 'run' / self.database
                / 'prod-app.pid').read_text())
        with open(f'/proc/{master}/task/{master}/children') as children:
            return [int(p) for p in children.read().split()]

    def terminate_backends(self):
        "pg_terminate_backend of every connection to the database"
        return self.sql("SELECT count(pg_terminate_backend(pid)) "
            "FROM pg_stat_activity WHERE datname = %s "
            "AND pid <> pg_backend_pid()", (self.database,))[0][0]

    def run_expiry_cron(self):
        """Date every hold and unpaid order past its deadline, then run
        trytond-cron once on the expiry actions"""
        self.sql("UPDATE ticket_hold SET expires_at = "
            "now() AT TIME ZONE 'UTC' - interval '1 minute' "
            "WHERE state = 'active'")
        self.sql("UPDATE ticket_order SET reserved_until = "
            "now() AT TIME ZONE 'UTC' - interval '1 minute' "
            "WHERE state = 'reserved'")
        self.sql("UPDATE ir_cron SET next_call = NULL WHERE method IN "
            "('ticket.hold|expire_stale', 'ticket.order|expire_stale')")
        env = dict(self.env, TRYTOND_DATABASE__URI=pgctl.uri(),
            TRYTOND_CONFIG=str(ROOT / 'etc' / 'trytond.conf'))
        subprocess.run([str(ROOT / '.venv' / 'bin' / 'trytond-cron'),
                '-d', self.database, '--once', '-n', '1'],
            env=env, check=True, capture_output=True, timeout=300)


def in_transaction(database, func):
    "func(pool) in a committed transaction, started again as Tryton asks"
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        try:
            with Transaction().start(database, 0, **extras) as transaction:
                result = func(Pool(database))
                transaction.commit()
            return result
        except TransactionError as error:
            error.fix(extras)


def create_sale(pool, ids, places, rows, seats_per_row):
    """Event "Rush" at the hall: a general-admission session of places and
    a numbered session on a map of rows x seats_per_row, a tariff each
    (5.5 % VAT, tax included); return their ids"""
    from trytond.modules.company.tests import set_company
    from trytond.transaction import Transaction

    from guichet.ticket_pricing.tests.helpers import (
        create_accounts, create_product, create_tariff, create_tax)
    from guichet.ticket_seating.layout import SectionSpec
    from guichet.ticket_seating.tests.helpers import create_map
    Company = pool.get('company.company')
    Venue = pool.get('ticket.venue')
    Event = pool.get('ticket.event')
    Session = pool.get('ticket.session')
    company_id = ids['companies']['Guichet']
    with Transaction().set_context(company=company_id):
        company = Company(company_id)
        with set_company(company):
            venue = Venue(ids['venues']['hall'])
            seat_map = create_map(venue, "Rush", [SectionSpec(
                        name="Parterre", rows=rows, seats=seats_per_row,
                        category="Unique")])
            accounts = create_accounts(company)
            product = create_product(company, "Billetterie",
                [create_tax(company, '0.055', accounts)], accounts)
            event = Event(name="On-sale rush", company=company, venue=venue,
                timezone=venue.timezone)
            event.save()
            start = utc_at(30, 20)
            ga, seated = Session.create([{
                        'event': event.id, 'start': start,
                        'capacity': places,
                        }, {
                        'event': event.id, 'start': start,
                        'capacity': rows * seats_per_row,
                        'seat_map': seat_map.id,
                        }])
            ga_tariff = create_tariff(event, "Debout", '25.00', product,
                sessions=[ga])
            seat_tariff = create_tariff(event, "Placé", '40.00', product,
                sessions=[seated])
            Event.publish([event])
            Session.open_sale([ga, seated])
            return {'event': event.id, 'ga': ga.id, 'seated': seated.id,
                'ga_tariff': ga_tariff.id, 'seat_tariff': seat_tariff.id,
                'places': places, 'seats': rows * seats_per_row}


@dataclass
class Outcome:
    "What the buyers saw"
    paid: dict = field(default_factory=dict)       # order -> quantity
    refusals: Counter = field(default_factory=Counter)
    unclear: list = field(default_factory=list)
    abandoned: int = 0
    lost_after_fault: int = 0
    retries: Counter = field(default_factory=Counter)
    latencies: dict = field(default_factory=lambda: {
            'cart': [], 'seats': [], 'order': [], 'pay': [],
            'purchase': []})
    lock: threading.Lock = field(default_factory=threading.Lock)


def buyer(checkout, sale, number, outcome):
    "One buyer: cart or seats, order, payment"
    rng = random.Random(SEED + number)
    seated = rng.random() < SEATED_SHARE
    quantity = rng.choice([1, 2, 2, 3, 4])
    abandon = rng.random() < ABANDON
    began = time.perf_counter()

    def note(kind, answer):
        with outcome.lock:
            outcome.latencies[kind].append(answer.seconds)
            outcome.retries.update(answer.retried)

    def refused(answer, step):
        with outcome.lock:
            if answer.clear_refusal:
                outcome.refusals[f'{step}:{answer.code}'] += 1
            else:
                outcome.unclear.append((step, answer.status, answer.json))

    if seated:
        answer = checkout.seats(sale['seated'], quantity)
        note('seats', answer)
    else:
        answer = checkout.cart(sale['ga'], sale['ga_tariff'], quantity)
        note('cart', answer)
    if answer.status != 201:
        return refused(answer, 'seats' if seated else 'cart')
    if abandon:
        with outcome.lock:
            outcome.abandoned += 1
        return
    token = answer.json['hold']['token']
    answer = checkout.order(token, f"Buyer {number}",
        f'buyer{number}@example.org')
    note('order', answer)
    if answer.status != 201:
        # after a dropped connection the first try may have ordered: the
        # buyer is told the cart is gone; the order expires unpaid
        if answer.retries and answer.code in {'hold_not_active'}:
            with outcome.lock:
                outcome.lost_after_fault += 1
        return refused(answer, 'order')
    order = answer.json
    answer = checkout.pay(order['number'], f"PSP-{sale['event']}-{number}",
        order['to_pay'])
    note('pay', answer)
    if answer.status != 200 or answer.json.get('state') != 'paid':
        return refused(answer, 'pay')
    with outcome.lock:
        outcome.paid[order['number']] = quantity
        outcome.latencies['purchase'].append(time.perf_counter() - began)


class Faults(threading.Thread):
    "Kill an application process, then the database connections, mid-rush"

    def __init__(self, server, progress, total):
        super().__init__(daemon=True)
        self.server = server
        self.progress = progress
        self.total = total
        self.done = threading.Event()
        self.log = []

    def wait_for(self, fraction):
        while len(self.progress) < fraction * self.total:
            if self.done.wait(0.05):
                return False
        return True

    def run(self):
        if self.wait_for(0.3):
            victim = self.server.app_workers()[0]
            os.kill(victim, signal.SIGKILL)
            self.log.append(f"SIGKILL application process {victim} at "
                f"{len(self.progress)} buyers")
        if self.wait_for(0.6):
            count = self.server.terminate_backends()
            self.log.append(f"pg_terminate_backend of {count} connections "
                f"at {len(self.progress)} buyers")


def rush(server, buyers, clients, faults=False):
    "Run the buyers; return the Outcome, the seconds and the faults' log"
    checkout = ApiCheckout(server.port, server.database)
    outcome = Outcome()
    progress = []
    fault_thread = Faults(server, progress, buyers) if faults else None

    def run(number):
        try:
            buyer(checkout, server.sale, number, outcome)
        finally:
            progress.append(number)

    def client(numbers):
        for number in numbers:
            run(number)
        checkout.close()

    numbers = list(range(buyers))
    with ThreadPoolExecutor(clients) as executor:
        if fault_thread:
            fault_thread.start()
        began = time.perf_counter()
        list(executor.map(client, [numbers[i::clients]
                    for i in range(clients)]))
        elapsed = time.perf_counter() - began
    if fault_thread:
        fault_thread.done.set()
        fault_thread.join()
    return outcome, elapsed, fault_thread.log if fault_thread else []


def verify(server, outcome):
    """Check the invariants after the expiry cron; return (figures,
    problems): each problem is a conflict found"""
    sale = server.sale
    sql = server.sql
    problems = []
    figures = {}
    sessions = (sale['ga'], sale['seated'])

    twice = sql("SELECT session, seat FROM ticket_seat_booking "
        "WHERE state IN ('held', 'sold') GROUP BY session, seat "
        "HAVING count(*) > 1")
    twice += sql("SELECT session, seat FROM ticket_ticket "
        "WHERE state <> 'cancelled' AND seat IS NOT NULL "
        "GROUP BY session, seat HAVING count(*) > 1")
    problems += [f"seat {s} of session {n} sold twice" for n, s in twice]

    with server.transaction(readonly=True) as pool:
        wrong = pool.get('ticket.pool').check_counts()
        problems += [f"pool {p.id}: held/sold {h}/{s}, allocations {eh}/{es}"
            for p, h, s, eh, es in wrong]
    for session, capacity in [(sale['ga'], sale['places']),
            (sale['seated'], sale['seats'])]:
        (pool_capacity, sold, held), = sql(
            "SELECT p.capacity, p.sold, p.held FROM ticket_pool p "
            "JOIN ticket_session s ON s.pool = p.id WHERE s.id = %s",
            (session,))
        tickets, = sql("SELECT count(*) FROM ticket_ticket "
            "WHERE session = %s AND state <> 'cancelled'", (session,))[0]
        figures[session] = (capacity, sold, held, tickets)
        if sold != tickets:
            problems.append(f"session {session}: {sold} sold, {tickets} "
                "tickets")
        if held:
            problems.append(f"session {session}: {held} places still held "
                "after the expiry")
        if sold + held > pool_capacity or pool_capacity != capacity:
            problems.append(f"session {session}: oversold")
    seat_states = sql("SELECT coalesce(sum(length(states) - length(replace("
        "states, 'S', ''))), 0), coalesce(sum(length(states) - length("
        "replace(states, 'H', ''))), 0) FROM ticket_seat_row_state "
        "WHERE session = %s", (sale['seated'],))[0]
    booked, = sql("SELECT count(*) FROM ticket_seat_booking "
        "WHERE session = %s AND state = 'sold'", (sale['seated'],))[0]
    if seat_states != (booked, 0) or booked != figures[sale['seated']][3]:
        problems.append(f"seats: rows say {seat_states[0]} sold and "
            f"{seat_states[1]} held, {booked} bookings sold")
    active, = sql("SELECT count(*) FROM ticket_hold h "
        "WHERE h.state = 'active' AND EXISTS (SELECT 1 FROM ticket_hold_item "
        "i WHERE i.hold = h.id AND i.session = ANY(%s))", (list(sessions),))[0]
    if active:
        problems.append(f"{active} holds still active after the expiry")

    orders = {number: (state, quantity, tickets, payments, paid, total)
        for number, state, quantity, tickets, payments, paid, total in sql(
            "SELECT o.number, o.state, "
            "(SELECT coalesce(sum(l.quantity * l.tickets_per_unit), 0) "
            " FROM ticket_order_line l WHERE l.\"order\" = o.id "
            " AND l.session IS NOT NULL), "
            "(SELECT count(*) FROM ticket_ticket t WHERE t.\"order\" = o.id "
            " AND t.state <> 'cancelled'), "
            "(SELECT count(*) FROM ticket_order_payment p "
            " WHERE p.\"order\" = o.id AND p.state = 'succeeded'), "
            "(SELECT coalesce(sum(p.amount), 0) FROM ticket_order_payment p "
            " WHERE p.\"order\" = o.id AND p.state = 'succeeded'), "
            "(SELECT coalesce(sum(coalesce(l.total_amount, "
            " round(l.unit_price * l.quantity, 2))), 0) "
            " FROM ticket_order_line l WHERE l.\"order\" = o.id) "
            "FROM ticket_order o JOIN ticket_order_line ol "
            "ON ol.\"order\" = o.id WHERE ol.session = ANY(%s) "
            "GROUP BY o.id", (list(sessions),))}
    for number, quantity in outcome.paid.items():
        if number not in orders or orders[number][0] != 'paid':
            problems.append(f"order {number} was paid and is "
                f"{orders.get(number, ('missing',))[0]}")
    paid_orders = 0
    for number, (state, quantity, tickets, payments, paid, total) in (
            orders.items()):
        if state == 'paid':
            paid_orders += 1
            if tickets != quantity or payments != 1 or paid != total:
                problems.append(f"paid order {number}: {tickets} tickets "
                    f"of {quantity}, {payments} payments, {paid} of {total}")
        elif tickets:
            problems.append(f"{state} order {number} has tickets")
        if state == 'reserved':
            problems.append(f"order {number} still reserved after expiry")
    figures['paid_orders'] = paid_orders
    figures['orders'] = len(orders)
    figures['payments'] = sum(o[3] for o in orders.values())
    if figures['payments'] != paid_orders:
        problems.append(f"{figures['payments']} payments for {paid_orders} "
            "paid orders")

    moves = sql("SELECT count(*) FROM account_move")[0][0]
    unbalanced = sql("SELECT move FROM account_move_line GROUP BY move "
        "HAVING sum(debit) <> sum(credit)")
    figures['moves'] = moves
    problems += [f"move {m} is not balanced" for m, in unbalanced]
    problems += [f"unclear answer to {step}: {status} {body!r}"[:300]
        for step, status, body in outcome.unclear]
    return figures, problems


def report(args, outcome, elapsed, figures, problems, faults_log):
    "Print the figures; return the number of conflicts found"
    sale_lines = []
    for name, session in [('GA', 'ga'), ('seats', 'seated')]:
        capacity, sold, held, tickets = figures[args.sale[session]]
        sale_lines.append(f"{name} {sold}/{capacity} sold, {held} held, "
            f"{tickets} tickets")
    paid = len(outcome.paid)
    print(f"on-sale rush: {args.buyers} buyers, {args.places} places + "
        f"{args.rows * args.seats_per_row} seats, {args.clients} clients, "
        f"gunicorn {args.workers} workers x {args.threads} threads, "
        f"{os.cpu_count()} cores{', with faults' if args.faults else ''}")
    print(f"paid orders: {paid} in {elapsed:.1f} s -> "
        f"{paid / elapsed:.1f} orders/s ({args.buyers / elapsed:.1f} "
        f"buyers/s); {'; '.join(sale_lines)}")
    print(f"{'step':>9} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for kind, values in outcome.latencies.items():
        print(f"{kind:>9} {len(values):>8} "
            f"{percentile(values, .5) * 1000:>8.1f} "
            f"{percentile(values, .99) * 1000:>8.1f}")
    refusals = ', '.join(f"{k} {v}" for k, v in sorted(
            outcome.refusals.items()))
    print(f"refused (4xx with code and message): {refusals or 'none'}; "
        f"abandoned carts {outcome.abandoned}; unclear answers "
        f"{len(outcome.unclear)}; tried again: "
        + (', '.join(f"{k} {v}" for k, v in sorted(outcome.retries.items()))
            or 'none'))
    for line in faults_log:
        print(f"fault: {line}")
    if args.faults:
        print(f"buyers whose order was lost with a dropped connection "
            f"(never paid, expired): {outcome.lost_after_fault}")
    print(f"database: {figures['orders']} orders, {figures['paid_orders']} "
        f"paid, {figures['payments']} payments, {figures['moves']} account "
        "moves (ticket_accounting not installed: none expected)")
    for problem in problems[:20]:
        print(f"CONFLICT: {problem}")
    print(f"conflicts found = {len(problems)}")
    return len(problems)


def run(args):
    "Start the server, rush, restart after faults, expire, verify, report"
    server = RushServer(args.database, args.places, args.rows,
        args.seats_per_row, workers=args.workers, threads=args.threads,
        template=args.template, keep=args.keep)
    server.start()
    try:
        args.sale = server.sale
        outcome, elapsed, faults_log = rush(server, args.buyers,
            args.clients, args.faults)
        if args.faults:
            server.restart_trytond()
        server.run_expiry_cron()
        figures, problems = verify(server, outcome)
        conflicts = report(args, outcome, elapsed, figures, problems,
            faults_log)
    finally:
        server.stop()
    return conflicts, outcome, figures


def parser():
    result = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    result.add_argument('--buyers', type=int, default=2000)
    result.add_argument('--places', type=int, default=1000)
    result.add_argument('--rows', type=int, default=20)
    result.add_argument('--seats-per-row', type=int, default=25)
    result.add_argument('--clients', type=int, default=64)
    result.add_argument('--workers', type=int, default=2)
    result.add_argument('--threads', type=int, default=4)
    result.add_argument('--faults', action='store_true')
    result.add_argument('--keep', action='store_true',
        help="keep the database afterwards")
    result.add_argument('--database', default='load_rush')
    result.add_argument('--template', default='load_guichet_template')
    return result


def main(argv=None):
    args = parser().parse_args(argv)
    pgctl.start()
    conflicts, _, _ = run(args)
    return 1 if conflicts else 0


if __name__ == '__main__':
    sys.exit(main())
