"""The live check-in dashboard: admitted and expected per list and session.

``ticket.access.list.status`` is an SQL view: one row per check-in list and
session it admits to, counted when read (tickets expected, entries admitted
and inside now). The list form adds the scans per minute and the last
offline conflicts (``checkin.py``).
"""
from sql import Literal
from sql.aggregate import Count
from sql.conditionals import Coalesce
from sql.operators import Exists

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool

ID_SHIFT = 2 ** 31


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
        entry = Entry.__table__()
        inside = Entry.__table__()
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
