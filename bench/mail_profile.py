"""Shop confirmation e-mail: what one costs the worker that sends it.

On a fresh database with the shop catalogue, buys --orders paid orders of
one ticket in this process (the requests of bench/shop_profile.py, through
trytond's WSGI application, no socket), then times
Order.send_shop_email([order], 'confirmation', 'en') for each of them as
the queue worker runs it (one transaction per e-mail, sent by SMTP to the
local catcher of tests/test_shop_fixtures.py): wall and CPU time of the
call (CPU of this thread: the catcher's thread is left out), SQL statements
per e-mail; --profile prints where the e-mails spend their time (cProfile,
cumulative and own time), --sites where their statements come from.

Usage: .venv/bin/python bench/mail_profile.py [--orders 30]
    [--profile [--filter REGEX]] [--sites]
"""
import argparse
import collections
import cProfile
import io
import pathlib
import pstats
import re
import statistics
import sys
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))

from pos_profile import Counter  # noqa: E402
from tests.test_shop_fixtures import CSRF, SHOP, ShopServer  # noqa: E402

DATABASE = 'bench_mail_profile'
TEMPLATE = 'bench_mail_profile_template'
PAY_FIELDS = re.compile(
    r'name="(reference|amount|signature)" value="([^"]*)"')


def buy(client, root, ids, number):
    "Buy one ticket through the shop's pages, paid by the test provider"
    event = ids['events']['main']
    shop = ids['shop']

    def call(method, path, data=None):
        url = path if path.startswith(root) else root + path
        reply = client.open(url, method=method,
            data=urllib.parse.urlencode(data) if data else None,
            headers={'Accept-Language': 'en', **({
                        'Content-Type': 'application/x-www-form-urlencoded'}
                    if data else {})})
        body = reply.get_data(as_text=True)
        if reply.status_code >= 400:
            raise RuntimeError(f'{path} {reply.status_code} {body[:300]!r}')
        return reply, body
    _, body = call('GET', f'/event/{event}')
    reply, _ = call('POST', '/cart', {
            'csrf_token': CSRF.search(body).group(1),
            'event': event, 'session': ids['sessions']['open'],
            f'q-{shop["full"]}': 1})
    assert reply.status_code == 303, reply.status_code
    _, body = call('GET', '/checkout')
    reply, _ = call('POST', '/checkout', {
            'csrf_token': CSRF.search(body).group(1),
            'name': f'Buyer {number}', 'email': f'buyer{number}@example.org',
            'terms': 'yes', 'method': shop['card'], 'action': 'order'})
    assert reply.status_code == 303, reply.status_code
    pay = urllib.parse.urlsplit(reply.headers['Location']).path
    _, body = call('GET', pay)
    form = dict(PAY_FIELDS.findall(body))
    reply, _ = call('POST', f'{pay}/test', dict(form,
            action='pay', csrf_token=CSRF.search(body).group(1)))
    assert reply.status_code == 303, reply.status_code


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--orders', type=int, default=30)
    parser.add_argument('--profile', action='store_true')
    parser.add_argument('--sites', action='store_true',
        help="count the statements of the last e-mail by where they come "
        "from")
    parser.add_argument('--top', type=int, default=45)
    parser.add_argument('--filter', help="with --profile: only the "
        "functions whose file and name match this regular expression (e.g. "
        "addons/)")
    args = parser.parse_args()
    with ShopServer(DATABASE, template=TEMPLATE) as server:
        from werkzeug.test import Client
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        from trytond.wsgi import app
        # as in production (trytond's test mode validates function fields)
        Pool.test = False
        root = f'/{DATABASE}{SHOP}'
        for number in range(args.orders):
            buy(Client(app), root, server.ids, number)
        rows = server.sql(
            "SELECT id FROM ticket_order WHERE state = 'paid' "
            "AND shop_token IS NOT NULL ORDER BY id")
        order_ids = [r[0] for r in rows]
        assert len(order_ids) == args.orders, order_ids
        received = len(server.catcher.messages)

        counter = Counter()
        profile = cProfile.Profile() if args.profile else None
        walls, cpus, statements = [], [], []
        sites = None
        for index, order_id in enumerate(order_ids):
            if args.sites and index == len(order_ids) - 1:
                counter.sites = collections.Counter()
            with Transaction().start(DATABASE, 0, context={
                        'language': 'en'}) as transaction:
                Order = Pool(DATABASE).get('ticket.order')
                queries = counter.count
                start, cpu = time.perf_counter(), time.thread_time()
                if profile and index:
                    profile.enable()
                Order.send_shop_email([Order(order_id)], 'confirmation', 'en')
                if profile and index:
                    profile.disable()
                cpus.append(time.thread_time() - cpu)
                walls.append(time.perf_counter() - start)
                statements.append(counter.count - queries)
                transaction.commit()
            sites, counter.sites = counter.sites, None
        deadline = time.time() + 10
        while (len(server.catcher.messages) < received + len(order_ids)
                and time.time() < deadline):
            time.sleep(0.05)
        sent = len(server.catcher.messages) - received
        last = server.catcher.messages[-1].message
        attachments = [(p.get_filename(), len(p.get_content()))
            for p in last.iter_attachments()]
    # the first e-mail of the process pays for the imports and caches
    print(f"{len(order_ids)} confirmation e-mails of one ticket, in process "
        f"({sent} caught by SMTP)")
    print(f"  first : {walls[0] * 1000:7.1f} ms wall, "
        f"{cpus[0] * 1000:7.1f} ms CPU, {statements[0]} statements")
    rest = slice(1, None) if len(walls) > 1 else slice(None)
    print(f"  others: wall mean {statistics.mean(walls[rest]) * 1000:7.1f} "
        f"ms, median {statistics.median(walls[rest]) * 1000:7.1f} ms; "
        f"CPU mean {statistics.mean(cpus[rest]) * 1000:7.1f} ms, median "
        f"{statistics.median(cpus[rest]) * 1000:7.1f} ms")
    print(f"  statements per e-mail: mean "
        f"{statistics.mean(statements[rest]):.1f} (last {statements[-1]})")
    print(f"  last e-mail's attachments: {attachments}")
    if sites:
        print("\nstatements of the last e-mail by where they come from:")
        for where, count in sites.most_common(args.top):
            print(f"  {count:4d} {where}")
    if profile:
        for order in ['cumulative', 'tottime']:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(order)\
                .print_stats(*[args.filter] * bool(args.filter), args.top)
            print(f"\n--- send_shop_email, by {order} ---")
            print(out.getvalue())


if __name__ == '__main__':
    main()
