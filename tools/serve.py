"""Start and stop the demo servers (trytond, trytond-cron, trytond-worker
for the queued e-mails, and the SMTP catcher that keeps them) in the
background, with their pid files and logs under var/run and var/log.

Usage: python tools/serve.py start|stop|status [DATABASE]
"""
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
RUN = ROOT / 'var' / 'run'
LOG = ROOT / 'var' / 'log'
CONFIG = ROOT / 'etc' / 'trytond.conf'
PORT = int(os.environ.get('GUICHET_PORT', '8000'))
SMTP_PORT = int(os.environ.get('GUICHET_SMTP_PORT', '8025'))
MAIL_PORT = int(os.environ.get('GUICHET_MAIL_PORT', '8026'))
SERVERS = ['smtp-catcher', 'trytond-worker', 'trytond-cron', 'trytond']

sys.path.insert(0, str(ROOT / 'tools'))
import pgctl  # noqa: E402


def environment(database):
    env = os.environ.copy()
    env.setdefault('TRYTOND_DATABASE__URI', pgctl.uri())
    env.setdefault('TRYTOND_WEB__LISTEN', f'127.0.0.1:{PORT}')
    # E-mails go through the queue to the local SMTP catcher
    env.setdefault('TRYTOND_EMAIL__URI', f'smtp://127.0.0.1:{SMTP_PORT}')
    env.setdefault('TRYTOND_QUEUE__WORKER', 'True')
    env['TRYTOND_CONFIG'] = str(CONFIG)
    return env


def _pid(name):
    path = RUN / f'{name}.pid'
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
    except OSError:
        path.unlink()
        return None
    return pid


def _spawn(name, command, env):
    if _pid(name):
        return
    RUN.mkdir(parents=True, exist_ok=True)
    LOG.mkdir(parents=True, exist_ok=True)
    with open(LOG / f'{name}.log', 'ab') as log:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log, stderr=log,
            start_new_session=True)
    (RUN / f'{name}.pid').write_text(str(process.pid))


def start(database):
    env = environment(database)
    _spawn('smtp-catcher', [sys.executable, str(ROOT / 'tools' /
                'smtp_catcher.py'), '--smtp-port', str(SMTP_PORT),
            '--http-port', str(MAIL_PORT)], env)
    _spawn('trytond-worker', [
            str(BIN / 'trytond-worker'), '-c', str(CONFIG), '-d', database,
            '-n', '1'],
        env)
    _spawn('trytond', [str(BIN / 'trytond'), '-c', str(CONFIG)], env)
    _spawn('trytond-cron', [
            str(BIN / 'trytond-cron'), '-c', str(CONFIG), '-d', database],
        env)
    url = f'http://127.0.0.1:{PORT}/'
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"trytond did not answer on {url}; see {LOG}")


def stop():
    for name in SERVERS:
        pid = _pid(name)
        if pid:
            os.killpg(pid, signal.SIGTERM)
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.1)
            (RUN / f'{name}.pid').unlink(missing_ok=True)


def main(argv):
    command = argv[1] if len(argv) > 1 else 'status'
    database = argv[2] if len(argv) > 2 else 'guichet_demo'
    if command == 'start':
        start(database)
    elif command == 'stop':
        stop()
    elif command == 'status':
        for name in reversed(SERVERS):
            print(name, 'running' if _pid(name) else 'stopped')
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
