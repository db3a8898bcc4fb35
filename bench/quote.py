"""Quotes per second of the price engine.

An order of 6 lines (3 sessions x 2 tariffs of the demo theatre season, with
categories, a pack and a 5.5 % VAT product) on the web channel, where two
booking fees (per ticket and per order, 20 % VAT) and the channel's fee cap
apply. The database is the demo's (tools/demo.py) built afresh as
``bench_quote`` on the embedded PostgreSQL; the engine runs in this process,
as the shop, the POS and the API call it.

A promo code (10 % off each ticket, shared, ``BENCH10``) is created when
the promotions are installed (model ``ticket.promo.code``); the output says
whether a code was applied.

Usage: .venv/bin/python bench/quote.py [--seconds 10]
"""
import argparse
import pathlib
import statistics
import sys
import time
from decimal import Decimal

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


PROMO_CODE = 'BENCH10'


def ensure_promo_code():
    "Create the bench's promo code if promotions exist; return its code"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(DATABASE, 1) as transaction:
        pool = Pool()
        try:
            Campaign = pool.get('ticket.promo.campaign')
            PromoCode = pool.get('ticket.promo.code')
        except KeyError:
            return None
        Company = pool.get('company.company')
        company, = Company.search([])
        with transaction.set_context(company=company.id):
            if not PromoCode.search([('code', '=', PROMO_CODE)]):
                campaign = Campaign(name="Bench", company=company,
                    computation='percentage', rate=Decimal('0.10'),
                    per='ticket')
                campaign.save()
                PromoCode(campaign=campaign, code=PROMO_CODE,
                    max_uses=1_000_000).save()
            transaction.commit()
    return PROMO_CODE


def request(pool, promo_code=None):
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
    return QuoteRequest(lines=lines, channel='web', promo_code=promo_code)


def run(seconds):
    from trytond.pool import Pool
    promo_code = ensure_promo_code()
    from trytond.transaction import Transaction
    with Transaction().start(DATABASE, 1, readonly=True) as transaction:
        pool = Pool()
        Company = pool.get('company.company')
        Engine = pool.get('ticket.price_engine')
        company, = Company.search([])
        with transaction.set_context(company=company.id):
            candidate = request(pool, promo_code)
            quote = Engine.quote(candidate)
            if quote.promo_code:
                applied = (f"{quote.promo_code.rec_name} applied, "
                    f"discount {quote.discount}")
            else:
                applied = "not applied (no promotion model)"
            print(f"order: {len(candidate.lines)} lines, "
                f"{len(quote.fee_lines)} fee lines, "
                f"{len(quote.tax_lines)} tax rates; "
                f"total {quote.total} {quote.currency.code} "
                f"(tax {quote.tax}); promo code: {applied}")
            latencies = []
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                Engine.quote(request(pool, promo_code))
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
