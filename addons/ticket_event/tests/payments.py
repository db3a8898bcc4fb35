"Tests of the payments of orders: idempotent, late, refunded."
from decimal import Decimal
from unittest.mock import patch

from psycopg import errors

from trytond.model.exceptions import SQLConstraintError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from ..payment import PaymentError
from .helpers import counts, create_event, reserve


def priced_order(session, quantity, unit_price='10.00', **kwargs):
    "A reserved order of quantity places of session at unit_price"
    pool = Pool()
    Order = pool.get('ticket.order')
    OrderLine = pool.get('ticket.order.line')
    hold = reserve(session, quantity)
    return Order.create_from_holds([hold], lines=[OrderLine(
                session=session, description="Adult", quantity=quantity,
                unit_price=Decimal(unit_price))], **kwargs)


class PaymentTestMixin:
    "Payments of orders"

    @with_transaction()
    def test_payment_pays_order(self):
        "A payment covering the order pays it and issues its tickets"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = priced_order(session, 2)
            self.assertEqual(order.amount_due, Decimal('20.00'))

            payment, created = Payment.record(
                order, 'manual', 'BANK-1', Decimal('20'), method='transfer')

            self.assertTrue(created)
            order = Order(order.id)
            self.assertEqual(order.state, 'paid')
            self.assertEqual(len(order.tickets), 2)
            self.assertEqual(order.amount_paid, Decimal('20.00'))
            self.assertEqual(order.amount_due, Decimal(0))
            self.assertEqual(payment.state, 'succeeded')
            self.assertEqual(payment.currency, company.currency)
            self.assertEqual(counts(session.pool), [(0, 2)])

    @with_transaction()
    def test_payment_pays_order_in_one_write(self):
        "The paid order is written once, its transition logged once"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = priced_order(session, 1)
            transaction = Transaction()
            transaction.log_records.clear()
            writes, paid = [], []
            write = Order.write
            write_paid = Order._write_paid

            def spy(*args):
                writes.extend(
                    (tuple(r.id for r in records), tuple(sorted(values)))
                    for records, values in zip(args[::2], args[1::2])
                    if records)
                return write(*args)

            def spy_paid(orders, values):
                paid.append((tuple(o.id for o in orders),
                        tuple(sorted(values))))
                return write_paid(orders, values)
            with patch.object(Order, 'write', spy), \
                    patch.object(Order, '_write_paid', spy_paid):
                Payment.record(order, 'manual', 'BANK-ONCE', Decimal('10'),
                    method='transfer')

            # one UPDATE of the payment's values (no write, no second write
            # of the transition)
            self.assertEqual(paid, [((order.id,),
                        ('paid_at', 'reserved_until', 'state'))])
            self.assertEqual(writes, [])
            order = Order(order.id)
            self.assertEqual(order.state, 'paid')
            self.assertIsNotNone(order.paid_at)
            self.assertIsNone(order.reserved_until)
            self.assertIsNotNone(order.write_date)
            # the history entry written at once (not left to the commit)
            self.assertEqual([(l.event, l.target)
                    for l in transaction.log_records
                    if l.resource == order and l.event == 'transition'], [])
            Log = pool.get('ir.model.log')
            self.assertEqual([(l.event, l.target) for l in Log.search([
                            ('resource', '=', str(order)),
                            ('event', '=', 'transition'),
                            ])],
                [('transition', 'state:paid')])

    def _log_rows(self, order):
        "The history rows of order as stored, without their ids"
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT create_uid, create_date, write_uid, '
            'write_date, resource, event, target, "user" '
            'FROM ir_model_log WHERE resource = %s ORDER BY id',
            (str(order),))
        return cursor.fetchall()

    @with_transaction()
    def test_payment_log_as_orm(self):
        "The paid transition's history row is the one the ORM stores"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            paid, other = priced_order(session, 1), priced_order(session, 1)
            transaction = Transaction()
            transaction.log_records.clear()
            Payment.record(paid, 'manual', 'LOG-1', Decimal('10'))
            self.assertEqual(Order(paid.id).state, 'paid')
            plain = self._log_rows(paid)

            # the ORM's: the entry saved at the commit
            Order.log([other], 'transition', 'state:paid')
            transaction._store_log_records()
            orm = self._log_rows(other)

            self.assertEqual(len(plain), 1)
            self.assertEqual([r[:4] + r[5:] for r in plain],
                [r[:4] + r[5:] for r in orm])
            self.assertEqual(plain[0][4], f'ticket.order,{paid.id}')

    @with_transaction()
    def test_payment_log_fallback(self):
        "A trigger on the history's creation: the ORM saves it at commit"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        Trigger = pool.get('ir.trigger')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = priced_order(session, 1)
            transaction = Transaction()
            transaction.log_records.clear()
            get_triggers = Trigger.get_triggers

            def triggers(model, mode):
                if model == 'ir.model.log':
                    return [None]
                return get_triggers(model, mode)
            with patch.object(Trigger, 'get_triggers', triggers):
                Payment.record(order, 'manual', 'LOG-2', Decimal('10'))
            self.assertEqual(Order(order.id).state, 'paid')
            self.assertEqual(self._log_rows(order), [])
            self.assertEqual([(l.event, l.target)
                    for l in transaction.log_records
                    if l.resource == order and l.event == 'transition'],
                [('transition', 'state:paid')])

    @with_transaction()
    def test_payment_cached_as_stored(self):
        "The new payment's values kept in the cache are those stored"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = priced_order(session, 2)
            names = ['order', 'kind', 'provider', 'method', 'amount',
                'currency', 'reference', 'state']
            payment, _ = Payment.record(
                order, 'manual', 'CACHED-1', Decimal('20'))
            cached = {n: payment._cache[payment.id][n] for n in names}
            Transaction().counter += 1
            for cache in Transaction().cache.values():
                cache.clear()
            stored = Payment.read([payment.id], names)[0]
            self.assertEqual(cached, {n: stored[n] for n in names})
            self.assertEqual(str(cached['amount']), str(stored['amount']))
            self.assertEqual(Payment(payment.id).state, 'succeeded')

    def _ticket_rows(self, order):
        "The stored tickets of order, as the columns that do not differ"
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT company, session, holder_name, holder_email, '
            'type_label, price, state, create_uid, write_uid, write_date, '
            'number, secret, line '
            'FROM ticket_ticket WHERE "order" = %s ORDER BY id', (order.id,))
        return cursor.fetchall()

    @with_transaction()
    def test_tickets_plain_as_orm(self):
        "The tickets issued by one plain INSERT are those the ORM saves, "
        "with the numbers of the sequence in turn, and cached as stored"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        Ticket = pool.get('ticket.ticket')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            plain, orm = (priced_order(session, 3, email='a@example.com'),
                priced_order(session, 3, email='a@example.com'))
            calls = []
            insert_plain = Order.insert_plain.__func__

            def spy(cls, model, *args, **kwargs):
                calls.append(model)
                return insert_plain(cls, model, *args, **kwargs)
            with patch.object(Order, 'insert_plain', classmethod(spy)):
                Payment.record(plain, 'manual', 'PLAIN-1', Decimal('30'))
            self.assertEqual(calls, ['ticket.ticket'])
            tickets = Order(plain.id).tickets
            names = ['number', 'secret', 'company', 'order', 'line',
                'session', 'holder_name', 'holder_email', 'type_label',
                'price', 'state']
            cached = [{n: t._cache[t.id][n] for n in names}
                for t in sorted(tickets, key=lambda t: t.id)]
            with patch.object(Ticket, '_plain_issue',
                    classmethod(lambda cls, vlist: False)):
                Payment.record(orm, 'manual', 'ORM-1', Decimal('30'))

            plain_rows = self._ticket_rows(plain)
            orm_rows = self._ticket_rows(orm)
            self.assertEqual(len(plain_rows), 3)
            self.assertEqual([r[:8] for r in plain_rows],
                [r[:8] for r in orm_rows])
            self.assertEqual([r[8:10] for r in plain_rows],
                [(None, None)] * 3)
            self.assertEqual(plain_rows[0][5], Decimal('10.00'))
            # the numbers follow each other, of the same form
            numbers = [r[10] for r in plain_rows + orm_rows]
            self.assertEqual([int(n[-4:]) - int(numbers[0][-4:])
                    for n in numbers], list(range(6)))
            self.assertEqual({len(n) for n in numbers}, {len(numbers[0])})
            self.assertEqual(len({r[11] for r in plain_rows + orm_rows}), 6)
            for cache in Transaction().cache.values():
                cache.clear()
            stored = Ticket.read([t['id'] for t in sorted(
                        Ticket.read([t.id for t in tickets], ['id']),
                        key=lambda t: t['id'])], names)
            self.assertEqual(cached, [{n: s[n] for n in names}
                    for s in stored])

    @with_transaction()
    def test_tickets_plain_constraint_error(self):
        "A ticket that breaks a constraint of the table gets the ORM's "
        "error and nothing is paid"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = priced_order(session, 2)
            cursor = Transaction().connection.cursor()
            cursor.execute('SAVEPOINT tickets')
            with patch('guichet.ticket_event.ticket.new_secret',
                    lambda: 'the-same-secret'), \
                    self.assertRaises(SQLConstraintError) as raised:
                Payment.record(order, 'manual', 'SAME-1', Decimal('20'))
            cursor.execute('ROLLBACK TO SAVEPOINT tickets')
            self.assertIn('secret', str(raised.exception).lower())
            self.assertEqual(Order(order.id).state, 'reserved')
            self.assertEqual(Order(order.id).tickets, ())

    @with_transaction()
    def test_payment_same_reference_twice(self):
        "The same notification twice makes one payment"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = priced_order(session, 2)

            first, created = Payment.record(
                order, 'manual', 'PAY-1', Decimal('20'))
            second, again = Payment.record(
                order, 'manual', 'PAY-1', Decimal('20'))

            self.assertTrue(created)
            self.assertFalse(again)
            self.assertEqual(first, second)
            self.assertEqual(len(Payment.search([])), 1)
            order = Order(order.id)
            self.assertEqual(len(order.tickets), 2)
            self.assertEqual(order.amount_paid, Decimal('20.00'))

    @with_transaction()
    def test_payment_reference_unique_in_database(self):
        "PostgreSQL refuses a second row with the same provider reference"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = priced_order(session, 1)
            Payment.record(order, 'manual', 'PAY-1', Decimal('10'))
            cursor = Transaction().connection.cursor()
            cursor.execute('SAVEPOINT duplicate')
            with self.assertRaises(errors.UniqueViolation):
                cursor.execute(
                    'INSERT INTO ticket_order_payment (create_uid, '
                    'create_date, "order", company, kind, provider, '
                    'method, amount, currency, reference, date, state) '
                    'SELECT create_uid, create_date, "order", company, '
                    'kind, provider, method, amount, currency, reference, '
                    'date, state FROM ticket_order_payment')
            cursor.execute('ROLLBACK TO SAVEPOINT duplicate')
            self.assertEqual(len(Payment.search([])), 1)

    @with_transaction()
    def test_payment_partial(self):
        "An order stays reserved until its payments cover it"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = priced_order(session, 3)

            Payment.record(order, 'manual', None, Decimal('10'),
                method='cheque')
            self.assertEqual(Order(order.id).state, 'reserved')
            self.assertEqual(Order(order.id).amount_due, Decimal('20.00'))
            Payment.record(order, 'manual', None, Decimal('20'),
                method='cheque')

            order = Order(order.id)
            self.assertEqual(order.state, 'paid')
            self.assertEqual(len(order.payments), 2)

    @with_transaction()
    def test_payment_invalid(self):
        "A payment of nothing, an unknown provider or method is refused"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = priced_order(session, 1)
            for amount in [Decimal(0), Decimal('-5'), Decimal('0.001'),
                    Decimal('NaN'), 1.5, '10', True, None]:
                with self.subTest(amount=amount):
                    with self.assertRaises(PaymentError):
                        Payment.record(order, 'manual', 'X', amount)
            with self.assertRaises(PaymentError):
                Payment.record(order, 'nobody', 'X', Decimal(10))
            with self.assertRaises(PaymentError):
                Payment.record(order, 'manual', 'X', Decimal(10),
                    method='gold')
            with self.assertRaises(PaymentError):
                Payment.record(order, 'manual', 'x' * 201, Decimal(10))
            self.assertEqual(Payment.search([]), [])
            self.assertEqual(Order(order.id).state, 'reserved')

    @with_transaction()
    def test_payment_after_expiry_takes_places_again(self):
        "A late payment takes the places back when they are still free"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        CapacityPool = pool.get('ticket.pool')
        company = create_company()
        with set_company(company):
            event, (session,) = create_event(company, (10,))
            shared = CapacityPool(name="Stalls", event=event, capacity=5,
                sessions=[session])
            shared.save()
            order = priced_order(session, 4)
            Order.expire([order])
            self.assertEqual(counts(session.pool, shared), [(0, 0), (0, 0)])

            payment, _ = Payment.record(
                order, 'manual', 'LATE-1', Decimal('40'))

            order = Order(order.id)
            self.assertEqual(payment.state, 'succeeded')
            self.assertEqual(order.state, 'paid')
            self.assertEqual(len(order.tickets), 4)
            self.assertEqual(counts(session.pool, shared), [(0, 4), (0, 4)])
            self.assertEqual(CapacityPool.check_counts(), [])

    @with_transaction()
    def test_payment_after_expiry_places_gone(self):
        "A late payment whose places were sold since is to be refunded"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        CapacityPool = pool.get('ticket.pool')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (5,))
            order = priced_order(session, 4)
            Order.expire([order])
            reserve(session, 2)

            payment, created = Payment.record(
                order, 'manual', 'LATE-2', Decimal('40'))

            self.assertTrue(created)
            self.assertEqual(payment.state, 'refund_due')
            self.assertIn("expired", payment.note)
            order = Order(order.id)
            self.assertEqual(order.state, 'expired')
            self.assertEqual(order.tickets, ())
            self.assertEqual(counts(session.pool), [(2, 0)])
            self.assertEqual(CapacityPool.check_counts(), [])

            # the same notification again changes nothing
            again, created = Payment.record(
                order, 'manual', 'LATE-2', Decimal('40'))
            self.assertFalse(created)
            self.assertEqual(again, payment)
            self.assertEqual(counts(session.pool), [(2, 0)])

    @with_transaction()
    def test_payment_after_expiry_session_started(self):
        "A late payment for a session that began is to be refunded"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (5,))
            order = priced_order(session, 1)
            Order.expire([order])
            Session.cancel([session])

            payment, _ = Payment.record(
                order, 'manual', 'LATE-3', Decimal('10'))
            self.assertEqual(payment.state, 'refund_due')
            self.assertEqual(counts(session.pool), [(0, 0)])

    @with_transaction()
    def test_payment_for_cancelled_order(self):
        "A payment for a cancelled order is to be refunded"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (5,))
            order = priced_order(session, 1)
            Order.cancel([order])

            payment, _ = Payment.record(
                order, 'manual', 'C-1', Decimal('10'))
            self.assertEqual(payment.state, 'refund_due')
            self.assertEqual(Order(order.id).state, 'cancelled')
            self.assertEqual(Order(order.id).amount_paid, Decimal(0))

            Payment.mark_refunded([payment])
            payment = Payment(payment.id)
            self.assertEqual(payment.state, 'refunded')
            refund, = payment.refunds
            self.assertEqual(refund.kind, 'refund')
            self.assertEqual(refund.amount, Decimal('10.00'))

    @with_transaction()
    def test_payment_refund(self):
        "Refunds take back up to the amount of the payment"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (5,))
            order = priced_order(session, 2)
            payment, _ = Payment.record(
                order, 'manual', 'R-1', Decimal('20'))

            Payment.refund(payment, Decimal('5'), reference='R-1-a')
            self.assertEqual(Payment(payment.id).state, 'succeeded')
            self.assertEqual(Order(order.id).amount_paid, Decimal('15.00'))
            with self.assertRaises(PaymentError):
                Payment.refund(payment, Decimal('15.01'))
            Payment.refund(payment, reference='R-1-b')

            payment = Payment(payment.id)
            self.assertEqual(payment.state, 'refunded')
            self.assertEqual(payment.refundable_amount, Decimal(0))
            self.assertEqual(
                sorted(r.amount for r in Order(order.id).refunds),
                [Decimal('5.00'), Decimal('15.00')])
            with self.assertRaises(PaymentError):
                Payment.refund(payment, Decimal('1'))

    @with_transaction()
    def test_order_money_figures_as_records_give_them(self):
        "The total and amount paid of one query equal the records' sums"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        OrderLine = pool.get('ticket.order.line')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (20,))
            bare = priced_order(session, 1, '7.00')
            lines = priced_order(session, 3, '4.35')
            OrderLine.create([{
                        'order': lines.id, 'description': "Donation",
                        'quantity': 3, 'unit_price': Decimal('0.35'),
                        'tickets_per_unit': 0}])
            refunded = priced_order(session, 2)
            Payment.record(lines, 'manual', 'M-1', Decimal('5'))
            payment, _ = Payment.record(
                refunded, 'manual', 'M-2', Decimal('20'))
            Payment.refund(payment, Decimal('3'), reference='M-2-a')
            Payment.refund(payment, Decimal('4'), reference='M-2-b',
                state='pending')
            late = priced_order(session, 1)
            Order.cancel([late])
            Payment.record(late, 'manual', 'M-3', Decimal('10'))

            orders = Order.browse([bare.id, lines.id, refunded.id, late.id])
            figures = {o.id: (o.total, o.amount_paid) for o in orders}

            def paid(order):
                amount = Decimal(0)
                for p in Payment.search([('order', '=', order.id)]):
                    if p.state != 'succeeded':
                        continue
                    if p.kind == 'payment':
                        amount += p.amount
                    elif p.refund_of.state == 'succeeded':
                        amount -= p.amount
                return amount
            expected = {o.id: (
                    sum((l.amount for l in o.lines), Decimal(0)), paid(o))
                for o in Order.browse([o.id for o in orders])}
            self.assertEqual(figures, expected)
            self.assertEqual(figures, {
                    bare.id: (Decimal('7.00'), Decimal(0)),
                    lines.id: (Decimal('14.10'), Decimal('5.00')),
                    refunded.id: (Decimal('20.00'), Decimal('17.00')),
                    late.id: (Decimal('10.00'), Decimal(0)),
                    })
            self.assertEqual(
                Order.read([lines.id], ['total', 'amount_paid']),
                [{'id': lines.id, 'total': Decimal('14.10'),
                        'amount_paid': Decimal('5.00')}])

    @with_transaction()
    def test_payment_refund_pending(self):
        "A pending refund is set aside until someone confirms it was sent"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (5,))
            order = priced_order(session, 2)
            payment, _ = Payment.record(
                order, 'manual', 'P-1', Decimal('20'))

            refund = Payment.refund(
                payment, Decimal('12'), reference='P-1-r', state='pending')
            self.assertEqual(refund.state, 'pending')
            payment = Payment(payment.id)
            self.assertEqual(payment.state, 'succeeded')
            self.assertEqual(payment.refundable_amount, Decimal('8.00'))
            with self.assertRaises(PaymentError):
                Payment.refund(payment, Decimal('8.01'))

            Payment.confirm_refund([refund])
            self.assertEqual(Payment(refund.id).state, 'succeeded')
            self.assertEqual(Payment(payment.id).state, 'succeeded')
            self.assertEqual(Order(order.id).amount_paid, Decimal('8.00'))
            Payment.refund(Payment(payment.id), reference='P-1-s')
            self.assertEqual(Payment(payment.id).state, 'refunded')

    @with_transaction()
    def test_payment_record_wizard(self):
        "The organizer records a transfer: the order is paid"
        pool = Pool()
        Order = pool.get('ticket.order')
        RecordPayment = pool.get('ticket.order.record_payment', type='wizard')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (5,))
            order = priced_order(session, 2)

            session_id, _, _ = RecordPayment.create()
            with Transaction().set_context(
                    active_model='ticket.order', active_id=order.id,
                    active_ids=[order.id]):
                wizard = RecordPayment(session_id)
                values = wizard.default_start(None)
                self.assertEqual(values['amount'], Decimal('20.00'))
                wizard.start.amount = values['amount']
                wizard.start.method = 'transfer'
                wizard.start.reference = 'VIR 2026-001'
                wizard.start.date = values['date']
                wizard.transition_register()

            order = Order(order.id)
            self.assertEqual(order.state, 'paid')
            payment, = order.payments
            self.assertEqual(
                (payment.provider, payment.method, payment.reference),
                ('manual', 'transfer', 'VIR 2026-001'))
