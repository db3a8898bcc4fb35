"""Web shop: where a buyer's order spends its time, request by request.

Runs the requests of bench/shop.py (event page, hold, checkout page and
form, payment page and test payment) in this process, through trytond's
WSGI application (no socket), on a fresh database with the shop catalogue:
counts the SQL statements of each request and its wall time; --sites
prints where the statements of the last buyer come from, --profile the
functions where each request spends its time (cProfile, cumulative).

Usage: .venv/bin/python bench/shop_profile.py [--buyers 20] [--profile]
    [--sites]
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

DATABASE = 'bench_shop_profile'
TEMPLATE = 'bench_shop_profile_template'
PAY_FIELDS = re.compile(
    r'name="(reference|amount|signature)" value="([^"]*)"')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--buyers', type=int, default=20)
    parser.add_argument('--profile', action='store_true')
    parser.add_argument('--top', type=int, default=45)
    parser.add_argument('--sites', action='store_true')
    parser.add_argument('--total', action='store_true',
        help="one profile of all the requests, by own time")
    parser.add_argument('--cache-clears', action='store_true',
        help="print the Tryton caches that the buyers' requests clear (a "
        "clear empties that cache in every process)")
    parser.add_argument('--dump', metavar='FILE',
        help="with --total, also save the profile (pstats) to FILE")
    args = parser.parse_args()
    with ShopServer(DATABASE, template=TEMPLATE) as server:
        from werkzeug.test import Client
        from trytond.pool import Pool
        from trytond.wsgi import app
        # as in production (trytond's test mode validates function fields)
        Pool.test = False
        clears = collections.Counter()
        if args.cache_clears:
            import traceback
            from trytond.cache import MemoryCache
            clear = MemoryCache.clear

            def counted_clear(self):
                stack = traceback.extract_stack(limit=5)[:-1]
                clears[(self._name, ' < '.join(
                            '/'.join(f.filename.split('/')[-2:])
                            + f':{f.lineno}' for f in reversed(stack)))] += 1
                return clear(self)
            MemoryCache.clear = counted_clear
        counter = Counter()
        profiles = collections.defaultdict(cProfile.Profile)
        figures = collections.defaultdict(list)
        sites = {}
        event = server.ids['events']['main']
        session = server.ids['sessions']['open']
        shop = server.ids['shop']
        root = f'/{DATABASE}{SHOP}'

        for number in range(args.buyers):
            client = Client(app)
            last = args.sites and number == args.buyers - 1

            def call(name, method, path, data=None):
                start, queries = time.perf_counter(), counter.count
                if last:
                    counter.sites = collections.Counter()
                profile = (profiles['all'] if args.total and number
                    else profiles[name] if args.profile else None)
                if profile:
                    profile.enable()
                url = path if path.startswith(root) else root + path
                reply = client.open(url, method=method,
                    data=urllib.parse.urlencode(data) if data else None,
                    headers={'Accept-Language': 'en', **({
                                'Content-Type':
                                'application/x-www-form-urlencoded'}
                            if data else {})})
                body = reply.get_data(as_text=True)
                if profile:
                    profile.disable()
                figures[name].append(
                    (time.perf_counter() - start, counter.count - queries))
                if last:
                    sites[name], counter.sites = counter.sites, None
                if reply.status_code >= 400:
                    raise RuntimeError(
                        f'{name} {reply.status_code} {body[:300]!r}')
                return reply, body
            _, body = call('event', 'GET', f'/event/{event}')
            reply, _ = call('hold', 'POST', '/cart', {
                    'csrf_token': CSRF.search(body).group(1),
                    'event': event, 'session': session,
                    f'q-{shop["full"]}': 1})
            assert reply.status_code == 303, reply.status_code
            _, body = call('checkout_page', 'GET', '/checkout')
            reply, _ = call('checkout', 'POST', '/checkout', {
                    'csrf_token': CSRF.search(body).group(1),
                    'name': f'Buyer {number}',
                    'email': f'buyer{number}@example.org',
                    'terms': 'yes', 'method': shop['card'],
                    'action': 'order'})
            assert reply.status_code == 303, reply.status_code
            pay = urllib.parse.urlsplit(reply.headers['Location']).path
            _, body = call('pay_page', 'GET', pay)
            form = dict(PAY_FIELDS.findall(body))
            reply, _ = call('pay', 'POST', f'{pay}/test', dict(form,
                    action='pay', csrf_token=CSRF.search(body).group(1)))
            assert reply.status_code == 303, reply.status_code
    print(f"{args.buyers} buyers of one ticket, in process (no socket)")
    total_t = total_q = 0
    for name, values in figures.items():
        times = [t for t, _ in values[1:]] or [values[0][0]]
        queries = [q for _, q in values]
        total_t += statistics.mean(times)
        total_q += queries[-1]
        print(f"  {name:13s} x{len(values):3d}: mean "
            f"{statistics.mean(times) * 1000:7.1f} ms, median "
            f"{statistics.median(times) * 1000:7.1f} ms, "
            f"queries mean {statistics.mean(queries):6.1f} "
            f"(last {queries[-1]})")
    print(f"  one order: {total_t * 1000:.1f} ms, {total_q} statements "
        "(first buyer left out of the times)")
    if args.cache_clears:
        print(f"\ncaches cleared by the requests: {sum(clears.values())}")
        for (name, where), count in clears.most_common():
            print(f"  {count:4d} {name}: {where}")
    for name, counts in sites.items():
        print(f"\nstatements of the last buyer's {name}:")
        for where, count in counts.most_common(args.top):
            print(f"  {count:4d} {where}")
    for name, profile in profiles.items():
        if name == 'all' and args.dump:
            profile.dump_stats(args.dump)
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(
            'tottime' if name == 'all' else 'cumulative')\
            .print_stats(args.top)
        print(f"\n--- {name} ---")
        print(out.getvalue())


if __name__ == '__main__':
    main()
