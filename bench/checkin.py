"""Check-in at the gates: online scans per second and latency, offline
verifications per second.

Starts a fresh database (tests/server.py) with 10,000 valid tickets of one
session, one check-in list and 8 devices, and serves trytond's WSGI
application (``trytond.application:app``) with gunicorn, 2 worker processes
(gthread, 4 threads each, keep-alive). The 8 devices redeem every ticket
once through ``POST /checkin/scan`` with its signed QR code, each over its
own keep-alive connection; then 1,000 tickets are scanned again and every
answer must be already_used, and the database must hold exactly 10,000
admissions. Last, one core checks the 10,000 signed codes offline against
the device bundle (Ed25519 signature and hash lookup).

With --pretix, the same workload runs against pretix in the same sitting,
first, with the peer harness of ../shared/peers/pretix (W1: its setup.sh,
then ``bench_checkin.py --runs 1`` with its own Python, then its stop.sh,
which stops everything setup.sh started); --pretix=newest reads the newest
W1 result instead of running it. Both figures are printed with their
ratio, against the goals (at least 3 times pretix's scans per second, p99
under 50 ms), and the CPU calibration of each (a fixed Python loop, the
harness's cpu_calib: lower is a faster host) to tell a drift of the shared
machine from a difference of the systems.

Usage: .venv/bin/python bench/checkin.py [--tickets N] [--devices 8]
    [--workers 2] [--threads 4] [--pretix[=run|newest]] [--pretix-dir DIR]
(GUICHET_PGDATA and GUICHET_PGPORT choose the PostgreSQL server;
PRETIX_BENCH_HOME and PRETIX_RESULTS_DIR are the harness's.)
"""
import argparse
import glob
import json
import os
import pathlib
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.checkin import CHECKIN, auth, create_gate, sell_tickets  # noqa
from tests.server import (  # noqa: E402
    API, BIN, HOST, LOGS, ApiServer, Client, drop_database, free_port,
    trytond_env)

DATABASE = 'bench_checkin'
TEMPLATE = 'bench_guichet_template'
SEED = 42
PRETIX_PEER = ROOT.parent / 'shared' / 'peers' / 'pretix'
GOAL_RATIO = 3
GOAL_P99_MS = 50


class GunicornServer(ApiServer):
    "The API server as trytond's WSGI application under gunicorn"

    workers = 2
    threads = 4
    worker_class = 'gthread'

    def start_trytond(self):
        self.port = free_port()
        env = trytond_env()
        env['TRYTOND_DATABASE_NAMES'] = self.database
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f'gunicorn-{self.database}.log'
        with open(self.log_path, 'wb') as log:
            self.process = subprocess.Popen([
                    str(BIN / 'gunicorn'), '--workers', str(self.workers),
                    '--worker-class', self.worker_class, '--threads',
                    str(self.threads), '--keep-alive', '30',
                    '--bind', f'{HOST}:{self.port}',
                    'trytond.application:app'],
                env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        self.client = Client(self.port, self.database)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n"
                    + self.log_path.read_text()[-4000:])
            try:
                if self.client.get(f'{API}/openapi.json').status == 200:
                    return
            except OSError:
                self.client.close()
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer, see {self.log_path}")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def redeem(server, list_id, keys, codes):
    """Each device scans its share of codes; return (seconds, latencies,
    results)"""
    client = Client(server.port, server.database)
    start = threading.Barrier(len(keys) + 1)

    def device(index):
        headers = auth(keys[index])
        start.wait()
        timings = []
        for code in codes[index::len(keys)]:
            began = time.perf_counter()
            reply = client.post(f'{CHECKIN}/scan',
                {'list': list_id, 'code': code}, headers=headers)
            timings.append((time.perf_counter() - began,
                    reply.json['result'] if reply.status == 200
                    else reply.status))
        client.close()
        return timings

    with ThreadPoolExecutor(len(keys)) as executor:
        futures = [executor.submit(device, i) for i in range(len(keys))]
        start.wait()
        began = time.perf_counter()
        timings = [t for f in futures for t in f.result()]
        elapsed = time.perf_counter() - began
    return elapsed, [t for t, _ in timings], [r for _, r in timings]


def offline_rate(bundle, list_id, codes):
    "Offline verifications per second on one core (this process)"
    import datetime as dt
    from guichet.ticket_access.offline import OfflineVerifier
    device = OfflineVerifier(bundle)
    at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    began = time.perf_counter()
    results = [device.check(code, list_id, at)[0] for code in codes]
    elapsed = time.perf_counter() - began
    return len(codes) / elapsed, results


def cpu_calib(n=10_000_000):
    "Seconds of the pretix harness's fixed Python loop (lower is faster)"
    began = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - began


def pretix_home():
    "The harness's working directory, as its env.sh chooses it"
    return pathlib.Path(os.environ.get('PRETIX_BENCH_HOME') or (
            pathlib.Path(os.environ.get('XDG_CACHE_HOME')
                or pathlib.Path.home() / '.cache')
            / 'guichet-peer-pretix'))


def newest_pretix_result():
    results = pathlib.Path(os.environ.get('PRETIX_RESULTS_DIR')
        or pretix_home() / 'results')
    files = sorted(glob.glob(str(results / 'checkin-*.json')))
    if not files:
        raise SystemExit(f"no pretix W1 result in {results}: run "
            "bench/checkin.py --pretix")
    return pathlib.Path(files[-1])


def run_pretix(peer):
    """Run the pretix W1 workload once with the peer harness; stop what it
    started; return the path of its result"""
    env = dict(os.environ, PRETIX_BENCH_HOME=str(pretix_home()))
    python = pretix_home() / 'pv' / 'bin' / 'python'
    # setup.sh reads the secret of an existing pretix.cfg under "set -o
    # pipefail" and stops when there is none yet: give it an empty one.
    config = pathlib.Path(os.environ.get('DATA')
        or pretix_home() / 'pretix_data') / 'pretix.cfg'
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.touch()
    print(f"pretix: {peer}/setup.sh, then bench_checkin.py --runs 1",
        flush=True)
    try:
        subprocess.run(['bash', 'setup.sh'], cwd=peer, env=env, check=True)
        code = subprocess.run([str(python), 'bench_checkin.py', '--runs',
                '1'], cwd=peer, env=env).returncode
    finally:
        subprocess.run(['bash', 'stop.sh'], cwd=peer, env=env)
    if code:
        print(f"pretix: bench_checkin.py exited with {code} (its checks "
            "failed, see above)")
    return newest_pretix_result()


def pretix_figures(path):
    "The W1 figures of a pretix result file (medians over its runs)"
    data = json.loads(path.read_text())
    summary = data['summary']
    return {
        'file': path,
        'server': summary.get('server'),
        'orders': data['args']['orders'],
        'threads': data['args']['threads'],
        'scans_per_s': summary['scans_per_s']['median'],
        'p50': summary['p50_ms']['median'],
        'p95': summary['p95_ms']['median'],
        'p99': summary['p99_ms']['median'],
        'calib': (summary.get('cpu_calib_s') or {}).get('median'),
        'ok': summary['scan_ok'],
        'rescan': summary['rescan_already_redeemed'],
        'checkins': summary['db_checkins'],
        }


def print_comparison(pretix, rate, p99, calib):
    print()
    print(f"pretix W1 ({pretix['file'].name}; {pretix['server']}): "
        f"{pretix['orders']} tickets, {pretix['threads']} devices")
    print(f"{'system':>8} {'scans/s':>8} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'cpu_calib s':>12}")
    print(f"{'pretix':>8} {pretix['scans_per_s']:>8.1f} "
        f"{pretix['p50']:>7.1f} {pretix['p95']:>7.1f} {pretix['p99']:>7.1f} "
        f"{pretix['calib'] or float('nan'):>12.3f}")
    print(f"{'guichet':>8} {rate['scans_per_s']:>8.1f} {rate['p50']:>7.1f} "
        f"{rate['p95']:>7.1f} {p99:>7.1f} {calib:>12.3f}")
    print(f"pretix checks: ok {pretix['ok']}, re-scans already redeemed "
        f"{pretix['rescan']}, check-ins in its database {pretix['checkins']}")
    ratio = rate['scans_per_s'] / pretix['scans_per_s']
    print(f"ratio: guichet {ratio:.2f}x pretix's scans per second (goal "
        f">= {GOAL_RATIO}x: {'met' if ratio >= GOAL_RATIO else 'MISSED'}); "
        f"guichet p99 {p99:.1f} ms (goal < {GOAL_P99_MS} ms: "
        f"{'met' if p99 < GOAL_P99_MS else 'MISSED'})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tickets', type=int, default=10000)
    parser.add_argument('--devices', type=int, default=8)
    parser.add_argument('--rescans', type=int, default=1000)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--threads', type=int, default=4)
    parser.add_argument('--pretix', nargs='?', const='run',
        choices=['run', 'newest'],
        help="compare with pretix: run its W1 workload first (run) or read "
        "its newest result (newest)")
    parser.add_argument('--pretix-dir', type=pathlib.Path,
        default=pathlib.Path(os.environ.get(
                'GUICHET_PRETIX_PEER', PRETIX_PEER)),
        help="the pretix peer harness (default: %(default)s)")
    args = parser.parse_args()
    GunicornServer.workers = args.workers
    GunicornServer.threads = args.threads
    pretix = None
    if args.pretix == 'run':
        pretix = pretix_figures(run_pretix(args.pretix_dir))
    elif args.pretix == 'newest':
        pretix = pretix_figures(newest_pretix_result())

    calib = [cpu_calib()]
    began = time.perf_counter()
    server = GunicornServer(DATABASE, template=TEMPLATE)
    server.start()
    try:
        with server.transaction() as pool:
            tickets = sell_tickets(pool, server.ids['sessions']['open'],
                args.tickets)
            codes = [t.qr_data for t in tickets]
            list_id, keys = create_gate(pool, server.ids['events']['main'],
                devices=args.devices)
        setup = time.perf_counter() - began
        rng = random.Random(SEED)
        rng.shuffle(codes)
        # Warm the workers up with unknown codes: nothing is admitted.
        redeem(server, list_id, keys, ['x' * 32] * 200)

        elapsed, latencies, results = redeem(server, list_id, keys, codes)
        rescan = rng.sample(codes, min(args.rescans, len(codes)))
        _, re_latencies, re_results = redeem(server, list_id, keys, rescan)
        admitted = server.sql(
            "SELECT count(*) FROM ticket_access_entry "
            "WHERE list = %s AND state = 'inside'", (list_id,))[0][0]
        ok_scans = server.sql(
            "SELECT count(*) FROM ticket_access_scan "
            "WHERE list = %s AND result = 'ok'", (list_id,))[0][0]
        bundle = server.client.get(f'{CHECKIN}/bundle',
            headers=auth(keys[0])).json
        rate, offline = offline_rate(bundle, list_id, codes)
    finally:
        server.stop()
        drop_database(TEMPLATE)
    calib.append(cpu_calib())

    ok = results.count('ok')
    print(f"check-in: {args.tickets} tickets, {args.devices} devices, "
        f"gunicorn {args.workers} workers x {args.threads} threads, "
        f"{os.cpu_count()} cores; setup {setup:.0f} s")
    print(f"{'phase':>8} {'scans':>6} {'ok':>6} {'other':>6} "
        f"{'scans/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    print(f"{'redeem':>8} {len(results):>6} {ok:>6} "
        f"{len(results) - ok:>6} {len(results) / elapsed:>8.1f} "
        f"{percentile(latencies, .5) * 1000:>7.1f} "
        f"{percentile(latencies, .95) * 1000:>7.1f} "
        f"{percentile(latencies, .99) * 1000:>7.1f}")
    used = re_results.count('already_used')
    print(f"{'re-scan':>8} {len(re_results):>6} {'-':>6} "
        f"{len(re_results) - used:>6} {'':>8} "
        f"{percentile(re_latencies, .5) * 1000:>7.1f} "
        f"{percentile(re_latencies, .95) * 1000:>7.1f} "
        f"{percentile(re_latencies, .99) * 1000:>7.1f}"
        f"   already_used: {used}/{len(re_results)}")
    print(f"database: {admitted} admitted, {ok_scans} ok scans "
        f"(expected {args.tickets})")
    # The bundle was read after the redeem: every code verifies and is
    # known as admitted.
    print(f"offline: {rate:.0f} verifications/s on one core (Ed25519 "
        f"signature + hash lookup; {offline.count('already_used')} of "
        f"{len(offline)} answered already_used)")
    print(f"cpu_calib before/after: {calib[0]:.3f} s / {calib[1]:.3f} s "
        "(the pretix harness's loop; lower is a faster host)")
    if pretix:
        print_comparison(pretix, {
                'scans_per_s': len(results) / elapsed,
                'p50': percentile(latencies, .5) * 1000,
                'p95': percentile(latencies, .95) * 1000,
                }, percentile(latencies, .99) * 1000, sum(calib) / 2)
    good = (ok == args.tickets and used == len(re_results)
        and admitted == ok_scans == args.tickets
        and offline.count('already_used') == len(codes))
    return 0 if good else 1


if __name__ == '__main__':
    sys.exit(main())
