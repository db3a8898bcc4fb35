"""Run the whole test suite against the embedded PostgreSQL server.

Collects every addon's tests (test_*.py, including the scenario_*.rst
doctests they load) and the cross-module tests under tests/, runs them with
unittest and exits non-zero on any failure.

With -j N the test modules are shared out over N processes, each with its
own embedded PostgreSQL server (data under <GUICHET_PGDATA>-jobK, port
GUICHET_PGPORT + 10 + K) and file store, so that they share no database.
The modules are dealt one at a time, the longest first, to whichever
process is free (a static deal left one process idle for minutes while the
other ran its last long module). Each module's wall time is printed as it
ends, each process's unittest output when it ends, then the modules by
time (to keep WEIGHTS right) and the totals.

Usage: python tools/runtests.py [-j N] [-k PATTERN] [-v] [name ...]
  name: an addon (ticket_event), or 'tests' for the cross-module suite
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import time
import unittest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
sys.path.insert(0, str(ROOT))

import pgctl  # noqa: E402


def configure():
    "Point trytond at the embedded server, with a template cache"
    os.environ.setdefault('TRYTOND_DATABASE__URI', pgctl.uri())
    os.environ.setdefault('DB_CACHE', 'postgresql://')
    os.environ.setdefault('DB_CACHE_JOBS', '1')
    os.environ.setdefault(
        'TRYTOND_DATABASE__PATH', str(ROOT / 'var' / 'test-filestore'))
    os.environ.setdefault('TRYTOND_EMAIL__FROM', 'guichet@localhost')
    os.environ.setdefault('TEST_NETWORK', '0')


def drop_test_databases():
    "Start from scratch: drop the test databases and templates of a past run"
    import psycopg
    with psycopg.connect(pgctl.uri('postgres'), autocommit=True) as conn:
        names = [r[0] for r in conn.execute(
                "SELECT datname FROM pg_database "
                "WHERE datname LIKE 'test%'")]
        for name in names:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def addon_names():
    return sorted(p.parent.name for p in (ROOT / 'addons').glob('*/tryton.cfg'))


def collect(loader, names):
    suite = unittest.TestSuite()
    for name in names:
        if name == 'tests':
            suite.addTests(loader.discover(
                    str(ROOT / 'tests'), pattern='test_*.py',
                    top_level_dir=str(ROOT)))
            continue
        for path in sorted((ROOT / 'addons' / name / 'tests').glob(
                    'test_*.py')):
            suite.addTests(loader.loadTestsFromName(
                    f'guichet.{name}.tests.{path.stem}'))
    return suite


# Minutes a module took in a -j 2 run on the loaded 2-core machine (rough,
# for the order of the deal: the longest first, so that both processes end
# together; a module not listed counts 1). The first module of the cross-
# module suite in a process builds the template database (about 3 minutes).
WEIGHTS = {
    'guichet.ticket_accounting.tests.test_module': 13,
    'guichet.ticket_pricing.tests.test_module': 7,
    'tests.test_prod_rush': 7, 'guichet.ticket_shop.tests.test_module': 6,
    'guichet.ticket_crm.tests.test_module': 6,
    'guichet.ticket_accounting.tests.test_scenario': 6,
    'guichet.ticket_seating.tests.test_module': 5,
    'tests.test_shop_http': 5,
    'guichet.ticket_access.tests.test_module': 4,
    'guichet.ticket_pricing.tests.test_scenario': 3,
    'tests.test_shop_browser': 2, 'tests.test_scanner_browser': 2,
    'guichet.ticket_event.tests.test_module': 2,
    }


def modules(names):
    "The dotted names of the test modules of names"
    found = []
    for name in names:
        if name == 'tests':
            found += [f'tests.{p.stem}'
                for p in sorted((ROOT / 'tests').glob('test_*.py'))]
        else:
            found += [f'guichet.{name}.tests.{p.stem}'
                for p in sorted((ROOT / 'addons' / name / 'tests').glob(
                        'test_*.py'))]
    return found


def order(units):
    "The units, the longest first, so that the last ones dealt are short"
    return sorted(units, key=lambda u: -WEIGHTS.get(u, 1))


def run_parallel(args, names):
    """Run the modules of names in args.jobs processes; return the exit code

    Each process is a worker (--worker): it reads module names from its
    stdin, one per line, runs each with its own unittest runner and writes
    one JSON line of counts per module to the pipe it is given. The next
    module goes to the first process to report, until none is left; then
    the workers' stdin is closed and they exit.
    """
    import json
    import selectors
    pgdata = pathlib.Path(os.environ.get(
            'GUICHET_PGDATA', ROOT / 'var' / 'pgdata')).resolve()
    port = int(os.environ.get('GUICHET_PGPORT', '54330'))
    pending = order(modules(names))
    jobs = max(1, min(args.jobs, len(pending)))
    (ROOT / 'var').mkdir(exist_ok=True)
    selector = selectors.DefaultSelector()
    workers = []
    began = time.monotonic()

    def minutes():
        return (time.monotonic() - began) / 60

    def give(worker):
        "Send worker its next module, or end its input when none is left"
        if pending and not worker['stop']:
            worker['current'] = pending.pop(0)
            try:
                worker['process'].stdin.write(worker['current'] + '\n')
                worker['process'].stdin.flush()
            except BrokenPipeError:
                # the worker is gone: another one will run the module
                pending.insert(0, worker['current'])
                worker['current'] = None
        else:
            worker['current'] = None
            if not worker['process'].stdin.closed:
                worker['process'].stdin.close()

    for index in range(jobs):
        env = dict(os.environ,
            GUICHET_PGDATA=f'{pgdata}-job{index}',
            GUICHET_PGPORT=str(port + 10 + index),
            TRYTOND_DATABASE__PATH=str(
                ROOT / 'var' / f'test-filestore-job{index}'))
        read_fd, write_fd = os.pipe()
        command = [sys.executable, __file__, '--worker', str(write_fd)]
        for pattern in args.patterns or []:
            command += ['-k', pattern]
        command += ['-v'] * (args.verbosity - 1)
        if args.failfast:
            command.append('-f')
        log = open(ROOT / 'var' / f'runtests-job{index}.log', 'w+')
        process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE,
            stdout=log, stderr=subprocess.STDOUT, pass_fds=[write_fd],
            text=True)
        os.close(write_fd)
        reports = os.fdopen(read_fd, 'r')
        worker = {'index': index, 'process': process, 'log': log,
            'reports': reports, 'current': None, 'stop': False}
        workers.append(worker)
        selector.register(reports, selectors.EVENT_READ, worker)
        give(worker)

    code = 0
    results = []
    totals = dict.fromkeys(['run', 'failures', 'errors', 'skipped'], 0)
    failed = False
    while selector.get_map():
        for key, _ in selector.select():
            worker = key.data
            line = worker['reports'].readline()
            if not line:
                # the worker is gone: its module (if any) never reported
                selector.unregister(worker['reports'])
                worker['reports'].close()
                if worker['current']:
                    print(f"job {worker['index']}: {worker['current']} "
                        "ended without a report", flush=True)
                    code = 1
                    worker['current'] = None
                continue
            result = json.loads(line)
            result['job'] = worker['index']
            results.append(result)
            for name in totals:
                totals[name] += result[name]
            if not result['ok']:
                code = 1
                failed = True
            print(f"[{minutes():5.1f} min] job {worker['index']}: "
                f"{result['module']}: {result['run']} tests in "
                f"{result['seconds'] / 60:.1f} min: "
                f"{'OK' if result['ok'] else 'FAILED'}", flush=True)
            if failed and args.failfast:
                for other in workers:
                    other['stop'] = True
            give(worker)

    for worker in workers:
        process = worker['process']
        process.wait()
        log = worker['log']
        log.seek(0)
        output = log.read()
        log.close()
        print(f"\n===== job {worker['index']} (exit {process.returncode}) "
            "=====", flush=True)
        print(output, flush=True)
        if process.returncode:
            code = 1
    if pending and not failed:
        # every worker died before the deal was over
        code = 1
    print("Modules by wall time (minutes, job):")
    for result in sorted(results, key=lambda r: -r['seconds']):
        if not result['run']:
            continue
        print(f"  {result['seconds'] / 60:5.1f}  {result['job']}  "
            f"{result['module']} ({result['run']} tests, "
            f"{result['fixtures'] / 60:.1f} min outside tests)")
    if not totals['run']:
        code = 1
    print(f"\nAll jobs: ran {totals['run']} tests in "
        f"{minutes():.1f} min; "
        f"failures={totals['failures']} errors={totals['errors']} "
        f"skipped={totals['skipped']}: {'OK' if not code else 'FAILED'}")
    return code


class TimedResult(unittest.TextTestResult):
    "A result that keeps each test's wall time, to show where a module's goes"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timings = []

    def startTest(self, test):
        self._began = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.timings.append((time.monotonic() - self._began, test.id()))


def work(args, loader):
    """Run the modules named on stdin one by one, reporting to fd args.worker

    Each module has its own runner so that its output and its time are its
    own; the report is one JSON line of the module's counts. The slowest
    tests and the time spent outside tests (module and class fixtures:
    databases, servers) are printed after each module's output.
    """
    import json
    reports = os.fdopen(args.worker, 'w')
    for line in sys.stdin:
        name = line.strip()
        if not name:
            continue
        print(f"\n----- {name}", file=sys.stderr, flush=True)
        started = time.monotonic()
        runner = unittest.TextTestRunner(verbosity=args.verbosity,
            failfast=args.failfast, resultclass=TimedResult)
        result = runner.run(loader.loadTestsFromName(name))
        seconds = time.monotonic() - started
        fixtures = seconds - sum(t for t, _ in result.timings)
        if result.timings:
            print(f"{name}: {seconds:.0f} s, {fixtures:.0f} s outside "
                "tests; slowest tests:", file=sys.stderr)
            for duration, test in sorted(result.timings, reverse=True)[:5]:
                print(f"  {duration:6.1f} s  {test}", file=sys.stderr)
            sys.stderr.flush()
        reports.write(json.dumps({
                    'module': name,
                    'seconds': seconds,
                    'fixtures': fixtures,
                    'run': result.testsRun,
                    'failures': len(result.failures)
                    + len(result.unexpectedSuccesses),
                    'errors': len(result.errors),
                    'skipped': len(result.skipped),
                    'ok': result.wasSuccessful(),
                    }) + '\n')
        reports.flush()
    reports.close()
    return 0


def lock_pgdata():
    """Refuse to run beside another run on the same PostgreSQL data: each
    run drops every test database when it starts, the other's included.
    The lock goes with the process."""
    import fcntl
    pgdata = pathlib.Path(os.environ.get(
            'GUICHET_PGDATA', ROOT / 'var' / 'pgdata')).resolve()
    path = pgdata.parent / f'{pgdata.name}.runtests.lock'
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = open(path, 'w')
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"another tools/runtests.py runs on {pgdata}: wait for it "
            "or set GUICHET_PGDATA and GUICHET_PGPORT to another server")
    return lock


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('names', nargs='*')
    parser.add_argument('-k', dest='patterns', action='append')
    parser.add_argument('-v', dest='verbosity', action='count', default=1)
    parser.add_argument('-f', dest='failfast', action='store_true')
    parser.add_argument('-j', dest='jobs', type=int, default=1)
    parser.add_argument('--worker', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.names or addon_names() + ['tests']
    if args.worker is None:
        # the workers of -j run under their parent's lock
        lock = lock_pgdata()  # noqa: F841
    if args.jobs > 1 and args.worker is None:
        return run_parallel(args, names)
    pgctl.start()
    drop_test_databases()
    configure()
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [
            p if '*' in p else f'*{p}*' for p in args.patterns]
    if args.worker is not None:
        # a module of -j may find nothing to run for -k; the whole run must
        return work(args, loader)
    suite = collect(loader, names)
    runner = unittest.TextTestRunner(
        verbosity=args.verbosity, failfast=args.failfast)
    result = runner.run(suite)
    return 0 if result.wasSuccessful() and result.testsRun else 1


if __name__ == '__main__':
    sys.exit(main())
