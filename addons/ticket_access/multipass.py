"""Check-in with the pricing module: tariff and category scopes, passes.

Registered only when ``ticket_pricing`` is activated. A list may admit only
some categories or tariffs. A pass ticket (no session of its own) holds an
admission per session (``ticket.ticket.admission``): each is admitted at
its own session, once per list, and becomes ``used`` with its first entry.
"""
from trytond.model import ModelSQL, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .scan import Admission
from .ticket import touch


class CheckinList(metaclass=PoolMeta):
    __name__ = 'ticket.access.list'
    categories = fields.Many2Many(
        'ticket.access.list-ticket.tariff.category', 'list', 'category',
        "Categories", domain=[('event', '=', Eval('event', -1))],
        help="Admit only the tickets of these categories (or tariffs).")
    tariffs = fields.Many2Many(
        'ticket.access.list-ticket.tariff', 'list', 'tariff', "Tariffs",
        domain=[('event', '=', Eval('event', -1))],
        help="Admit only the tickets of these tariffs (or categories).")

    @classmethod
    def rules(cls, list_ids):
        pool = Pool()
        ListCategory = pool.get('ticket.access.list-ticket.tariff.category')
        ListTariff = pool.get('ticket.access.list-ticket.tariff')
        rules = super().rules(list_ids)
        cursor = Transaction().connection.cursor()
        for Relation, field, attribute in [
                (ListCategory, 'category', 'categories'),
                (ListTariff, 'tariff', 'tariffs')]:
            table = Relation.__table__()
            cursor.execute(*table.select(table.list, getattr(table, field),
                    where=table.list.in_(list(rules) or [-1])))
            values = {}
            for list_id, value in cursor:
                values.setdefault(list_id, set()).add(value)
            for list_id, ids in values.items():
                setattr(rules[list_id], attribute, frozenset(ids))
        return rules


class CheckinListCategory(ModelSQL):
    __name__ = 'ticket.access.list-ticket.tariff.category'
    list = fields.Many2One(
        'ticket.access.list', "List", required=True, ondelete='CASCADE')
    category = fields.Many2One(
        'ticket.tariff.category', "Category", required=True,
        ondelete='CASCADE')


class CheckinListTariff(ModelSQL):
    __name__ = 'ticket.access.list-ticket.tariff'
    list = fields.Many2One(
        'ticket.access.list', "List", required=True, ondelete='CASCADE')
    tariff = fields.Many2One(
        'ticket.tariff', "Tariff", required=True, ondelete='CASCADE')


def _tables():
    pool = Pool()
    return {name: pool.get(model)._table for name, model in [
            ('ticket', 'ticket.ticket'),
            ('line', 'ticket.order.line'),
            ('tariff', 'ticket.tariff'),
            ('admission', 'ticket.ticket.admission'),
            ('component', 'ticket.tariff.component'),
            ('session', 'ticket.session'),
            ]}


def _tariff_admissions(ticket_ids):
    """Return {ticket id: (line tariffs, line categories, [Admission])}
    where the admissions are those of a pass"""
    t = _tables()
    cursor = Transaction().connection.cursor()
    cursor.execute(
        'SELECT t.id, l.tariff, lt.category, a.id, a.session, a.state, '
        's.event, s.start, s."end", c.tariff, ct.category '
        f'FROM "{t["ticket"]}" t '
        f'LEFT JOIN "{t["line"]}" l ON l.id = t.line '
        f'LEFT JOIN "{t["tariff"]}" lt ON lt.id = l.tariff '
        f'LEFT JOIN "{t["admission"]}" a ON a.ticket = t.id '
        f'LEFT JOIN "{t["session"]}" s ON s.id = a.session '
        f'LEFT JOIN "{t["component"]}" c ON c.id = a.component '
        f'LEFT JOIN "{t["tariff"]}" ct ON ct.id = c.tariff '
        'WHERE t.id = ANY(%s) ORDER BY s.start, a.id', (list(ticket_ids),))
    result = {}
    for (ticket, tariff, category, admission, session, state, event, start,
            end, c_tariff, c_category) in cursor:
        tariffs = frozenset(filter(None, [tariff]))
        categories = frozenset(filter(None, [category]))
        _, _, admissions = result.setdefault(
            ticket, (tariffs, categories, []))
        if admission:
            admissions.append(Admission(session, event, start, end,
                    state=state, admission=admission,
                    tariffs=tariffs | set(filter(None, [c_tariff])),
                    categories=categories | set(filter(None, [c_category]))))
    return result


class Scan(metaclass=PoolMeta):
    __name__ = 'ticket.access.scan'

    @classmethod
    def _complete_facts(cls, facts):
        super()._complete_facts(facts)
        known = _tariff_admissions([f.id for f in facts])
        for ticket in facts:
            tariffs, categories, admissions = known.get(
                ticket.id, (frozenset(), frozenset(), []))
            if admissions:
                ticket.admissions = admissions
            for admission in ticket.admissions:
                admission.tariffs |= tariffs
                admission.categories |= categories

    @classmethod
    def _mark_used_sql(cls, admission):
        Admission_ = Pool().get('ticket.ticket.admission')
        sql = super()._mark_used_sql(admission)
        if admission.admission is None:
            return sql
        return sql + (
            f', a AS (UPDATE "{Admission_._table}" SET state = \'used\', '
            'write_uid = %(uid)s, write_date = %(now)s '
            'WHERE id = %(admission)s AND state = \'valid\' '
            'AND EXISTS (SELECT 1 FROM e WHERE e.state = \'inside\')) ')

    @classmethod
    def _forget(cls, facts, entry):
        from guichet.ticket_event.common import forget_records
        super()._forget(facts, entry)
        forget_records(Pool().get('ticket.ticket.admission'),
            [a.admission for a in facts.admissions if a.admission])

    @classmethod
    def _set_ticket_states(cls, ticket_ids):
        pool = Pool()
        Admission_ = pool.get('ticket.ticket.admission')
        Entry = pool.get('ticket.access.entry')
        super()._set_ticket_states(ticket_ids)
        if not ticket_ids:
            return
        cursor = Transaction().connection.cursor()
        cursor.execute(
            f'UPDATE "{Admission_._table}" a SET state = CASE WHEN EXISTS ('
            f'SELECT 1 FROM "{Entry._table}" e WHERE e.admission = a.id '
            "AND e.state <> 'void') THEN 'used' ELSE 'valid' END "
            "WHERE a.ticket = ANY(%s) AND a.state <> 'cancelled' "
            'RETURNING a.id', (list(ticket_ids),))
        from guichet.ticket_event.common import forget_records
        forget_records(Admission_, [r[0] for r in cursor])


class Ticket(metaclass=PoolMeta):
    __name__ = 'ticket.ticket'

    @property
    def signing_event(self):
        if not self.admissions:
            return super().signing_event
        if self.line and self.line.tariff:
            return self.line.tariff.event
        return self.admissions[0].session.event

    @property
    def signing_window(self):
        if not self.admissions:
            return super().signing_window
        return [(a.session.start, a.session.end or a.session.start)
            for a in self.admissions if a.state != 'cancelled']

    @classmethod
    def _access_search_event(cls, event_id):
        return super()._access_search_event(event_id) + [
            ('admissions.session.event', '=', event_id)]


class TicketAdmission(metaclass=PoolMeta):
    __name__ = 'ticket.ticket.admission'

    @classmethod
    def create(cls, vlist):
        admissions = super().create(vlist)
        touch(Pool().get('ticket.ticket')._table,
            {a.ticket.id for a in admissions})
        return admissions

    @classmethod
    def write(cls, *args):
        super().write(*args)
        touch(Pool().get('ticket.ticket')._table,
            {a.ticket.id for a in sum(args[::2], [])})


class Bundle(metaclass=PoolMeta):
    __name__ = 'ticket.access.bundle'

    @classmethod
    def _complete_tickets(cls, tickets, events, since):
        from . import signing
        super()._complete_tickets(tickets, events, since)
        t = _tables()
        cursor = Transaction().connection.cursor()
        cursor.execute(
            'SELECT t.id, t.secret, t.number, t.holder_name, t.type_label, '
            't.state, COALESCE(lt.event, s.event) '
            f'FROM "{t["ticket"]}" t '
            f'LEFT JOIN "{t["line"]}" l ON l.id = t.line '
            f'LEFT JOIN "{t["tariff"]}" lt ON lt.id = l.tariff '
            f'JOIN "{t["admission"]}" a ON a.ticket = t.id '
            f'JOIN "{t["session"]}" s ON s.id = a.session '
            'WHERE t.session IS NULL AND s.event = ANY(%s) '
            'AND (%s::bigint IS NULL OR t.access_xid >= %s) '
            'GROUP BY t.id, lt.event, s.event ORDER BY t.id',
            (events, since, since))
        seen = {ticket['id'] for ticket in tickets}
        for i, secret, number, holder, label, state, event in cursor:
            if i in seen:
                continue
            seen.add(i)
            tickets.append({
                    'id': i, 'h': signing.secret_hash(secret),
                    'number': number, 'holder_name': holder,
                    'tariff': label, 'state': state, 'event': event,
                    'admissions': []})
        known = _tariff_admissions([ticket['id'] for ticket in tickets])
        for ticket in tickets:
            tariffs, categories, admissions = known.get(
                ticket['id'], (frozenset(), frozenset(), []))
            if admissions:
                ticket['admissions'] = [{
                        'session': a.session,
                        'tariffs': sorted(a.tariffs),
                        'categories': sorted(a.categories),
                        'cancelled': a.state == 'cancelled',
                        } for a in admissions]
            else:
                for admission in ticket['admissions']:
                    admission['tariffs'] = sorted(tariffs)
                    admission['categories'] = sorted(categories)


class ListStatus(metaclass=PoolMeta):
    __name__ = 'ticket.access.list.status'

    @classmethod
    def _expected(cls, list_, session):
        from sql.aggregate import Count
        Admission_ = Pool().get('ticket.ticket.admission')
        admission = Admission_.__table__()
        return super()._expected(list_, session) + admission.select(
            Count(admission.id),
            where=(admission.session == session.id)
            & (admission.state != 'cancelled'))
