"""The box office service: the one place where the terminal sells, refunds,
exchanges and counts.

Every operation goes through the services of the other modules: the price
engine quotes on the box office channel, the core hold service holds the
places (and the seats of a seated session through ticket_seating), the
order is created from the quote and paid through ``Payment.record`` with
provider ``pos`` and, as reference, the sale_point payment that took the
money. The money itself is a ``sale.point.sale`` of the terminal's point,
with a line per tariff product and its payments, so that sale_point books
it in the cash session and posts it to accounting when the session closes.
Each operation is recorded with its operator (``ticket.pos.operation``).
"""
import datetime as dt
from collections import defaultdict
from decimal import ROUND_DOWN, Decimal

from psycopg import IsolationLevel
from trytond.i18n import gettext
from trytond.model import Model
from trytond.pool import Pool
from trytond.transaction import Transaction

from guichet.ticket_event.common import now
from guichet.ticket_pricing.engine import LineRequest, QuoteRequest

from .exceptions import PosError
from .point import posting

ZERO = Decimal(0)
CHANNEL = 'box_office'
# The order of a counter sale is paid at once; this only bounds a failure.
PAYMENT_DELAY = dt.timedelta(minutes=15)
MAX_NAME = 200
SEQUENCE_TABLE = 'ir_sequence_strict'
# How long a sale waits for another terminal's to commit its number
LOCK_TIMEOUT = '10s'
# How many sales of a cash session are posted together at the closing
POST_BATCH = 20


def error(message_id, code='invalid', **kwargs):
    return PosError(gettext(f'ticket_pos.{message_id}', **kwargs), code)


def _reference(record):
    return f'{record.__name__},{record.id}'


class Service(Model):
    "Box Office Service"
    __name__ = 'ticket.pos.service'

    # Points and cash sessions

    @classmethod
    def check_point(cls, point):
        "Raise PosError unless point is a box office terminal"
        if not point.ticket_box_office:
            raise error('msg_point_not_box_office', 'not_found',
                point=point.rec_name)

    @classmethod
    def cash_session(cls, point):
        "The open cash session of point, or PosError"
        session = point.current_cash_session()
        if session is None:
            raise error('msg_cash_session_closed', 'session_closed',
                point=point.rec_name)
        return session

    @classmethod
    def cash_method(cls, point):
        Method = Pool().get('sale.point.payment.method')
        methods = Method.search([
                ('company', '=', point.company.id),
                ('cash', '=', True),
                ], limit=1)
        if not methods:
            raise error('msg_no_cash_method', 'not_configured')
        return methods[0]

    @classmethod
    def methods(cls, point):
        "The payment methods the terminal offers, cash first"
        Method = Pool().get('sale.point.payment.method')
        methods = Method.search([('company', '=', point.company.id)])
        credit = point.ticket_credit_method
        return sorted([m for m in methods if m != credit],
            key=lambda m: (not m.cash, m.name))

    @classmethod
    def open_session(cls, point, counted):
        """Open the cash session of point with the float counted in the
        drawer; a float that differs from the last closing is brought by a
        cash transfer"""
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        Transfer = pool.get('sale.point.cash.transfer')
        cls.check_point(point)
        counted = cls._amount(point, counted, allow_zero=True)
        if point.current_cash_session():
            raise error('msg_cash_session_open', 'session_open',
                point=point.rec_name)
        session = Session.get_current(point)
        difference = counted - session.start_amount
        if difference:
            if not point.ticket_float_type:
                raise error('msg_no_float_type', 'not_configured',
                    point=point.rec_name)
            Transfer.create([{
                        'point': point.id,
                        'session': session.id,
                        'type': point.ticket_float_type.id,
                        'amount': difference,
                        }])
        Session.write([session], {
                'ticket_opened_by': Transaction().user or None,
                'ticket_opened_at': now(),
                'ticket_float': counted,
                })
        return Session(session.id)

    @classmethod
    def expected_amounts(cls, session):
        """What each payment method should hold at the end of session:
        the drawer's cash, and what the operations took by the others"""
        pool = Pool()
        Payment = pool.get('sale.point.payment')
        Session = pool.get('sale.point.cash.session')
        session = Session(session.id)
        point = session.point
        expected = defaultdict(lambda: ZERO)
        expected[cls.cash_method(point)] = (
            session.start_amount + session.balance)
        sales = [o.sale.id for o in session.ticket_operations if o.sale]
        for payment in Payment.search([('sale', 'in', sales)]):
            if not payment.method.cash:
                expected[payment.method] += payment.amount
        for method in cls.methods(point):
            expected[method] += ZERO
        return dict(expected)

    @classmethod
    def close_session(cls, point, counts):
        """Close the cash session of point with the amounts counted per
        payment method ({method: amount}); return the session.

        A cash difference is booked by a cash transfer so that sale_point
        closes the session; the sales of the session and its transfers are
        then posted."""
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        Transfer = pool.get('sale.point.cash.transfer')
        Count = pool.get('ticket.pos.count')
        Sale = pool.get('sale.point.sale')
        session = cls.cash_session(point)
        cls.lock_now(Session, [session])
        # still open once locked: another terminal may have closed it
        session = cls.cash_session(point)
        counts = {m: cls._amount(point, a, allow_zero=True)
            for m, a in counts.items()}
        cash = cls.cash_method(point)
        if cash not in counts:
            raise error('msg_count_cash', 'invalid')
        expected = cls.expected_amounts(session)
        unknown = [m for m in counts if m not in expected]
        if unknown:
            raise error('msg_count_method', 'invalid',
                method=unknown[0].rec_name)
        rows = []
        for method, amount in expected.items():
            counted = counts.get(method)
            if counted is None:
                counted = (amount if method == point.ticket_credit_method
                    else ZERO)
            rows.append({
                    'session': session.id,
                    'method': method.id,
                    'expected': amount,
                    'counted': counted,
                    })
        Count.create(rows)
        difference = counts[cash] - expected[cash]
        if difference:
            if not point.ticket_difference_type:
                raise error('msg_no_difference_type', 'not_configured',
                    point=point.rec_name)
            Transfer.create([{
                        'point': point.id,
                        'session': session.id,
                        'type': point.ticket_difference_type.id,
                        'amount': difference,
                        }])
        Session.write([session], {
                'end_amount': counts[cash],
                'ticket_closed_by': Transaction().user or None,
                'ticket_closed_at': now(),
                })
        session = Session(session.id)
        Session.close([session])
        sales = [o.sale.id for o in session.ticket_operations
            if o.sale and o.sale.state == 'done']
        cls.lock_posting(point, session)
        with posting():
            # Tryton's cost of a batch of records grows with the square of
            # its size (each record checks the ids of the whole batch):
            # posted by slices, the closing stays proportional to the sales
            for index in range(0, len(sales), POST_BATCH):
                Sale.post(Sale.browse(sales[index:index + POST_BATCH]))
        Session.post([session])
        return Session(session.id)

    @classmethod
    def lock_posting(cls, point, session):
        """Take now the locks that posting the sales and transfers of
        session needs: the journal periods' table when one must be
        created, the strict sequences that number the moves.

        Tryton would do the whole closing again from the start to take
        each of them first (three times the posting of every sale)."""
        pool = Pool()
        Period = pool.get('account.period')
        JournalPeriod = pool.get('account.journal.period')
        Sequence = pool.get('ir.sequence.strict')
        dates = {o.sale.date for o in session.ticket_operations
            if o.sale and o.sale.state == 'done'}
        dates.update(t.date for t in session.transfers)
        journals = {point.journal} | {t.type.journal
            for t in session.transfers}
        periods = {Period.find(point.company, date=d) for d in dates}
        missing = False
        for period in periods:
            for journal in journals:
                if not JournalPeriod.search([
                            ('journal', '=', journal.id),
                            ('period', '=', period.id),
                            ], limit=1):
                    missing = True
        if missing:
            cls.lock_now(JournalPeriod)
        sequences = {p.move_sequence_used for p in periods}
        sequences = [s for s in sequences
            if isinstance(s, Sequence) and s.id is not None]
        if sequences:
            cls.lock_now(Sequence, sequences)

    # Money

    @classmethod
    def _amount(cls, point, value, allow_zero=False):
        currency = point.company.currency
        if (not isinstance(value, (Decimal, int)) or isinstance(value, bool)
                or not Decimal(value).is_finite()):
            raise error('msg_amount_invalid')
        value = Decimal(value)
        if currency.round(value) != value or value < 0 or (
                not allow_zero and not value) or value >= 10 ** 9:
            raise error('msg_amount_invalid')
        return value

    @classmethod
    def settle_payments(cls, point, due, payments):
        """Return the (method, amount kept) of payments for due and the
        change, given back from the cash tendered beyond due"""
        payments = [(m, cls._amount(point, a)) for m, a in payments]
        credit = point.ticket_credit_method
        for method, _ in payments:
            if method.company != point.company or method == credit:
                raise error('msg_method_invalid', method=method.rec_name)
        total = sum((a for _, a in payments), ZERO)
        if due <= 0:
            if payments:
                raise error('msg_nothing_to_pay', 'payment_invalid')
            return [], ZERO
        if total < due:
            raise error('msg_payment_short', 'payment_short',
                missing=due - total)
        change = total - due
        if change > sum((a for m, a in payments if m.cash), ZERO):
            raise error('msg_change_not_cash', 'payment_invalid')
        kept, left = [], change
        for method, amount in payments:
            if method.cash and left:
                taken = min(left, amount)
                amount -= taken
                left -= taken
            if amount:
                kept.append((method, amount))
        return kept, change

    @classmethod
    def sale_lines(cls, point, rows, sign=1):
        """sale_point lines for rows of (product, quantity, total, untaxed):
        unit prices exact to the cent, a last line of one unit taking the
        remainder when the total does not divide"""
        Line = Pool().get('sale.point.sale.line')
        cent = Decimal('0.01')
        lines = []
        for product, quantity, total, untaxed in rows:
            if not quantity or total is None:
                continue
            if product is None:
                raise error('msg_line_without_product')
            gross = (total / quantity).quantize(cent, ROUND_DOWN)
            net = (untaxed / quantity).quantize(cent, ROUND_DOWN)
            if gross * quantity == total and net * quantity == untaxed:
                parts = [(quantity, net, gross)]
            else:
                parts = [(quantity - 1, net, gross),
                    (1, untaxed - net * (quantity - 1),
                        total - gross * (quantity - 1))]
            for count, unit_net, unit_gross in parts:
                if count:
                    lines.append(Line(product=product,
                            quantity=float(sign * count),
                            unit_list_price=unit_net,
                            unit_gross_price=unit_gross))
        return lines

    @classmethod
    def create_sale(cls, point, lines, payments):
        """A done sale_point sale of lines paid by payments, (method,
        amount) with a negative amount for cash given back.

        The sale is saved once, done and numbered from the point's
        sequence as sale_point's process and do would (they save it and
        validate its lines and payments a second time)."""
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Payment = pool.get('sale.point.payment')
        sale = Sale(company=point.company, point=point, lines=lines,
            payments=[Payment(method=method, amount=amount)
                for method, amount in payments if amount])
        # what process checks, before anything is written
        to_pay = sale.on_change_with_amount_to_pay()
        if to_pay:
            raise error('msg_sale_not_balanced', 'payment_invalid',
                amount=to_pay)
        cls.lock_sale_numbers()
        with Transaction().set_context(company=point.company.id):
            sale.number = point.sequence.get()
        sale.state = 'done'
        sale.save()
        return sale

    @classmethod
    def lock_now(cls, Model, records=None):
        """Lock records of Model (its table without records) now, as
        ModelSQL.lock would, waiting up to LOCK_TIMEOUT for another
        transaction to commit.

        Tryton wants such locks taken at the start of the transaction and
        does the whole transaction again to take them first; at READ
        COMMITTED (the isolation of the API's writing routes) what is read
        after the lock is what the other transaction committed, so the
        lock is taken here. Otherwise ModelSQL.lock does it."""
        transaction = Transaction()
        table = Model._table
        connection = transaction.connection
        if records is not None:
            ids = {r.id for r in records} - transaction._locked_records[
                table]
            if not ids or table in transaction._locked_tables:
                return
        elif table in transaction._locked_tables:
            return
        if (getattr(connection, 'isolation_level', None)
                != IsolationLevel.READ_COMMITTED):
            Model.lock(records)
            return
        cursor = connection.cursor()
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        if records is None:
            cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
            transaction._locked_tables.add(table)
        else:
            cursor.execute(f'SELECT 1 FROM "{table}" WHERE id = ANY(%s) '
                'FOR UPDATE', (sorted(ids),))
            transaction._locked_records[table].update(ids)
        cursor.execute('SET LOCAL lock_timeout TO DEFAULT')

    @classmethod
    def lock_sale_numbers(cls):
        """Take now the lock of the strict sequences that number the sale.

        sale_point numbers a sale with a strict sequence, whose table Tryton
        wants locked from the start of the transaction: it would do the
        whole sale again to take the lock first. At READ COMMITTED (the
        isolation of the API's writing routes) the next number is read
        after the lock is taken, so the lock is taken here, waiting for the
        sale of another terminal to commit, and held only until the
        commit."""
        transaction = Transaction()
        table = SEQUENCE_TABLE
        connection = transaction.connection
        if (table in transaction._locked_tables
                or getattr(connection, 'isolation_level', None)
                != IsolationLevel.READ_COMMITTED):
            return
        cursor = connection.cursor()
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
        cursor.execute('SET LOCAL lock_timeout TO DEFAULT')
        transaction._locked_tables.add(table)

    @classmethod
    def pay_order(cls, order, sale):
        """Record the positive payments of sale for order through the
        core payment service; the order is paid once they cover it"""
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        credit = sale.point.ticket_credit_method
        for payment in sale.payments:
            if payment.amount > 0 and payment.method != credit:
                Payment.record(order, 'pos', _reference(payment),
                    payment.amount, method=payment.method.ticket_method)
        cls.pay_covered(Order(order.id))

    @classmethod
    def pay_covered(cls, order):
        "Pay order when its payments and credits cover its total"
        Order = Pool().get('ticket.order')
        if order.state == 'reserved' and (
                order.amount_paid + getattr(order, 'credit_amount', ZERO)
                >= order.total):
            Order.pay([order])

    @classmethod
    def record(cls, point, kind, order, cash_session=None, **values):
        Operation = Pool().get('ticket.pos.operation')
        cash_session = cash_session or cls.cash_session(point)
        operation, = Operation.create([dict(
                    kind=kind, date=now(), point=point.id,
                    company=point.company.id,
                    operator=Transaction().user,
                    cash_session=cash_session.id,
                    order=order.id, **values)])
        return operation

    # Sale

    @classmethod
    def quote(cls, point, lines, promo_code=None, credit_codes=(),
            email=None):
        """Price lines of (tariff, session, quantity) on the box office
        channel"""
        PriceEngine = Pool().get('ticket.price_engine')
        for tariff, session, _ in lines:
            if tariff.event.company != point.company:
                raise error('msg_tariff_other_company', 'not_found',
                    tariff=tariff.rec_name)
        return PriceEngine.quote(QuoteRequest(
                lines=[LineRequest(tariff=t, session=s, quantity=q)
                    for t, s, q in lines],
                channel=CHANNEL, promo_code=promo_code,
                credit_codes=tuple(credit_codes), email=email))

    @classmethod
    def hold(cls, quote, seats=None):
        """Hold the places of quote: the seats picked ({session id: [seat
        ids]}) or, for a seated session, the best available ones"""
        Hold = Pool().get('ticket.hold')
        items = quote.hold_items()
        for session_id, ids in (seats or {}).items():
            session_items = [i for i in items
                if i['session'].id == session_id]
            places = sum(i['quantity'] * i['places_per_unit']
                for i in session_items)
            if (not session_items or places != len(ids)
                    or not getattr(session_items[0]['session'], 'seat_map',
                        None)):
                raise error('msg_seats_count', 'seat_invalid',
                    places=places, seats=len(ids))
            start = 0
            for item in session_items:
                count = item['quantity'] * item['places_per_unit']
                item['seats'] = list(ids[start:start + count])
                start += count
        return Hold.reserve(items, channel=CHANNEL, company=quote.company)

    @classmethod
    def find_party(cls, name=None, email=None, phone=None):
        "The buyer: the party of the e-mail or phone, created if needed"
        Party = Pool().get('party.party')
        for kind, value in [('email', email), ('phone', phone)]:
            if value:
                parties = Party.search([
                        ('contact_mechanisms', 'where', [
                                ('type', 'in', [kind, 'mobile']
                                    if kind == 'phone' else [kind]),
                                ('value', '=', value),
                                ]),
                        ], order=[('id', 'ASC')], limit=1)
                if parties:
                    return parties[0]
        if not name:
            return None
        mechanisms = [{'type': t, 'value': v}
            for t, v in [('email', email), ('phone', phone)] if v]
        party = Party(name=name, contact_mechanisms=mechanisms)
        party.save()
        return party

    @classmethod
    def sell(cls, point, lines, payments, party=None, email=None,
            phone=None, promo_code=None, credit_codes=(), seats=None):
        """Sell lines of (tariff, session, quantity) paid by payments of
        (method, amount); return the operation.

        Raises PosError, PricingError or a hold error (the transaction
        must then be rolled back)."""
        pool = Pool()
        Order = pool.get('ticket.order')
        cls.check_point(point)
        cash_session = cls.cash_session(point)
        if not lines:
            raise error('msg_sale_empty')
        if party and not email:
            email = party.email
        quote = cls.quote(point, lines, promo_code=promo_code,
            credit_codes=credit_codes, email=email)
        kept, change = cls.settle_payments(point, quote.to_pay, payments)
        if quote.credits:
            if not point.ticket_credit_method:
                raise error('msg_no_credit_method', 'not_configured',
                    point=point.rec_name)
            kept.append((point.ticket_credit_method, quote.credit_amount))
        hold = cls.hold(quote, seats)
        order = Order.create_from_quote(quote, [hold], party=party,
            email=email, phone=phone, payment_delay=PAYMENT_DELAY)
        sale = cls.create_sale(point, cls.sale_lines(point, [
                    (l.product, l.quantity, l.total, l.untaxed)
                    for l in quote.lines]), kept)
        cls.pay_order(order, sale)
        return cls.record(point, 'sale', Order(order.id), sale=sale.id,
            amount=quote.to_pay, change=change, cash_session=cash_session)

    # After-sale

    @classmethod
    def find_orders(cls, point, text, limit=20):
        "The orders whose number, buyer, e-mail or ticket number match text"
        Order = Pool().get('ticket.order')
        text = (text or '').strip()
        if not 2 <= len(text) <= 100:
            raise error('msg_search_text')
        exact = Order.search([
                ('company', '=', point.company.id),
                ['OR', ('number', '=', text),
                    ('tickets.number', '=', text)],
                ], limit=limit)
        if exact:
            return exact
        return Order.search([
                ('company', '=', point.company.id),
                ('rec_name', 'ilike', f'%{text}%'),
                ], limit=limit)

    @classmethod
    def _paid_order(cls, point, order):
        Order = Pool().get('ticket.order')
        if order.company != point.company:
            raise error('msg_order_other_company', 'not_found')
        Order.lock([order])
        order = Order(order.id)
        if order.state != 'paid':
            raise error('msg_order_not_paid', 'order_state',
                order=order.rec_name)
        return order

    @classmethod
    def rows_of_order(cls, order):
        """The (product, quantity, total, untaxed) of the lines of order
        less the tickets refunded one by one"""
        rows = []
        for line in order.lines:
            untaxed = (line.untaxed_amount
                if line.untaxed_amount is not None else line.amount)
            gross, net = cls.ticket_share(line)
            refunded = len([t for t in order.tickets
                    if t.line == line and t.state == 'cancelled']
                ) if gross is not None else 0
            if refunded < line.quantity:
                rows.append((line.product, line.quantity - refunded,
                        line.amount - gross * refunded if refunded
                        else line.amount,
                        untaxed - net * refunded if refunded else untaxed))
        return rows

    @classmethod
    def ticket_share(cls, line):
        """The (total, untaxed) of one ticket of an order line, rounded
        down to the cent (the last ticket of the line takes the rest), or
        (None, None) when its tickets cannot be refunded one by one"""
        if (line.kind != 'ticket' or line.tickets_per_unit != 1
                or not line.tariff or getattr(line.tariff, 'pass_kind', None)
                or not line.quantity):
            return None, None
        cent = Decimal('0.01')
        untaxed = (line.untaxed_amount
            if line.untaxed_amount is not None else line.amount)
        return ((line.amount / line.quantity).quantize(cent, ROUND_DOWN),
            (untaxed / line.quantity).quantize(cent, ROUND_DOWN))

    @classmethod
    def issue_credit(cls, order, amount):
        "A credit of amount for the buyer of order"
        pool = Pool()
        Credit = pool.get('ticket.credit')
        Order = pool.get('ticket.order')
        credit, = Credit.issue(amount, party=order.party, kind='credit',
            origin_order=order, company=order.company)
        if not order.refund_credit:
            Order.write([order], {'refund_credit': credit.id})
        return credit

    @classmethod
    def return_ticket_places(cls, ticket):
        """Give the place of one sold ticket back to its pools (and its
        seat back to sale): the order's sold allocations lose a place, kept
        as a returned allocation of one"""
        pool = Pool()
        Allocation = pool.get('ticket.allocation')
        CapacityPool = pool.get('ticket.pool')
        line, session = ticket.line, ticket.session
        tariff = line.tariff
        pools = set(tariff.pools_for(session))
        if not tariff.excluded_from_capacity:
            pools.update(session.pools)
        table = Allocation.__table__()
        cursor = Transaction().connection.cursor()
        returned = []
        for pool_id in sorted(p.id for p in pools):
            allocations = Allocation.search([
                    ('order', '=', ticket.order.id),
                    ('pool', '=', pool_id),
                    ('state', '=', 'sold'),
                    ], order=[('quantity', 'DESC'), ('id', 'ASC')], limit=1)
            if not allocations:
                raise error('msg_ticket_refund_not_possible', 'order_state',
                    ticket=ticket.number)
            allocation, = allocations
            if allocation.quantity > 1:
                cursor.execute(*table.update(
                        [table.quantity, table.write_date],
                        [table.quantity - 1, dt.datetime.now()],
                        where=(table.id == allocation.id)
                        & (table.state == 'sold')))
                returned.append({
                        'hold': allocation.hold.id if allocation.hold
                        else None,
                        'order': ticket.order.id,
                        'pool': pool_id,
                        'quantity': 1,
                        'state': 'returned',
                        })
            else:
                cursor.execute(*table.update(
                        [table.state, table.write_date],
                        ['returned', dt.datetime.now()],
                        where=(table.id == allocation.id)
                        & (table.state == 'sold')))
        Allocation.create(returned)
        CapacityPool.move_places({p.id: 1 for p in pools}, give='sold')
        if getattr(ticket, 'seat', None):
            from guichet.ticket_seating.inventory import Inventory
            Inventory.release(lambda t: t.ticket == ticket.id,
                states=('sold',))

    @classmethod
    def refund_ticket(cls, point, ticket, mode='cash'):
        """Cancel one ticket of a paid order at the counter and give its
        part of the order back in cash or as a credit; the last ticket of
        the order refunds the whole order. Return the operation."""
        pool = Pool()
        Order = pool.get('ticket.order')
        Ticket = pool.get('ticket.ticket')
        cls.check_point(point)
        cls.cash_session(point)
        if mode not in {'cash', 'credit'}:
            raise error('msg_refund_mode')
        if ticket.company != point.company:
            raise error('msg_order_other_company', 'not_found')
        order = cls._paid_order(point, ticket.order)
        ticket = Ticket(ticket.id)
        if ticket.state != 'valid':
            raise error('msg_ticket_not_valid', 'order_state',
                ticket=ticket.number)
        others = [t for t in order.tickets
            if t.state != 'cancelled' and t != ticket]
        if not others:
            return cls.refund(point, order, mode)
        gross, net = cls.ticket_share(ticket.line)
        if gross is None or order.credit_paid:
            raise error('msg_ticket_refund_not_possible', 'order_state',
                ticket=ticket.number)
        line = ticket.line
        if not [t for t in others if t.line == line]:
            # the last ticket of its line takes what the others left
            untaxed = (line.untaxed_amount
                if line.untaxed_amount is not None else line.amount)
            gross = line.amount - gross * (line.quantity - 1)
            net = untaxed - net * (line.quantity - 1)
        cls.return_ticket_places(ticket)
        Ticket.cancel([ticket])
        if mode == 'credit':
            credit = cls.issue_credit(order, gross)
            return cls.record(point, 'refund_credit', Order(order.id),
                amount=-gross, credit=credit.id, ticket=ticket.id)
        sale = cls.create_sale(point, cls.sale_lines(point,
                [(line.product, 1, gross, net)], sign=-1),
            [(cls.cash_method(point), -gross)])
        cash_back, = [p for p in sale.payments if p.amount < 0]
        cls.refund_payments(Order(order.id), gross, _reference(cash_back))
        return cls.record(point, 'refund', Order(order.id), sale=sale.id,
            amount=-gross, ticket=ticket.id)

    @classmethod
    def refund_payments(cls, order, amount, prefix):
        "Record the refund of amount of the money payments of order"
        Payment = Pool().get('ticket.order.payment')
        left = amount
        # the cash handed back first
        for payment in sorted(order.payments,
                key=lambda p: (p.method != 'cash', p.id)):
            if left <= 0:
                break
            if payment.state != 'succeeded':
                continue
            taken = min(payment.refundable_amount, left)
            if taken > 0:
                Payment.refund(payment, taken,
                    reference=f'{prefix}:{payment.id}')
                left -= taken

    @classmethod
    def refund(cls, point, order, mode='cash'):
        """Cancel a paid order at the counter and give its money back in
        cash, or as a credit; return the operation"""
        pool = Pool()
        Order = pool.get('ticket.order')
        cls.check_point(point)
        cls.cash_session(point)
        order = cls._paid_order(point, order)
        if mode not in {'cash', 'credit'}:
            raise error('msg_refund_mode')
        rows = cls.rows_of_order(order)
        total = sum((r[2] for r in rows), ZERO)
        if mode == 'credit':
            if total == order.total:
                credit, = Order.refund_as_credit([order])
            else:
                # tickets were refunded one by one: what is left
                Order.cancel([order])
                credit = cls.issue_credit(order, total)
            order = Order(order.id)
            return cls.record(point, 'refund_credit', order,
                amount=-credit.amount, credit=credit.id)
        if order.credit_paid:
            raise error('msg_refund_credit_only', 'order_state',
                order=order.rec_name)
        lines = cls.sale_lines(point, rows, sign=-1)
        sale = cls.create_sale(point, lines,
            [(cls.cash_method(point), -total)])
        Order.cancel([order])
        cash_back, = [p for p in sale.payments if p.amount < 0] or [None]
        cls.refund_payments(Order(order.id), total,
            _reference(cash_back) if cash_back else _reference(sale))
        return cls.record(point, 'refund', Order(order.id), sale=sale.id,
            amount=-total)

    @classmethod
    def exchange(cls, point, order, session, payments, seats=None):
        """Exchange the tickets of a paid order for the same tariffs in
        another session of the same event; the difference is charged by
        payments or given back in cash. Return the operation."""
        pool = Pool()
        Order = pool.get('ticket.order')
        Payment = pool.get('ticket.order.payment')
        cls.check_point(point)
        cls.cash_session(point)
        order = cls._paid_order(point, order)
        tickets = [l for l in order.lines if l.kind == 'ticket']
        if (not tickets or any(not l.tariff or not l.session
                    or getattr(l.tariff, 'pass_kind', None)
                    for l in tickets)
                or any(l.kind == 'product' for l in order.lines)
                or any(t.state == 'cancelled' for t in order.tickets)
                or order.credit_paid):
            raise error('msg_exchange_not_possible', 'order_state',
                order=order.rec_name)
        if (session.event != tickets[0].session.event
                or session in {l.session for l in tickets}):
            raise error('msg_exchange_session', 'invalid',
                session=session.rec_name)
        quote = cls.quote(point, [(l.tariff, session, l.quantity)
                for l in tickets], email=order.email)
        difference = quote.to_pay - order.total
        if difference > 0:
            kept, change = cls.settle_payments(point, difference, payments)
        else:
            if payments:
                raise error('msg_nothing_to_pay', 'payment_invalid')
            kept, change = [], ZERO
            if difference < 0:
                kept = [(cls.cash_method(point), difference)]
        hold = cls.hold(quote, seats)
        new = Order.create_from_quote(quote, [hold], party=order.party,
            email=order.email, phone=order.phone,
            payment_delay=PAYMENT_DELAY)
        lines = (cls.sale_lines(point, cls.rows_of_order(order), sign=-1)
            + cls.sale_lines(point, [
                    (l.product, l.quantity, l.total, l.untaxed)
                    for l in quote.lines]))
        sale = cls.create_sale(point, lines, kept)
        Order.cancel([order])
        cls.refund_payments(Order(order.id), order.total,
            f'exchange:{new.id}')
        carried = min(order.total, quote.to_pay)
        if carried > 0:
            Payment.record(new, 'pos', f'exchange:{order.id}:{new.id}',
                carried, method='other')
        cls.pay_order(Order(new.id), sale)
        return cls.record(point, 'exchange', Order(order.id),
            new_order=new.id, sale=sale.id, amount=difference,
            change=change)

    @classmethod
    def change_holder(cls, point, ticket, name):
        "Print another name on a ticket; return the operation"
        Ticket = Pool().get('ticket.ticket')
        cls.check_point(point)
        cls.cash_session(point)
        name = (name or '').strip() if isinstance(name, str) else None
        if not name or len(name) > MAX_NAME:
            raise error('msg_holder_name', maximum=MAX_NAME)
        if ticket.company != point.company:
            raise error('msg_order_other_company', 'not_found')
        if ticket.state == 'cancelled':
            raise error('msg_ticket_cancelled', 'order_state',
                ticket=ticket.number)
        previous = ticket.holder_name or ''
        Ticket.write([ticket], {'holder_name': name})
        return cls.record(point, 'holder', ticket.order,
            note=f'{ticket.number}: {previous} → {name}'[:200])
