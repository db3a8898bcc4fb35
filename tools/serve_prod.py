"""The production processes without Docker, on the embedded PostgreSQL:
gunicorn serving trytond's WSGI application with GUICHET_APP_WORKERS
processes (default 2), trytond-cron and trytond-worker, all on one
database, as docker/compose.yaml runs them (same gunicorn settings:
docker/gunicorn.conf.py; same health checks: docker/healthcheck.py).

Usage: python tools/serve_prod.py start|stop|status|restart [DATABASE]

Pid files are var/run/prod-<name>.pid and logs var/log/prod-<name>.log
(GUICHET_PROD_RUN and GUICHET_PROD_LOG choose other directories). The
application listens on 127.0.0.1:GUICHET_PROD_PORT (default 8100, beside the
demo server's 8000). GUICHET_APP_THREADS sets the threads per process;
GUICHET_WSGI_APP another WSGI application (default trytond.application:app).
The database must exist (``make serve-prod`` creates the demo database).
"""
import os
import pathlib
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
CONFIG = ROOT / 'etc' / 'trytond.conf'
GUNICORN_CONFIG = ROOT / 'docker' / 'gunicorn.conf.py'
NAMES = ['app', 'cron', 'worker']

sys.path.insert(0, str(ROOT / 'tools'))
sys.path.insert(0, str(ROOT / 'docker'))
import healthcheck  # noqa: E402
import pgctl  # noqa: E402


def run_dir():
    return pathlib.Path(os.environ.get('GUICHET_PROD_RUN')
        or ROOT / 'var' / 'run')


def log_dir():
    return pathlib.Path(os.environ.get('GUICHET_PROD_LOG')
        or ROOT / 'var' / 'log')


def port():
    return int(os.environ.get('GUICHET_PROD_PORT', '8100'))


def url(database):
    return f'http://127.0.0.1:{port()}/{database}'


def environment(database):
    "The environment of the processes: the compose file's, locally"
    env = os.environ.copy()
    env.setdefault('TRYTOND_DATABASE__URI', pgctl.uri())
    env['TRYTOND_DATABASE_NAMES'] = database
    env['TRYTOND_CONFIG'] = str(CONFIG)
    env['TRYTOND_QUEUE__WORKER'] = 'True'
    env['TRYTOND_WEB__LISTEN'] = f'127.0.0.1:{port()}'
    env.setdefault('GUICHET_APP_WORKERS', '2')
    env.setdefault('GUICHET_APP_THREADS', '2')
    env['GUICHET_BIND'] = f'127.0.0.1:{port()}'
    return env


def commands(database):
    return {
        'app': [str(BIN / 'gunicorn'), '--config', str(GUNICORN_CONFIG),
            '--pid', str(pid_file('app')),
            os.environ.get('GUICHET_WSGI_APP', 'trytond.application:app')],
        'cron': [str(BIN / 'trytond-cron'), '-c', str(CONFIG),
            '-d', database, '-n', '1'],
        # queued work (e-mails with their PDF tickets) at a lower CPU
        # priority: during an on-sale rush the buyers' requests come first
        'worker': ['nice', '-n', '10', str(BIN / 'trytond-worker'),
            '-c', str(CONFIG), '-d', database, '-n', '1'],
        }


def pid_file(name):
    return run_dir() / f'prod-{name}.pid'


def pid(name):
    "The pid of a running process, or None (stale pid files are removed)"
    path = pid_file(name)
    try:
        value = int(path.read_text())
        os.kill(value, 0)
    except (OSError, ValueError):
        path.unlink(missing_ok=True)
        return None
    return value


def app_workers():
    "The pids of gunicorn's worker processes"
    master = pid('app')
    if master is None:
        return []
    children = pathlib.Path(f'/proc/{master}/task/{master}/children')
    try:
        return [int(p) for p in children.read_text().split()]
    except OSError:
        return []


def _spawn(name, command, env):
    if pid(name):
        return
    run_dir().mkdir(parents=True, exist_ok=True)
    log_dir().mkdir(parents=True, exist_ok=True)
    with open(log_dir() / f'prod-{name}.log', 'ab') as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT,
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
    pid_file(name).write_text(str(process.pid))


def check_env(database):
    "The environment the health checks read"
    env = environment(database)
    return {k: env[k] for k in ['TRYTOND_DATABASE__URI',
            'TRYTOND_DATABASE_NAMES', 'TRYTOND_WEB__LISTEN']}


def health(database, name):
    "None when the process is healthy, else the reason"
    saved = dict(os.environ)
    os.environ.update(check_env(database))
    try:
        return healthcheck.check(name)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def start(database, timeout=120):
    pgctl.start()
    env = environment(database)
    for name, command in commands(database).items():
        _spawn(name, command, env)
    deadline = time.monotonic() + timeout
    workers = int(env['GUICHET_APP_WORKERS'])
    while time.monotonic() < deadline:
        missing = [n for n in NAMES if not pid(n)]
        if missing:
            stop()
            raise SystemExit(f"{', '.join(missing)} exited; see "
                f"{log_dir()}/prod-*.log")
        if (health(database, 'app') is None
                and len(app_workers()) >= workers):
            return
        time.sleep(0.3)
    stop()
    raise SystemExit(f"the application did not answer on {url(database)}; "
        f"see {log_dir()}/prod-app.log")


def stop(timeout=40):
    "SIGTERM every process group, SIGKILL what is left after timeout"
    for name in reversed(NAMES):
        value = pid(name)
        if value is None:
            continue
        try:
            os.killpg(value, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive_group(value):
            time.sleep(0.1)
        if _alive_group(value):
            os.killpg(value, signal.SIGKILL)
        pid_file(name).unlink(missing_ok=True)


def _alive_group(group):
    "Whether a process of the group runs (zombies not reaped yet do not)"
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return group_members(group) > 0


def group_members(group):
    "How many live (not zombie) processes the process group has"
    count = 0
    for stat in pathlib.Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != 'Z':
            count += 1
    return count


def status(database):
    "Print each process and its health; return whether all are healthy"
    good = True
    for name in NAMES:
        value = pid(name)
        reason = health(database, name) if value else 'stopped'
        extra = ''
        if name == 'app' and value:
            extra = f" ({len(app_workers())} workers)"
        print(f"{name:7} {value or '-':>8} "
            f"{'healthy' if reason is None else reason}{extra}")
        good = good and reason is None
    return good


def main(argv):
    command = argv[1] if len(argv) > 1 else 'status'
    database = argv[2] if len(argv) > 2 else os.environ.get(
        'GUICHET_DATABASE', 'guichet_demo')
    if command == 'start':
        start(database)
        print(f"Guichet (production processes) on {url(database)}/ "
            f"— {len(app_workers())} application processes, cron, worker; "
            f"logs in {log_dir()}")
    elif command == 'stop':
        stop()
    elif command == 'restart':
        stop()
        start(database)
    elif command == 'status':
        return 0 if status(database) else 3
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
