"""Run the whole test suite against the embedded PostgreSQL server.

Collects every addon's tests (test_*.py, including the scenario_*.rst
doctests they load) and the cross-module tests under tests/, runs them with
unittest and exits non-zero on any failure.

Usage: python tools/runtests.py [-k PATTERN] [-v] [name ...]
  name: an addon (ticket_event), or 'tests' for the cross-module suite
"""
import argparse
import os
import pathlib
import sys
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('names', nargs='*')
    parser.add_argument('-k', dest='patterns', action='append')
    parser.add_argument('-v', dest='verbosity', action='count', default=1)
    parser.add_argument('-f', dest='failfast', action='store_true')
    args = parser.parse_args()
    pgctl.start()
    drop_test_databases()
    configure()
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [
            p if '*' in p else f'*{p}*' for p in args.patterns]
    names = args.names or addon_names() + ['tests']
    suite = collect(loader, names)
    runner = unittest.TextTestRunner(
        verbosity=args.verbosity, failfast=args.failfast)
    result = runner.run(suite)
    return 0 if result.wasSuccessful() and result.testsRun else 1


if __name__ == '__main__':
    sys.exit(main())
