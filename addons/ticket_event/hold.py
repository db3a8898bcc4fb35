"""Holds: places taken from capacity pools for a short time.

``Hold.reserve`` takes places in every pool that applies, all or none;
``Hold.release`` and ``Hold.expire_stale`` give them back. Orders take over
the allocations of the holds they are created from.
"""
import datetime as dt
import secrets
from collections import defaultdict

from sql import Column

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Check, Index, ModelSQL, ModelStorage, ModelView, Unique, Workflow,
    fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .common import forget_records, now
from .exceptions import CapacityError, HoldError

CHANNELS = [
    ('web', "Web"),
    ('box_office', "Box Office"),
    ('phone', "Phone"),
    ('partner', "Partner"),
    ('api', "API"),
    ]
MAX_QUANTITY = 1000
# The field types that Hold._insert writes by plain SQL
PLAIN_TYPES = {
    'integer', 'boolean', 'char', 'many2one', 'selection', 'datetime'}
AUDIT_FIELDS = {'id', 'create_uid', 'create_date', 'write_uid', 'write_date'}


def new_token():
    "An unguessable reference (192 random bits, URL-safe)"
    return secrets.token_urlsafe(24)


def insert_rows(Model, vlist, cache=False):
    """Insert the records of Model of vlist (values through
    Model._before_create, checked by Hold._plain) in one INSERT; return
    their ids in order.

    What ModelSQL.create does after its INSERT (record rules,
    check_modification, computed fields, on_modification, triggers) but
    without reading the new rows back to validate them. With cache, the
    values stored are kept in the transaction's cache as the read of the
    validation would (compute_fields compares with them), None for the
    Many2One fields not given."""
    pool = Pool()
    Trigger = pool.get('ir.trigger')
    transaction = Transaction()
    model = Model.__name__
    names = set().union(*vlist)
    # the defaults of the columns (ModelSQL.create saves the fields with a
    # set method after the INSERT)
    defaults = {n: Model._defaults[n] for n in Model._defaults
        if n not in AUDIT_FIELDS and not hasattr(Model._fields[n], 'set')}
    columns = sorted(names | {n for n in defaults if n not in names})
    table = Model.__table__()
    at = dt.datetime.now()
    rows = []
    for values in vlist:
        row = []
        for name in columns:
            # a value some rows give and others not: its default, or
            # none (as ModelSQL.create)
            value = (values[name] if name in values
                else defaults[name]() if name in defaults else None)
            if isinstance(value, ModelStorage):
                value = value.id
            row.append(Model._fields[name].sql_format(value))
        rows.append(row + [transaction.user, at])
    cursor = transaction.connection.cursor()
    try:
        cursor.execute(*table.insert(
                [getattr(table, n) for n in columns]
                + [table.create_uid, table.create_date],
                rows, returning=[table.id]))
    except (backend.DatabaseIntegrityError,
            backend.DatabaseDataError) as exception:
        # the ORM's error for the constraint broken (as ModelSQL.create)
        if isinstance(exception, backend.DatabaseIntegrityError):
            raise_error = Model._ModelSQL__raise_integrity_error
        else:
            raise_error = Model._ModelSQL__raise_data_error
        with transaction.new_transaction():
            for row in rows:
                raise_error(exception, dict(zip(columns, row)),
                    transaction=transaction)
        raise
    ids = [r[0] for r in cursor]
    # the record rules of creation (none by default: no query)
    Model._ModelSQL__check_domain_rule(ids, 'create')
    check_access = transaction.user and transaction.check_access
    with without_check_access():
        records = Model.browse(ids)
        if cache:
            # and the relations not given: NULL (their columns have no
            # default in the table)
            nulls = dict.fromkeys(n for n, f in Model._fields.items()
                if f._type == 'many2one' and not hasattr(f, 'getter')
                and n not in columns and n not in AUDIT_FIELDS)
            for record, row in zip(records, rows):
                record._cache[record.id]._update(
                    dict(nulls, **dict(zip(columns, row))))
        Model.check_modification('create', records, external=check_access)
        Model._compute_fields(records)
        Model.on_modification('create', records)
        for trigger in Trigger.get_triggers(model, 'create'):
            trigger.queue_trigger_action(records)
    transaction.create_records[model].extend(ids)
    return ids


def create_plain(Model, vlist, plain, cache=False):
    """Create the records of Model of vlist, in order; return their ids:
    by insert_rows (with cache) when plain(vlist) holds before and after
    Model._before_create, by ModelSQL.create otherwise"""
    if plain(vlist):
        vlist = Model._before_create(vlist)
        if plain(vlist):
            return insert_rows(Model, vlist, cache=cache)
    return [r.id for r in Model.create(vlist)]


class Hold(Workflow, ModelSQL, ModelView):
    "Places held for a buyer until an order takes them or they expire"
    __name__ = 'ticket.hold'
    _rec_name = 'token'
    token = fields.Char("Token", readonly=True, required=True, strip=False)
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    channel = fields.Selection(CHANNELS, "Channel", required=True,
        readonly=True)
    expires_at = fields.DateTime("Expires At", required=True, readonly=True)
    items = fields.One2Many(
        'ticket.hold.item', 'hold', "Items", readonly=True)
    allocations = fields.One2Many(
        'ticket.allocation', 'hold', "Allocations", readonly=True)
    order = fields.Many2One('ticket.order', "Order", readonly=True,
        states={'invisible': ~Eval('order')})
    quantity = fields.Function(fields.Integer("Quantity"), 'get_quantity')
    state = fields.Selection([
            ('active', "Active"),
            ('converted', "Converted"),
            ('released', "Released"),
            ('expired', "Expired"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('token_unique', Unique(t, t.token),
                'ticket_event.msg_hold_token_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.expires_at, Index.Range()),
                where=t.state == 'active'))
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('active', 'converted'),
            ('active', 'released'),
            ('active', 'expired'),
            }
        cls._buttons.update(
            release={
                'invisible': Eval('state') != 'active',
                'icon': 'tryton-cancel',
                'depends': ['state'],
                },
            )

    @classmethod
    def default_state(cls):
        return 'active'

    @classmethod
    def default_token(cls):
        return new_token()

    def get_quantity(self, name):
        return sum(i.quantity for i in self.items)

    @property
    def is_live(self):
        return self.state == 'active' and self.expires_at > now()

    @classmethod
    def reserve(cls, items, channel='web', delay=None, company=None):
        """Hold places and return the hold.

        items is a list of dict with 'session', 'quantity', optional
        'pools' (extra pools the places count in, e.g. a category's) and
        any other value of ticket.hold.item. Raises a UserError (and the
        transaction must be rolled back) when a session is not on sale or
        a pool lacks places.
        """
        pool = Pool()
        CapacityPool = pool.get('ticket.pool')
        Configuration = pool.get('ticket.configuration')
        if not items:
            raise HoldError(gettext('ticket_event.msg_hold_empty'))
        if delay is None:
            delay = Configuration.setting('hold_delay')
        for item in items:
            quantity = item.get('quantity')
            if (not isinstance(quantity, int) or isinstance(quantity, bool)
                    or not 0 < quantity <= MAX_QUANTITY):
                raise HoldError(gettext(
                        'ticket_event.msg_hold_quantity',
                        maximum=MAX_QUANTITY))
            item['session'].check_on_sale(channel)
        # the company of each session kept per process (sale_values)
        companies = {i['session'].sale_values['company'] for i in items}
        if company is None:
            company = min(companies)
        if companies != {int(company)}:
            raise HoldError(gettext('ticket_event.msg_hold_one_company'))
        quantities = CapacityPool.quantities_for(items)

        # The hold, its items and allocations by one plain INSERT each (see
        # _insert): 3 statements instead of 6 on the rush's path; their
        # checks are the SQL constraints. The values of the new hold are
        # kept in the transaction's cache as its read would.
        values = {
            'token': new_token(),
            'channel': channel,
            'expires_at': now() + delay,
            'state': 'active',
            }
        hold_id, = cls._insert(cls.__name__, None,
            [dict(values, company=int(company))])
        hold = cls(hold_id)
        # as stored (a date and time to the second)
        hold._cache[hold_id]._update({n: cls._fields[n].sql_format(v)
                for n, v in values.items()})
        cls._insert('ticket.hold.item', hold,
            [cls._item_values(i) for i in items])
        cls._insert('ticket.allocation', hold,
            [{'pool': pool_id, 'quantity': quantity, 'state': 'held'}
                for pool_id, quantity in sorted(quantities.items())])
        # (the creation's validation read no items nor allocations: the
        # One2Many fields load lazily, from the rows inserted above)
        # Last: the UPDATE of the pools locks their rows until the commit,
        # and every hold and sale of the session waits for them. A full
        # pool raises CapacityError: the rows above go at once, for a
        # caller that goes on in the transaction (a test, another try).
        try:
            CapacityPool.move_places(quantities, take='held')
        except CapacityError:
            cls._delete_new(hold_id)
            raise
        return hold

    @classmethod
    def _delete_new(cls, hold_id):
        "Delete the rows of a hold just inserted by reserve"
        pool = Pool()
        cursor = Transaction().connection.cursor()
        for model, column in [('ticket.allocation', 'hold'),
                ('ticket.hold.item', 'hold'), (cls.__name__, 'id')]:
            table = pool.get(model).__table__()
            cursor.execute(*table.delete(
                    where=Column(table, column) == hold_id))
        forget_records(cls, [hold_id])

    @classmethod
    def _item_values(cls, values):
        values = values.copy()
        values.pop('pools', None)
        values['session'] = values['session'].id
        return values

    @classmethod
    def _insert(cls, model, hold, vlist):
        """Create the records of model from vlist, in order (hold items or
        allocations of hold; the hold itself when hold is None); return
        their ids.

        Like ModelSQL.create (access rights, preprocess_values, defaults,
        record rules, check_modification, triggers) in one INSERT, but
        without reading the new rows back to validate them: only for
        values of stored fields without domain, whose checks are the
        table's (NOT NULL of the required fields, the CHECK constraints of
        the quantities, the foreign keys); ModelSQL.create otherwise."""
        Model = Pool().get(model)
        if hold is not None:
            vlist = [dict(v, hold=hold.id) for v in vlist]
        return create_plain(Model, vlist, lambda v: cls._plain(Model, v))

    @classmethod
    def _plain(cls, Model, vlist, types=PLAIN_TYPES):
        """Whether Hold._insert may create the records of vlist: values of
        stored fields of types without domain nor translation, known
        selection values, the required values, defaults of such fields, no
        history nor validation of the model's own"""
        names = set().union(*vlist)
        if (Model._history or names & AUDIT_FIELDS
                # no validation of its own
                or Model.validate.__func__ is not ModelSQL.validate.__func__
                or Model.validate_fields.__func__
                is not ModelSQL.validate_fields.__func__):
            return False
        for name, field in Model._fields.items():
            if (field.required is True and name not in Model._defaults
                    and any(v.get(name) is None for v in vlist)):
                # the ORM's error for a missing value
                return False
            if name in AUDIT_FIELDS or (
                    name not in names and name not in Model._defaults):
                continue
            if (field._type not in types
                    or hasattr(field, 'getter')
                    or getattr(field, 'domain', None)
                    or getattr(field, 'translate', False)):
                return False
            if field._type == 'selection':
                if not isinstance(field.selection, (list, tuple)):
                    return False
                keys = {k for k, _ in field.selection}
                if any(v[name] not in keys for v in vlist if name in v):
                    return False
        return names <= set(Model._fields)

    @classmethod
    def _end(cls, holds, state):
        """Move active holds to state and return their places to the pools.

        The state changes by a conditional update so that a hold released by
        a buyer and expired by the cron at the same time gives its places
        back once."""
        Allocation = Pool().get('ticket.allocation')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        ids = [h.id for h in holds]
        if not ids:
            return []
        cursor.execute(*table.update(
                [table.state, table.write_date],
                [state, dt.datetime.now()],
                where=table.id.in_(ids) & (table.state == 'active'),
                returning=[table.id]))
        ended = [r[0] for r in cursor]
        Allocation.return_places(Allocation.search([
                    ('hold', 'in', ended),
                    ('order', '=', None),
                    ]))
        forget_records(cls, ended)
        return cls.browse(ended)

    @classmethod
    @ModelView.button
    def release(cls, holds):
        "Give the places of the active holds back to sale"
        cls._end(holds, 'released')

    @classmethod
    def expire_stale(cls):
        "Expire the active holds past their expiry date (cron)"
        holds = cls.search([
                ('state', '=', 'active'),
                ('expires_at', '<', now()),
                ], order=[('id', 'ASC')])
        return cls._end(holds, 'expired')

    @classmethod
    def check_live(cls, holds):
        "Raise HoldError unless every hold is active and not expired"
        cls._raise_not_live([h for h in holds if not h.is_live])

    @classmethod
    def _raise_not_live(cls, holds):
        if holds:
            raise HoldError(gettext(
                    'ticket_event.msg_hold_not_active',
                    hold=', '.join(h.token[:8] for h in holds)))

    @classmethod
    def convert(cls, holds, order):
        """Hand the places of live holds over to order.

        Raises HoldError if a hold is no longer active or has expired."""
        Allocation = Pool().get('ticket.allocation')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        ids = [h.id for h in holds]
        cursor.execute(*table.update(
                [table.state, table.order, table.write_date],
                ['converted', order.id, dt.datetime.now()],
                where=table.id.in_(ids) & (table.state == 'active')
                & (table.expires_at > now()),
                returning=[table.id]))
        converted = {r[0] for r in cursor}
        forget_records(cls, ids)
        cls._raise_not_live([h for h in holds if h.id not in converted])
        # the order's own bookkeeping: one update, no ORM write (and its
        # access checks) per order on the rush's path
        allocation = Allocation.__table__()
        cursor.execute(*allocation.update(
                [allocation.order, allocation.write_date,
                    allocation.write_uid],
                [order.id, dt.datetime.now(), Transaction().user],
                where=allocation.hold.in_(ids),
                returning=[allocation.id]))
        allocation_ids = sorted(r[0] for r in cursor)
        forget_records(Allocation, allocation_ids)
        return Allocation.browse(allocation_ids)

    @classmethod
    def check_modification(cls, mode, holds, values=None, external=False):
        super().check_modification(
            mode, holds, values=values, external=external)
        if mode == 'delete':
            for hold in holds:
                if hold.state == 'converted':
                    raise HoldError(gettext(
                            'ticket_event.msg_hold_delete_converted',
                            hold=hold.rec_name, order=hold.order.rec_name))

    @classmethod
    def delete(cls, holds):
        cls.release([h for h in holds if h.state == 'active'])
        super().delete(holds)


class HoldItem(ModelSQL, ModelView):
    "What a hold is for: a number of places of a session"
    __name__ = 'ticket.hold.item'
    hold = fields.Many2One(
        'ticket.hold', "Hold", required=True, ondelete='CASCADE')
    session = fields.Many2One(
        'ticket.session', "Session", required=True, ondelete='RESTRICT')
    # positive numbers are SQL checks (__setup__), not field domains: a
    # domain costs a query at each save, on the rush's path
    quantity = fields.Integer("Quantity", required=True)
    description = fields.Char(
        "Description", help="The kind of place, printed on the ticket.")
    places_per_unit = fields.Integer(
        "Places per Unit", required=True,
        help="Places (and tickets) per unit: 2 for a couple rate.")
    in_session_capacity = fields.Boolean(
        "In Session Capacity",
        help="Unchecked for admissions that do not count in the session's "
        "capacity (press, parking).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('quantity_positive', Check(t, t.quantity > 0),
                'ticket_event.msg_quantity_positive'),
            ('places_per_unit_positive', Check(t, t.places_per_unit >= 0),
                'ticket_event.msg_per_unit_positive'),
            ]

    @classmethod
    def default_places_per_unit(cls):
        return 1

    @classmethod
    def default_in_session_capacity(cls):
        return True


class Allocation(ModelSQL, ModelView):
    "Places of one pool taken by a hold, then by its order"
    __name__ = 'ticket.allocation'
    hold = fields.Many2One(
        'ticket.hold', "Hold", ondelete='CASCADE', readonly=True)
    order = fields.Many2One(
        'ticket.order', "Order", ondelete='RESTRICT', readonly=True)
    pool = fields.Many2One(
        'ticket.pool', "Pool", required=True, ondelete='RESTRICT',
        readonly=True)
    quantity = fields.Integer("Quantity", required=True, readonly=True)
    state = fields.Selection([
            ('held', "Held"),
            ('sold', "Sold"),
            ('returned', "Returned"),
            ], "State", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('quantity_positive', Check(t, t.quantity > 0),
                'ticket_event.msg_quantity_positive'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.hold, Index.Range())),
                Index(t, (t.order, Index.Range())),
                Index(t, (t.pool, Index.Range()),
                    (t.state, Index.Equality(cardinality='low'))),
                })

    @classmethod
    def _transition(cls, allocations, from_state, to_state):
        """Move allocations in from_state to to_state by a conditional update
        and return the places moved per pool"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        ids = [a.id for a in allocations]
        if not ids:
            return {}
        cursor.execute(*table.update(
                [table.state, table.write_date],
                [to_state, dt.datetime.now()],
                where=table.id.in_(ids) & (table.state == from_state),
                returning=[table.pool, table.quantity]))
        quantities = defaultdict(int)
        for pool_id, quantity in cursor:
            quantities[pool_id] += quantity
        forget_records(cls, ids)
        return dict(quantities)

    @classmethod
    def return_places(cls, allocations):
        "Give the places of held or sold allocations back to their pools"
        CapacityPool = Pool().get('ticket.pool')
        CapacityPool.move_places(
            cls._transition(allocations, 'held', 'returned'), give='held')
        CapacityPool.move_places(
            cls._transition(allocations, 'sold', 'returned'), give='sold')

    @classmethod
    def sell(cls, allocations):
        "Turn held places into sold places"
        CapacityPool = Pool().get('ticket.pool')
        CapacityPool.move_places(
            cls._transition(allocations, 'held', 'sold'),
            take='sold', give='held')
