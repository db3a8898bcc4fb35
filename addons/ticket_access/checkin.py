"""Check-in lists: which tickets a gate admits, and how.

A list belongs to an event and admits the tickets of its sessions (all, or
those chosen); with the pricing module, only some categories or tariffs.
An event has as many lists as it has gates (main gate, VIP, parking). A
list may allow re-entry (scans alternate in and out), only count
(record the scans, admit nobody), and open its gates a while before the
session and close them a while after its end.
"""
import dataclasses
import datetime as dt
import json

from trytond.cache import Cache
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from guichet.ticket_event.common import now

SHOW_FIELDS = [
    ('holder_email', "Holder E-mail"),
    ('order', "Order"),
    ('price', "Price"),
    ('session', "Session"),
    ('number', "Ticket Number"),
    ]


@dataclasses.dataclass
class ListRules:
    "The rules of a list, as the scan service reads them in one query"
    id: int
    event: int
    company: int
    name: str
    allow_reentry: bool
    count_only: bool
    before: dt.timedelta | None
    after: dt.timedelta | None
    sessions: frozenset
    show_fields: tuple
    tariffs: frozenset = frozenset()
    categories: frozenset = frozenset()

    def window(self, start, end):
        "The (open, close) of the gates for a session, None when unbounded"
        return (
            start - self.before if self.before is not None else None,
            (end or start) + self.after if self.after is not None else None)

    def json(self):
        return {
            'id': self.id,
            'name': self.name,
            'event': self.event,
            'allow_reentry': self.allow_reentry,
            'count_only': self.count_only,
            'open_before': seconds(self.before),
            'close_after': seconds(self.after),
            'sessions': sorted(self.sessions),
            'tariffs': sorted(self.tariffs),
            'categories': sorted(self.categories),
            'show_fields': list(self.show_fields),
            }


def seconds(delta):
    return int(delta.total_seconds()) if delta is not None else None


class CheckinList(DeactivableMixin, ModelSQL, ModelView):
    "A check-in list: the tickets a gate admits"
    __name__ = 'ticket.access.list'
    name = fields.Char("Name", required=True)
    company = fields.Many2One('company.company', "Company", required=True)
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE',
        domain=[('company', '=', Eval('company', -1))])
    sessions = fields.Many2Many(
        'ticket.access.list-ticket.session', 'list', 'session', "Sessions",
        domain=[('event', '=', Eval('event', -1))],
        help="Empty to admit to every session of the event.")
    allow_reentry = fields.Boolean(
        "Allow Re-entry",
        help="A ticket may leave and enter again: scans alternate in and "
        "out.")
    count_only = fields.Boolean(
        "Count Only",
        help="Record and count the scans without admitting the tickets "
        "(e.g. a survey point).")
    open_before = fields.TimeDelta(
        "Open Before Start",
        help="How long before the start of a session its tickets are "
        "valid; empty for any time before.")
    close_after = fields.TimeDelta(
        "Close After End",
        help="How long after the end of a session its tickets stay valid; "
        "empty for any time after.")
    show_fields = fields.MultiSelection(
        SHOW_FIELDS, "Fields Shown",
        help="What the scanner shows besides the holder and the tariff.")
    devices = fields.Many2Many(
        'ticket.access.device-ticket.access.list', 'list', 'device',
        "Devices", readonly=True)
    admitted = fields.Function(fields.Integer("Admitted"), 'get_counts')
    expected = fields.Function(fields.Integer("Expected"), 'get_counts')
    scans_per_minute = fields.Function(
        fields.Float("Scans per Minute", digits=(16, 1),
            help="Over the last 5 minutes."), 'get_counts')
    conflicts = fields.Function(fields.Many2Many(
            'ticket.access.scan', None, None, "Last Conflicts"),
        'get_conflicts')
    status = fields.One2Many(
        'ticket.access.list.status', 'list', "Per Session", readonly=True)
    # The scan API reads the rules of a list on every scan: keep them for
    # 30 seconds at most, cleared by any change of a list.
    _rules_cache = Cache(
        'ticket.access.list.rules', duration=30, context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.event, Index.Range())))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_open_before(cls):
        return dt.timedelta(hours=2)

    @classmethod
    def default_close_after(cls):
        return dt.timedelta(hours=2)

    @classmethod
    def default_show_fields(cls):
        return []

    @fields.depends('event')
    def on_change_event(self):
        if self.event:
            self.company = self.event.company

    @classmethod
    def get_counts(cls, lists, names):
        Status = Pool().get('ticket.access.list.status')
        Scan = Pool().get('ticket.access.scan')
        result = {n: {l.id: 0 for l in lists} for n in names}
        for status in Status.search([('list', 'in', [l.id for l in lists])]):
            for name in {'admitted', 'expected'} & set(names):
                result[name][status.list.id] += getattr(status, name)
        if 'scans_per_minute' in names:
            counts = Scan.count_since(
                [l.id for l in lists], now() - dt.timedelta(minutes=5))
            for list_id, count in counts.items():
                result['scans_per_minute'][list_id] = count / 5
        return result

    @classmethod
    def get_conflicts(cls, lists, name):
        Scan = Pool().get('ticket.access.scan')
        return {l.id: [s.id for s in Scan.search([
                        ('list', '=', l.id), ('conflict', '=', True),
                        ], order=[('scanned_at', 'DESC'), ('id', 'DESC')],
                    limit=10)] for l in lists}

    @classmethod
    def create(cls, vlist):
        cls._rules_cache.clear()
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        cls._rules_cache.clear()
        super().write(*args)

    @classmethod
    def delete(cls, lists):
        cls._rules_cache.clear()
        super().delete(lists)

    @classmethod
    def cached_rules(cls, list_id):
        "The ListRules of an active list or None, from the cache"
        rules = cls._rules_cache.get(list_id, -1)
        if rules == -1:
            rules = cls.rules([list_id]).get(list_id)
            cls._rules_cache.set(list_id, rules)
        return rules

    @classmethod
    def rules(cls, list_ids):
        "Return {id: ListRules} of the active lists of ids"
        pool = Pool()
        ListSession = pool.get('ticket.access.list-ticket.session')
        table = cls.__table__()
        list_session = ListSession.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.id, table.event, table.company, table.name,
                table.allow_reentry, table.count_only, table.open_before,
                table.close_after, table.show_fields,
                where=table.id.in_(list(list_ids) or [-1])
                & (table.active == True)))  # noqa: E712
        rules = {}
        for (id_, event, company, name, reentry, count_only, before, after,
                show) in cursor:
            rules[id_] = ListRules(id_, event, company, name, bool(reentry),
                bool(count_only), before, after, frozenset(),
                show_fields_of(show))
        if rules:
            cursor.execute(*list_session.select(
                    list_session.list, list_session.session,
                    where=list_session.list.in_(list(rules))))
            sessions = {}
            for list_id, session in cursor:
                sessions.setdefault(list_id, set()).add(session)
            for list_id, ids in sessions.items():
                rules[list_id].sessions = frozenset(ids)
        return rules


def show_fields_of(value):
    "The MultiSelection column value as a tuple"
    if not value:
        return ()
    if isinstance(value, str):
        value = json.loads(value)
    return tuple(value)


class CheckinListSession(ModelSQL):
    __name__ = 'ticket.access.list-ticket.session'
    list = fields.Many2One(
        'ticket.access.list', "List", required=True, ondelete='CASCADE')
    session = fields.Many2One(
        'ticket.session', "Session", required=True, ondelete='CASCADE')
