"""Box office: where a counter sale spends its time, request by request.

Runs the requests of bench/pos.py in this process, through trytond's WSGI
application (no socket), on a fresh database: counts the SQL statements of
each request and its wall time, and with --profile prints the functions
where a sale and a PDF spend the most time (cProfile, cumulative).
With --close the cash session is closed after the sales (counts, posting
of every sale), measured like the other requests (its statements by where
they come from with --sites).

Usage: .venv/bin/python bench/pos_profile.py [--sales 20] [--profile]
    [--close]
"""
import argparse
import collections
import cProfile
import io
import json
import pathlib
import pstats
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pos import POS, PASSWORD, setup_pos  # noqa: E402
from tests.server import ApiServer  # noqa: E402

DATABASE = 'bench_pos_profile'
TEMPLATE = 'bench_pos_profile_template'


class Counter:
    "Counts the statements sent by trytond's cursors"

    def __init__(self):
        from trytond.backend.postgresql import database
        self.count = 0
        self.sites = None
        original = database.LoggingCursor.execute
        counter = self

        def execute(cursor, *args, **kwargs):
            counter.count += 1
            if counter.sites is not None:
                counter.sites[site()] += 1
            return original(cursor, *args, **kwargs)
        database.LoggingCursor.execute = execute


def site():
    """Where a statement comes from: the innermost frames of the project
    and of the Tryton module or trytond code that sent it"""
    frame = sys._getframe(2)
    ours, theirs = [], None
    while frame and len(ours) < 2:
        name = frame.f_code.co_filename
        if '/addons/' in name or ('/bench/' in name
                and frame.f_code.co_name != 'traced'):
            ours.append(f"{name.split('/addons/')[-1]}:{frame.f_lineno}"
                f"({frame.f_code.co_name})")
        elif theirs is None and 'site-packages/trytond' in name and (
                'backend' not in name):
            theirs = (f"{name.split('site-packages/')[-1]}:"
                f"{frame.f_lineno}({frame.f_code.co_name})")
        frame = frame.f_back
    return ' < '.join(ours) + (f' [{theirs}]' if theirs else '')


class Restarts:
    "Records the locks for which Tryton restarts a transaction"

    def __init__(self):
        from trytond.transaction import Transaction
        self.tables = collections.Counter()
        for name in ['lock_table', 'lock_records']:
            original = getattr(Transaction, name)

            def lock(transaction, table, *args, original=original):
                try:
                    return original(transaction, table, *args)
                except Exception:
                    self.tables[table] += 1
                    raise
            setattr(Transaction, name, lock)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sales', type=int, default=20)
    parser.add_argument('--profile', action='store_true')
    parser.add_argument('--top', type=int, default=45)
    parser.add_argument('--sites', action='store_true',
        help="count the statements of the sales by the code that sent them")
    parser.add_argument('--print', default=None,
        help="ask the sale for its tickets' PDF (thermal or a4)")
    parser.add_argument('--dump', metavar='DIR',
        help="save each request's profile as DIR/<request>.prof")
    parser.add_argument('--close', action='store_true',
        help="close the cash session after the sales")
    args = parser.parse_args()
    with ApiServer(DATABASE, template=TEMPLATE) as server:
        ids = setup_pos(server)
        from werkzeug.test import Client
        from trytond.wsgi import app
        client = Client(app)
        counter = Counter()
        restarts = Restarts()
        profiles = collections.defaultdict(cProfile.Profile)
        figures = collections.defaultdict(list)

        def call(name, method, path, body=None, headers=None):
            start, queries = time.perf_counter(), counter.count
            profile = profiles[name] if args.profile else None
            if profile:
                profile.enable()
            reply = client.open(f'/{DATABASE}{path}', method=method,
                data=json.dumps(body) if body is not None else None,
                headers={**(headers or {}),
                    'Content-Type': 'application/json'})
            data = reply.get_data()
            if profile:
                profile.disable()
            figures[name].append(
                (time.perf_counter() - start, counter.count - queries))
            if reply.status_code >= 300:
                raise RuntimeError(f'{path} {reply.status_code} {data!r}')
            return data
        token = json.loads(call('login', 'POST', f'{POS}/login',
                {'login': 'guichet', 'password': PASSWORD}))['token']
        auth = {'Authorization': f'Session {token}'}
        base = f'{POS}/points/{ids["point"]}'
        call('open', 'POST', base + '/cash-session', {'float': '200.00'},
            auth)
        cash, card = ids['methods']['cash'], ids['methods']['card']
        ga = server.ids['sessions']['open']
        for index in range(args.sales):
            lines = [
                {'tariff': ids['tariffs']['adult'], 'session': ga,
                    'quantity': 2},
                {'tariff': ids['tariffs']['child'], 'session': ga,
                    'quantity': 1}]
            quote = json.loads(call('quote', 'POST', base + '/quote',
                    {'lines': lines}, auth))
            assert quote['to_pay'] == '52.50', quote
            body = {'lines': lines, 'payments': [
                    {'method': card, 'amount': '20.00'},
                    {'method': cash, 'amount': '50.00'}]}
            if args.print:
                body['print'] = args.print
            if args.sites and index == args.sales - 1:
                counter.sites = collections.Counter()
            sale = json.loads(call('sale', 'POST', base + '/sales', body,
                    auth))
            sites, counter.sites = counter.sites, None
            if not args.print:
                call('pdf', 'GET',
                    f'{base}/orders/{sale["order"]["id"]}/tickets.pdf',
                    headers=auth)
        close_sites = None
        if args.close:
            state = json.loads(call('state', 'GET', base + '/cash-session',
                    headers=auth))['session']
            counts = [{'method': e['method'], 'amount': e['amount']}
                for e in state['expected']]
            if args.sites:
                counter.sites = collections.Counter()
            closed = json.loads(call('close', 'POST',
                    base + '/cash-session/close', {'counts': counts}, auth))
            close_sites, counter.sites = counter.sites, None
            assert closed['state'] == 'posted', closed
    print(f"{args.sales} sales of 3 tickets, in process (no socket)")
    for name, values in figures.items():
        times = [t for t, _ in values]
        queries = [q for _, q in values]
        print(f"  {name:6s} x{len(values):3d}: mean "
            f"{statistics.mean(times) * 1000:7.1f} ms, median "
            f"{statistics.median(times) * 1000:7.1f} ms, "
            f"queries mean {statistics.mean(queries):6.1f} "
            f"(last {queries[-1]})")
    print(f"  transactions restarted for locks: {dict(restarts.tables)}")
    if args.sites:
        print("\nstatements of the last sale by where they come from:")
        for where, count in sites.most_common(args.top):
            print(f"  {count:4d} {where}")
    if close_sites:
        print("\nstatements of the closing by where they come from:")
        for where, count in close_sites.most_common(args.top):
            print(f"  {count:4d} {where}")
    for name, profile in profiles.items():
        if name in {'login', 'open', 'state'}:
            continue
        if args.dump:
            profile.dump_stats(str(pathlib.Path(args.dump) / f'{name}.prof'))
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats('cumulative')\
            .print_stats(args.top)
        print(f"\n--- {name} ---")
        print(out.getvalue())


if __name__ == '__main__':
    main()
