"""The scan service: one function admits a ticket at a gate.

``Scan.scan`` is called by the online API, the offline upload and the back
office. It finds the ticket (by its plain secret, its signed code or its
id), checks it against the list's rules and admits it exactly once:

- an *entry* (``ticket.access.entry``) is the state of one ticket at one
  session on one list (``void``, ``inside``, ``outside``), unique per
  (list, ticket, session) by a unique index;
- admitting is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE state IN
  (...)`` on that entry under READ COMMITTED: of two gates scanning the same
  ticket at the same instant, one writes the entry, the other waits for it
  and finds it taken (``already_used``);
- a list with re-entry lets an ``outside`` entry in again, and a scan with
  no direction toggles in and out; a count-only list records the scan and
  admits nobody;
- an offline scan the device refused admits nobody when it is uploaded,
  even if the server would have let the ticket in: the holder was turned
  away at the gate.

Every scan is recorded with its result, including refusals. The ticket's
state (or the pass admission's) becomes ``used`` with its first entry.
Undoing a scan or marking a ticket unused recomputes its entries from the
scans that remain.
"""
import dataclasses
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from guichet.ticket_event.common import forget_records, now

from . import signing
from .ticket import XID, BigInteger

RESULTS = [
    ('ok', "OK"),
    ('already_used', "Already Used"),
    ('unknown', "Unknown"),
    ('wrong_list', "Wrong List"),
    ('wrong_session', "Wrong Session"),
    ('not_yet_valid', "Not Yet Valid"),
    ('cancelled', "Cancelled"),
    ('invalid_signature', "Invalid Signature"),
    ]
DIRECTIONS = [('in', "In"), ('out', "Out")]
MAX_SECRET = 64
# Public keys never change once set: cache them per database and event.
_public_keys = {}


@dataclasses.dataclass
class Admission:
    "A session a ticket admits to"
    session: int
    event: int
    start: dt.datetime
    end: dt.datetime | None
    state: str = 'valid'
    admission: int | None = None
    tariffs: frozenset = frozenset()
    categories: frozenset = frozenset()


@dataclasses.dataclass
class TicketFacts:
    "What the scan service reads of a ticket"
    id: int
    state: str
    number: str
    holder_name: str | None
    holder_email: str | None
    type_label: str | None
    price: object
    company: int
    order: str
    line: int | None
    admissions: list

    def show(self, name, session):
        "The value of a field the list shows"
        if name == 'session':
            return session
        return {
            'holder_email': self.holder_email,
            'order': self.order,
            'price': str(self.price) if self.price is not None else None,
            'number': self.number,
            }[name]


@dataclasses.dataclass
class Outcome:
    "The answer to a scan"
    result: str
    scan: int | None = None
    ticket: TicketFacts | None = None
    admission: Admission | None = None
    direction: str = 'in'
    message: str = ''
    conflict: bool = False
    entry: int | None = None

    @property
    def ok(self):
        return self.result == 'ok'


class Entry(ModelSQL, ModelView):
    "The state of a ticket at a session on a check-in list"
    __name__ = 'ticket.access.entry'
    list = fields.Many2One(
        'ticket.access.list', "List", required=True, readonly=True,
        ondelete='CASCADE')
    ticket = fields.Many2One(
        'ticket.ticket', "Ticket", required=True, readonly=True,
        ondelete='CASCADE')
    session = fields.Many2One(
        'ticket.session', "Session", required=True, readonly=True,
        ondelete='CASCADE')
    admission = fields.Integer("Admission", readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    state = fields.Selection([
            ('void', "Not Admitted"),
            ('inside', "Inside"),
            ('outside', "Left"),
            ], "State", required=True, readonly=True)
    admitted_at = fields.Timestamp(
        "Admitted At", readonly=True,
        help="The time of the scan that admitted the ticket first.")
    access_xid = BigInteger("Change", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('list_ticket_session_unique',
                Unique(t, t.list, t.ticket, t.session),
                'ticket_access.msg_entry_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.ticket, Index.Range())),
                Index(t, (t.list, Index.Range()),
                    (t.session, Index.Range())),
                Index(t, (t.list, Index.Range()),
                    (t.access_xid, Index.Range())),
                })

    @classmethod
    def default_state(cls):
        return 'void'


class Scan(ModelSQL, ModelView):
    "A scan of a ticket at a gate"
    __name__ = 'ticket.access.scan'
    list = fields.Many2One(
        'ticket.access.list', "List", required=True, readonly=True,
        ondelete='CASCADE')
    device = fields.Many2One(
        'ticket.access.device', "Device", readonly=True, ondelete='SET NULL')
    ticket = fields.Many2One(
        'ticket.ticket', "Ticket", readonly=True, ondelete='CASCADE')
    session = fields.Many2One(
        'ticket.session', "Session", readonly=True, ondelete='SET NULL')
    entry = fields.Many2One(
        'ticket.access.entry', "Entry", readonly=True, ondelete='SET NULL')
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    direction = fields.Selection(
        DIRECTIONS, "Direction", required=True, readonly=True)
    result = fields.Selection(RESULTS, "Result", required=True, readonly=True)
    scanned_at = fields.Timestamp(
        "Scanned At", required=True, readonly=True)
    offline = fields.Boolean(
        "Offline", readonly=True, help="Scanned without network, uploaded "
        "later.")
    device_result = fields.Selection(
        [(None, "")] + RESULTS, "Device Result", readonly=True,
        help="What the device answered offline.")
    client_id = fields.Char("Client ID", readonly=True, strip=False)
    conflict = fields.Boolean(
        "Conflict", readonly=True,
        help="Another scan of the ticket came first: both gates admitted "
        "it, the first by time is kept.")
    undone = fields.Boolean("Undone", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('device_client_unique', Unique(t, t.device, t.client_id),
                'ticket_access.msg_scan_client_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.list, Index.Range()),
                    (t.scanned_at, Index.Range())),
                Index(t, (t.ticket, Index.Range())),
                Index(t, (t.entry, Index.Range())),
                Index(t, (t.conflict, Index.Equality(cardinality='low')),
                    where=t.conflict == True),  # noqa: E712
                })
        cls._order = [('scanned_at', 'DESC'), ('id', 'DESC')]
        cls._buttons.update(
            undo={
                'invisible': (Eval('result') != 'ok') | Eval('undone'),
                'icon': 'tryton-undo',
                'depends': ['result', 'undone'],
                },
            )

    def get_rec_name(self, name):
        return '%s @ %s' % (
            self.ticket.rec_name if self.ticket else '?', self.scanned_at)

    # --- finding the ticket ---------------------------------------------

    @classmethod
    def public_key(cls, event_id):
        "The public key of an event (cached: it never changes once set)"
        Event = Pool().get('ticket.event')
        key = (Transaction().database.name, event_id)
        if key not in _public_keys:
            value = Event.public_keys([event_id]).get(event_id)
            if not value:
                return None
            _public_keys[key] = value
        return _public_keys[key]

    @classmethod
    def identify(cls, code=None, ticket_id=None, company=None):
        """Return (result, TicketFacts) of a code or a ticket id: result is
        None when the ticket is found"""
        if ticket_id is not None:
            facts = cls._ticket_facts(id=ticket_id)
            signed = None
        elif signing.is_signed(code):
            try:
                signed = signing.verify(code, cls.public_key)
            except signing.InvalidCode:
                return 'invalid_signature', None
            facts = cls._ticket_facts(secret=signed.secret)
            if facts is not None and facts.id != signed.ticket:
                return 'invalid_signature', None
        else:
            facts = cls._ticket_facts(secret=code)
        if facts is None or (company is not None and facts.company != company):
            return 'unknown', None
        return None, facts

    @classmethod
    def _ticket_facts(cls, secret=None, id=None):
        "Read a ticket and the sessions it admits to, or None"
        pool = Pool()
        Ticket = pool.get('ticket.ticket')
        Order = pool.get('ticket.order')
        Session = pool.get('ticket.session')
        ticket = Ticket.__table__()
        order = Order.__table__()
        session = Session.__table__()
        where = (ticket.secret == secret) if id is None else (ticket.id == id)
        cursor = Transaction().connection.cursor()
        cursor.execute(*ticket.join(order,
                condition=order.id == ticket.order
                ).join(session, 'LEFT',
                condition=session.id == ticket.session
                ).select(
                ticket.id, ticket.state, ticket.number, ticket.holder_name,
                ticket.holder_email, ticket.type_label, ticket.price,
                ticket.company, order.number, ticket.line,
                session.id, session.event, session.start, session.end,
                where=where))
        row = cursor.fetchone()
        if not row:
            return None
        facts = TicketFacts(*row[:10], admissions=[])
        if row[10]:
            facts.admissions.append(Admission(*row[10:14],
                    state='used' if facts.state == 'used' else 'valid'))
        cls._complete_facts([facts])
        return facts

    @classmethod
    def _complete_facts(cls, facts):
        "Add what other modules know of the tickets (tariffs, passes)"

    # --- checking the rules ---------------------------------------------

    @classmethod
    def check_rules(cls, rules, facts, at, session=None):
        """Return (result, candidate admissions) of a ticket on a list at a
        time: result is None when the candidates may be admitted"""
        if facts.state == 'cancelled':
            return 'cancelled', []
        mine = [a for a in facts.admissions if a.event == rules.event]
        if not mine or not cls._in_scope(rules, facts, mine):
            return 'wrong_list', []
        candidates = [a for a in mine
            if (not rules.sessions or a.session in rules.sessions)
            and (session is None or a.session == session)]
        if not candidates:
            return 'wrong_session', []
        live = [a for a in candidates if a.state != 'cancelled']
        if not live:
            return 'cancelled', []
        opened = []
        early = False
        for admission in live:
            start, end = rules.window(admission.start, admission.end)
            if start is not None and at < start:
                early = True
            elif end is None or at <= end:
                opened.append(admission)
        if not opened:
            return ('not_yet_valid' if early else 'wrong_session'), []
        opened.sort(key=lambda a: (a.state != 'valid', a.start))
        return None, opened

    @classmethod
    def _in_scope(cls, rules, facts, admissions):
        "Whether the tariffs of the ticket are in the list's scope"
        if not rules.tariffs and not rules.categories:
            return True
        return any(a.tariffs & rules.tariffs
            or a.categories & rules.categories for a in admissions)

    # --- the service ----------------------------------------------------

    @classmethod
    def scan(cls, rules, code=None, ticket_id=None, direction=None,
            session=None, device=None, at=None, offline=False,
            client_id=None, device_result=None):
        """Scan a ticket on a list (ListRules) and record it; return an
        Outcome. direction None toggles on a re-entry list, else is in."""
        at = at or now()
        result, facts = cls.identify(code, ticket_id, company=rules.company)
        outcome = Outcome(result or 'ok', ticket=facts)
        replay = offline and rules.allow_reentry and not rules.count_only
        turned_away = offline and device_result not in {None, 'ok'}
        if facts is not None and result is None:
            result, candidates = cls.check_rules(rules, facts, at, session)
            outcome.result = result or 'ok'
            if outcome.ok and turned_away:
                # The device refused the holder offline: nobody went in or
                # out, whatever the server would have answered.
                outcome.result = device_result
                outcome.admission = candidates[0]
                outcome.direction = direction or 'in'
            elif outcome.ok and replay:
                # Offline in and out are replayed in the order of time.
                outcome.admission = candidates[0]
                outcome.direction = direction or 'in'
                outcome.entry = cls._ensure_entry(
                    rules, facts, candidates[0], at)
            elif outcome.ok:
                cls._admit(rules, facts, candidates, direction, at, outcome)
                if (outcome.result == 'already_used' and offline
                        and outcome.direction == 'in'
                        and device_result in {None, 'ok'}):
                    cls._resolve_offline(
                        rules, facts, at, device, client_id, outcome)
        elif direction:
            outcome.direction = direction
        outcome.scan = cls._insert_scan(rules, outcome, device, at, offline,
            client_id, device_result)
        if replay and outcome.entry:
            cls.recompute_entries([outcome.entry])
        if facts is not None:
            cls._forget(facts, outcome.entry)
        outcome.message = cls.message(outcome)
        return outcome

    @classmethod
    def _forget(cls, facts, entry):
        "Drop the cached values of what the scan changed by SQL"
        pool = Pool()
        forget_records(pool.get('ticket.ticket'), [facts.id])
        forget_records(pool.get('ticket.access.entry'), [entry])

    @classmethod
    def _admit(cls, rules, facts, candidates, direction, at, outcome):
        "Change the entry of the first candidate that takes the scan"
        if rules.count_only:
            outcome.admission = candidates[0]
            outcome.direction = direction or 'in'
            return
        for admission in candidates:
            row = cls._move(rules, facts, admission, direction, at)
            if row:
                outcome.entry, state = row
                outcome.admission = admission
                outcome.direction = 'in' if state == 'inside' else 'out'
                return
        outcome.admission = candidates[0]
        outcome.direction = direction or 'in'
        outcome.result = 'already_used'

    @classmethod
    def _move(cls, rules, facts, admission, direction, at):
        """Move the entry of an admission in or out if its state allows;
        return (entry id, new state) or None"""
        pool = Pool()
        Entry = pool.get('ticket.access.entry')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        values = {
            'list': rules.id, 'ticket': facts.id,
            'session': admission.session, 'admission': admission.admission,
            'company': rules.company, 'at': at, 'uid': transaction.user,
            'now': now(),
            }
        entry = Entry._table
        if direction == 'out':
            cursor.execute(
                f'UPDATE "{entry}" SET state = \'outside\', '
                f'access_xid = {XID}, write_uid = %(uid)s, '
                'write_date = %(now)s '
                'WHERE list = %(list)s AND ticket = %(ticket)s '
                'AND session = %(session)s AND state = \'inside\' '
                'RETURNING id, state', values)
            return cursor.fetchone()
        if direction is None and rules.allow_reentry:
            new_state = ("CASE WHEN e.state = 'inside' THEN 'outside' "
                "ELSE 'inside' END")
            allowed = ''
        else:
            new_state = "'inside'"
            allowed = ("WHERE e.state IN ('void', 'outside') "
                if rules.allow_reentry else "WHERE e.state = 'void' ")
        cursor.execute(
            f'WITH e AS (INSERT INTO "{entry}" AS e (list, ticket, session, '
            'admission, company, state, admitted_at, access_xid, '
            'create_uid, create_date) VALUES (%(list)s, %(ticket)s, '
            '%(session)s, %(admission)s, %(company)s, \'inside\', %(at)s, '
            f'{XID}, %(uid)s, %(now)s) '
            'ON CONFLICT (list, ticket, session) DO UPDATE SET '
            f'state = {new_state}, '
            'admitted_at = CASE WHEN e.state = \'void\' '
            'THEN EXCLUDED.admitted_at ELSE e.admitted_at END, '
            'access_xid = EXCLUDED.access_xid, write_uid = %(uid)s, '
            f'write_date = %(now)s {allowed}'
            'RETURNING e.id, e.state) '
            + cls._mark_used_sql(admission)
            + 'SELECT id, state FROM e', values)
        return cursor.fetchone()

    @classmethod
    def _ensure_entry(cls, rules, facts, admission, at):
        "Return the id of the entry of an admission, created if needed"
        Entry = Pool().get('ticket.access.entry')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        cursor.execute(
            f'INSERT INTO "{Entry._table}" AS e (list, ticket, session, '
            'admission, company, state, access_xid, create_uid, '
            "create_date) VALUES (%s, %s, %s, %s, %s, 'void', "
            f'{XID}, %s, %s) ON CONFLICT (list, ticket, session) '
            'DO UPDATE SET access_xid = EXCLUDED.access_xid RETURNING e.id',
            (rules.id, facts.id, admission.session, admission.admission,
                rules.company, transaction.user, now()))
        return cursor.fetchone()[0]

    @classmethod
    def _mark_used_sql(cls, admission):
        "A CTE that marks the ticket used once its entry is written"
        Ticket = Pool().get('ticket.ticket')
        if admission.admission is not None:
            return ''
        return (f', u AS (UPDATE "{Ticket._table}" SET state = \'used\', '
            'write_uid = %(uid)s, write_date = %(now)s '
            'WHERE id = %(ticket)s AND state = \'valid\' '
            'AND EXISTS (SELECT 1 FROM e WHERE e.state = \'inside\')) ')

    @classmethod
    def _insert_scan(cls, rules, outcome, device, at, offline, client_id,
            device_result):
        "Insert the scan row; return its id"
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        cursor.execute(
            f'INSERT INTO "{cls._table}" (list, device, ticket, session, '
            'entry, company, direction, result, scanned_at, offline, '
            'device_result, client_id, conflict, undone, create_uid, '
            'create_date) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '
            '%s, %s, %s, false, %s, %s) RETURNING id', (
                rules.id, device,
                outcome.ticket.id if outcome.ticket else None,
                outcome.admission.session if outcome.admission else None,
                outcome.entry, rules.company, outcome.direction,
                outcome.result, at, bool(offline), device_result, client_id,
                bool(outcome.conflict), transaction.user, now()))
        return cursor.fetchone()[0]

    @classmethod
    def message(cls, outcome):
        if outcome.ok and outcome.direction == 'out':
            return gettext('ticket_access.msg_result_out')
        return gettext(f'ticket_access.msg_result_{outcome.result}')

    # --- offline conflicts ----------------------------------------------

    @classmethod
    def _resolve_offline(cls, rules, facts, at, device, client_id, outcome):
        """An offline scan found its entry taken: the first scan by time
        keeps the admission, the other is recorded as already_used, so the
        outcome does not depend on the order of the uploads"""
        Entry = Pool().get('ticket.access.entry')
        cursor = Transaction().connection.cursor()
        admission = outcome.admission
        cursor.execute(
            f'SELECT id, state FROM "{Entry._table}" WHERE list = %s '
            'AND ticket = %s AND session = %s FOR UPDATE',
            (rules.id, facts.id, admission.session))
        entry_id, state = cursor.fetchone()
        if state == 'void':
            return
        cursor.execute(
            f'SELECT id, scanned_at, device, client_id FROM "{cls._table}" '
            "WHERE entry = %s AND result = 'ok' AND direction = 'in' "
            'AND NOT undone', (entry_id,))
        winners = list(cursor)
        mine = (at, device or 0, client_id or '')
        first = min(winners, key=lambda w: (w[1], w[2] or 0, w[3] or str(
                    w[0])), default=None)
        outcome.conflict = True
        if first is not None and (first[1], first[2] or 0,
                first[3] or str(first[0])) <= mine:
            return
        if first is not None:
            cursor.execute(
                f'UPDATE "{cls._table}" SET result = \'already_used\', '
                'conflict = true, entry = NULL WHERE id = %s', (first[0],))
        cursor.execute(
            f'UPDATE "{Entry._table}" SET admitted_at = %s, '
            f'access_xid = {XID} WHERE id = %s', (at, entry_id))
        outcome.result = 'ok'
        outcome.entry = entry_id

    # --- undo -----------------------------------------------------------

    @classmethod
    @ModelView.button
    def undo(cls, scans):
        "Undo admitting scans: the entries go back to what the others say"
        scans = [s for s in scans if s.result == 'ok' and not s.undone]
        if not scans:
            return
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update([table.undone], [True],
                where=table.id.in_([s.id for s in scans])))
        forget_records(cls, [s.id for s in scans])
        cls.recompute_entries({s.entry.id for s in scans if s.entry})

    @classmethod
    def reset_tickets(cls, tickets, set_state=True):
        "Undo every scan of tickets and void their entries"
        Entry = Pool().get('ticket.access.entry')
        ids = [t.id for t in tickets]
        cursor = Transaction().connection.cursor()
        cursor.execute(
            f'UPDATE "{cls._table}" SET undone = true WHERE ticket = ANY(%s) '
            "AND result = 'ok' AND NOT undone", (ids,))
        cursor.execute(
            f'SELECT id FROM "{Entry._table}" WHERE ticket = ANY(%s)', (ids,))
        entries = [r[0] for r in cursor]
        if set_state:
            cls.recompute_entries(entries, tickets=ids)
        else:
            cls._recompute(entries)
        forget_records(cls, [s.id for t in tickets for s in t.access_scans])

    @classmethod
    def recompute_entries(cls, entry_ids, tickets=()):
        "Set entries and the state of their tickets from their scans"
        Entry = Pool().get('ticket.access.entry')
        tickets = set(tickets) | cls._recompute(entry_ids)
        cls._set_ticket_states(sorted(tickets))
        forget_records(Entry, list(entry_ids))

    @classmethod
    def _recompute(cls, entry_ids):
        "Set the state of entries from their scans; return their tickets"
        Entry = Pool().get('ticket.access.entry')
        if not entry_ids:
            return set()
        cursor = Transaction().connection.cursor()
        cursor.execute(
            f'UPDATE "{Entry._table}" e SET state = COALESCE(('
            "SELECT CASE WHEN s.direction = 'in' THEN 'inside' "
            "ELSE 'outside' END "
            f'FROM "{cls._table}" s WHERE s.entry = e.id '
            "AND s.result = 'ok' AND NOT s.undone "
            "ORDER BY s.scanned_at DESC, s.id DESC LIMIT 1), 'void'), "
            'admitted_at = ('
            f'SELECT min(s.scanned_at) FROM "{cls._table}" s '
            "WHERE s.entry = e.id AND s.result = 'ok' AND NOT s.undone "
            "AND s.direction = 'in'), "
            f'access_xid = {XID} '
            'WHERE e.id = ANY(%s) RETURNING e.ticket', (list(entry_ids),))
        return {r[0] for r in cursor}

    @classmethod
    def _set_ticket_states(cls, ticket_ids):
        "A ticket is used while one of its entries is not void"
        pool = Pool()
        Ticket = pool.get('ticket.ticket')
        Entry = pool.get('ticket.access.entry')
        if not ticket_ids:
            return
        cursor = Transaction().connection.cursor()
        cursor.execute(
            f'UPDATE "{Ticket._table}" t SET state = CASE WHEN EXISTS ('
            f'SELECT 1 FROM "{Entry._table}" e WHERE e.ticket = t.id '
            "AND e.admission IS NULL AND e.state <> 'void') "
            "THEN 'used' ELSE 'valid' END "
            "WHERE t.id = ANY(%s) AND t.state <> 'cancelled'",
            (list(ticket_ids),))
        forget_records(Ticket, ticket_ids)

    @classmethod
    def count_since(cls, list_ids, since):
        "Return {list id: number of scans since}"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        from sql.aggregate import Count
        cursor.execute(*table.select(table.list, Count(table.id),
                where=table.list.in_(list(list_ids) or [-1])
                & (table.scanned_at >= since),
                group_by=[table.list]))
        return dict(cursor)
