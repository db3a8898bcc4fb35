"""docker/gunicorn.conf.py: the application processes freeze the objects
that live as long as they do and collect the young ones less often; a bad
setting stops with a message."""
import json
import os
import subprocess
import sys
import unittest

from tests.server import ROOT

CONF = ROOT / 'docker' / 'gunicorn.conf.py'
# post_worker_init of the settings, run in a process of its own (it
# changes the collector of the process that runs it)
PROBE = f"""
import gc, json, runpy, types
settings = runpy.run_path({str(CONF)!r})
before = gc.get_freeze_count()
garbage = []
garbage.append(garbage)
settings['post_worker_init'](types.SimpleNamespace(log=None))
print(json.dumps([before, gc.get_freeze_count(), gc.get_threshold(),
    len(gc.get_objects())]))
"""


def probe(**env):
    environ = {k: v for k, v in os.environ.items()
        if k not in {'GUICHET_GC_THRESHOLD', 'TRYTOND_DATABASE_NAMES'}}
    return subprocess.run([sys.executable, '-c', PROBE],
        env=dict(environ, **env), capture_output=True, text=True, timeout=60)


class GunicornSettingsTestCase(unittest.TestCase):

    def test_objects_frozen_and_threshold(self):
        result = probe()
        self.assertEqual(result.returncode, 0, result.stderr)
        before, frozen, threshold, tracked = json.loads(result.stdout)
        self.assertEqual(before, 0)
        # the settings' and the interpreter's objects: frozen, no longer
        # tracked by the collections
        self.assertGreater(frozen, 1000)
        self.assertLess(tracked, 100)
        self.assertEqual(threshold, [10000, 20, 10])

    def test_threshold_from_environment(self):
        result = probe(GUICHET_GC_THRESHOLD='5000,10,5')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)[2], [5000, 10, 5])

    def test_bad_threshold_refused(self):
        for value in ['5000', 'a,b,c', '5000,0,10', '1,2,3,4']:
            with self.subTest(value=value):
                result = probe(GUICHET_GC_THRESHOLD=value)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn('GUICHET_GC_THRESHOLD: three positive '
                    'integers', result.stderr)
                self.assertIn(repr(value), result.stderr)


if __name__ == '__main__':
    unittest.main()
