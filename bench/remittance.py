"""Ticketing in the ledger at scale: post, settle, state and report.

Builds the demo database afresh as ``bench_remittance`` (all addons, the
company on the French chart), then a theatre season: an own event (a play
at 5.5 % VAT and a workshop at 20 %) and a touring show sold for its
producer (8 % commission, CNM 3.5 % and SACEM 8.8 % levies), ``--sessions``
sessions in all, half of them already played. It generates ``--tickets``
tickets in SQL (orders of 4 tickets, their lines and taxes, the tickets,
their card, cash or cheque payments over three channels and 20 days, and
the ticketing entries the payments book, waiting to be posted per day and
channel), then times:

- posting the entries batched: one move per day and channel, lines summed
  in SQL (the ``Post Ticketing Entries`` cron);
- recognizing the revenue of the sessions played and settling their
  commission and levies (the ``Recognize Revenue`` cron);
- the producer's remittance statement over the period (lines, totals,
  amount in words) and its PDF and XLSX;
- the VAT report by rate and tariff (rows and XLSX);
- the sales journal and the levies statement (rows and XLSX).

The issue's target: 1,000,000 tickets over 200 sessions, the statement and
the VAT report together under 60 s.

Usage: .venv/bin/python bench/remittance.py [--tickets 1000000]
    [--sessions 200] [--reuse]
"""
import argparse
import datetime as dt
import os
import pathlib
import sys
import time
from decimal import Decimal

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
sys.path.insert(0, str(ROOT))

import demo  # noqa: E402
import demo_accounting  # noqa: E402
import pgctl  # noqa: E402

DATABASE = 'bench_remittance'
PER_ORDER = 4
DAYS = 20
D = Decimal


def build(reuse=False):
    """The database with every addon and the company on the French chart;
    reuse: copy the activated template of a past run even if the addons
    changed since (their tables must not have)"""
    pgctl.start()
    demo.drop_database(DATABASE)
    base = f'{DATABASE}__base'
    if reuse and demo.database_exists(base):
        import psycopg
        with psycopg.connect(pgctl.uri('postgres'),
                autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{base}"')
    else:
        demo.create_database(DATABASE)
    config = demo.connect(DATABASE)
    demo.setup_company(config)


def season(sessions):
    """The events, sessions, tariffs and accounts of the bench; return the
    offers as (session, tariff, product, tax, mandate) and the producer"""
    from guichet.ticket_accounting.tests.helpers import create_vat
    from guichet.ticket_event.tests.helpers import create_event
    from guichet.ticket_pricing.tests.helpers import (
        create_product, create_tariff)
    return run(lambda pool, company: _season(
            pool, company, sessions, create_vat, create_event,
            create_product, create_tariff))


def _season(pool, company, sessions, create_vat, create_event,
        create_product, create_tariff):
    "Set up the season in the transaction of company"
    Account = pool.get('account.account')
    Configuration = pool.get('ticket.accounting.configuration')
    Event = pool.get('ticket.event')
    Levy = pool.get('ticket.accounting.levy')
    Party = pool.get('party.party')
    today = dt.date.today()
    demo_accounting._create_fiscalyears(pool, company,
        range(today.year - 1, today.year + 2))
    configuration = Configuration.set_french_defaults(company)
    configuration.posting = 'day'
    accounts = {a.code: a for a in Account.search([
                ('company', '=', company.id),
                ('code', 'in', ['706', '44571', '6378', '6516',
                        '447', '4686']),
                ])}
    revenue = {'revenue': accounts['706'], 'tax': accounts['44571']}
    vat55 = create_vat(company, '0.055', accounts['44571'])
    vat20 = create_vat(company, '0.20', accounts['44571'])
    play = create_product(company, "Théâtre", [vat55], revenue)
    workshop = create_product(company, "Atelier", [vat20], revenue)
    configuration.commission_product = create_product(
        company, "Commission de billetterie", [vat20], revenue)
    configuration.save()
    producer = Party(name="Compagnie en tournée",
        payout_iban='FR1420041010050500013M02606')
    producer.save()
    levies = Levy.create([{
                'company': company.id, 'name': "Taxe CNM",
                'rate': D('0.035'),
                'expense_account': accounts['6378'].id,
                'liability_account': accounts['447'].id,
                }, {
                'company': company.id, 'name': "SACEM",
                'rate': D('0.088'),
                'expense_account': accounts['6516'].id,
                'liability_account': accounts['4686'].id,
                }])
    half = sessions // 2
    start = (dt.datetime.now() - dt.timedelta(days=half // 2)
        ).replace(microsecond=0)
    capacity = 10 ** 7
    own, own_sessions = create_event(company, [capacity] * half,
        start=start)
    tour, tour_sessions = create_event(company,
        [capacity] * (sessions - half),
        start=start + dt.timedelta(hours=4))
    Event.write([own], {'name': "Le Misanthrope"}, [tour], {
            'name': "Tournée", 'producer': producer.id,
            'commission_rate': D('0.08'),
            'levies': [('add', [l.id for l in levies])]})
    full = create_tariff(own, "Plein tarif", '32.00', play)
    visit = create_tariff(own, "Visite des coulisses", '12.00',
        workshop)
    tour_full = create_tariff(tour, "Plein tarif", '28.00', play)
    offers = []
    for session in own_sessions:
        offers.append((session.id, full.id, play.id, vat55.id,
                D('32.00'), D('0.055'), None))
        offers.append((session.id, visit.id, workshop.id, vat20.id,
                D('12.00'), D('0.20'), None))
    for session in tour_sessions:
        offers.append((session.id, tour_full.id, play.id, vat55.id,
                D('28.00'), D('0.055'), producer.id))
    values = {
        'company': company.id,
        'currency': company.currency.id,
        'clearing': {m: configuration.clearing_account(m).id
            for m in ['card', 'cash', 'cheque']},
        'deferred': configuration.deferred_revenue.id,
        'producers': configuration.producers_account.id,
        'vat_account': accounts['44571'].id,
        'producer': producer.id,
        }
    return offers, values


def generate(tickets, offers, values):
    "Orders, lines, taxes, tickets, payments and entries, in SQL"
    from trytond.transaction import Transaction
    orders = tickets // PER_ORDER
    with Transaction().start(DATABASE, 1) as transaction:
        cursor = transaction.connection.cursor()
        cursor.execute("CREATE TEMP TABLE bench_offer (n int, session int, "
            "tariff int, product int, tax int, price numeric, rate numeric, "
            "producer int)")
        cursor.executemany("INSERT INTO bench_offer VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s)",
            [(i,) + o for i, o in enumerate(offers)])
        # one spec row per order: what it buys, how, when
        cursor.execute(f"""
            CREATE TEMP TABLE bench_spec AS
            SELECT i, o.*,
                (ARRAY['web', 'box_office', 'phone'])[mod(i, 3) + 1] AS channel,
                (ARRAY['card', 'cash', 'cheque'])[mod(i, 3) + 1] AS method,
                CURRENT_DATE - mod(i, {DAYS}) - 1 AS day,
                {PER_ORDER} * o.price AS total,
                ROUND({PER_ORDER} * o.price
                    - {PER_ORDER} * o.price / (1 + o.rate), 2) AS vat
            FROM generate_series(0, %s - 1) AS i
            JOIN bench_offer AS o ON o.n = mod(i, %s)""",
            (orders, len(offers)))
        company, currency = values['company'], values['currency']
        steps = [
            ('orders', f"""
                INSERT INTO ticket_order (number, company, channel, state,
                    paid_at, create_date, create_uid)
                SELECT 'B' || i, {company}, channel, 'paid', day, day, 1
                FROM bench_spec"""),
            ('map', """
                CREATE TEMP TABLE bench_order AS
                SELECT s.*, o.id AS order_id FROM bench_spec AS s
                JOIN ticket_order AS o ON o.number = 'B' || s.i"""),
            ('lines', f"""
                INSERT INTO ticket_order_line ("order", session, description,
                    quantity, unit_price, tickets_per_unit, kind, tariff,
                    product, discount, untaxed_amount, tax_amount,
                    total_amount, create_date, create_uid)
                SELECT order_id, session, 'Bench', {PER_ORDER}, price, 1,
                    'ticket', tariff, product, 0, total - vat, vat, total,
                    day, 1
                FROM bench_order"""),
            ('map lines', """
                CREATE TEMP TABLE bench_line AS
                SELECT b.*, l.id AS line_id FROM bench_order AS b
                JOIN ticket_order_line AS l ON l."order" = b.order_id"""),
            ('line taxes', """
                INSERT INTO ticket_order_line_tax (line, tax, base, amount,
                    create_date, create_uid)
                SELECT line_id, tax, total - vat, vat, day, 1
                FROM bench_line"""),
            ('order taxes', """
                INSERT INTO ticket_order_tax ("order", tax, base, amount,
                    create_date, create_uid)
                SELECT order_id, tax, total - vat, vat, day, 1
                FROM bench_line"""),
            ('tickets', f"""
                INSERT INTO ticket_ticket (number, secret, company, "order",
                    line, session, state, create_date, create_uid)
                SELECT 'B' || i || '-' || k,
                    md5(random()::text || clock_timestamp()::text
                        || i || k),
                    {company}, order_id, line_id, session, 'valid', day, 1
                FROM bench_line, generate_series(1, {PER_ORDER}) AS k"""),
            ('payments', f"""
                INSERT INTO ticket_order_payment ("order", company, kind,
                    provider, method, amount, currency, reference, date,
                    state, create_date, create_uid)
                SELECT order_id, {company}, 'payment', 'manual', method,
                    total, {currency}, 'B' || i, day, 'succeeded', day, 1
                FROM bench_line"""),
            ('entries', f"""
                INSERT INTO ticket_accounting_posting (company, kind, date,
                    channel, method, "order", order_amount, payment, state,
                    create_date, create_uid)
                SELECT {company}, 'payment', b.day, b.channel, b.method,
                    b.order_id, b.total, p.id, 'draft', b.day, 1
                FROM bench_line AS b
                JOIN ticket_order_payment AS p ON p.reference = 'B' || b.i
                    AND p.provider = 'manual'"""),
            ('entry lines', f"""
                INSERT INTO ticket_accounting_posting_line (posting, kind,
                    account, amount, session, tariff, product, tax, base,
                    party, quantity, create_date, create_uid)
                SELECT e.id, 'clearing',
                    CASE b.method WHEN 'card' THEN {values['clearing']['card']}
                    WHEN 'cash' THEN {values['clearing']['cash']}
                    ELSE {values['clearing']['cheque']} END,
                    b.total, NULL::int, NULL::int, NULL::int, NULL::int,
                    NULL::numeric, NULL::int, NULL::int, b.day, 1
                FROM bench_line AS b
                JOIN ticket_accounting_posting AS e ON e."order" = b.order_id
                UNION ALL
                SELECT e.id,
                    CASE WHEN b.producer IS NULL THEN 'deferred'
                    ELSE 'mandate' END,
                    CASE WHEN b.producer IS NULL THEN {values['deferred']}
                    ELSE {values['producers']} END,
                    b.vat - b.total, b.session, b.tariff, b.product,
                    NULL::int, NULL::numeric, b.producer, {PER_ORDER},
                    b.day, 1
                FROM bench_line AS b
                JOIN ticket_accounting_posting AS e ON e."order" = b.order_id
                UNION ALL
                SELECT e.id,
                    CASE WHEN b.producer IS NULL THEN 'tax'
                    ELSE 'mandate_tax' END,
                    CASE WHEN b.producer IS NULL THEN {values['vat_account']}
                    ELSE {values['producers']} END,
                    -b.vat, b.session, b.tariff, b.product, b.tax,
                    b.vat - b.total, b.producer, NULL::int, b.day, 1
                FROM bench_line AS b
                JOIN ticket_accounting_posting AS e
                    ON e."order" = b.order_id"""),
            ('analyze', "ANALYZE"),
            ]
        timings = []
        for name, sql in steps:
            started = time.perf_counter()
            cursor.execute(sql)
            timings.append((name, time.perf_counter() - started))
        transaction.commit()
    return orders, timings


def run(func):
    """Run func(pool, company) in a transaction of the company, again with
    the table locks it asks for; commit and return its result"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        with Transaction().start(DATABASE, 1, **extras) as transaction:
            try:
                pool = Pool()
                company, = pool.get('company.company').search([])
                with transaction.set_context(
                        company=company.id, language='en'):
                    result = func(pool, company)
                transaction.commit()
            except TransactionError as error:
                transaction.rollback()
                error.fix(extras)
                continue
            return result


def load():
    "The load average now, as uptime prints it"
    return "load average %.2f, %.2f, %.2f" % os.getloadavg()


def timed(func):
    started = time.perf_counter()
    result = run(func)
    return result, time.perf_counter() - started


def post(pool, company):
    Posting = pool.get('ticket.accounting.posting')
    Move = pool.get('account.move')
    count = Posting.post_pending()
    return count, Move.search_count([])


def recognize(pool, company):
    Session = pool.get('ticket.session')
    return len(Session.recognize_revenue())


def statement(pool, company):
    from guichet.ticket_accounting.report import statement_pdf, statement_xlsx
    Statement = pool.get('ticket.accounting.statement')
    Party = pool.get('party.party')
    producer, = Party.search([('name', '=', "Compagnie en tournée")])
    today = dt.date.today()
    new, = Statement.create([{
                'company': company.id, 'producer': producer.id,
                'start_date': today - dt.timedelta(days=DAYS + 1),
                'end_date': today,
                }])
    lines = len(new.lines)
    assert new.net_due == sum((l.amount for l in new.lines), D(0))
    pdf = statement_pdf(new)
    xlsx = statement_xlsx(new)
    return lines, new.gross, new.net_due, new.in_words('fr'), len(pdf), len(
        xlsx)


def vat_report(pool, company):
    from guichet.ticket_accounting.report import ledger_xlsx, vat_rows
    today = dt.date.today()
    start = today - dt.timedelta(days=DAYS + 1)
    rows = vat_rows(company, start, today)
    content = ledger_xlsx(company, 'vat', start, today)
    return len(rows), sum((r[3] for r in rows), D(0)), len(content)


def other_reports(pool, company):
    "The sales journal and the levies statement (rows and XLSX)"
    from guichet.ticket_accounting.report import (
        journal_rows, ledger_xlsx, levy_rows)
    today = dt.date.today()
    start = today - dt.timedelta(days=DAYS + 1)
    end = today + dt.timedelta(days=366)
    journal = journal_rows(company, start, today)
    levies = levy_rows(company, start, end)
    sizes = [len(ledger_xlsx(company, 'journal', start, today)),
        len(ledger_xlsx(company, 'levies', start, end))]
    return len(journal), sum(r[8] for r in journal), len(levies), sum(
        (r[3] for r in levies), D(0)), sizes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tickets', type=int, default=1000000)
    parser.add_argument('--sessions', type=int, default=200)
    parser.add_argument('--reuse', action='store_true',
        help="reuse the activated template of a past run")
    args = parser.parse_args()
    started = time.perf_counter()
    build(args.reuse)
    offers, values = season(args.sessions)
    print(f"setup (database, chart, {args.sessions} sessions): "
        f"{time.perf_counter() - started:.0f} s")
    orders, timings = generate(args.tickets, offers, values)
    print(f"generated {orders * PER_ORDER} tickets in {orders} orders, "
        f"payments and entries in SQL: "
        f"{sum(t for _, t in timings):.1f} s ("
        + ', '.join(f"{n} {t:.1f}" for n, t in timings) + f"; {load()})")
    (count, moves), elapsed = timed(post)
    print(f"posted {count} entries batched per day and channel into "
        f"{moves} moves: {elapsed:.1f} s ({load()})")
    sessions, elapsed = timed(recognize)
    print(f"recognized and settled {sessions} sessions played: "
        f"{elapsed:.1f} s ({load()})")
    (lines, gross, net, words, pdf, xlsx), statement_time = timed(statement)
    print(f"remittance statement of the producer: {lines} lines, gross "
        f"{gross}, net due {net} ({words}), PDF {pdf // 1024} KB, "
        f"XLSX {xlsx // 1024} KB: {statement_time:.1f} s ({load()})")
    (rows, vat, size), report_time = timed(vat_report)
    print(f"VAT report by rate and tariff: {rows} rows, VAT {vat}, "
        f"XLSX {size // 1024} KB: {report_time:.1f} s ({load()})")
    print(f"statement + VAT report: {statement_time + report_time:.1f} s "
        f"(target < 60 s; {load()})")
    (rows, tickets, levies, levied, sizes), elapsed = timed(other_reports)
    print(f"sales journal: {rows} rows, {tickets} tickets, XLSX "
        f"{sizes[0] // 1024} KB; levies statement: {levies} rows, "
        f"{levied} levied, XLSX {sizes[1] // 1024} KB: {elapsed:.1f} s "
        f"({load()})")
    return 0


if __name__ == '__main__':
    sys.exit(main())
