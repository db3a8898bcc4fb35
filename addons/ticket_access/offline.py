"""Offline bundles, incremental sync and the upload of offline scans.

A device downloads a *bundle* for its lists: the events' public keys, the
lists' rules, the sessions, the valid tickets (the hash of their secret,
never the secret), the revoked (cancelled) tickets and the entries of its
lists. With it and no network, ``OfflineVerifier`` checks a signed code by
its signature or a plain secret by its hash.

Sync tokens come from PostgreSQL transaction ids: every change of a ticket
or an entry stamps its row with the id of the transaction that made it
(``access_xid``); a bundle's token is the oldest transaction still running
when it was read (``pg_snapshot_xmin``). "Changes since a token" are the
rows stamped at or after it: a transaction that commits late is never
missed (at worst a row is sent twice, and applying it twice is harmless).

Offline scans come back with the id the device gave them; the upload goes
through the scan service in the order of their times, so conflicts resolve
the same way whatever the order of the uploads (``Scan._resolve_offline``),
and uploading a batch twice records it once.
"""
import datetime as dt

from trytond.model import Model
from trytond.pool import Pool
from trytond.transaction import Transaction

from guichet.ticket_event.common import UTC

from . import signing

MAX_UPLOAD = 500


def iso(value):
    return value.replace(tzinfo=UTC).isoformat() if value else None


class Bundle(Model):
    "The offline bundle of a device's lists"
    __name__ = 'ticket.access.bundle'

    @classmethod
    def token(cls):
        "The sync token of what the current transaction reads"
        cursor = Transaction().connection.cursor()
        cursor.execute(
            'SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint')
        return cursor.fetchone()[0]

    @classmethod
    def build(cls, rules, since=None):
        """The bundle of lists (ListRules), or its changes since a token;
        token first, so that nothing read after it is missed"""
        pool = Pool()
        Event = pool.get('ticket.event')
        token = cls.token()
        events = sorted({r.event for r in rules})
        tickets = cls._tickets(events, since)
        signers = events + sorted({t['event'] for t in tickets} - set(events))
        valid = [t for t in tickets if t['state'] != 'cancelled']
        revoked = [{'id': t['id'], 'h': t['h']}
            for t in tickets if t['state'] == 'cancelled']
        for ticket in tickets:
            del ticket['state'], ticket['event']
        return {
            'sync_token': str(token),
            'since': str(since) if since is not None else None,
            'generated_at': iso(dt.datetime.now(UTC).replace(tzinfo=None)),
            'keys': {str(e): k
                for e, k in Event.public_keys(signers).items()},
            'lists': [r.json() for r in rules],
            'sessions': cls._sessions(events),
            'tickets': valid,
            'revoked': revoked,
            'entries': cls._entries([r.id for r in rules], since),
            }

    @classmethod
    def _sessions(cls, events):
        Session = Pool().get('ticket.session')
        session = Session.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*session.select(
                session.id, session.event, session.start, session.end,
                session.state, where=session.event.in_(events or [-1]),
                order_by=[session.start, session.id]))
        return [{'id': i, 'event': e, 'start': iso(s), 'end': iso(n),
                'cancelled': state == 'cancelled'}
            for i, e, s, n, state in cursor]

    @classmethod
    def _tickets(cls, events, since):
        "The tickets of the sessions of events, changed since a token"
        Ticket = Pool().get('ticket.ticket')
        Session = Pool().get('ticket.session')
        cursor = Transaction().connection.cursor()
        cursor.execute(
            'SELECT t.id, t.secret, t.number, t.holder_name, t.type_label, '
            't.state, s.event, t.session '
            f'FROM "{Ticket._table}" t JOIN "{Session._table}" s '
            'ON s.id = t.session WHERE s.event = ANY(%s) '
            'AND (%s::bigint IS NULL OR t.access_xid >= %s) ORDER BY t.id',
            (events, since, since))
        tickets = [{
                'id': i, 'h': signing.secret_hash(secret), 'number': number,
                'holder_name': holder, 'tariff': label, 'state': state,
                'event': event,
                'admissions': [{'session': session, 'tariffs': [],
                        'categories': [], 'cancelled': False}],
                } for i, secret, number, holder, label, state, event, session
            in cursor]
        cls._complete_tickets(tickets, events, since)
        return tickets

    @classmethod
    def _complete_tickets(cls, tickets, events, since):
        "Add what other modules know of the tickets (tariffs, passes)"

    @classmethod
    def _entries(cls, list_ids, since):
        Entry = Pool().get('ticket.access.entry')
        entry = Entry.__table__()
        cursor = Transaction().connection.cursor()
        where = entry.list.in_(list_ids or [-1])
        if since is not None:
            where &= entry.access_xid >= since
        cursor.execute(*entry.select(
                entry.list, entry.ticket, entry.session, entry.state,
                where=where, order_by=[entry.id]))
        return [{'list': l, 'ticket': t, 'session': s, 'state': st}
            for l, t, s, st in cursor]

    @classmethod
    def upload(cls, rules, device, scans):
        """Record offline scans (dicts: id, list, code or ticket, direction,
        session, scanned_at, result), oldest first; return their results
        in the order given"""
        Scan = Pool().get('ticket.access.scan')
        table = Scan.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.client_id, table.id, table.result, table.conflict,
                where=(table.device == device)
                & table.client_id.in_([s['id'] for s in scans] or [''])))
        done = {c: (i, r, f) for c, i, r, f in cursor}
        answers = {}
        for scan in sorted(scans, key=lambda s: (s['scanned_at'], s['id'])):
            if scan['id'] in done or scan['id'] in answers:
                scan_id, result, conflict = done.get(
                    scan['id']) or answers[scan['id']]
                answers[scan['id']] = (scan_id, result, conflict)
                continue
            outcome = Scan.scan(
                rules[scan['list']], code=scan.get('code'),
                ticket_id=scan.get('ticket'),
                direction=scan.get('direction'),
                session=scan.get('session'), device=device,
                at=scan['scanned_at'], offline=True, client_id=scan['id'],
                device_result=scan.get('result'))
            answers[scan['id']] = (
                outcome.scan, outcome.result, outcome.conflict)
        return [{'id': s['id'], 'scan': answers[s['id']][0],
                'result': answers[s['id']][1],
                'conflict': bool(answers[s['id']][2])} for s in scans]


class OfflineVerifier:
    """What a device does with a bundle and no network (the reference for
    the scanner app; the tests and the bench use it).

    ``check(code, list_id, at)`` returns a result code; ``admit`` also
    records the entry locally as the device would."""

    def __init__(self, bundle):
        self.keys = dict(bundle['keys'])
        self.lists = {l['id']: l for l in bundle['lists']}
        self.sessions = {}
        self.session_events = {}
        self.tickets = {}
        self.by_id = {}
        self.revoked = set()
        self.entries = {}
        self.apply(bundle)

    def apply(self, changes):
        "Apply a bundle or the changes of a sync"
        self.keys.update(changes['keys'])
        self.lists.update({l['id']: l for l in changes['lists']})
        for session in changes['sessions']:
            self.sessions[session['id']] = (
                parse(session['start']), parse(session['end']))
            self.session_events[session['id']] = session['event']
        for ticket in changes['tickets']:
            self.tickets[ticket['h']] = ticket
            self.by_id[ticket['id']] = ticket
            self.revoked.discard(ticket['h'])
        for ticket in changes['revoked']:
            self.revoked.add(ticket['h'])
            self.tickets.pop(ticket['h'], None)
        for entry in changes['entries']:
            self.entries[entry['list'], entry['ticket'], entry['session']] = (
                entry['state'])
        self.token = changes['sync_token']

    def find(self, code):
        "Return (result, ticket dict) of a code"
        if signing.is_signed(code):
            try:
                signed = signing.verify(code, lambda e: self.keys.get(str(e)))
            except signing.InvalidCode:
                return 'invalid_signature', None
            secret = signed.secret
        else:
            signed, secret = None, code
        digest = signing.secret_hash(secret)
        if digest in self.revoked:
            return 'cancelled', None
        ticket = self.tickets.get(digest)
        if ticket is None or (signed and ticket['id'] != signed.ticket):
            # A signed ticket issued after the bundle is still good.
            return (None, {'id': signed.ticket, 'admissions': [{
                            'session': signed.session, 'tariffs': [],
                            'categories': [], 'cancelled': False}]}
                ) if signed and signed.session else ('unknown', None)
        return None, ticket

    def check(self, code, list_id, at):
        "Return (result, admission session) of a code on a list at a time"
        result, ticket = self.find(code)
        if result:
            return result, None
        rules = self.lists[list_id]
        mine = [a for a in ticket['admissions']
            if self.session_events.get(a['session']) == rules['event']]
        if not mine or not self._in_scope(rules, mine):
            return 'wrong_list', None
        candidates = [a for a in mine
            if not rules['sessions'] or a['session'] in rules['sessions']]
        if not candidates:
            return 'wrong_session', None
        live = [a for a in candidates if not a['cancelled']]
        if not live:
            return 'cancelled', None
        early, opened = False, []
        for admission in live:
            start, end = self.sessions[admission['session']]
            if rules['open_before'] is not None and at < start - (
                    dt.timedelta(seconds=rules['open_before'])):
                early = True
            elif rules['close_after'] is None or at <= (end or start) + (
                    dt.timedelta(seconds=rules['close_after'])):
                opened.append(admission['session'])
        if not opened:
            return ('not_yet_valid' if early else 'wrong_session'), None
        if rules['count_only']:
            return 'ok', opened[0]
        allowed = {'void', 'outside'} if rules['allow_reentry'] else {'void'}
        for session in opened:
            state = self.entries.get((list_id, ticket['id'], session), 'void')
            if state in allowed:
                return 'ok', session
        return 'already_used', opened[0]

    def admit(self, code, list_id, at):
        "Check a code and, when ok, record its entry locally"
        result, session = self.check(code, list_id, at)
        if result == 'ok' and not self.lists[list_id]['count_only']:
            _, ticket = self.find(code)
            self.entries[list_id, ticket['id'], session] = 'inside'
        return result

    @staticmethod
    def _in_scope(rules, admissions):
        if not rules['tariffs'] and not rules['categories']:
            return True
        return any(set(a['tariffs']) & set(rules['tariffs'])
            or set(a['categories']) & set(rules['categories'])
            for a in admissions)


def parse(value):
    "A naive UTC datetime from an ISO string (None stays None)"
    if value is None:
        return None
    value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
