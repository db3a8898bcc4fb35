"""The customer view of a party: what it bought and attended, its consents,
its duplicates; merging duplicates (``party.replace``) moves its orders,
passes and consents to the party that stays."""
from collections import Counter, defaultdict
from decimal import Decimal

from sql import Null, Union
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case
from sql.functions import Function, Lower, Trim
from sql.operators import Concat

from trytond.model import fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

GMAIL = {'gmail.com', 'googlemail.com'}


def normalize_email(value):
    """The key that finds an e-mail address however it was typed:
    lower case, no '+tag', no dots for Gmail"""
    value = (value or '').strip().lower()
    if '@' not in value:
        return value or None
    local, _, domain = value.rpartition('@')
    local = local.split('+', 1)[0]
    if domain in GMAIL:
        local, domain = local.replace('.', ''), 'gmail.com'
    return f'{local}@{domain}'


class SplitPart(Function):
    __slots__ = ()
    _function = 'SPLIT_PART'


class RegexpReplace(Function):
    __slots__ = ()
    _function = 'REGEXP_REPLACE'


class Replace(Function):
    __slots__ = ()
    _function = 'REPLACE'


def sql_normalize_email(column):
    "normalize_email as an SQL expression (PostgreSQL)"
    value = RegexpReplace(Lower(Trim(column)), r'\+[^@]*@', '@')
    local, domain = SplitPart(value, '@', 1), SplitPart(value, '@', 2)
    return Case(
        (domain.in_(list(GMAIL)),
            Concat(Replace(local, '.', ''), '@gmail.com')),
        else_=value)


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'
    customer_orders = fields.One2Many(
        'ticket.order', 'party', "Ticket Orders", readonly=True)
    customer_tickets = fields.Function(fields.Many2Many(
            'ticket.ticket', None, None, "Tickets", readonly=True),
        'get_customer_tickets')
    attended_sessions = fields.Function(fields.Many2Many(
            'ticket.session', None, None, "Sessions Attended",
            readonly=True,
            help="The sessions a ticket of the customer was admitted to."),
        'get_attended_sessions')
    customer_currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'get_customer_currency')
    customer_spent = fields.Function(Monetary(
            "Total Spent", currency='customer_currency',
            digits='customer_currency'), 'get_customer_stats')
    customer_order_count = fields.Function(
        fields.Integer("Paid Orders"), 'get_customer_stats')
    first_purchase = fields.Function(
        fields.DateTime("First Purchase"), 'get_customer_stats')
    last_purchase = fields.Function(
        fields.DateTime("Last Purchase"), 'get_customer_stats')
    favourite_tags = fields.Function(
        fields.Char("Favourite Tags"), 'get_favourites')
    favourite_venues = fields.Function(
        fields.Char("Favourite Venues"), 'get_favourites')
    consents = fields.One2Many(
        'ticket.crm.consent', 'party', "Consents", readonly=True)
    marketing_consent = fields.Function(
        fields.Boolean("Marketing Consent",
            help="The customer's latest answer for marketing is yes."),
        'get_consent', searcher='search_consent')
    newsletter_consent = fields.Function(
        fields.Boolean("Newsletter Consent"),
        'get_consent', searcher='search_consent')
    duplicates = fields.Function(fields.Many2Many(
            'party.party', None, None, "Duplicates",
            readonly=True,
            help="Other customers with the same e-mail address."),
        'get_duplicates', searcher='search_duplicates')

    @classmethod
    def _customer_company(cls):
        return Transaction().context.get('company')

    def get_customer_currency(self, name):
        Company = Pool().get('company.company')
        company = self._customer_company()
        return Company(company).currency.id if company else None

    @classmethod
    def get_customer_tickets(cls, parties, name):
        Ticket = Pool().get('ticket.ticket')
        result = {p.id: [] for p in parties}
        for ticket in Ticket.search([
                    ('order.party', 'in', [p.id for p in parties]),
                    ], order=[('id', 'DESC')]):
            result[ticket.order.party.id].append(ticket.id)
        return result

    @classmethod
    def get_attended_sessions(cls, parties, name):
        History = Pool().get('ticket.crm.history')
        cursor = Transaction().connection.cursor()
        attended = History.attendances(cls._customer_company())
        result = {p.id: [] for p in parties}
        for sub in grouped_slice(parties):
            cursor.execute(*attended.select(
                    attended.party, attended.session,
                    where=reduce_ids(attended.party, [p.id for p in sub]),
                    group_by=[attended.party, attended.session]))
            for party, session in cursor:
                result[party].append(session)
        return result

    @classmethod
    def get_customer_stats(cls, parties, names):
        History = Pool().get('ticket.crm.history')
        cursor = Transaction().connection.cursor()
        orders = History.orders(cls._customer_company())
        result = {n: {p.id: None for p in parties} for n in names}
        if 'customer_order_count' in result:
            result['customer_order_count'] = {p.id: 0 for p in parties}
        if 'customer_spent' in result:
            result['customer_spent'] = {p.id: Decimal(0) for p in parties}
        for sub in grouped_slice(parties):
            cursor.execute(*orders.select(
                    orders.party, Count(orders.order), Sum(orders.amount),
                    Min(orders.paid_at), Max(orders.paid_at),
                    where=reduce_ids(orders.party, [p.id for p in sub]),
                    group_by=[orders.party]))
            for party, count, amount, first, last in cursor:
                for name, value in [
                        ('customer_order_count', count),
                        ('customer_spent', Decimal(str(amount or 0))),
                        ('first_purchase', first),
                        ('last_purchase', last)]:
                    if name in result:
                        result[name][party] = value
        return result

    @classmethod
    def get_favourites(cls, parties, names):
        "The three tags and venues the customer bought most places for"
        pool = Pool()
        History = pool.get('ticket.crm.history')
        Session = pool.get('ticket.session')
        Event = pool.get('ticket.event')
        EventTag = pool.get('ticket.event-ticket.event.tag')
        Tag = pool.get('ticket.event.tag')
        Venue = pool.get('ticket.venue')
        cursor = Transaction().connection.cursor()
        bought = History.sessions(cls._customer_company())
        session, event = Session.__table__(), Event.__table__()
        event_tag = EventTag.__table__()
        counts = {n: defaultdict(Counter) for n in names}
        for sub in grouped_slice(parties):
            where = reduce_ids(bought.party, [p.id for p in sub])
            base = bought.join(session, condition=session.id == bought.session
                ).join(event, condition=event.id == session.event)
            if 'favourite_tags' in names:
                cursor.execute(*base.join(event_tag,
                        condition=event_tag.event == event.id).select(
                        bought.party, event_tag.tag, Count(),
                        where=where, group_by=[bought.party, event_tag.tag]))
                for party, tag, count in cursor:
                    counts['favourite_tags'][party][tag] += count
            if 'favourite_venues' in names:
                venue = Case((session.venue != Null, session.venue),
                    else_=event.venue)
                cursor.execute(*base.select(
                        bought.party, venue, Count(),
                        where=where, group_by=[bought.party, venue]))
                for party, venue_id, count in cursor:
                    counts['favourite_venues'][party][venue_id] += count
        result = {}
        for name, Model in [('favourite_tags', Tag),
                ('favourite_venues', Venue)]:
            if name not in names:
                continue
            result[name] = {}
            for party in parties:
                top = [i for i, _ in sorted(counts[name][party.id].items(),
                        key=lambda c: (-c[1], c[0]))[:3]]
                result[name][party.id] = ', '.join(
                    r.rec_name for r in Model.browse(top)) or None
        return result

    @classmethod
    def get_consent(cls, parties, names):
        Consent = Pool().get('ticket.crm.consent')
        result = {}
        for name in names:
            purpose = name[:-len('_consent')]
            given = Consent.given_ids(
                parties, purpose, cls._customer_company())
            result[name] = {p.id: p.id in given for p in parties}
        return result

    @classmethod
    def search_consent(cls, name, clause):
        Consent = Pool().get('ticket.crm.consent')
        _, operator, value = clause
        consenting = Consent.consenting(
            name[:-len('_consent')], cls._customer_company())
        positive = (operator == '=') == bool(value)
        return [('id', 'in' if positive else 'not in', consenting)]

    @classmethod
    def email_keys(cls):
        """Every e-mail address of a customer as a query: columns party,
        key (normalized); from its contact mechanisms and orders"""
        pool = Pool()
        mechanism = pool.get('party.contact_mechanism').__table__()
        order = pool.get('ticket.order').__table__()
        party = cls.__table__()
        from_mechanisms = mechanism.join(party,
            condition=party.id == mechanism.party).select(
            mechanism.party.as_('party'),
            sql_normalize_email(mechanism.value).as_('key'),
            where=(mechanism.type == 'email') & (mechanism.active == True)
            & (party.active == True) & (mechanism.value != Null))
        from_orders = order.join(party,
            condition=party.id == order.party).select(
            order.party.as_('party'),
            sql_normalize_email(order.email).as_('key'),
            where=(order.email != Null) & (party.active == True))
        return Union(from_mechanisms, from_orders)

    @classmethod
    def get_duplicates(cls, parties, name):
        cursor = Transaction().connection.cursor()
        keys = cls.email_keys()
        other = cls.email_keys()
        result = {p.id: [] for p in parties}
        for sub in grouped_slice(parties):
            cursor.execute(*keys.join(other,
                    condition=(other.key == keys.key)
                    & (other.party != keys.party)).select(
                    keys.party, other.party,
                    where=reduce_ids(keys.party, [p.id for p in sub])
                    & (keys.key != ''),
                    group_by=[keys.party, other.party]))
            for party, duplicate in cursor:
                result[party].append(duplicate)
        return result

    @classmethod
    def search_duplicates(cls, name, clause):
        "Only ('duplicates', '!=', None): the customers with duplicates"
        keys = cls.email_keys()
        shared = keys.select(keys.key, where=keys.key != '',
            group_by=[keys.key], having=Count(keys.party, distinct=True) > 1)
        other = cls.email_keys()
        query = other.select(other.party, where=other.key.in_(shared))
        _, operator, value = clause
        if (operator == '!=') == (value is None or value == []):
            return [('id', 'in', query)]
        return [('id', 'not in', query)]

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('customer_orders', None)
        default.setdefault('consents', None)
        return super().copy(parties, default=default)

    @classmethod
    def merge(cls, source, destination):
        """Merge source into destination: the orders, passes, consents and
        messages of source move to destination, source is deactivated
        and points to destination (Tryton's party replacement)"""
        Replace = Pool().get('party.replace', type='wizard')
        session_id, _, _ = Replace.create()
        try:
            replace = Replace(session_id)
            replace.ask.source = source
            replace.ask.destination = destination
            with Transaction().set_context(_skip_warnings=True):
                replace.transition_replace()
        finally:
            Replace.delete(session_id)
        transaction = Transaction()
        transaction.counter += 1
        for cache in transaction.cache.values():
            for model, _ in Replace.fields_to_replace():
                cache.pop(model, None)


class PartyReplace(metaclass=PoolMeta):
    __name__ = 'party.replace'

    @classmethod
    def fields_to_replace(cls):
        return super().fields_to_replace() + [
            ('ticket.order', 'party'),
            ('ticket.subscription', 'party'),
            ('ticket.crm.consent', 'party'),
            ]

    def transition_replace(self):
        "Keep the e-mail addresses the destination lacks"
        pool = Pool()
        ContactMechanism = pool.get('party.contact_mechanism')
        source, destination = self.ask.source, self.ask.destination
        known = {normalize_email(m.value)
            for m in destination.contact_mechanisms if m.type == 'email'}
        missing = []
        for mechanism in source.contact_mechanisms:
            key = normalize_email(mechanism.value)
            if mechanism.type == 'email' and key not in known:
                known.add(key)
                missing.append({'party': destination.id, 'type': 'email',
                        'value': mechanism.value})
        ContactMechanism.create(missing)
        result = super().transition_replace()
        # The orders and consents moved by SQL: sum both customers up again
        pool.get('ticket.crm.party.stat').refresh(
            parties=[source, destination])
        return result
