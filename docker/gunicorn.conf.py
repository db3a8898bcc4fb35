"""gunicorn settings of the Guichet application servers, shared by the
Docker image and ``make serve-prod`` (tools/serve_prod.py).

trytond's WSGI application (``trytond.application:app``) is stateless: every
request runs in its own database transaction, so any number of processes,
here or on other hosts, serve one PostgreSQL database. Threads serve
requests that wait on the database while others compute.

Environment: GUICHET_APP_WORKERS (processes, default 2), GUICHET_APP_THREADS
(threads per process, default 2: in the shop's on-sale rush on 2 cores, 2
threads per process sold 11.8 orders/s for 163 ms of CPU each, 4 threads
10.7 orders/s for 178 ms — more threads switch more than they overlap), GUICHET_BIND or TRYTOND_WEB__LISTEN (the
address, default 0.0.0.0:8000), GUICHET_APP_TIMEOUT (seconds before a stuck
worker is replaced, default 120), GUICHET_GC_THRESHOLD (the collector's
thresholds of the application processes, default 10000,20,10; see
post_worker_init).
"""
import os

bind = (os.environ.get('GUICHET_BIND')
    or os.environ.get('TRYTOND_WEB__LISTEN') or '0.0.0.0:8000').split(',')
workers = int(os.environ.get('GUICHET_APP_WORKERS') or 2)
threads = int(os.environ.get('GUICHET_APP_THREADS') or 2)
worker_class = 'gthread'
keepalive = 30
timeout = int(os.environ.get('GUICHET_APP_TIMEOUT') or 120)
graceful_timeout = 30
# trytond reads the client address from X-Forwarded-For behind the proxy
# (TRYTOND_WEB__NUM_PROXIES); gunicorn itself trusts no forwarded header.
forwarded_allow_ips = ''
accesslog = os.environ.get('GUICHET_ACCESS_LOG') or None
errorlog = '-'
loglevel = 'info'
# gunicorn's control socket is one path per user: several servers on one
# host (serve-prod beside tests and benches) would take it from each other
control_socket_disable = True

# trytond.application initialises the pools of TRYTOND_DATABASE_NAMES while
# the worker boots: a database connection lost meanwhile (PostgreSQL
# restarting, connections terminated) fails the boot, and gunicorn then
# stops altogether. The workers initialise them once booted instead, trying
# again until the database answers; requests wait for it.
_databases = [n for n in os.environ.pop('TRYTOND_DATABASE_NAMES', '')
    .split(',') if n.strip()]


def post_worker_init(worker):
    import gc
    import time

    from trytond.pool import Pool
    from trytond.transaction import Transaction
    for name in _databases:
        for attempt in range(60):
            try:
                with Transaction().start(name, 0, readonly=True):
                    Pool(name).init()
                break
            except Exception as error:
                Pool.stop(name)
                worker.log.warning("pool of %s not ready (%s), retrying",
                    name, error)
                time.sleep(min(0.5 * (attempt + 1), 5))
    # The pools' models, fields and caches are ~300,000 objects that live as
    # long as the process: frozen, the collector no longer walks them at
    # each full collection (~0.2 s of CPU each in a rush). A larger first
    # generation collects the short-lived objects of a request less often
    # (most are freed by their reference count anyway): together, a third
    # of the collector's CPU in the shop's rush.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def _gc_threshold(value):
    try:
        threshold = tuple(int(v) for v in value.split(','))
    except ValueError:
        threshold = ()
    if len(threshold) != 3 or min(threshold) < 1:
        raise SystemExit("GUICHET_GC_THRESHOLD: three positive integers "
            f"separated by commas (e.g. 10000,20,10), not {value!r}")
    return threshold


# (the first generation's threshold, then the two older ones': Python's
# defaults are 700, 10, 10)
GC_THRESHOLD = _gc_threshold(
    os.environ.get('GUICHET_GC_THRESHOLD') or '10000,20,10')
