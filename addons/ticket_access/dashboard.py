"""The live check-in dashboard: admitted and expected per list and session.

``ticket.access.list.status`` is an SQL view: one row per check-in list and
session it admits to, counted when read (tickets expected, entries admitted
and inside now, scans per minute over the last minutes).
``ticket.access.scan.rate`` counts the scans of each list minute by minute
over the last hour, for the graph. The back office's "Check-in Dashboard"
is a board of the lists, the sessions, that graph and the last offline
conflicts (``dashboard.xml``); the list form shows the same figures for one
list (``checkin.py``).
"""
import datetime as dt

from sql import Cast, Literal
from sql.aggregate import Count
from sql.conditionals import Case, Coalesce
from sql.functions import DateTrunc, Extract
from sql.operators import Exists

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool

from guichet.ticket_event.common import now

ID_SHIFT = 2 ** 31
RATE_WINDOW = dt.timedelta(minutes=5)
RATE_HISTORY = dt.timedelta(hours=1)


class ListStatus(ModelSQL, ModelView):
    "Check-in status of a session on a list"
    __name__ = 'ticket.access.list.status'
    list = fields.Many2One('ticket.access.list', "List", readonly=True)
    session = fields.Many2One('ticket.session', "Session", readonly=True)
    company = fields.Many2One('company.company', "Company", readonly=True)
    expected = fields.Integer(
        "Expected", readonly=True,
        help="Tickets (and pass admissions) for the session, not cancelled.")
    admitted = fields.Integer(
        "Admitted", readonly=True, help="Tickets admitted at least once.")
    inside = fields.Integer(
        "Inside", readonly=True, help="Admitted and not gone out.")
    scans_per_minute = fields.Float(
        "Scans per Minute", digits=(16, 1), readonly=True,
        help="Over the last 5 minutes.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('list', 'ASC'), ('session', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        CheckinList = pool.get('ticket.access.list')
        ListSession = pool.get('ticket.access.list-ticket.session')
        Session = pool.get('ticket.session')
        Entry = pool.get('ticket.access.entry')
        list_ = CheckinList.__table__()
        session = Session.__table__()
        chosen = ListSession.__table__()
        any_chosen = ListSession.__table__()
        Scan = pool.get('ticket.access.scan')
        entry = Entry.__table__()
        inside = Entry.__table__()
        scan = Scan.__table__()
        in_scope = (
            ~Exists(any_chosen.select(any_chosen.id,
                    where=any_chosen.list == list_.id))
            | Exists(chosen.select(chosen.id,
                    where=(chosen.list == list_.id)
                    & (chosen.session == session.id))))
        return list_.join(session,
            condition=session.event == list_.event
            ).select(
            (list_.id * ID_SHIFT + session.id).as_('id'),
            list_.id.as_('list'),
            session.id.as_('session'),
            list_.company.as_('company'),
            cls._expected(list_, session).as_('expected'),
            entry.select(Count(entry.id),
                where=(entry.list == list_.id)
                & (entry.session == session.id)
                & (entry.state != 'void')).as_('admitted'),
            inside.select(Count(inside.id),
                where=(inside.list == list_.id)
                & (inside.session == session.id)
                & (inside.state == 'inside')).as_('inside'),
            (Cast(Coalesce(scan.select(Count(scan.id),
                            where=(scan.list == list_.id)
                            & (scan.session == session.id)
                            & (scan.scanned_at >= now() - RATE_WINDOW)), 0),
                    'DOUBLE PRECISION')
                / (RATE_WINDOW.total_seconds() / 60)).as_('scans_per_minute'),
            list_.create_uid.as_('create_uid'),
            list_.create_date.as_('create_date'),
            list_.write_uid.as_('write_uid'),
            list_.write_date.as_('write_date'),
            where=in_scope & (list_.active == Literal(True))
            & (session.state != 'cancelled'))

    @classmethod
    def _expected(cls, list_, session):
        "The number of tickets expected at a session (SQL expression)"
        Ticket = Pool().get('ticket.ticket')
        ticket = Ticket.__table__()
        return Coalesce(ticket.select(Count(ticket.id),
                where=(ticket.session == session.id)
                & (ticket.state != 'cancelled')), 0)


class ScanRate(ModelSQL, ModelView):
    "Scans of a check-in list in a minute"
    __name__ = 'ticket.access.scan.rate'
    list = fields.Many2One('ticket.access.list', "List", readonly=True)
    company = fields.Many2One('company.company', "Company", readonly=True)
    minute = fields.DateTime("Minute", readonly=True)
    scans = fields.Integer("Scans", readonly=True)
    admitted = fields.Integer(
        "Admitted", readonly=True, help="Scans that let a ticket in.")
    refused = fields.Integer("Refused", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('minute', 'ASC'), ('list', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        "The scans of the last hour, by list and minute"
        Scan = Pool().get('ticket.access.scan')
        scan = Scan.__table__()
        scans = scan.select(
            scan.list, scan.company,
            DateTrunc('minute', scan.scanned_at).as_('minute'),
            Case(((scan.result == 'ok') & (scan.direction == 'in'), 1),
                else_=None).as_('admitted'),
            Case((scan.result != 'ok', 1), else_=None).as_('refused'),
            scan.id.as_('scan'),
            where=scan.scanned_at >= now() - RATE_HISTORY)
        return scans.select(
            (scans.list * ID_SHIFT
                + Cast(Extract('EPOCH', scans.minute) / 60, 'BIGINT')
                % ID_SHIFT).as_('id'),
            scans.list.as_('list'),
            scans.company.as_('company'),
            scans.minute.as_('minute'),
            Count(scans.scan).as_('scans'),
            Count(scans.admitted).as_('admitted'),
            Count(scans.refused).as_('refused'),
            Literal(0).as_('create_uid'),
            scans.minute.as_('create_date'),
            Literal(None).as_('write_uid'),
            Literal(None).as_('write_date'),
            group_by=[scans.list, scans.company, scans.minute])
