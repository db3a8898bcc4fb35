"""What customers bought and attended, as SQL that the customer view, the
segments, the RFM scores and the messages share.

``ticket.crm.history`` returns python-sql queries, never rows: a purchase
is a paid order with a buyer; its amount is the sum of its lines' totals;
an attendance is a ticket used at a session (the check-in entries when
ticket_access is activated)."""
from sql import Literal, Null, Union
from sql.aggregate import Sum
from sql.conditionals import Coalesce

from trytond.model import Model
from trytond.pool import Pool, PoolMeta

PAID = 'paid'


class History(Model):
    "Customer history queries"
    __name__ = 'ticket.crm.history'

    @classmethod
    def _paid(cls, order, company):
        condition = (order.state == PAID) & (order.party != Null)
        if company is not None:
            condition &= order.company == company
        return condition

    @classmethod
    def orders(cls, company=None):
        """The paid orders with a buyer: columns order, party, company,
        paid_at, amount (the sum of the order's lines)"""
        pool = Pool()
        order = pool.get('ticket.order').__table__()
        line = pool.get('ticket.order.line').__table__()
        amount = Coalesce(line.total_amount, line.unit_price * line.quantity)
        return order.join(line, 'LEFT', condition=line.order == order.id
            ).select(
                order.id.as_('order'), order.party.as_('party'),
                order.company.as_('company'), order.paid_at.as_('paid_at'),
                Coalesce(Sum(amount), Literal(0)).as_('amount'),
                where=cls._paid(order, company),
                group_by=[order.id, order.party, order.company,
                    order.paid_at])

    @classmethod
    def sessions(cls, company=None):
        """One row per session bought in a paid order: columns order,
        party, paid_at, session, tariff, method (of its first payment);
        the sessions of the lines and those a pass admits to"""
        pool = Pool()
        order = pool.get('ticket.order').__table__()
        line = pool.get('ticket.order.line').__table__()
        ticket = pool.get('ticket.ticket').__table__()
        admission = pool.get('ticket.ticket.admission').__table__()
        condition = cls._paid(order, company)
        direct = order.join(line, condition=line.order == order.id).select(
            order.id.as_('order'), order.party.as_('party'),
            order.paid_at.as_('paid_at'), line.session.as_('session'),
            line.tariff.as_('tariff'),
            where=condition & (line.session != Null))
        passes = order.join(ticket, condition=ticket.order == order.id
            ).join(admission, condition=admission.ticket == ticket.id
            ).join(line, condition=line.id == ticket.line).select(
            order.id.as_('order'), order.party.as_('party'),
            order.paid_at.as_('paid_at'), admission.session.as_('session'),
            line.tariff.as_('tariff'),
            where=condition)
        return Union(direct, passes, all_=True)

    @classmethod
    def attendances(cls, company=None):
        """One row per ticket used at a session: columns party, order,
        ticket, session"""
        pool = Pool()
        order = pool.get('ticket.order').__table__()
        ticket = pool.get('ticket.ticket').__table__()
        return order.join(ticket, condition=ticket.order == order.id).select(
            order.party.as_('party'), order.id.as_('order'),
            ticket.id.as_('ticket'), ticket.session.as_('session'),
            where=cls._paid(order, company) & (ticket.state == 'used')
            & (ticket.session != Null))


class HistoryAccess(metaclass=PoolMeta):
    __name__ = 'ticket.crm.history'

    @classmethod
    def attendances(cls, company=None):
        "The sessions a ticket was admitted to at a check-in list"
        pool = Pool()
        order = pool.get('ticket.order').__table__()
        ticket = pool.get('ticket.ticket').__table__()
        entry = pool.get('ticket.access.entry').__table__()
        return order.join(ticket, condition=ticket.order == order.id
            ).join(entry, condition=entry.ticket == ticket.id).select(
            order.party.as_('party'), order.id.as_('order'),
            ticket.id.as_('ticket'), entry.session.as_('session'),
            where=cls._paid(order, company)
            & entry.state.in_(['inside', 'outside']),
            group_by=[order.party, order.id, ticket.id, entry.session])
