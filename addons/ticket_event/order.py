"""Orders: what a buyer bought, from holds to paid tickets.

Service functions: ``Order.create_from_holds``, ``Order.pay``,
``Order.cancel`` and ``Order.expire``; the shop, the box office and the API
all go through them."""
import contextlib
import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal

from sql import Column, Literal, Union
from sql.functions import CurrentTimestamp

from trytond.i18n import gettext
from trytond.model import (
    Check, Index, ModelSQL, ModelStorage, ModelView, Unique, Workflow,
    fields)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .common import company_currency, now
from .exceptions import OrderError
from .hold import AUDIT_FIELDS, CHANNELS, PLAIN_TYPES, create_plain
from .ir import sequence_get

# The field types that the orders' plain creation (Order.insert_plain)
# writes by SQL: the amounts too, their digits checked by the currency
PLAIN_AMOUNT_TYPES = PLAIN_TYPES | {'numeric'}


def _plain_create(Model):
    """Whether no class of Model defines a create of its own but the ORM's
    and those that declare (_plain_insert_skips_create) that the records of
    a new order need not go through it"""
    for klass in Model.__mro__:
        if 'create' not in vars(klass):
            continue
        if klass.__module__.startswith('trytond.model'):
            continue
        if not vars(klass).get('_plain_insert_skips_create'):
            return False
    return True


class Order(Workflow, ModelSQL, ModelView):
    "A ticket order (commande)"
    __name__ = 'ticket.order'
    _rec_name = 'number'
    _states = {'readonly': Eval('state') != 'reserved'}

    number = fields.Char("Number", readonly=True, required=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    party = fields.Many2One(
        'party.party', "Buyer", states=_states,
        context={'company': Eval('company', -1)}, depends={'company'})
    email = fields.Char("E-mail", states=_states)
    phone = fields.Char("Phone", states=_states)
    channel = fields.Selection(
        CHANNELS, "Channel", required=True, readonly=True)
    lines = fields.One2Many(
        'ticket.order.line', 'order', "Lines", readonly=True)
    tickets = fields.One2Many(
        'ticket.ticket', 'order', "Tickets", readonly=True)
    holds = fields.One2Many('ticket.hold', 'order', "Holds", readonly=True)
    allocations = fields.One2Many(
        'ticket.allocation', 'order', "Allocations", readonly=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    total = fields.Function(
        Monetary("Total", currency='currency', digits='currency'),
        'get_money')
    reserved_until = fields.DateTime(
        "Reserved Until", readonly=True,
        states={'invisible': Eval('state') != 'reserved'},
        help="The order expires and its places return to sale if it is "
        "not paid by then.")
    paid_at = fields.DateTime("Paid At", readonly=True)
    cancelled_at = fields.DateTime("Cancelled At", readonly=True)
    user = fields.Many2One(
        'res.user', "Operator", readonly=True,
        help="The user who recorded the order.")
    note = fields.Text("Note")
    state = fields.Selection([
            ('reserved', "Reserved"),
            ('paid', "Paid"),
            ('cancelled', "Cancelled"),
            ('expired', "Expired"),
            ], "State", required=True, readonly=True, sort=False)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_unique', Unique(t, t.company, t.number),
                'ticket_event.msg_order_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.reserved_until, Index.Range()),
                    where=t.state == 'reserved'),
                Index(t, (t.email, Index.Similarity())),
                })
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('reserved', 'paid'),
            ('reserved', 'cancelled'),
            ('paid', 'cancelled'),
            ('reserved', 'expired'),
            }
        cls._buttons.update(
            pay={
                'invisible': Eval('state') != 'reserved',
                'icon': 'tryton-ok',
                'depends': ['state'],
                },
            cancel={
                'invisible': ~Eval('state').in_(['reserved', 'paid']),
                'icon': 'tryton-cancel',
                'depends': ['state'],
                },
            )

    @classmethod
    def default_state(cls):
        return 'reserved'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return company_currency(self.company) if self.company else None

    @classmethod
    def get_money(cls, orders, names):
        """The money figures of orders (the total here; what is paid and
        what credits paid in the modules that add them) computed together
        from one query: the payment page and a payment's settlement read
        them all"""
        figures = cls._amounts(orders)
        return {n: {o.id: figures[o.id][n] for o in orders} for n in names}

    @classmethod
    def _amounts(cls, orders):
        """{order id: {figure name: amount}} of orders from the rows of
        _amount_queries: the lines' rows (key 'line') give the total, the
        other keys' sums go to _amounts_of"""
        OrderLine = Pool().get('ticket.order.line')
        line = OrderLine.__table__()
        width = len(OrderLine._amount_columns(line))
        lines = defaultdict(list)
        sums = defaultdict(dict)
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice([o.id for o in orders]):
            sub_ids = list(sub_ids)
            queries = cls._amount_queries(sub_ids, width)
            query = queries[0]
            if len(queries) > 1:
                query = Union(*queries, all_=True)
            cursor.execute(*query)
            for order_id, key, *values in cursor:
                if key == 'line':
                    lines[order_id].append(values)
                else:
                    sums[order_id][key] = (
                        sums[order_id].get(key, Decimal(0))
                        + (values[0] or Decimal(0)))
        result = {}
        for order in orders:
            currency = order.currency
            total = sum((OrderLine._amount_from_row(currency, *row)
                    for row in lines[order.id]), Decimal(0))
            result[order.id] = cls._amounts_of(
                order, total, sums[order.id])
        return result

    @classmethod
    def _amount_queries(cls, ids, width):
        """The queries whose rows give the figures of the orders of ids:
        each selects (order id, key, value, ...), width values a row (the
        lines' columns of OrderLine._amount_columns; a sum and nulls for the
        other keys)"""
        OrderLine = Pool().get('ticket.order.line')
        line = OrderLine.__table__()
        return [line.select(line.order, Literal('line'),
                *OrderLine._amount_columns(line),
                where=line.order.in_(ids))]

    @classmethod
    def _amounts_of(cls, order, total, sums):
        "The figures of order from its lines' total and its keys' sums"
        return {'total': total}

    @classmethod
    def write(cls, *args):
        """Write nothing for no records: a transition whose orders were
        written with their state already (see _pay) asks for an empty
        write, which would still run its statements"""
        actions = iter(args)
        args = [a for records, values in zip(actions, actions) if records
            for a in (records, values)]
        if args:
            super().write(*args)
        else:
            Pool().get('ir.model.access').check(cls.__name__, 'write')

    @fields.depends('party', 'email')
    def on_change_party(self):
        if self.party and not self.email:
            self.email = self.party.email

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('number', operator, value),
            ('party.rec_name', operator, value),
            ('email', operator, value),
            ('tickets.number', operator, value),
            ]

    @classmethod
    def check_modification(cls, mode, orders, values=None, external=False):
        super().check_modification(
            mode, orders, values=values, external=external)
        if mode == 'delete':
            for order in orders:
                if order.state in {'reserved', 'paid'}:
                    raise OrderError(gettext(
                            'ticket_event.msg_order_delete_active',
                            order=order.rec_name))

    @classmethod
    def create_from_holds(cls, holds, party=None, email=None, phone=None,
            channel=None, payment_delay=None, lines=None, values=None):
        """Create a reserved order that takes over the places of holds.

        lines are the order lines (unsaved), as the price engine makes them;
        by default one free line per hold item. The places stay held until
        the order is paid, cancelled, or expires after payment_delay (the
        configured delay by default). values are more field values of the
        order (e.g. a channel's own fields), saved with it."""
        pool = Pool()
        Configuration = pool.get('ticket.configuration')
        Hold = pool.get('ticket.hold')
        holds = list(dict.fromkeys(holds))
        if not holds:
            raise OrderError(gettext('ticket_event.msg_order_no_hold'))
        Hold.check_live(holds)
        companies = {h.company for h in holds}
        if len(companies) != 1:
            raise OrderError(gettext('ticket_event.msg_order_one_company'))
        company, = companies
        if payment_delay is None:
            payment_delay = Configuration.setting('payment_delay')
        order = cls(
            company=company, party=party, email=email, phone=phone,
            channel=channel or holds[0].channel,
            # by one NEXTVAL, the sequence's format kept per process
            number=sequence_get(Configuration.setting('order_sequence')),
            reserved_until=now() + payment_delay,
            user=Transaction().user or None,
            state='reserved')
        if party and not email:
            order.email = party.email
        if lines is None:
            lines = cls._lines_from_holds(holds)
        for name, value in (values or {}).items():
            setattr(order, name, value)
        line_values = cls._plain_line_values(lines)
        if line_values is None:
            order.lines = lines
            order.save()
        else:
            # The order, its lines and their taxes by one plain INSERT each
            # (insert_plain) when their checks are the table's: no read
            # back of each to validate it
            order = cls._insert_order(order)
            cls._insert_lines(order, line_values)
        Hold.convert(holds, order)
        return order

    @classmethod
    def _insert_order(cls, order):
        """Create the new order (without its lines) and return it: by
        insert_plain with the defaults ModelSQL.create would store (context
        defaults, booleans) and its values kept in the transaction's cache
        (as the ORM's read back would) when _plain_order_values gives
        them, by its save otherwise"""
        values = cls._plain_order_values(order._save_values())
        if values is None:
            order.save()
            return order
        order_id, = cls.insert_plain(cls.__name__, [values],
            company_currency(order.company), cache=True)
        return cls(order_id)

    @classmethod
    def _plain_order_values(cls, values):
        """values of a new order with the defaults of the fields it lacks
        (default_get, as ModelSQL.create), or None when one is a value
        that only the ORM saves (a relation to create, a field of a set
        method)"""
        names = [n for n, f in cls._fields.items()
            if n not in values and n not in AUDIT_FIELDS
            and not (isinstance(f, fields.Function) and not f.setter)]
        values = dict(values)
        values.update(cls._clean_defaults(
                cls.default_get(names, with_rec_name=False)))
        for name, value in list(values.items()):
            if hasattr(cls._fields[name], 'set'):
                if value:
                    return None
                del values[name]
        return values

    @classmethod
    def _plain_line_values(cls, lines):
        """The values of the unsaved lines, each with the values of its
        One2Many records by field name under '_children', or None when a
        line has a value that only the ORM saves"""
        OrderLine = Pool().get('ticket.order.line')
        vlist = []
        for line in lines:
            if not isinstance(line, OrderLine) or line.id is not None and (
                    line.id >= 0):
                return None
            values = line._save_values()
            children = {}
            for name in list(values):
                field = OrderLine._fields.get(name)
                if field is None:
                    return None
                if field._type == 'one2many':
                    actions = values.pop(name)
                    if not actions:
                        continue
                    if (len(actions) != 1 or actions[0][0] != 'create'
                            or not field.field):
                        return None
                    children[name] = actions[0][1]
                elif field._type == 'many2many':
                    return None
            values['_children'] = children
            vlist.append(values)
        return vlist

    @classmethod
    def _insert_lines(cls, order, line_values):
        "Create the lines of line_values (_plain_line_values) of order"
        OrderLine = Pool().get('ticket.order.line')
        currency = company_currency(order.company)
        children = [v.pop('_children') for v in line_values]
        ids = cls.insert_plain('ticket.order.line',
            [dict(v, order=order.id) for v in line_values], currency)
        by_field = {}
        for line_id, values in zip(ids, children):
            for name, vlist in values.items():
                field = OrderLine._fields[name]
                by_field.setdefault(name, []).extend(
                    dict(v, **{field.field: line_id}) for v in vlist)
        for name, vlist in by_field.items():
            cls.insert_plain(
                OrderLine._fields[name].model_name, vlist, currency)
        return ids

    @classmethod
    def insert_plain(cls, model, vlist, currency, check_access=False,
            cache=False):
        """Create the records of model of the order's creation from vlist
        (with the ids of their order or line), in order; return their ids.

        As ModelSQL.create called by the order's save (no access check
        unless check_access: as a direct create; preprocess_values,
        defaults, record rules, check_modification, computed fields,
        triggers) in one INSERT without reading the rows back to validate
        them: only for models without a create or validation of their own
        and values of stored fields without domain whose checks are the
        table's (NOT NULL, CHECK constraints, foreign keys) and, for the
        amounts (digits of 'currency', currency), the digits checked here.
        ModelSQL.create otherwise. With cache, the values inserted are kept
        in the transaction's cache (as the ORM's read back would)."""
        Model = Pool().get(model)
        if not vlist:
            return []
        with (contextlib.nullcontext() if check_access
                else without_check_access()):
            return create_plain(Model, vlist,
                lambda v: cls._plain_amounts(Model, v, currency),
                cache=cache)

    @classmethod
    def _plain_amounts(cls, Model, vlist, currency):
        """Whether insert_plain may insert vlist of Model: Hold._plain with
        numeric fields whose digits are the currency's and whose values
        pass the ORM's digits test, and no create of the model's own but
        ticket_crm's (a refresh of the paid orders: none for a new order);
        no trigger on the creation, pre_validate, states' required,
        forbidden characters nor datetime refused by its format (the
        ORM's checks)"""
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Trigger = pool.get('ir.trigger')
        if currency is None or not Hold._plain(
                Model, vlist, types=PLAIN_AMOUNT_TYPES):
            return False
        if not _plain_create(Model) or (
                Model.pre_validate is not ModelStorage.pre_validate):
            return False
        if Trigger.get_triggers(Model.__name__, 'create'):
            # what the trigger's condition reads of the new records: as
            # the ORM does it
            return False
        if any('required' in f.states for f in Model._fields.values()
                if f.states):
            # the ORM's test of the states
            return False
        names = set().union(*vlist)
        for name in names:
            field = Model._fields[name]
            if field._type == 'char' and getattr(field, 'size', None):
                # the ORM's size test
                return False
            if field._type == 'char' and any(
                    not isinstance(v.get(name) or '', str)
                    or any(c in (v.get(name) or '')
                        for c in getattr(field, 'forbidden_chars', ''))
                    for v in vlist):
                # the ORM's test of the characters
                return False
            if field._type == 'datetime':
                # the ORM's format test of the value stored
                if not isinstance(field.format, str):
                    return False
                for values in vlist:
                    value = field.sql_format(values.get(name))
                    if value and value.time() != dt.datetime.strptime(
                            value.strftime(field.format),
                            field.format).time():
                        return False
            if field._type != 'numeric':
                continue
            if getattr(field, 'digits', None) != 'currency' or (
                    getattr(Model._fields.get('currency'), 'getter', None)
                    != 'on_change_with_currency'):
                return False
            int_size, dec_size = currency.get_digits()
            for values in vlist:
                value = values.get(name)
                if value is None:
                    continue
                if not isinstance(value, Decimal):
                    return False
                if int_size is not None and value and (
                        math.ceil(math.log10(abs(value))) > int_size):
                    return False
                if dec_size is not None and (
                        value.as_tuple().exponent < -dec_size):
                    return False
        return True

    @classmethod
    def _lines_from_holds(cls, holds):
        "Return the order lines for the items of holds (free by default)"
        OrderLine = Pool().get('ticket.order.line')
        return [OrderLine(
                session=item.session,
                description=item.description,
                quantity=item.quantity,
                tickets_per_unit=item.places_per_unit,
                unit_price=Decimal(0))
            for hold in holds for item in hold.items]

    @classmethod
    def _lock_in_state(cls, orders, states):
        "Lock orders and return those still in states"
        cls.lock(orders)
        fresh = cls.browse([o.id for o in orders])
        return [o for o in fresh if o.state in states]

    @classmethod
    @ModelView.button
    def pay(cls, orders):
        """Mark reserved orders paid: their places are sold and tickets issued.

        An order already paid stays as it is, so a payment notified twice
        issues the tickets once; a cancelled or expired order raises
        OrderError."""
        cls.lock(orders)
        for order in orders:
            if order.state not in {'reserved', 'paid'}:
                raise OrderError(gettext(
                        'ticket_event.msg_order_not_reserved',
                        order=order.rec_name))
        cls._pay([o for o in orders if o.state == 'reserved'])

    @classmethod
    @Workflow.transition('paid')
    def _pay(cls, orders):
        pool = Pool()
        Allocation = pool.get('ticket.allocation')
        OrderLine = pool.get('ticket.order.line')
        Ticket = pool.get('ticket.ticket')
        # one search each for all the orders (not a read of the orders and
        # a search per one2many), the lines by order as o.lines gives them
        ids = [o.id for o in orders]
        allocations = Allocation.search([('order', 'in', ids)]) if ids else []
        lines = OrderLine.search([('order', 'in', ids)]) if ids else []
        if len(ids) > 1:
            position = {id_: i for i, id_ in enumerate(ids)}
            lines.sort(key=lambda l: position[l.order.id])
        Ticket.issue(lines)
        # The state of the transition goes with the payment's values: the
        # order is written once; the transition then finds it paid already
        # and writes nothing more, so it is logged here.
        if cls._write_paid(orders, {
                    'state': 'paid', 'paid_at': now(),
                    'reserved_until': None}):
            cls._log_plain(orders, 'transition', 'state:paid')
        else:
            cls.log(orders, 'transition', 'state:paid')
        # Last: the UPDATE of the pools locks their rows until the commit,
        # and every sale of the session waits for them.
        Allocation.sell(allocations)

    @classmethod
    def _write_paid(cls, orders, values):
        """Write the values of the payment of reserved orders (state,
        paid_at, reserved_until: constants of plain columns, nothing for
        the ORM to validate) by one UPDATE; return whether it did so.

        The ORM writes them when an ir.trigger watches the orders' writes.
        Modules that follow the orders' writes follow this too (CRM)."""
        pool = Pool()
        Trigger = pool.get('ir.trigger')
        if not orders:
            return False
        if Trigger.get_triggers(cls.__name__, 'write'):
            cls.write(orders, values)
            return False
        pool.get('ir.model.access').check(cls.__name__, 'write')
        transaction = Transaction()
        table = cls.__table__()
        ids = [o.id for o in orders]
        columns = [Column(table, name) for name in values]
        cursor = transaction.connection.cursor()
        cursor.execute(*table.update(
                columns + [table.write_uid, table.write_date],
                list(values.values())
                + [transaction.user, CurrentTimestamp()],
                where=table.id.in_(ids)))
        # the values cached in the transaction stay true but for those
        # written: the records read again get them without a query
        transaction.counter += 1
        for cache in transaction.cache.values():
            if cls.__name__ not in cache:
                continue
            records = cache[cls.__name__]
            for id_ in ids:
                if id_ in records:
                    record = records[id_]
                    record._update(values)
                    for name in ['write_uid', 'write_date', '_timestamp']:
                        try:
                            record._pop(name, None)
                        except KeyError:
                            pass
        return True

    @classmethod
    def _log_plain(cls, orders, event, target):
        """Write the back-office history entries (ir.model.log) of event
        on orders now by one INSERT, with the values the ORM saves at the
        commit for cls.log (the resource, event, target, user and the
        create user and date): the ORM's save at the commit costs a
        creation with its validation and read-back.

        cls.log (the ORM at the commit) when a module gives ir.model.log
        a create, a validation or defaults of its own, a history or a
        trigger on creation."""
        pool = Pool()
        Log = pool.get('ir.model.log')
        Trigger = pool.get('ir.trigger')
        if not cls._log or not orders:
            return
        if (Log._history
                # no create but the ORM's and ResourceAccessMixin's (an
                # access check, none at the commit: without_check_access)
                or any(klass.__module__ not in {
                            'trytond.model.modelsql',
                            'trytond.model.modelstorage',
                            'trytond.ir.resource'}
                    for klass in Log.__mro__ if 'create' in vars(klass))
                or Log.validate.__func__ is not ModelSQL.validate.__func__
                or Log.validate_fields.__func__
                is not ModelSQL.validate_fields.__func__
                or set(Log._defaults) - {'resource', 'create_uid',
                    'create_date', 'write_uid', 'write_date'}
                or Trigger.get_triggers(Log.__name__, 'create')):
            cls.log(orders, event, target)
            return
        transaction = Transaction()
        user = transaction.user
        table = Log.__table__()
        cursor = transaction.connection.cursor()
        cursor.execute(*table.insert(
                [table.create_uid, table.create_date, table.resource,
                    table.event, table.target, table.user],
                [[user, CurrentTimestamp(), f'{cls.__name__},{o.id}',
                        event, target, user] for o in orders]))

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, orders):
        "Cancel orders: their places return to sale, their tickets are void"
        cls.lock(orders)
        pool = Pool()
        Allocation = pool.get('ticket.allocation')
        Ticket = pool.get('ticket.ticket')
        Allocation.return_places([a for o in orders for a in o.allocations])
        Ticket.cancel([t for o in orders for t in o.tickets
                if t.state != 'cancelled'])
        cls.write(orders, {'cancelled_at': now(), 'reserved_until': None})

    @classmethod
    @Workflow.transition('expired')
    def expire(cls, orders):
        "Expire unpaid orders: their places return to sale"
        Allocation = Pool().get('ticket.allocation')
        Allocation.return_places([a for o in orders for a in o.allocations])
        cls.write(orders, {'reserved_until': None})

    @classmethod
    def expire_stale(cls):
        "Expire the reserved orders past their payment deadline (cron)"
        orders = cls.search([
                ('state', '=', 'reserved'),
                ('reserved_until', '<', now()),
                ], order=[('id', 'ASC')])
        orders = cls._lock_in_state(orders, {'reserved'})
        cls.expire(orders)
        return orders


class OrderLine(ModelSQL, ModelView):
    __name__ = 'ticket.order.line'
    order = fields.Many2One(
        'ticket.order', "Order", required=True, ondelete='CASCADE')
    session = fields.Many2One(
        'ticket.session', "Session", ondelete='RESTRICT',
        help="Empty for what is not an admission (donation, add-on).")
    description = fields.Char("Description")
    # positive numbers are SQL checks (__setup__), not field domains: a
    # domain costs a query at each save, on the rush's path
    quantity = fields.Integer("Quantity", required=True)
    unit_price = Monetary(
        "Unit Price", currency='currency', digits='currency', required=True)
    amount = fields.Function(
        Monetary("Amount", currency='currency', digits='currency'),
        'get_amount')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    tickets_per_unit = fields.Integer(
        "Tickets per Unit", required=True,
        help="Tickets issued per unit (0 for what is not an admission, "
        "2 for a couple rate).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')
        t = cls.__table__()
        cls._sql_constraints += [
            ('quantity_positive', Check(t, t.quantity > 0),
                'ticket_event.msg_quantity_positive'),
            ('tickets_per_unit_positive', Check(t, t.tickets_per_unit >= 0),
                'ticket_event.msg_per_unit_positive'),
            ]

    @classmethod
    def default_tickets_per_unit(cls):
        return 1

    @fields.depends('order', '_parent_order.company')
    def on_change_with_currency(self, name=None):
        if self.order and self.order.company:
            return company_currency(self.order.company)

    def get_amount(self, name):
        return self.currency.round(self.unit_price * self.quantity)

    @classmethod
    def _amount_columns(cls, line):
        """The columns of table line from which _amount_from_row computes a
        line's amount as get_amount does (modules append theirs)"""
        return [line.unit_price, line.quantity]

    @classmethod
    def _amount_from_row(cls, currency, unit_price, quantity):
        "The amount of a line from the values of _amount_columns"
        return currency.round(unit_price * quantity)

    def get_rec_name(self, name):
        return f'{self.quantity} × {self.description or ""}'

    @property
    def ticket_price(self):
        "The price printed on each ticket of the line"
        if not self.tickets_per_unit:
            return None
        return self.currency.round(self.unit_price / self.tickets_per_unit)
