"""The on-sale rush through the web shop: orders per second and the latency
of each step of a buyer, with no oversell.

Starts a fresh database (tests/server.py) with the shop catalogue of
tests/test_shop_fixtures.py and serves trytond's WSGI application with
gunicorn, 2 worker processes (gthread, 2 threads each as in production,
keep-alive) on the
embedded PostgreSQL server; the confirmation e-mails (PDF tickets) go
through Tryton's queue to one trytond-worker and the SMTP catcher, outside
the requests, as in production. A session of 1,000 places is sold to 1,500
buyers, 16 at a time; each buyer, over its own keep-alive connection:

  event   GET the event page (and its CSRF token)
  hold    POST /cart: one place held (the cart, 15 minutes)
  checkout  GET /checkout, POST /checkout (name, e-mail, terms, test card)
  pay     GET the payment page, POST the signed test payment

It prints successful orders per second and p50/p99 of each step, and
verifies that exactly 1,000 orders were paid, that every other buyer was
told "sold out" (409) at the hold, and that the database sold exactly the
1,000 places (no oversell, nothing left held).

With --workload partner, each of the 1,500 attempts is instead one request
of the partner API (POST /ticket/api/v1/partner/orders with a partner's key:
one ticket, priced, held, paid by the partner and issued in one
transaction, no e-mail), the very workload of pretix's W2 below (one POST
of a paid order to its order API, send_email false): the same 16 clients,
each on its own keep-alive connection, the same checks.

With --pretix, the peer's W2 workload (one item with a quota of 1,000, 16
clients, 1,500 order attempts through pretix's order API) runs first in the
same sitting with the harness of ../shared/peers/pretix (its setup.sh, then
``bench_orders.py --runs 1``, then stop.sh); --pretix=newest reads its
newest W2 result instead. Both figures are printed with their ratio and
the CPU calibration of each (the harness's cpu_calib loop).

Usage: .venv/bin/python bench/shop.py [--workload shop|partner]
    [--places 1000] [--buyers 1500]
    [--clients 16] [--workers 2] [--threads 2] [--worker-class gthread|sync]
    [--worker-nice 10] [--pretix[=run|newest]]
(GUICHET_PGDATA and GUICHET_PGPORT choose the PostgreSQL server.)
"""
import argparse
import glob
import http.client
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))

from checkin import (  # noqa: E402
    PRETIX_PEER, GunicornServer, cpu_calib, percentile, pretix_home)
from tests.server import BIN, HOST, LOGS, trytond_env  # noqa: E402
from tests.test_shop_fixtures import CSRF, SHOP, ShopServer  # noqa: E402

DATABASE = 'bench_shop'
TEMPLATE = 'bench_guichet_template'
GOAL_RATIO = 3
STEPS = ['event', 'hold', 'checkout', 'pay']
PAY_FIELDS = re.compile(
    r'name="(reference|amount|signature)" value="([^"]*)"')


class Server(GunicornServer, ShopServer):
    """The shop under gunicorn; e-mails queued to a trytond-worker that
    sends them to the SMTP catcher"""

    worker = None
    worker_nice = 10

    def start_trytond(self):
        os.environ['TRYTOND_EMAIL__URI'] = self.catcher.uri
        os.environ['TRYTOND_EMAIL__FROM'] = 'billetterie@example.org'
        os.environ['TRYTOND_QUEUE__WORKER'] = 'True'
        try:
            super().start_trytond()
            env = trytond_env()
            env['TRYTOND_DATABASE_NAMES'] = self.database
            with open(LOGS / f'worker-{self.database}.log', 'wb') as log:
                # its own process group: trytond-worker forks its workers
                # at a lower CPU priority, as tools/serve_prod.py runs it:
                # the buyers' requests first, the e-mails in the gaps
                self.worker = subprocess.Popen(['nice', '-n',
                        str(self.worker_nice),
                        str(BIN / 'trytond-worker'), '-d', self.database,
                        '-n', '1'], env=env, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)
        finally:
            for name in ['TRYTOND_EMAIL__URI', 'TRYTOND_EMAIL__FROM',
                    'TRYTOND_QUEUE__WORKER']:
                del os.environ[name]

    def stop(self):
        if self.worker is not None and self.worker.poll() is None:
            # the worker and the processes it forked
            os.killpg(self.worker.pid, signal.SIGTERM)
            self.worker.wait(15)
        super().stop()


def send(client, method, url, body, headers):
    """One request over client.connection (keep-alive); return the response
    and its body. Once more when gunicorn closed the connection; after 1 s
    on a 503 "busy, try again" (as a browser's reload or a provider's
    webhook retry would), up to 4 times, counted in client.retries"""
    for attempt in range(5):
        try:
            client.connection.request(method, url, body=body,
                headers=headers)
            response = client.connection.getresponse()
            raw = response.read()
        except (http.client.RemoteDisconnected, ConnectionError):
            client.connection.close()
            if attempt:
                raise
            continue
        if response.status == 503 and attempt < 4:
            client.retries += 1
            time.sleep(1)
            continue
        return response, raw


class Buyer:
    "One buyer over one keep-alive connection, with its cookies"

    def __init__(self, server):
        self.root = f'/{server.database}{SHOP}'
        self.connection = http.client.HTTPConnection(HOST, server.port,
            timeout=120)
        self.cookies = {}
        self.retries = 0

    def request(self, method, path, data=None):
        headers = {'Accept-Language': 'en'}
        if self.cookies:
            headers['Cookie'] = '; '.join(
                f'{k}={v}' for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        url = path if path.startswith(self.root) else self.root + path
        response, raw = send(self, method, url, body, headers)
        for name, value in response.getheaders():
            if name.lower() == 'set-cookie':
                key, _, val = value.split(';', 1)[0].partition('=')
                self.cookies[key] = val.strip('"')
        location = urllib.parse.urlsplit(response.getheader('Location') or '')
        return (response.status, raw.decode('utf-8', 'replace'), location)

    def close(self):
        self.connection.close()


def cpu_seconds(server):
    """CPU seconds (user + system) used so far by each side of the rush,
    by process id: the gunicorn workers, the trytond-worker and what it
    forked, PostgreSQL's processes and this client"""
    import psutil
    import pgctl

    def tree(pid):
        try:
            root = psutil.Process(pid)
            return [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            return []
    postmaster = int((pgctl.PGDATA / 'postmaster.pid').read_text().split()[0])
    sides = {
        'gunicorn': tree(server.process.pid),
        'worker': tree(server.worker.pid) if server.worker else [],
        'postgres': tree(postmaster),
        'client': [psutil.Process()],
        }
    figures = {}
    for side, processes in sides.items():
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            figures[side, process.pid] = times.user + times.system
    return figures


def cpu_used(before, after):
    "CPU seconds used by each side between two cpu_seconds()"
    used = {}
    for (side, pid), seconds in after.items():
        used[side] = used.get(side, 0) + seconds - before.get(
            (side, pid), 0)
    return used


def buy(server, event, session, tariff, method, number):
    """One buyer's steps; return (outcome, {step: seconds}); outcome is
    'paid', 'sold_out' or a description of what went wrong"""
    buyer = Buyer(server)
    timings = {}

    def step(name, *requests):
        began = time.perf_counter()
        answers = [buyer.request(*r) if not callable(r) else r()
            for r in requests]
        timings[name] = time.perf_counter() - began
        return answers

    try:
        return _buy(buyer, timings, step, event, session, tariff, method,
            number)
    finally:
        timings['retries'] = buyer.retries
        buyer.close()


def _buy(buyer, timings, step, event, session, tariff, method, number):
    "The steps of buy()"
    (status, body, _), = step('event', ('GET', f'/event/{event}'))
    if status != 200:
        return f'event page {status}', timings
    csrf = CSRF.search(body).group(1)
    (status, body, location), = step('hold', ('POST', '/cart', {
                'csrf_token': csrf, 'event': event, 'session': session,
                f'q-{tariff}': 1}))
    if status == 409 and 'Sold out' in body:
        return 'sold_out', timings
    if status != 303:
        return f'hold {status}', timings
    began = time.perf_counter()
    status, body, _ = buyer.request('GET', '/checkout')
    if status != 200:
        return f'checkout page {status}', timings
    status, body, location = buyer.request('POST', '/checkout', {
            'csrf_token': CSRF.search(body).group(1),
            'name': f'Buyer {number}',
            'email': f'buyer{number}@example.org',
            'terms': 'yes', 'method': method, 'action': 'order'})
    timings['checkout'] = time.perf_counter() - began
    if status != 303 or not location.path.endswith('/pay'):
        return f'checkout {status}', timings
    began = time.perf_counter()
    status, body, _ = buyer.request('GET', location.path)
    if status != 200:
        return f'payment page {status}', timings
    form = dict(PAY_FIELDS.findall(body))
    status, body, location = buyer.request('POST',
        f'{location.path}/test', dict(form, action='pay',
            csrf_token=CSRF.search(body).group(1)))
    timings['pay'] = time.perf_counter() - began
    if status != 303 or location.query != 'done=paid':
        return f'pay {status} {location.query}', timings
    return 'paid', timings


def rush(server, event, session, tariff, method, buyers, clients, first=0):
    "buyers buyers, clients at a time; return (seconds, results)"
    results = []
    lock = threading.Lock()
    numbers = iter(range(first, first + buyers))

    def client():
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                return
            try:
                result = buy(server, event, session, tariff, method, number)
            except Exception as error:  # noqa: BLE001 - reported, counted
                result = (f'error {error!r}', {})
            with lock:
                results.append(result)

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as executor:
        for future in [executor.submit(client) for _ in range(clients)]:
            future.result()
    return time.perf_counter() - began, results


def setup_partner(pool, ids, shop, sessions):
    """The partner workload's catalogue: tariff "Plein tarif" sold on the
    Partners channel too, sessions visible to partners, and a partner of
    company Guichet; return its key"""
    from trytond.transaction import Transaction
    Partner = pool.get('ticket.partner')
    Party = pool.get('party.party')
    Session = pool.get('ticket.session')
    Tariff = pool.get('ticket.tariff')
    company = ids['companies']['Guichet']
    with Transaction().set_context(company=company):
        Tariff.write([Tariff(shop['full'])],
            {'channels': ['online', 'box_office', 'partner']})
        Session.write([Session(s) for s in sessions],
            {'visibility': ['online', 'box_office', 'partner']})
        party, = Party.create([{'name': "Agence Voyages"}])
        partner, = Partner.create([{
                    'name': "Agence", 'company': company, 'party': party}])
        return partner.application.key


class PartnerClient:
    """A partner's client over one keep-alive connection, as the pretix
    harness's clients (one httpx connection per thread)"""

    def __init__(self, server, key):
        self.path = f'/{server.database}/ticket/api/v1/partner/orders'
        self.headers = {'Authorization': f'Bearer {key}',
            'Content-Type': 'application/json'}
        self.connection = http.client.HTTPConnection(HOST, server.port,
            timeout=120)
        self.retries = 0

    def order(self, session, tariff, number):
        "Sell one ticket; return (outcome, {'order': seconds})"
        body = json.dumps({
                'reference': f'rush-{number}',
                'lines': [{'session': session, 'tariff': tariff,
                        'quantity': 1}],
                'buyer': {'name': f'Buyer {number}',
                    'email': f'rush-{number}@example.org'},
                }).encode()
        began = time.perf_counter()
        response, raw = send(self, 'POST', self.path, body, self.headers)
        timings = {'order': time.perf_counter() - began}
        if response.status == 201:
            return 'paid', timings
        if response.status == 409 and b'capacity_exceeded' in raw:
            return 'sold_out', timings
        return f'order {response.status} {raw[:200]!r}', timings

    def close(self):
        self.connection.close()


def rush_partner(server, key, session, tariff, buyers, clients, first=0):
    """buyers order attempts of one ticket through the partner API, clients
    at a time, each client on its own connection; return (seconds,
    results)"""
    results = []
    lock = threading.Lock()
    numbers = iter(range(first, first + buyers))

    def client():
        partner = PartnerClient(server, key)
        try:
            while True:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                try:
                    result = partner.order(session, tariff, number)
                except Exception as error:  # noqa: BLE001 - counted
                    result = (f'error {error!r}', {})
                result[1]['retries'] = partner.retries
                partner.retries = 0
                with lock:
                    results.append(result)
        finally:
            partner.close()

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as executor:
        for future in [executor.submit(client) for _ in range(clients)]:
            future.result()
    return time.perf_counter() - began, results


def newest_pretix_result():
    results = pathlib.Path(os.environ.get('PRETIX_RESULTS_DIR')
        or pretix_home() / 'results')
    files = sorted(glob.glob(str(results / 'orders-*.json')))
    if not files:
        raise SystemExit(f"no pretix W2 result in {results}: run "
            "bench/shop.py --pretix")
    return pathlib.Path(files[-1])


def run_pretix(peer):
    """Run the pretix W2 workload once with the peer harness; stop what it
    started; return the path of its result"""
    env = dict(os.environ, PRETIX_BENCH_HOME=str(pretix_home()))
    python = pretix_home() / 'pv' / 'bin' / 'python'
    config = pathlib.Path(os.environ.get('DATA')
        or pretix_home() / 'pretix_data') / 'pretix.cfg'
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.touch()
    print(f"pretix: {peer}/setup.sh, then bench_orders.py --runs 1",
        flush=True)
    try:
        subprocess.run(['bash', 'setup.sh'], cwd=peer, env=env, check=True)
        before = os.getloadavg()
        code = subprocess.run([str(python), 'bench_orders.py', '--runs',
                '1'], cwd=peer, env=env).returncode
        after = os.getloadavg()
        print("pretix: load average (1, 5, 15 min) before its run: "
            + ", ".join(f"{v:.2f}" for v in before) + "; after: "
            + ", ".join(f"{v:.2f}" for v in after), flush=True)
    finally:
        subprocess.run(['bash', 'stop.sh'], cwd=peer, env=env)
    if code:
        print(f"pretix: bench_orders.py exited with {code} (its checks "
            "failed, see above)")
    return newest_pretix_result()


def pretix_figures(path):
    "The W2 figures of a pretix result file (medians over its runs)"
    data = json.loads(path.read_text())
    summary = data['summary']

    def median(name):
        value = summary.get(name)
        return value.get('median') if isinstance(value, dict) else value
    return {
        'file': path,
        'server': summary.get('server'),
        'orders_per_s': median('created_per_s_wall'),
        'p50': median('created_p50_ms'),
        'p99': median('created_p99_ms'),
        'calib': median('cpu_calib_s'),
        'created': summary.get('created'),
        'refused': summary.get('quota_refused'),
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--places', type=int, default=1000)
    parser.add_argument('--buyers', type=int, default=1500)
    parser.add_argument('--clients', type=int, default=16)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--worker-class', choices=['gthread', 'sync'],
        default='gthread', help="gunicorn's worker class: gthread (threads "
        "and keep-alive, as in production) or sync (one request at a time "
        "per process, no keep-alive, as pretix's harness runs)")
    parser.add_argument('--worker-nice', type=int, default=Server.worker_nice,
        help="the CPU priority (nice) of the trytond-worker sending the "
        "e-mails")
    parser.add_argument('--workload', choices=['shop', 'partner'],
        default='shop', help="shop: the buyers' six requests in the web "
        "shop (the default); partner: one request per order through the "
        "partner API, as pretix's W2 through its order API")
    parser.add_argument('--pretix', nargs='?', const='run',
        choices=['run', 'newest'],
        help="compare with pretix: run its W2 workload first (run) or read "
        "its newest result (newest)")
    parser.add_argument('--pretix-dir', type=pathlib.Path,
        default=pathlib.Path(os.environ.get(
                'GUICHET_PRETIX_PEER', PRETIX_PEER)))
    args = parser.parse_args()
    Server.workers = args.workers
    if args.worker_class == 'sync' and args.threads != 1:
        # gunicorn would run gthread workers instead
        parser.error("--worker-class sync serves with --threads 1")
    Server.threads = args.threads
    Server.worker_class = args.worker_class
    Server.worker_nice = args.worker_nice
    pretix = None
    if args.pretix == 'run':
        pretix = pretix_figures(run_pretix(args.pretix_dir))
    elif args.pretix == 'newest':
        pretix = pretix_figures(newest_pretix_result())

    calib = [cpu_calib()]
    began = time.perf_counter()
    server = Server(DATABASE, template=TEMPLATE)
    server.start()
    try:
        event = server.ids['events']['main']
        session = server.ids['sessions']['open']
        shop = server.ids['shop']
        server.sql('UPDATE ticket_pool SET capacity = %s WHERE id = ('
            'SELECT pool FROM ticket_session WHERE id = %s)',
            (args.places, session))
        setup = time.perf_counter() - began
        # Warm the workers up on a session of its own, not counted
        warm = server.ids['sessions']['small']
        if args.workload == 'partner':
            key = server.run(setup_partner, server.ids, shop,
                [session, warm])
            setup = time.perf_counter() - began
            rush_partner(server, key, warm, shop['full'], 24, args.clients,
                first=100000)
        else:
            rush(server, event, warm, shop['full'], shop['card'], 24,
                args.clients, first=100000)
        load_before = os.getloadavg()
        cpu_before = cpu_seconds(server)
        if args.workload == 'partner':
            elapsed, results = rush_partner(server, key, session,
                shop['full'], args.buyers, args.clients)
        else:
            elapsed, results = rush(server, event, session, shop['full'],
                shop['card'], args.buyers, args.clients)
        load_after = os.getloadavg()
        cpu = cpu_used(cpu_before, cpu_seconds(server))
        capacity, sold, held = server.pool_of(session)
        paid = server.sql(
            "SELECT count(*) FROM ticket_order o "
            "WHERE o.state = 'paid' AND o.id IN (SELECT \"order\" "
            "FROM ticket_order_line WHERE session = %s)", (session,))[0][0]
        tickets = server.sql(
            "SELECT count(*) FROM ticket_ticket WHERE session = %s "
            "AND state = 'valid'", (session,))[0][0]
        queued = server.sql(
            "SELECT count(*) FROM ir_queue WHERE finished_at IS NULL")[0][0]
        # the e-mails left are sent once the rush leaves the CPU
        drained, left = time.perf_counter(), queued
        while left and time.perf_counter() - drained < 600:
            time.sleep(0.5)
            left = server.sql("SELECT count(*) FROM ir_queue "
                "WHERE finished_at IS NULL")[0][0]
        drained = time.perf_counter() - drained
    finally:
        server.stop()
        from tests.server import drop_database
        drop_database(TEMPLATE)
    calib.append(cpu_calib())

    outcomes = {}
    for outcome, _ in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    ok = outcomes.get('paid', 0)
    refused = outcomes.get('sold_out', 0)
    retries = sum(t.get('retries', 0) for _, t in results)
    print(f"{args.workload} rush: {args.places} places, {args.buyers} "
        f"{'buyers' if args.workload == 'shop' else 'order attempts'}, "
        f"{args.clients} at a time, gunicorn {args.workers} "
        f"{args.worker_class} workers x "
        f"{args.threads} threads + 1 trytond-worker (nice "
        f"{args.worker_nice}), {os.cpu_count()} cores; setup {setup:.0f} s")
    print(f"orders: {ok} paid, {refused} sold out, "
        f"{args.buyers - ok - refused} other {sorted(outcomes.items())}")
    print(f"{ok / elapsed:.1f} orders/s ({elapsed:.1f} s for all buyers); "
        f"{retries} requests answered 503 busy and tried again after 1 s")
    print(f"{'step':>9} {'count':>6} {'p50 ms':>8} {'p99 ms':>8}")
    steps = STEPS if args.workload == 'shop' else ['order']
    for name in steps:
        values = [t[name] for o, t in results if name in t]
        if values:
            print(f"{name:>9} {len(values):>6} "
                f"{percentile(values, .5) * 1000:>8.1f} "
                f"{percentile(values, .99) * 1000:>8.1f}")
    orders = [sum(t[n] for n in steps) for o, t in results if o == 'paid']
    order_p99 = percentile(orders, .99) * 1000 if orders else float('nan')
    if orders:
        print(f"{'order':>9} {len(orders):>6} "
            f"{percentile(orders, .5) * 1000:>8.1f} {order_p99:>8.1f}"
            + ("   (the four steps of a paid order)"
                if args.workload == 'shop' else "   (one request)"))
    print(f"database: session pool capacity {capacity}, sold {sold}, held "
        f"{held}; {paid} paid orders, {tickets} valid tickets; "
        f"{queued} e-mails still queued at the end of the rush, "
        + (f"{left} still queued {drained:.0f} s after it" if left else
            f"all sent {drained:.1f} s after it"))
    print(f"cpu_calib before/after: {calib[0]:.3f} s / {calib[1]:.3f} s "
        "(the pretix harness's loop; lower is a faster host)")
    print("CPU during the rush, per paid order: " + ", ".join(
            f"{side} {seconds / max(ok, 1) * 1000:.0f} ms"
            for side, seconds in cpu.items())
        + f" (total {sum(cpu.values()) / max(ok, 1) * 1000:.0f} ms; "
        f"{sum(cpu.values()) / elapsed:.2f} of {os.cpu_count()} cores busy)")
    print("load average (1, 5, 15 min) before the rush: "
        + ", ".join(f"{v:.2f}" for v in load_before)
        + "; after: " + ", ".join(f"{v:.2f}" for v in load_after))
    if pretix:
        print()
        print(f"pretix W2 ({pretix['file'].name}; {pretix['server']}): "
            f"created {pretix['created']}, refused for the quota "
            f"{pretix['refused']}; one order = one API request")
        print(f"{'system':>8} {'orders/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'cpu_calib s':>12}")
        print(f"{'pretix':>8} {pretix['orders_per_s']:>9.1f} "
            f"{pretix['p50']:>8.1f} {pretix['p99']:>8.1f} "
            f"{pretix['calib'] or float('nan'):>12.3f}")
        if args.workload == 'shop':
            hold_p99 = percentile([t['hold'] for o, t in results
                    if 'hold' in t], .99) * 1000
            what = ("p50/p99 of a whole paid order: 4 steps, 6 requests; "
                f"hold alone p99 {hold_p99:.1f} ms")
        else:
            what = ("p50/p99 of a paid order: one request of the partner "
                "API, as pretix's")
        print(f"{'guichet':>8} {ok / elapsed:>9.1f} "
            f"{percentile(orders, .5) * 1000:>8.1f} {order_p99:>8.1f} "
            f"{sum(calib) / 2:>12.3f}   ({what})")
        ratio = (ok / elapsed) / pretix['orders_per_s']
        print(f"ratio: guichet {ratio:.2f}x pretix's orders per second "
            f"(goal >= {GOAL_RATIO}x: "
            f"{'met' if ratio >= GOAL_RATIO else 'MISSED'}); p99 "
            f"{'lower' if order_p99 < pretix['p99'] else 'HIGHER'} than "
            "pretix's")
    good = (ok == args.places and refused == args.buyers - args.places
        and sold == args.places and held == 0 and paid == args.places
        and tickets == args.places)
    print("checks:", "passed" if good else "FAILED")
    return 0 if good else 1


if __name__ == '__main__':
    sys.exit(main())
