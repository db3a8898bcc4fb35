"""A real trytond server on a fresh PostgreSQL database, for tests and benches.

    with ApiServer('test_api') as server:
        reply = server.client.get('/ticket/api/v1/events')
        with server.transaction() as pool:
            ...

The database is a copy of a template database where ``trytond-admin``
activated ticket_event (built once per process), filled with a small
catalogue (``load_catalogue``, ids in ``server.ids``); the server is
``trytond`` in a subprocess listening on 127.0.0.1 and a free port, stopped by
its pid. PostgreSQL is the embedded server of ``tools/pgctl.py``
(``$GUICHET_PGDATA``, ``$GUICHET_PGPORT``).
"""
import contextlib
import datetime as dt
import http.client
import json
import os
import pathlib
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))

import pgctl  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
LOGS = ROOT / 'var' / 'log'
API = '/ticket/api/v1'
TEMPLATE = 'test_guichet_template'
# Every addon of the repository is activated, as in production
ADDONS = sorted(p.parent.name for p in (ROOT / 'addons').glob('*/tryton.cfg'))
HOST = '127.0.0.1'
_templates = set()
_templates_lock = threading.Lock()


def trytond_env():
    "The environment of the trytond commands, on the embedded server"
    env = dict(os.environ)
    env['TRYTOND_DATABASE__URI'] = pgctl.uri()
    return env


def configure_trytond():
    "Point this process's trytond at the embedded server and start its pool"
    os.environ['TRYTOND_DATABASE__URI'] = pgctl.uri()
    from trytond.config import config
    from trytond.pool import Pool
    config.set('database', 'uri', pgctl.uri())
    if not Pool._started:
        Pool.start()


def _admin_sql(*statements):
    import psycopg
    with psycopg.connect(pgctl.uri('postgres'), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _exists(database):
    import psycopg
    with psycopg.connect(pgctl.uri('postgres'), autocommit=True) as conn:
        return bool(conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s",
                (database,)).fetchone())


def build_template(template=TEMPLATE):
    """Create template afresh with every addon activated (once per process)

    Returns the admin password."""
    password = secrets.token_urlsafe(16)
    _admin_sql(
        f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)',
        f'CREATE DATABASE "{template}" ENCODING \'UTF8\' '
        'TEMPLATE template0')
    with tempfile.NamedTemporaryFile('w', suffix='.pass') as passfile:
        passfile.write(password + '\n')
        passfile.flush()
        env = trytond_env()
        env['TRYTONPASSFILE'] = passfile.name
        result = subprocess.run([
                str(BIN / 'trytond-admin'), '-d', template, '--all',
                '-u', *ADDONS, '--activate-dependencies',
                '--email', 'admin@example.com'],
            env=env, stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=600)
    if result.returncode:
        raise RuntimeError(
            f"trytond-admin failed on {template}:\n{result.stderr[-4000:]}")
    return password


def create_database(database, template=TEMPLATE):
    "Create database as a copy of template (built on first use)"
    pgctl.start()
    with _templates_lock:
        if template not in _templates or not _exists(template):
            build_template(template)
            _templates.add(template)
    _admin_sql(
        f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
        f'CREATE DATABASE "{database}" TEMPLATE "{template}"')


def drop_database(database):
    _admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def utc_at(days, hour, zone='Europe/Paris'):
    "The naive UTC datetime of hour o'clock in zone, days from today"
    from guichet.ticket_event.common import to_utc
    day = dt.date.today() + dt.timedelta(days=days)
    return to_utc(dt.datetime.combine(day, dt.time(hour)), zone)


def load_catalogue(pool):
    """Create a small catalogue in the current transaction; return its ids
    by kind ('companies', 'venues', 'events', 'sessions') and name.

    Company "Guichet" (EUR) runs venues "hall" and "club" and:
    - event "main" (published, public, tag "theatre") with sessions
      "open" (on sale, 1000 places), "small" (on sale, 100), "scheduled"
      (not on sale yet, 50), "box_office" (on sale at the box office only),
      "link" (on sale online but not listed) and "closed" (sale closed);
    - event "concert" (published, tag "music") at venue "club" with session
      "concert" (on sale, 200) in 90 days;
    - events "private" (published, by link) and "draft", with sessions
      "private_session" and "draft_session" on sale.
    Company "Other" has venue "other" (New York time) and event "other"
    with session "other" on sale.
    Every session starts at 20:00 local time, the given days from today.
    """
    from trytond.transaction import Transaction
    Currency = pool.get('currency.currency')
    Party = pool.get('party.party')
    Company = pool.get('company.company')
    Venue = pool.get('ticket.venue')
    Tag = pool.get('ticket.event.tag')
    Event = pool.get('ticket.event')
    Session = pool.get('ticket.session')

    eur = Currency(name="Euro", code='EUR', symbol='€',
        rounding=Decimal('0.01'), digits=2)
    eur.save()
    ids = {'currency': eur.id, 'companies': {}, 'venues': {}, 'events': {},
        'sessions': {}}

    def company(name):
        party = Party(name=name)
        party.save()
        record = Company(party=party, currency=eur, timezone='Europe/Paris')
        record.save()
        ids['companies'][name] = record.id
        return record

    def event(company, name, venue, tags=(), visibility='public'):
        record = Event(name=name, company=company, venue=venue,
            timezone=venue.timezone, tags=list(tags), visibility=visibility,
            description=f"About {name}.")
        record.save()
        ids['events'][name] = record.id
        return record

    def session(event, name, capacity, days, visibility=None, sale=True,
            **values):
        start = utc_at(days, 20, event.timezone)
        record = Session(event=event, start=start,
            end=start + dt.timedelta(hours=2), capacity=capacity,
            visibility=visibility or ['online', 'box_office'], **values)
        record.save()
        ids['sessions'][name] = record.id
        if sale:
            Session.open_sale([record])
        return record

    guichet = company("Guichet")
    with Transaction().set_context(company=guichet.id):
        hall = Venue(name="Grande Salle", company=guichet,
            timezone='Europe/Paris', capacity=1000)
        club = Venue(name="Club", company=guichet, timezone='Europe/Paris')
        Venue.save([hall, club])
        ids['venues'].update(hall=hall.id, club=club.id)
        theatre = Tag(name="theatre", company=guichet)
        music = Tag(name="music", company=guichet)
        Tag.save([theatre, music])

        main = event(guichet, 'main', hall, [theatre])
        session(main, 'open', 1000, 30)
        session(main, 'small', 100, 31)
        session(main, 'scheduled', 50, 32, sale=False)
        session(main, 'box_office', 50, 33, visibility=['box_office'])
        session(main, 'link', 50, 34, visibility=['link'])
        closed = session(main, 'closed', 50, 35)
        Session.close([closed])
        concert = event(guichet, 'concert', club, [music])
        session(concert, 'concert', 200, 90, venue=club)
        private = event(guichet, 'private', hall, visibility='private')
        session(private, 'private_session', 50, 30)
        draft = event(guichet, 'draft', hall)
        session(draft, 'draft_session', 50, 30)
        Event.publish([main, concert, private])

    other = company("Other")
    with Transaction().set_context(company=other.id):
        venue = Venue(name="Other Hall", company=other,
            timezone='America/New_York')
        venue.save()
        ids['venues']['other'] = venue.id
        other_event = event(other, 'other', venue)
        session(other_event, 'other', 100, 30)
        Event.publish([other_event])
    return ids


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Reply:
    "An HTTP answer: status, headers, raw body and JSON body (or None)"

    def __init__(self, method, path, status, headers, raw):
        self.method = method
        self.path = path
        self.status = status
        self.headers = headers
        self.raw = raw
        self.content_type = headers.get('Content-Type', '')
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return (f'<Reply {self.method} {self.path} {self.status} '
            f'{self.raw[:300]!r}>')


class Client:
    """An HTTP client on the API of one database, one connection per thread.

    Every reply goes to check(reply) when a check is given, e.g. the OpenAPI
    validation of the tests."""

    def __init__(self, port, database, check=None, timeout=60):
        self.port = port
        self.database = database
        self.check = check
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self):
        connection = getattr(self._local, 'connection', None)
        if connection is None:
            connection = self._local.connection = http.client.HTTPConnection(
                HOST, self.port, timeout=self.timeout)
        return connection

    def close(self):
        connection = getattr(self._local, 'connection', None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def request(self, method, path, body=None, headers=None, data=None,
            check=True):
        """Send method on /<database><path> and return the Reply

        body is sent as JSON, data as raw bytes."""
        headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            headers.setdefault('Content-Type', 'application/json')
        url = f'/{self.database}{path}'
        while True:
            reused = getattr(self._local, 'connection', None) is not None
            connection = self._connection()
            try:
                connection.request(method, url, body=data, headers=headers)
                response = connection.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError):
                # Only a kept-alive connection closed by the server before
                # the request is sent again, on a new connection.
                self.close()
                if not reused:
                    raise
                continue
            if response.getheader('Connection', '').lower() == 'close' or (
                    response.version < 11):
                self.close()
            break
        reply = Reply(method, path, response.status,
            dict(response.getheaders()), raw)
        if check and self.check:
            self.check(reply)
        return reply

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request('POST', path, body=body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)

    def hold(self, items, **kwargs):
        "POST a hold of items given as (session id, quantity)"
        return self.post(f'{API}/holds', {'items': [
                    {'session': s, 'quantity': q} for s, q in items]},
            **kwargs)


class ApiServer:
    """A fresh database with the catalogue and a trytond server on it.

    Use as a context manager (or start()/stop()); the database is dropped
    at the end unless keep is set."""

    def __init__(self, database, template=TEMPLATE, keep=False):
        self.database = database
        self.template = template
        self.keep = keep
        self.process = None
        self.port = None
        self.ids = None
        self.client = None
        self.log_path = LOGS / f'trytond-{database}.log'

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        create_database(self.database, self.template)
        configure_trytond()
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        with Transaction().start(self.database, 0, readonly=True):
            Pool(self.database).init()
        with self.transaction() as pool:
            self.ids = load_catalogue(pool)
        self.start_trytond()

    def start_trytond(self):
        self.port = free_port()
        env = trytond_env()
        env['TRYTOND_WEB__LISTEN'] = f'{HOST}:{self.port}'
        LOGS.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, 'wb') as log:
            self.process = subprocess.Popen(
                [str(BIN / 'trytond'), '-d', self.database],
                env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        self.client = Client(self.port, self.database)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"trytond exited ({self.process.returncode}):\n"
                    + self.log_path.read_text()[-4000:])
            try:
                if self.client.get(f'{API}/openapi.json').status == 200:
                    return
            except OSError:
                self.client.close()
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"trytond did not answer, see {self.log_path}")

    def stop(self):
        if self.client is not None:
            self.client.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)
        self.process = None
        from trytond import backend
        from trytond.pool import Pool
        Pool.stop(self.database)
        with contextlib.suppress(Exception):
            backend.Database(self.database).close()
        if not self.keep:
            drop_database(self.database)

    def restart_trytond(self):
        "Restart the server process (e.g. to drop its caches)"
        self.process.terminate()
        self.process.wait(15)
        self.start_trytond()

    @contextlib.contextmanager
    def transaction(self, readonly=False, context=None):
        """A trytond transaction on the database in this process, yielding
        the pool; committed at the end unless an exception goes through"""
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        with Transaction().start(
                self.database, 0, readonly=readonly, context=context):
            yield Pool(self.database)

    def sql(self, query, params=None):
        "Run query in its own committed transaction and return the rows"
        import psycopg
        with psycopg.connect(pgctl.uri(self.database)) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def snapshot(self):
        "What a refused request must not change: counters and row counts"
        return {
            'pools': self.sql(
                'SELECT id, capacity, sold, held FROM ticket_pool '
                'ORDER BY id'),
            'holds': self.sql(
                'SELECT id, state FROM ticket_hold ORDER BY id'),
            'items': self.sql('SELECT count(*) FROM ticket_hold_item'),
            'allocations': self.sql(
                'SELECT id, state FROM ticket_allocation ORDER BY id'),
            }

    def pool_of(self, session_id):
        "The (capacity, sold, held) of the session's own pool"
        (counts,) = self.sql(
            'SELECT p.capacity, p.sold, p.held FROM ticket_pool p '
            'JOIN ticket_session s ON s.pool = p.id WHERE s.id = %s',
            (session_id,))
        return counts

    def expire_all_holds(self):
        "Date every active hold back and expire them; return how many"
        self.sql("UPDATE ticket_hold SET expires_at = "
            "now() AT TIME ZONE 'UTC' - interval '1 minute' "
            "WHERE state = 'active'")
        with self.transaction() as pool:
            return len(pool.get('ticket.hold').expire_stale())


class OpenAPIChecker:
    """Validate replies against an OpenAPI 3.1 document.

    A reply must answer a documented path and method with a documented
    status, as JSON matching the schema of that status (2020-12 dialect,
    $refs resolved in the document)."""
    URI = 'urn:guichet:openapi'

    def __init__(self, document):
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012
        self.document = document
        self.Validator = Draft202012Validator
        self.registry = Registry().with_resource(
            self.URI, Resource(contents=document, specification=DRAFT202012))
        self.templates = sorted(document['paths'],
            key=lambda p: (p.count('{'), p))

    def match(self, path):
        "Return the path template of the document that path matches"
        path = path.split('?', 1)[0]
        for template in self.templates:
            pattern = re.sub(r'\\{[^}]+\\}', '[^/]+', re.escape(template))
            if re.fullmatch(pattern, path):
                return template
        raise AssertionError(f"{path} is not documented")

    @staticmethod
    def _pointer(*parts):
        return '/'.join(
            str(p).replace('~', '~0').replace('/', '~1') for p in parts)

    def _resolve(self, node, pointer):
        "Follow a local $ref: return the node and its pointer"
        while '$ref' in node:
            pointer = node['$ref'].removeprefix('#')
            node = self.document
            for part in pointer.strip('/').split('/'):
                node = node[part.replace('~1', '/').replace('~0', '~')]
        return node, pointer

    def validator(self, pointer):
        "A validator of the schema at pointer in the document"
        return self.Validator({'$ref': f'{self.URI}#{pointer}'},
            registry=self.registry,
            format_checker=self.Validator.FORMAT_CHECKER)

    def schema_errors(self, name, instance):
        "The errors of instance against components/schemas/name"
        return [e.message for e in self.validator(
                f'/components/schemas/{name}').iter_errors(instance)]

    def request_errors(self, method, path, body):
        "The errors of a JSON request body against its documented schema"
        template = self.match(path)
        operation = self.document['paths'][template][method.lower()]
        pointer = '/' + self._pointer('paths', template, method.lower(),
            'requestBody', 'content', 'application/json', 'schema')
        assert 'requestBody' in operation
        return [e.message
            for e in self.validator(pointer).iter_errors(body)]

    def __call__(self, reply):
        template = self.match(reply.path)
        operations = self.document['paths'][template]
        method = reply.method.lower()
        if method not in operations:
            raise AssertionError(
                f"{reply.method} {template} is not documented: {reply!r}")
        responses = operations[method]['responses']
        key = str(reply.status)
        if key not in responses:
            raise AssertionError(
                f"status {reply.status} of {reply.method} {template} is not "
                f"documented: {reply!r}")
        response, pointer = self._resolve(responses[key], '/' + self._pointer(
                'paths', template, method, 'responses', key))
        content = response.get('content', {})
        if not content:
            if reply.raw:
                raise AssertionError(f"unexpected body: {reply!r}")
            return
        media = reply.content_type.split(';')[0].strip()
        if media != 'application/json' and media in content:
            # a documented document (a PDF): its media type is checked
            return
        if not reply.content_type.startswith('application/json'):
            raise AssertionError(f"not JSON: {reply!r}")
        if reply.json is None:
            raise AssertionError(f"invalid JSON: {reply!r}")
        pointer += '/' + self._pointer('content', 'application/json', 'schema')
        errors = [f'{list(e.absolute_path)}: {e.message}'
            for e in self.validator(pointer).iter_errors(reply.json)]
        if errors:
            raise AssertionError(
                f"{reply!r} does not match its schema:\n" + '\n'.join(errors))
