"""Health checks of the Guichet processes (Docker HEALTHCHECK and
``tools/serve_prod.py status``).

    guichet-healthcheck app      # the API answers from the database
    guichet-healthcheck cron     # no scheduled action is overdue
    guichet-healthcheck worker   # no queued task waits for too long
    guichet-healthcheck db       # the database answers

Exit 0 when healthy, 1 otherwise, with one line saying why. The database
is the first of TRYTOND_DATABASE_NAMES; the server is TRYTOND_DATABASE__URI;
the application's address is GUICHET_HEALTH_URL or TRYTOND_WEB__LISTEN.
Only the standard library and psycopg (a dependency of trytond) are used.
"""
import os
import sys
import urllib.parse
import urllib.request

# A cron job or a queued task late by more than this is a dead process
LATE = os.environ.get('GUICHET_HEALTH_LATE', '5 minutes')


def database_name():
    names = os.environ.get('TRYTOND_DATABASE_NAMES', '')
    name = names.split(',')[0].strip()
    if not name:
        raise SystemExit("unhealthy: TRYTOND_DATABASE_NAMES is not set")
    return name


def connect():
    import psycopg
    uri = urllib.parse.urlsplit(os.environ['TRYTOND_DATABASE__URI'])
    uri = uri._replace(path='/' + urllib.parse.quote(database_name()))
    return psycopg.connect(urllib.parse.urlunsplit(uri), connect_timeout=5,
        autocommit=True)


def app_url():
    url = os.environ.get('GUICHET_HEALTH_URL')
    if not url:
        listen = os.environ.get('TRYTOND_WEB__LISTEN', '127.0.0.1:8000')
        host, _, port = listen.split(',')[0].rpartition(':')
        if host in {'', '0.0.0.0', '[::]', '*'}:
            host = '127.0.0.1'
        url = f'http://{host}:{port}'
    return (url.rstrip('/') + '/' + urllib.parse.quote(database_name())
        + '/ticket/api/v1/events')


def check_app():
    "The public event list answers 200: pool loaded, database reached"
    url = app_url()
    with urllib.request.urlopen(url, timeout=5) as response:
        if response.status != 200:
            return f"{url} answered {response.status}"
    return None


def check_db():
    with connect() as conn:
        conn.execute('SELECT 1')
    return None


def check_cron():
    "trytond-cron runs the scheduled actions: none may be long overdue"
    with connect() as conn:
        late, = conn.execute(
            "SELECT count(*) FROM ir_cron WHERE active "
            "AND next_call < (now() AT TIME ZONE 'UTC') - %s::interval",
            (LATE,)).fetchone()
    if late:
        return f"{late} scheduled action(s) overdue by more than {LATE}"
    return None


def check_worker():
    "trytond-worker empties the queue: no task may wait for long"
    with connect() as conn:
        waiting, = conn.execute(
            "SELECT count(*) FROM ir_queue WHERE dequeued_at IS NULL "
            "AND coalesce(scheduled_at, enqueued_at) "
            "< (now() AT TIME ZONE 'UTC') - %s::interval",
            (LATE,)).fetchone()
    if waiting:
        return f"{waiting} queued task(s) waiting for more than {LATE}"
    return None


CHECKS = {'app': check_app, 'db': check_db, 'cron': check_cron,
    'worker': check_worker}


def check(kind):
    "Return None when healthy, else the reason"
    try:
        return CHECKS[kind]()
    except Exception as error:  # any failure to check is unhealthy
        return f"{type(error).__name__}: {error}"


def main(argv):
    if len(argv) != 2 or argv[1] not in CHECKS:
        print(__doc__)
        return 2
    reason = check(argv[1])
    print(f"{argv[1]}: {'healthy' if reason is None else reason}")
    return 0 if reason is None else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
