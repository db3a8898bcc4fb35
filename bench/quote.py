"""Quotes per second of the price engine.

An order of 6 lines (3 sessions x 2 tariffs of the demo theatre season, with
categories, a pack and a 5.5 % VAT product) on the web channel, where two
booking fees (per ticket and per order, 20 % VAT) and the channel's fee cap
apply. The database is the demo's (tools/demo.py) built afresh as
``bench_quote`` on the embedded PostgreSQL; the engine runs in this process,
as the shop, the POS and the API call it.

Promo codes are not in the engine yet (see the README): the figure is for
fees and taxes only, and the output says so.

Usage: .venv/bin/python bench/quote.py [--seconds 10]
"""
import argparse
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
sys.path.insert(0, str(ROOT))

import demo  # noqa: E402
import pgctl  # noqa: E402

DATABASE = 'bench_quote'


def build():
    pgctl.start()
    demo.drop_database(DATABASE)
    demo.create_database(DATABASE)
    config = demo.connect(DATABASE)
    demo.setup_company(config)
    events = demo.create_events(demo.create_venues(), demo.create_tags())
    demo.create_tariffs(events, demo.create_products())


def request(pool):
    from guichet.ticket_pricing.engine import LineRequest, QuoteRequest
    Event = pool.get('ticket.event')
    event, = Event.search([('name', '=', 'Le Misanthrope — Molière')])
    sessions = [s for s in event.sessions if s.state == 'on_sale'][:3]
    tariffs = {t.rec_name: t for t in event.tariffs}
    lines = []
    for session in sessions:
        lines.append(LineRequest(tariff=tariffs['Parterre - Plein tarif'],
                session=session, quantity=2))
        lines.append(LineRequest(tariff=tariffs['Balcon - Duo'],
                session=session, quantity=1))
    return QuoteRequest(lines=lines, channel='web', promo_code=None)


def run(seconds):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(DATABASE, 1, readonly=True) as transaction:
        pool = Pool()
        Company = pool.get('company.company')
        Engine = pool.get('ticket.price_engine')
        company, = Company.search([])
        with transaction.set_context(company=company.id):
            candidate = request(pool)
            quote = Engine.quote(candidate)
            print(f"order: {len(candidate.lines)} lines, "
                f"{len(quote.fee_lines)} fee lines, "
                f"{len(quote.tax_lines)} tax rates; "
                f"total {quote.total} {quote.currency.code} "
                f"(tax {quote.tax}); promo code: not applied "
                "(no promotion model yet)")
            latencies = []
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                Engine.quote(request(pool))
                latencies.append(time.perf_counter() - start)
    count = len(latencies)
    total = sum(latencies)
    latencies.sort()
    print(f"quotes: {count} in {total:.1f} s -> {count / total:.0f} quotes/s "
        "(one process, one core)")
    print(f"latency ms: p50 {statistics.median(latencies) * 1000:.2f}  "
        f"p99 {latencies[int(count * 0.99)] * 1000:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=10)
    parser.add_argument('--keep', action='store_true',
        help="reuse the bench database if it exists")
    args = parser.parse_args()
    started = time.perf_counter()
    if not (args.keep and demo.database_exists(DATABASE)):
        build()
    else:
        demo.connect(DATABASE)
    print(f"setup {time.perf_counter() - started:.0f} s")
    run(args.seconds)
    return 0


if __name__ == '__main__':
    sys.exit(main())
