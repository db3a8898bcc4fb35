"""``make serve-prod`` (tools/serve_prod.py): gunicorn with 2 application
processes, trytond-cron and trytond-worker on one scratch database of the
embedded PostgreSQL; every process answers or runs, an application process
killed with SIGKILL is replaced while the other keeps answering, and stop
ends every process."""
import http.client
import os
import pathlib
import subprocess
import sys
import time
import unittest

from tests.server import (
    API, HOST, ROOT, configure_trytond, create_database, drop_database,
    free_port)

import serve_prod  # noqa: E402 (tools/, on the path of tests.server)

DATABASE = 'test_prod_serve'
SERVE = [sys.executable, str(ROOT / 'tools' / 'serve_prod.py')]


def get(port, path):
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request('GET', path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class ServeProdTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        create_database(DATABASE)
        cls.addClassCleanup(drop_database, DATABASE)
        cls.run_dir = ROOT / 'var' / 'run' / DATABASE
        cls.env = dict(os.environ, GUICHET_PROD_PORT=str(free_port()),
            GUICHET_PROD_RUN=str(cls.run_dir),
            GUICHET_PROD_LOG=str(ROOT / 'var' / 'log' / DATABASE),
            GUICHET_APP_WORKERS='2')
        cls.port = int(cls.env['GUICHET_PROD_PORT'])
        configure_trytond()

    def serve(self, command, check=True):
        return subprocess.run(SERVE + [command, DATABASE], env=self.env,
            capture_output=True, text=True, timeout=180, check=check)

    def sql(self, query, params=None):
        import psycopg

        from tests.server import pgctl
        with psycopg.connect(pgctl.uri(DATABASE)) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def pids(self):
        return {p.stem.removeprefix('prod-'): int(p.read_text())
            for p in self.run_dir.glob('prod-*.pid')}

    def workers(self):
        master = self.pids()['app']
        return [int(p) for p in pathlib.Path(
                f'/proc/{master}/task/{master}/children').read_text().split()]

    def wait(self, condition, timeout=90, message=''):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.5)
        self.fail(f"timed out: {message}")

    def push_task(self):
        "A task for trytond-worker (on a missing record: a no-op)"
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        with Transaction().start(DATABASE, 0) as transaction:
            Queue = Pool(DATABASE).get('ir.queue')
            task = Queue.push('default', {
                    'model': 'res.user', 'method': 'read', 'user': 0,
                    'context': {}, 'instances': [2 ** 31 - 2], 'args': [],
                    'kwargs': {}})
            transaction.commit()
        return task

    def test_start_answer_stop(self):
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        with Transaction().start(DATABASE, 0, readonly=True):
            Pool(DATABASE).init()
        self.sql("UPDATE ir_cron SET next_call = NULL")
        try:
            result = self.serve('start')
            self.assertIn('2 application processes', result.stdout)
            pids = self.pids()
            self.assertEqual(set(pids), {'app', 'cron', 'worker'})
            workers = self.workers()
            self.assertEqual(len(workers), 2)

            # the API answers, from the database
            for _ in range(6):
                status, body = get(self.port, f'/{DATABASE}{API}/events')
                self.assertEqual(status, 200, body)
            # sao is served too
            status, body = get(self.port, '/')
            self.assertEqual(status, 200)
            self.assertIn(b'<html', body.lower())

            # trytond-cron ran every scheduled action
            self.wait(lambda: self.sql(
                    "SELECT count(*) FROM ir_cron WHERE active AND "
                    "(next_call IS NULL OR next_call <= now() AT TIME ZONE "
                    "'UTC')")[0][0] == 0, message="cron did not run")
            # trytond-worker runs queued tasks
            task = self.push_task()
            self.wait(lambda: self.sql(
                    "SELECT finished_at IS NOT NULL FROM ir_queue "
                    "WHERE id = %s", (task,))[0][0],
                message="worker did not run the task")
            result = self.serve('status')
            self.assertEqual(result.stdout.count('healthy'), 3,
                result.stdout)

            # SIGKILL of an application process: the other one answers,
            # gunicorn replaces the dead one
            os.kill(workers[0], 9)
            status, _ = get(self.port, f'/{DATABASE}{API}/events')
            self.assertEqual(status, 200)
            self.wait(lambda: len(self.workers()) == 2
                and workers[0] not in self.workers(),
                message="the killed worker was not replaced")
            status, _ = get(self.port, f'/{DATABASE}{API}/events')
            self.assertEqual(status, 200)
        finally:
            self.serve('stop', check=False)
        for name, pid in pids.items():
            with self.subTest(process=name):
                self.assertEqual(serve_prod.group_members(pid), 0)
        self.assertEqual(self.pids(), {})
        with self.assertRaises(OSError):
            get(self.port, '/')
        self.assertEqual(self.serve('status', check=False).returncode, 3)


if __name__ == '__main__':
    unittest.main()
