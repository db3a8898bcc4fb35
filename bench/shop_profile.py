"""Web shop: where a buyer's order spends its time, request by request.

Runs the requests of bench/shop.py (event page, hold, checkout page and
form, payment page and test payment) in this process, through trytond's
WSGI application (no socket), on a fresh database with the shop catalogue:
counts the SQL statements of each request and its wall time; --sites
prints where the statements of the last buyer come from, --profile the
functions where each request spends its time (cProfile, cumulative).

Usage: .venv/bin/python bench/shop_profile.py [--buyers 20] [--profile]
    [--sold-out 30] [--sites [--reads]]
    [--sites]
"""
import argparse
import collections
import cProfile
import functools
import io
import json
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
    parser.add_argument('--sold-out', type=int, default=0, metavar='N',
        help="then N buyers refused by the sold-out session (event page "
        "and hold, as bench/shop.py's last buyers)")
    parser.add_argument('--reads', action='store_true',
        help="with --sites, also where the ORM reads of the last buyer "
        "come from (model, number of ids, callers)")
    parser.add_argument('--repeat-pages', type=int, default=0, metavar='N',
        help="each buyer gets its checkout and payment pages N more times "
        "(steadier means of the pages)")
    parser.add_argument('--partner', action='store_true',
        help="the orders of bench/shop.py --workload partner instead: one "
        "request of the partner API per order")
    parser.add_argument('--dump', metavar='FILE',
        help="also save the profile (pstats) to FILE (--total) or each "
        "request's to FILE.<request> (--profile)")
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

        reads = collections.Counter() if args.reads else None
        if args.reads:
            trace_reads(counter, reads)

        def call(client, number, last, name, method, path, data=None,
                refused=False, json_body=None, headers=None):
            start, queries = time.perf_counter(), counter.count
            cpu = time.thread_time()
            if last:
                counter.sites = collections.Counter()
            profile = (profiles['all'] if args.total and number
                else profiles[name] if args.profile else None)
            if profile:
                profile.enable()
            url = path if path.startswith(f'/{DATABASE}/') else root + path
            if json_body is not None:
                reply = client.open(url, method=method,
                    data=json.dumps(json_body), headers={
                        'Content-Type': 'application/json', **headers})
            else:
                reply = client.open(url, method=method,
                    data=urllib.parse.urlencode(data) if data else None,
                    headers={'Accept-Language': 'en', **({
                                'Content-Type':
                                'application/x-www-form-urlencoded'}
                            if data else {})})
            body = reply.get_data(as_text=True)
            if profile:
                profile.disable()
            figures[name].append((time.perf_counter() - start,
                    counter.count - queries, time.thread_time() - cpu))
            if last:
                sites[name], counter.sites = counter.sites, None
                if reads is not None:
                    sites[f'reads {name}'] = reads.copy()
                    reads.clear()
            if reply.status_code >= 400 and not refused:
                raise RuntimeError(
                    f'{name} {reply.status_code} {body[:300]!r}')
            return reply, body

        if args.partner:
            from shop import setup_partner
            key = server.run(setup_partner, server.ids, shop, [session])
            auth = {'Authorization': f'Bearer {key}'}
            path = f'/{DATABASE}/ticket/api/v1/partner/orders'
        for number in range(args.buyers if args.partner else 0):
            client = Client(app)
            last = args.sites and number == args.buyers - 1
            reply, body = call(client, number, last, 'partner order', 'POST',
                path, json_body={
                    'reference': f'rush-{number}',
                    'lines': [{'session': session, 'tariff': shop['full'],
                            'quantity': 1}],
                    'buyer': {'name': f'Buyer {number}',
                        'email': f'rush-{number}@example.org'}},
                headers=auth)
            assert reply.status_code == 201, (reply.status_code, body)
        for number in range(0 if args.partner else args.buyers):
            client = Client(app)
            last = args.sites and number == args.buyers - 1
            step = functools.partial(call, client, number, last)
            _, body = step('event', 'GET', f'/event/{event}')
            reply, _ = step('hold', 'POST', '/cart', {
                    'csrf_token': CSRF.search(body).group(1),
                    'event': event, 'session': session,
                    f'q-{shop["full"]}': 1})
            assert reply.status_code == 303, reply.status_code
            _, body = step('checkout_page', 'GET', '/checkout')
            for _ in range(args.repeat_pages):
                step('checkout_page', 'GET', '/checkout')
            reply, _ = step('checkout', 'POST', '/checkout', {
                    'csrf_token': CSRF.search(body).group(1),
                    'name': f'Buyer {number}',
                    'email': f'buyer{number}@example.org',
                    'terms': 'yes', 'method': shop['card'],
                    'action': 'order'})
            assert reply.status_code == 303, reply.status_code
            pay = urllib.parse.urlsplit(reply.headers['Location']).path
            _, body = step('pay_page', 'GET', pay)
            form = dict(PAY_FIELDS.findall(body))
            for _ in range(args.repeat_pages):
                step('pay_page', 'GET', pay)
            reply, _ = step('pay', 'POST', f'{pay}/test', dict(form,
                    action='pay', csrf_token=CSRF.search(body).group(1)))
            assert reply.status_code == 303, reply.status_code
        if args.sold_out:
            # the places left held at once, then buyers refused as the
            # rush's last ones
            def sell_out(pool):
                Hold = pool.get('ticket.hold')
                Session = pool.get('ticket.session')
                record = Session(session)
                return Hold.reserve([{'session': record,
                            'quantity': record.available}]).id
            server.run(sell_out)
            for number in range(args.sold_out):
                client = Client(app)
                last = args.sites and number == args.sold_out - 1
                step = functools.partial(call, client, number, last)
                _, body = step('event (sold out)', 'GET', f'/event/{event}')
                reply, body = step('hold (sold out)', 'POST', '/cart', {
                        'csrf_token': CSRF.search(body).group(1),
                        'event': event, 'session': session,
                        f'q-{shop["full"]}': 1}, refused=True)
                assert reply.status_code == 409, (reply.status_code, body)
    print(f"{args.buyers} buyers of one ticket, in process (no socket)"
        + (f", then {args.sold_out} refused" if args.sold_out else ''))
    total_t = total_q = total_c = 0
    for name, values in figures.items():
        times = [t for t, _, _ in values[1:]] or [values[0][0]]
        cpus = [c for _, _, c in values[1:]] or [values[0][2]]
        queries = [q for _, q, _ in values]
        if 'sold out' not in name:
            total_t += statistics.mean(times)
            total_c += statistics.mean(cpus)
            total_q += queries[-1]
        print(f"  {name:13s} x{len(values):3d}: mean "
            f"{statistics.mean(times) * 1000:7.1f} ms, median "
            f"{statistics.median(times) * 1000:7.1f} ms, CPU mean "
            f"{statistics.mean(cpus) * 1000:6.1f} ms, "
            f"queries mean {statistics.mean(queries):6.1f} "
            f"(last {queries[-1]})")
    print(f"  one order: {total_t * 1000:.1f} ms ({total_c * 1000:.1f} ms "
        f"CPU of this process), {total_q} statements "
        "(first buyer left out of the times)")
    if args.cache_clears:
        print(f"\ncaches cleared by the requests: {sum(clears.values())}")
        for (name, where), count in clears.most_common():
            print(f"  {count:4d} {name}: {where}")
    for name, counts in sites.items():
        if name.startswith('reads '):
            continue
        print(f"\nstatements of the last buyer's {name}:")
        for where, count in counts.most_common(args.top):
            print(f"  {count:4d} {where}")
        if reads is not None and f'reads {name}' in sites:
            print(f"reads of the last buyer's {name} (model, ids, callers):")
            for (model, ids, where), count in sorted(
                    sites[f'reads {name}'].items(), key=lambda i: i[0][2]):
                print(f"  {count:4d} {model} ({ids}) {where}")
    for name, profile in profiles.items():
        if args.dump:
            profile.dump_stats(args.dump if name == 'all'
                else f"{args.dump}.{name.replace(' ', '_')}")
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(
            'tottime' if name == 'all' else 'cumulative')\
            .print_stats(args.top)
        print(f"\n--- {name} ---")
        print(out.getvalue())


def trace_reads(counter, reads):
    """Count in reads the ORM reads made while counter records the sites of
    the statements (the last buyer's requests, with --sites): by model,
    number of ids and the project's callers"""
    from trytond.model import ModelSQL
    read = ModelSQL.read.__func__

    def traced(cls, ids, fields_names, *args, **kwargs):
        if counter.sites is not None:
            frame, ours = sys._getframe(1), []
            while frame and len(ours) < 3:
                name = frame.f_code.co_filename
                if '/addons/' in name:
                    ours.append(f"{name.split('/addons/')[-1]}:"
                        f"{frame.f_lineno}({frame.f_code.co_name})")
                frame = frame.f_back
            reads[cls.__name__, len(ids), ' < '.join(ours)] += 1
        return read(cls, ids, fields_names, *args, **kwargs)
    ModelSQL.read = classmethod(traced)

if __name__ == '__main__':
    main()
