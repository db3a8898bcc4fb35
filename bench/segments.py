"""Time to compute the RFM scores and to evaluate 5 typical segments on a
database of 500,000 customers and 3,000,000 tickets.

The database ``bench_segments`` is the demo's schema and catalogue
(tools/demo.py: company, venues, tags, events) plus 100 events of 10
sessions each made through the ORM, then filled in bulk SQL
(generate_series, INSERT ... SELECT): 500,000 customers with an e-mail
address and a postal address, 1,200,000 paid orders over four years with
one line of 1 to 4 places each (3,000,000 tickets), marketing consents for
40 % of them and two seasons of passes. It is built once and reused; pass
--rebuild to start again.

Usage: .venv/bin/python bench/segments.py [--rebuild] [--customers N]
"""
import argparse
import os
import datetime as dt
import pathlib
import random
import secrets
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
sys.path.insert(0, str(ROOT))

import demo  # noqa: E402
import pgctl  # noqa: E402

DATABASE = 'bench_segments'


def timed(label, func, *args):
    start = time.perf_counter()
    result = func(*args)
    elapsed = time.perf_counter() - start
    print(f'{label:<58} {elapsed:7.2f} s', flush=True)
    return result, elapsed


def build(customers):
    pgctl.start()
    demo.drop_database(DATABASE)
    demo.create_database(DATABASE)
    config = demo.connect(DATABASE)
    demo.setup_company(config)
    venues = demo.create_venues()
    tags = demo.create_tags()
    demo.create_events(venues, tags)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(DATABASE, 1) as transaction:
        pool = Pool()
        Company = pool.get('company.company')
        company, = Company.search([])
        with transaction.set_context(company=company.id):
            create_catalogue(pool, company)
            transaction.commit()
    ensure_filled(customers)


def ensure_filled(customers):
    "Load the customers and their orders unless they are there"
    demo.connect(DATABASE)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(DATABASE, 1) as transaction:
        cursor = transaction.connection.cursor()
        cursor.execute(
            "SELECT count(*) FROM party_party WHERE code LIKE 'BENCH%'")
        if cursor.fetchone()[0]:
            return
        company, = Pool().get('company.company').search([])
        fill(transaction, company, customers)
        transaction.commit()


def create_catalogue(pool, company):
    "100 events of 10 sessions over four years, with venues and tags"
    Event = pool.get('ticket.event')
    Session = pool.get('ticket.session')
    Venue = pool.get('ticket.venue')
    Tag = pool.get('ticket.event.tag')
    Season = pool.get('ticket.season')
    rng = random.Random(8)
    venues, tags = Venue.search([]), Tag.search([])
    start = dt.datetime(2023, 1, 1, 19)
    events = Event.create([{
                'name': f'Bench event {i}', 'company': company.id,
                'token': secrets.token_urlsafe(16),
                'venue': rng.choice(venues).id,
                'tags': [('add', [t.id for t in rng.sample(tags, 2)])],
                } for i in range(100)])
    values = []
    for i, event in enumerate(events):
        for j in range(10):
            day = start + dt.timedelta(days=(i * 14 + j) % 1460)
            values.append({'event': event.id, 'start': day,
                    'end': day + dt.timedelta(hours=2), 'capacity': 5000})
    Session.create(values)
    last = Season(name='Bench 2025', company=company,
        start_date=dt.date(2025, 9, 1), end_date=dt.date(2026, 6, 30))
    last.save()
    Season(name='Bench 2026', company=company, previous=last,
        start_date=dt.date(2026, 9, 1), end_date=dt.date(2027, 6, 30)).save()


def fill(transaction, company, customers):
    cursor = transaction.connection.cursor()
    orders = customers * 12 // 5
    steps = [
        ("customers", f"""
            INSERT INTO party_party (create_uid, create_date, code, name,
                active)
            SELECT 0, now(), 'BENCH' || i, 'Customer ' || i, true
            FROM generate_series(1, {customers}) AS i"""),
        ("e-mail addresses", """
            INSERT INTO party_contact_mechanism (create_uid, create_date,
                party, type, value, active, sequence)
            SELECT 0, now(), id, 'email',
                'customer' || substr(code, 6) || '@bench.test', true, 10
            FROM party_party WHERE code LIKE 'BENCH%'"""),
        ("addresses", """
            INSERT INTO party_address (create_uid, create_date, party,
                postal_code, city, country, active, sequence)
            SELECT 0, now(), p.id,
                lpad(((p.id::bigint * 7919) % 95 + 1)::text, 2, '0')
                    || lpad(((p.id::bigint * 31) % 1000)::text, 3, '0'),
                'Ville', c.id, true, 10
            FROM party_party p, (SELECT id FROM country_country
                WHERE code = 'FR' UNION ALL SELECT NULL LIMIT 1) c
            WHERE p.code LIKE 'BENCH%'"""),
        ("orders", f"""
            INSERT INTO ticket_order (create_uid, create_date, number,
                company, party, email, channel, paid_at, state)
            SELECT 0, paid, 'B' || i, {company.id}, party,
                'customer' || party || '@bench.test', 'web', paid, 'paid'
            FROM (SELECT i, (SELECT min(id) FROM party_party
                    WHERE code LIKE 'BENCH%')
                    + (hashint4(i) & 2147483647) % {customers} AS party,
                    timestamp '2022-12-01' + (hashint4(i + 7) & 2147483647)
                        % (4 * 365 * 86400) * interval '1 second' AS paid
                FROM generate_series(1, {orders}) AS i) AS o"""),
        ("order lines", """
            INSERT INTO ticket_order_line (create_uid, create_date, "order",
                session, description, quantity, unit_price,
                tickets_per_unit, kind, tariff, total_amount)
            SELECT 0, o.create_date, o.id, s.id, 'Place', q,
                (10 + (o.id % 9) * 5)::numeric, 1, 'ticket', NULL,
                q * (10 + (o.id % 9) * 5)::numeric
            FROM ticket_order o
            CROSS JOIN LATERAL (SELECT (o.id % 4) + 1 AS q) AS quantity
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids
                FROM ticket_session) AS all_sessions
            JOIN ticket_session s ON s.id = all_sessions.ids[
                1 + (hashint4(o.id) & 2147483647)
                    % array_length(all_sessions.ids, 1)]
            WHERE o.number LIKE 'B%'"""),
        ("tickets", f"""
            INSERT INTO ticket_ticket (create_uid, create_date, number,
                secret, company, "order", line, session, holder_email,
                type_label, price, state)
            SELECT 0, l.create_date, 'BT' || l.id || '-' || n,
                md5(l.id || '-' || n || random()::text), {company.id},
                l."order", l.id, l.session, NULL, 'Place', l.unit_price,
                'valid'
            FROM ticket_order_line l
            CROSS JOIN LATERAL generate_series(1, l.quantity) AS n
            WHERE l.description = 'Place'"""),
        ("consents", f"""
            INSERT INTO ticket_crm_consent (create_uid, create_date, party,
                company, purpose, given, date, source)
            SELECT 0, now(), id, {company.id}, 'marketing', id % 5 <> 0,
                timestamp '2024-01-01' + (id % 600) * interval '1 day',
                'shop'
            FROM party_party WHERE code LIKE 'BENCH%' AND id % 5 IN (0, 1, 2)
            """),
        ("passes", """
            INSERT INTO ticket_subscription (create_uid, create_date, season,
                pass_code, party, state)
            SELECT 0, now(), s.id, 'P' || p.id, p.id, 'active'
            FROM party_party p JOIN ticket_season s ON
                (s.name = 'Bench 2025' AND p.id % 20 IN (0, 1))
                OR (s.name = 'Bench 2026' AND p.id % 20 = 0)
            WHERE p.code LIKE 'BENCH%'"""),
        ]
    for label, sql in steps:
        timed(f"load {label}", cursor.execute, sql)
    timed("analyze", cursor.execute, "ANALYZE")


def segments(pool, company):
    "The 5 typical segments (unsaved, as the form counts them live)"
    Segment = pool.get('ticket.crm.segment')
    Line = pool.get('ticket.crm.segment.line')
    Tag = pool.get('ticket.event.tag')
    Season = pool.get('ticket.season')
    jazz, = Tag.search([('name', '=', 'Jazz')])
    this_season, = Season.search([('name', '=', 'Bench 2026')])
    today = dt.date(2026, 11, 23)

    def line(kind, **values):
        values.setdefault('negate', False)
        values.setdefault('date_basis', 'purchase')
        return Line(kind=kind, **values)
    return [
        ("jazz buyers of the last year with consent", 'all', [
                line('purchase', tag=jazz,
                    date_from=today - dt.timedelta(days=365)),
                line('consent', purpose='marketing')]),
        ("champions (R >= 4, F >= 4)", 'all', [
                line('rfm', r_min=4, f_min=4)]),
        ("lapsed subscribers of the last season", 'all', [
                line('lapsed', season=this_season)]),
        ("3+ orders and 200+ EUR in two years", 'all', [
                line('orders', minimum=3,
                    date_from=today - dt.timedelta(days=730)),
                line('amount', amount_minimum=200,
                    date_from=today - dt.timedelta(days=730))]),
        ("Rhone (69) or Paris (75), nothing in 6 months", 'all', [
                line('address', postal_codes='69, 75'),
                line('purchase', negate=True,
                    date_from=today - dt.timedelta(days=182))]),
        ], Segment


def vacuum():
    import psycopg
    with psycopg.connect(pgctl.uri(DATABASE), autocommit=True) as conn:
        conn.execute('VACUUM ANALYZE ticket_crm_purchase, ticket_crm_spend, '
            'ticket_crm_party_stat')


def measure():
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    demo.connect(DATABASE)
    with Transaction().start(DATABASE, 0) as transaction:
        pool = Pool()
        Company = pool.get('company.company')
        Score = pool.get('ticket.crm.rfm')
        cursor = transaction.connection.cursor()
        cursor.execute("SELECT (SELECT count(*) FROM party_party), "
            "(SELECT count(*) FROM ticket_order), "
            "(SELECT count(*) FROM ticket_ticket)")
        parties, orders, tickets = cursor.fetchone()
        print(f"{parties:,} parties, {orders:,} orders, {tickets:,} tickets")
        print("load average (1, 5, 15 min): %.2f %.2f %.2f"
            % os.getloadavg())
        company, = Company.search([])
        with transaction.set_context(company=company.id):
            Stat = pool.get('ticket.crm.party.stat')
            Order = pool.get('ticket.order')
            _, rebuild = timed(
                "customer summary: full rebuild (nightly, at install)",
                Stat.rebuild)
            cursor.execute("SELECT count(*) FROM ticket_crm_party_stat")
            print(f"  {cursor.fetchone()[0]:,} customers summed up")
            # Kept (the same rows each time) and vacuumed as autovacuum
            # does, so that the segments read a summary as it is in use
            transaction.commit()
            vacuum()
            timed("RFM scores, first time (INSERT ... SELECT with ntile)",
                Score.compute, [company])
            _, rfm = timed("RFM scores again (DELETE, INSERT ... SELECT)",
                Score.compute, [company])
            cursor.execute("SELECT count(*) FROM ticket_crm_party_score")
            print(f"  {cursor.fetchone()[0]:,} customers scored")
            print(f"{'RFM from scratch (summary rebuild + scores)':<58} "
                f"{rebuild + rfm:7.2f} s")
            cursor.execute("ANALYZE ticket_crm_party_score")
            definitions, Segment = segments(pool, company)
            built = []
            for name, match, lines in definitions:
                segment = Segment(company=company, match=match, lines=lines)
                built.append(segment)
                count, _ = timed(f"segment: {name}", segment.get_count)
                print(f"  {count:,} members")
            # A refund: the order is cancelled and its buyer summed up again
            # of a member with 3 orders in the two years: the member leaves
            spenders = built[3]
            start, _ = spenders.lines[0]._bounds(company.id)
            cursor.execute('''SELECT s."order" FROM ticket_crm_spend s
                WHERE s.party = ANY(%s) AND s.paid_at >= %s
                AND (SELECT count(*) FROM ticket_crm_spend x
                    WHERE x.party = s.party AND x.paid_at >= %s) = 3
                LIMIT 1''', (spenders.member_ids()[:1000], start, start))
            order = Order(cursor.fetchone()[0])
            before = spenders.get_count()
            timed("refund of one order (state written, summary refreshed)",
                Order.write, [order], {
                    'state': 'cancelled', 'cancelled_at': order.paid_at})
            print(f"  '3+ orders and 200+ EUR': {before:,} members before, "
                f"{spenders.get_count():,} after")
        print("load average (1, 5, 15 min): %.2f %.2f %.2f"
            % os.getloadavg())
        transaction.rollback()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rebuild', action='store_true')
    parser.add_argument('--customers', type=int, default=500_000)
    args = parser.parse_args()
    pgctl.start()
    if args.rebuild or not demo.database_exists(DATABASE):
        build(args.customers)
    else:
        ensure_filled(args.customers)
    measure()


if __name__ == '__main__':
    main()
