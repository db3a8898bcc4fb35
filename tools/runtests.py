"""Run the whole test suite against the embedded PostgreSQL server.

Collects every addon's tests (test_*.py, including the scenario_*.rst
doctests they load) and the cross-module tests under tests/, runs them with
unittest and exits non-zero on any failure.

With -j N the test modules are shared out over N processes, each with its
own embedded PostgreSQL server (data under <GUICHET_PGDATA>-jobK, port
GUICHET_PGPORT + 10 + K) and file store, so that they share no database;
the modules known to be long are dealt first, to the least loaded process.
Each process's output is printed when it ends, then the totals.

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


# Minutes a module takes alone on the 2-core machine (rough, for the deal;
# a module not listed counts 1)
WEIGHTS = {
    'tests.test_shop_http': 9, 'tests.test_prod_rush': 8,
    'tests.test_shop_browser': 7, 'tests.test_prod_schemathesis': 6,
    'tests.test_scanner_browser': 5, 'tests.test_pos_browser': 4,
    'tests.test_backoffice_browser': 3, 'tests.test_api': 4,
    'tests.test_prod_security': 4, 'tests.test_concurrency': 3,
    'tests.test_seating_concurrency': 3, 'tests.test_prod_backup': 3,
    'tests.test_prod_serve': 3, 'tests.test_checkin_api': 3,
    'guichet.ticket_pricing.tests.test_scenario': 5,
    'guichet.ticket_pricing.tests.test_module': 4,
    'guichet.ticket_event.tests.test_module': 3,
    'guichet.ticket_access.tests.test_module': 3,
    'guichet.ticket_seating.tests.test_module': 3,
    'guichet.ticket_shop.tests.test_module': 3,
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


def deal(units, jobs):
    "Share units out over jobs lists, the heaviest first to the lightest"
    shares = [[] for _ in range(jobs)]
    loads = [0] * jobs
    for unit in sorted(units, key=lambda u: -WEIGHTS.get(u, 1)):
        index = loads.index(min(loads))
        shares[index].append(unit)
        loads[index] += WEIGHTS.get(unit, 1)
    return [s for s in shares if s]


def run_parallel(args, names):
    "Run the modules of names in args.jobs processes; return the exit code"
    pgdata = pathlib.Path(os.environ.get(
            'GUICHET_PGDATA', ROOT / 'var' / 'pgdata')).resolve()
    port = int(os.environ.get('GUICHET_PGPORT', '54330'))
    processes = []
    (ROOT / 'var').mkdir(exist_ok=True)
    for index, share in enumerate(deal(modules(names), args.jobs)):
        env = dict(os.environ,
            GUICHET_PGDATA=f'{pgdata}-job{index}',
            GUICHET_PGPORT=str(port + 10 + index),
            TRYTOND_DATABASE__PATH=str(
                ROOT / 'var' / f'test-filestore-job{index}'))
        command = [sys.executable, __file__, '--modules', ','.join(share)]
        for pattern in args.patterns or []:
            command += ['-k', pattern]
        command += ['-v'] * (args.verbosity - 1)
        if args.failfast:
            command.append('-f')
        log = open(ROOT / 'var' / f'runtests-job{index}.log', 'w+')
        print(f"job {index}: {', '.join(share)}", flush=True)
        processes.append((index, subprocess.Popen(command, env=env,
                    stdout=log, stderr=subprocess.STDOUT), log))
    code, totals = 0, {'run': 0, 'failures': 0, 'errors': 0, 'skipped': 0}
    began = time.monotonic()
    for index, process, log in processes:
        process.wait()
        log.seek(0)
        output = log.read()
        log.close()
        print(f"\n===== job {index} (exit {process.returncode}, "
            f"{(time.monotonic() - began) / 60:.1f} min) =====", flush=True)
        print(output, flush=True)
        match = re.search(r'^Ran (\d+) tests? in', output, re.MULTILINE)
        if process.returncode or not match:
            code = 1
        if match:
            totals['run'] += int(match.group(1))
        for key in ['failures', 'errors', 'skipped']:
            totals[key] += sum(int(n) for n in re.findall(
                    rf'^(?:OK|FAILED) \(.*?\b{key}=(\d+)', output, re.MULTILINE))
    if not totals['run']:
        code = 1
    print(f"\nAll jobs: ran {totals['run']} tests in "
        f"{(time.monotonic() - began) / 60:.1f} min; "
        f"failures={totals['failures']} errors={totals['errors']} "
        f"skipped={totals['skipped']}: {'OK' if not code else 'FAILED'}")
    return code


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('names', nargs='*')
    parser.add_argument('-k', dest='patterns', action='append')
    parser.add_argument('-v', dest='verbosity', action='count', default=1)
    parser.add_argument('-f', dest='failfast', action='store_true')
    parser.add_argument('-j', dest='jobs', type=int, default=1)
    parser.add_argument('--modules', help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.names or addon_names() + ['tests']
    if args.jobs > 1 and not args.modules:
        return run_parallel(args, names)
    pgctl.start()
    drop_test_databases()
    configure()
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [
            p if '*' in p else f'*{p}*' for p in args.patterns]
    if args.modules:
        suite = unittest.TestSuite(loader.loadTestsFromName(name)
            for name in args.modules.split(','))
    else:
        suite = collect(loader, names)
    runner = unittest.TextTestRunner(
        verbosity=args.verbosity, failfast=args.failfast)
    result = runner.run(suite)
    # a job of -j may find nothing to run for -k; the whole run must
    return 0 if result.wasSuccessful() and (
        result.testsRun or args.modules) else 1


if __name__ == '__main__':
    sys.exit(main())
