"""Best available on a generated 80,000-seat stadium, and its SVG.

Builds a database with every addon on the embedded PostgreSQL, generates
the stadium of ``layout.stadium()`` (80,640 seats in 2,880 rows, 4 stands,
3 tiers, the pitch's centre as focal point) and three sessions on it, filled
to 0 %, 50 % and 95 % by random groups of 1 to 6 side by side (sold, with
their bookings). Then, for groups of 2, 4 and 8 seats, it prints the p50 and
p99 of:

- allocation: choosing the seats (``allocation.choose``) on the session's
  row strings, in memory, as the service does once it read them; wall
  clock and CPU time of the thread (the CPU figure leaves out the time the
  machine gave to other processes);
- read: loading the session's row strings (one query);
- hold: the whole service (``SeatService.hold``): seating lock, read,
  choice, pricing by the engine, hold of the places and claim of the seats
  in one transaction (rolled back, so that the occupancy stays put);

and the time to render the full map as SVG (``svg.session_svg``).

Usage: .venv/bin/python bench/seating.py [--runs 300] [--holds 60]
(GUICHET_PGDATA and GUICHET_PGPORT choose the PostgreSQL server.)
"""
import argparse
import datetime as dt
import os
import pathlib
import random
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import (  # noqa: E402
    configure_trytond, create_database, drop_database, load_catalogue)

DATABASE = 'bench_seating'
TEMPLATE = 'bench_seating_template'
OCCUPANCIES = (0.0, 0.5, 0.95)
GROUPS = (2, 4, 8)
SEED = 80640


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def in_transaction(func):
    "Run func() in a committed transaction, restarted when it asks a lock"
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        try:
            with Transaction().start(DATABASE, 0, **extras) as transaction:
                result = func()
                transaction.commit()
                return result
        except TransactionError as error:
            error.fix(extras)


def build():
    "The database, the stadium and a session per occupancy; return ids"
    from trytond.modules.company.tests import set_company
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from guichet.ticket_pricing.tests.helpers import (
        create_accounts, create_product, create_tariff, create_tax)
    from guichet.ticket_seating.layout import generate, stadium
    pool = Pool()
    ids = load_catalogue(pool)
    Company = pool.get('company.company')
    Venue = pool.get('ticket.venue')
    SeatMap = pool.get('ticket.seat.map')
    Event = pool.get('ticket.event')
    Session = pool.get('ticket.session')
    company = Company(ids['companies']['Guichet'])
    with Transaction().set_context(company=company.id), \
            set_company(company):
        venue = Venue(name="Stade", company=company,
            timezone='Europe/Paris')
        venue.save()
        seat_map = SeatMap(name="Stade", venue=venue, focal_x=0.0,
            focal_y=0.0)
        seat_map.save()
        began = time.perf_counter()
        seat_map.add_seats([s for spec in stadium() for s in generate(spec)])
        generated = time.perf_counter() - began
        accounts = create_accounts(company)
        product = create_product(company, "Billetterie",
            [create_tax(company, '0.055', accounts)], accounts)
        event = Event(name="Match", company=company, venue=venue,
            timezone='Europe/Paris')
        event.save()
        start = (dt.datetime.now() + dt.timedelta(days=20)).replace(
            microsecond=0)
        sessions = Session.create([{
                    'event': event.id,
                    'start': start + dt.timedelta(days=i),
                    'capacity': 81000,
                    'seat_map': seat_map.id,
                    } for i in range(len(OCCUPANCIES))])
        create_tariff(event, "Plein", '40.00', product)
        Event.publish([event])
        Session.open_sale(sessions)
        return {
            'map': seat_map.id,
            'seats': seat_map.seat_count,
            'rows': len(seat_map.get_layout().rows),
            'sessions': [s.id for s in sessions],
            'company': company.id,
            'generated': generated,
            }


def fill(session, fraction, rng):
    """Sell fraction of the seats of session in random groups of 1 to 6
    side by side: the row strings and the bookings"""
    import datetime as dt_
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from guichet.ticket_seating.inventory import Inventory
    pool = Pool()
    RowState = pool.get('ticket.seat.row_state')
    Booking = pool.get('ticket.seat.booking')
    layout = session.seat_map.get_layout()
    states = [list(s) for s in Inventory.states(session, layout)]
    target = int(layout.seat_count * fraction)
    sold = []
    while len(sold) < target:
        index = rng.randrange(len(states))
        row = states[index]
        start = rng.randrange(len(row))
        for position in range(start, min(len(row),
                    start + rng.randint(1, 6))):
            if row[position] == 'F' and len(sold) < target:
                row[position] = 'S'
                sold.append(layout.rows[index].seat_ids[position])
    cursor = Transaction().connection.cursor()
    table = RowState.__table__()
    for index, row in enumerate(layout.rows):
        cursor.execute(*table.update([table.states], [''.join(
                        states[index])],
                where=(table.session == session.id)
                & (table.row == row.id)))
    booking = Booking.__table__()
    now = dt_.datetime.now()
    for i in range(0, len(sold), 2000):
        cursor.execute(*booking.insert(
                [booking.session, booking.seat, booking.state,
                    booking.create_uid, booking.create_date],
                [[session.id, s, 'sold', 0, now]
                    for s in sold[i:i + 2000]]))
    return len(sold)


def measure(database, ids, runs, holds):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from guichet.ticket_seating import allocation
    from guichet.ticket_seating.inventory import Inventory
    from guichet.ticket_seating.svg import session_svg
    results = []
    svg = None
    with Transaction().start(database, 0, readonly=True,
            context={'company': ids['company']}):
        pool = Pool()
        Session = pool.get('ticket.session')
        SeatMap = pool.get('ticket.seat.map')
        seat_map = SeatMap(ids['map'])
        began = time.perf_counter()
        layout = seat_map._build_layout()
        build_layout = time.perf_counter() - began
        for occupancy, session_id in zip(OCCUPANCIES, ids['sessions']):
            session = Session(session_id)
            reads = []
            for _ in range(runs // 3):
                began = time.perf_counter()
                states = Inventory.states(session, layout)
                reads.append(time.perf_counter() - began)
            free = sum(s.count('F') for s in states)
            for size in GROUPS:
                request = allocation.Request(quantity=size,
                    isolated_rule=not seat_map.allow_isolated,
                    trigger=seat_map.isolated_trigger)
                allocation.choose(layout, states, request)
                wall, cpu, splits = [], [], 0
                for _ in range(runs):
                    began, began_cpu = time.perf_counter(), time.thread_time()
                    choice = allocation.choose(layout, states, request)
                    cpu.append(time.thread_time() - began_cpu)
                    wall.append(time.perf_counter() - began)
                    splits += choice.split
                results.append({
                        'occupancy': occupancy, 'free': free, 'size': size,
                        'wall': wall, 'cpu': cpu, 'reads': reads,
                        'split': splits == runs})
            if occupancy == 0.5:
                began = time.perf_counter()
                svg = session_svg(session, 'web')
                svg_time = time.perf_counter() - began
    holds_by = {}
    for occupancy, session_id in zip(OCCUPANCIES, ids['sessions']):
        for size in GROUPS:
            times = []
            for _ in range(holds):
                with Transaction().start(database, 0,
                        context={'company': ids['company']}) as transaction:
                    Service = Pool().get('ticket.seat.service')
                    Session = Pool().get('ticket.session')
                    began = time.perf_counter()
                    Service.hold(Session(session_id), quantity=size)
                    times.append(time.perf_counter() - began)
                    transaction.rollback()
            holds_by[(occupancy, size)] = times
    return results, holds_by, build_layout, svg_time, len(svg.encode())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=300)
    parser.add_argument('--holds', type=int, default=60)
    parser.add_argument('--keep', action='store_true',
        help="Keep the database (bench_seating) afterwards.")
    args = parser.parse_args()
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    began = time.perf_counter()
    create_database(DATABASE, TEMPLATE)
    configure_trytond()
    with Transaction().start(DATABASE, 0, readonly=True):
        Pool(DATABASE).init()
    ids = in_transaction(build)

    def fill_all():
        rng = random.Random(SEED)
        Session = Pool().get('ticket.session')
        return [fill(Session(s), o, rng)
            for s, o in zip(ids['sessions'], OCCUPANCIES)]
    filled = in_transaction(fill_all)
    setup = time.perf_counter() - began
    results, holds, build_layout, svg_time, svg_size = measure(
        DATABASE, ids, args.runs, args.holds)
    if not args.keep:
        drop_database(DATABASE)
    drop_database(TEMPLATE)

    load = os.getloadavg()
    print(f"Stadium: {ids['seats']:,} seats in {ids['rows']:,} rows "
        f"(generated and stored in {ids['generated']:.1f} s, layout built "
        f"in {build_layout * 1000:.0f} ms); sold "
        f"{', '.join(f'{n:,}' for n in filled)} seats for "
        f"{', '.join(f'{o:.0%}' for o in OCCUPANCIES)}; "
        f"setup {setup:.0f} s; load average {load[0]:.1f} on "
        f"{os.cpu_count()} CPUs")
    print(f"{'occupancy':>9} {'group':>5} {'free':>7} "
        f"{'alloc p50':>9} {'p99':>6} {'cpu p50':>8} {'p99':>6} "
        f"{'read p50':>8} {'p99':>6} {'hold p50':>8} {'p99':>6}  ms")
    for r in results:
        times = holds[(r['occupancy'], r['size'])]
        print(f"{r['occupancy']:>9.0%} {r['size']:>5} {r['free']:>7,} "
            f"{percentile(r['wall'], .5) * 1000:>9.2f} "
            f"{percentile(r['wall'], .99) * 1000:>6.2f} "
            f"{percentile(r['cpu'], .5) * 1000:>8.2f} "
            f"{percentile(r['cpu'], .99) * 1000:>6.2f} "
            f"{percentile(r['reads'], .5) * 1000:>8.2f} "
            f"{percentile(r['reads'], .99) * 1000:>6.2f} "
            f"{percentile(times, .5) * 1000:>8.1f} "
            f"{percentile(times, .99) * 1000:>6.1f}"
            + ("  (split)" if r['split'] else ""))
    print(f"SVG of the full map (50 % sold): {svg_time * 1000:.0f} ms, "
        f"{svg_size / 1e6:.1f} MB")
    worst = max(percentile(r['wall'], .99) for r in results) * 1000
    print(f"Target: allocation p99 < 10 ms at 80,000 seats: worst "
        f"{worst:.2f} ms")
    return 0


if __name__ == '__main__':
    sys.exit(main())
