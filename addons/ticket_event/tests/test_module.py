import base64
import datetime as dt
import json
from decimal import Decimal

from trytond.model.exceptions import SQLConstraintError, ValidationError
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.pool import Pool
from trytond.protocols.jsonrpc import JSONEncoder
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from ..common import company_currency, forget_records, now
from ..exceptions import CapacityError, HoldError, OrderError, SaleClosedError
from .access import AccessTestMixin
from .helpers import counts, create_event, reserve, sell
from .payments import PaymentTestMixin
from .reports import ReportTestMixin
from .sessions import SessionTestMixin
from .translations import TranslationTestMixin
from .views import ListViewTestMixin


class TicketEventTestCase(
        SessionTestMixin, ReportTestMixin, AccessTestMixin, PaymentTestMixin,
        ListViewTestMixin, TranslationTestMixin, CompanyTestMixin,
        ModuleTestCase):
    "Test the ticket_event module"
    module = 'ticket_event'

    @with_transaction()
    def test_reserve_takes_places_in_every_pool(self):
        "Reserve holds places in the session pool and the shared pools"
        pool = Pool()
        CapacityPool = pool.get('ticket.pool')
        company = create_company()
        with set_company(company):
            event, (session1, session2) = create_event(company, (10, 10))
            shared = CapacityPool(
                name="Shared", event=event, capacity=15,
                sessions=[session1, session2])
            shared.save()

            hold = Pool().get('ticket.hold').reserve([
                    {'session': session1, 'quantity': 4},
                    {'session': session2, 'quantity': 3},
                    ])

            self.assertEqual(hold.state, 'active')
            self.assertEqual(hold.quantity, 7)
            self.assertEqual(len(hold.token), 32)
            self.assertEqual(
                counts(session1.pool, session2.pool, shared),
                [(4, 0), (3, 0), (7, 0)])
            self.assertEqual(
                sorted((a.pool.id, a.quantity) for a in hold.allocations),
                sorted([(session1.pool.id, 4), (session2.pool.id, 3),
                        (shared.id, 7)]))
            session1 = session1.__class__(session1.id)
            self.assertEqual(session1.held, 4)
            self.assertEqual(session1.available, 6)

    @with_transaction()
    def test_reserve_all_or_nothing(self):
        "Reserve changes no pool when one pool lacks places"
        pool = Pool()
        CapacityPool = pool.get('ticket.pool')
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            event, (session1, session2) = create_event(company, (10, 10))
            shared = CapacityPool(
                name="Shared", event=event, capacity=5,
                sessions=[session1, session2])
            shared.save()
            pools = [session1.pool, session2.pool, shared]

            with self.assertRaises(CapacityError) as cm:
                Hold.reserve([
                        {'session': session1, 'quantity': 3},
                        {'session': session2, 'quantity': 3},
                        ])
            self.assertIn("Shared", cm.exception.message)
            self.assertEqual(counts(*pools), [(0, 0)] * 3)

            # the last pool in lock order is the full one
            with self.assertRaises(CapacityError):
                Hold.reserve([
                        {'session': session1, 'quantity': 2},
                        {'session': session2, 'quantity': 11},
                        ])
            self.assertEqual(counts(*pools), [(0, 0)] * 3)
            self.assertEqual(Hold.search([]), [])
            self.assertEqual(CapacityPool.check_counts(), [])

            reserve(session1, 5)
            self.assertEqual(counts(*pools), [(5, 0), (0, 0), (5, 0)])

    @with_transaction()
    def test_reserve_extra_pool(self):
        "Reserve counts places in the extra pools given"
        pool = Pool()
        CapacityPool = pool.get('ticket.pool')
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            event, (session,) = create_event(company, (10,))
            category = CapacityPool(name="Front", event=event, capacity=2)
            category.save()

            Hold.reserve([{
                        'session': session, 'quantity': 2,
                        'pools': [category], 'description': "Front"}])
            with self.assertRaises(CapacityError):
                Hold.reserve([{
                            'session': session, 'quantity': 1,
                            'pools': [category.id]}])

            self.assertEqual(
                counts(session.pool, category), [(2, 0), (2, 0)])

    @with_transaction()
    def test_reserve_quantity_validation(self):
        "Reserve refuses a quantity that is not a whole number in range"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            _, (session, other) = create_event(company, (2000, 10))

            for quantity in [
                    0, -1, 1001, True, False, 1.0, 2.5, '2', None,
                    Decimal(2)]:
                with self.subTest(quantity=quantity):
                    with self.assertRaises(HoldError):
                        Hold.reserve([
                                {'session': other, 'quantity': 1},
                                {'session': session, 'quantity': quantity},
                                ])
            with self.assertRaises(HoldError):
                Hold.reserve([{'session': session}])
            with self.assertRaises(HoldError):
                Hold.reserve([])
            self.assertEqual(
                counts(session.pool, other.pool), [(0, 0), (0, 0)])

            hold = reserve(session, 1000)
            self.assertEqual(hold.quantity, 1000)

    @with_transaction()
    def test_reserve_refused_when_not_on_sale(self):
        "Reserve checks the sale before taking places"
        pool = Pool()
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            Session.write([session], {'visibility': ['box_office']})
            with self.assertRaises(SaleClosedError):
                reserve(session, 2, channel='web')
            self.assertEqual(counts(session.pool), [(0, 0)])
            hold = reserve(session, 2, channel='box_office')
            self.assertEqual(hold.channel, 'box_office')

    @with_transaction()
    def test_company_currency_follows_changes(self):
        "The currency kept per process follows its company and its rounding"
        pool = Pool()
        Company = pool.get('company.company')
        Currency = pool.get('currency.currency')
        company = create_company()
        with set_company(company):
            currency = company.currency
            Currency.write([currency],
                {'rounding': Decimal('0.01'), 'digits': 2})
            self.assertEqual(company_currency(company), currency)
            self.assertEqual(
                company_currency(company).round(Decimal('1.234')),
                Decimal('1.23'))
            Currency.write([currency], {'rounding': Decimal('0.05')})
            self.assertEqual(
                company_currency(Company(company.id)).round(
                    Decimal('1.234')), Decimal('1.25'))
            other = Currency(name="Other", code='XOT', symbol='O',
                rounding=Decimal(1), digits=0)
            other.save()
            Company.write([company], {'currency': other.id})
            self.assertEqual(company_currency(Company(company.id)), other)
            self.assertEqual(
                company_currency(Company(company.id)).round(Decimal('1.4')),
                Decimal(1))

    @with_transaction()
    def test_configuration_setting_follows_changes(self):
        "The configuration kept per process follows its changes"
        pool = Pool()
        Configuration = pool.get('ticket.configuration')
        Sequence = pool.get('ir.sequence')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            self.assertEqual(Configuration.setting('hold_delay'),
                Configuration(1).hold_delay)
            config = Configuration(1)
            config.hold_delay = dt.timedelta(minutes=7)
            config.save()
            self.assertEqual(Configuration.setting('hold_delay'),
                dt.timedelta(minutes=7))
            hold = reserve(session, 1)
            self.assertAlmostEqual(
                (hold.expires_at - now()).total_seconds(), 7 * 60, delta=60)

            sequence, = Sequence.copy([Configuration(1).ticket_sequence])
            Configuration.write([Configuration(1)],
                {'ticket_sequence': sequence.id})
            self.assertEqual(
                Configuration.sequence('ticket_sequence'), sequence)

    @with_transaction()
    def test_getter_signatures_cached(self):
        "Function.getter_multiple: inspect's answer, kept per function"
        import inspect

        from trytond.model.fields import Function

        self.assertTrue(Function.getter_multiple.cached_per_function)
        pool = Pool()
        checked = 0
        for name in ['ticket.order', 'ticket.session', 'ticket.event']:
            Model = pool.get(name)
            for field in Model._fields.values():
                if isinstance(field, Function) and field.getter:
                    method = getattr(Model, field.getter)
                    expected = ('names'
                        in inspect.signature(method).parameters)
                    # twice: computed, then kept
                    for _ in range(2):
                        self.assertEqual(
                            field.getter_multiple(method), expected,
                            (name, field.name))
                    checked += expected
        # both kinds of getters were met
        self.assertGreater(checked, 0)

        class Getters:
            @classmethod
            def one(cls, records, name):
                pass

            @classmethod
            def several(cls, records, names):
                pass
        from trytond.model import fields
        field = Function(fields.Char('One'), 'one')
        self.assertFalse(field.getter_multiple(Getters.one))
        self.assertTrue(field.getter_multiple(Getters.several))

    @with_transaction()
    def test_sequence_get_as_orm(self):
        """sequence_get gives the numbers of Sequence.get, follows the
        changes of the sequence and leaves the others to Sequence.get"""
        from unittest import mock

        from .. import ir
        pool = Pool()
        Configuration = pool.get('ticket.configuration')
        Sequence = pool.get('ir.sequence')
        company = create_company()
        with set_company(company):
            sequence = Configuration.sequence('order_sequence')
            sequence, = Sequence.copy([sequence])
            # (in the transaction that changed sequences, the cache is
            # not used: sequence_get may call Sequence.get)
            numbers = [ir.sequence_get(sequence.id),
                Sequence(sequence.id).get(), ir.sequence_get(sequence.id)]
            n = int(numbers[0][1:])
            self.assertEqual(numbers,
                [f'C{n:06d}', f'C{n + 1:06d}', f'C{n + 2:06d}'])
            Sequence.write([sequence], {'prefix': 'X-', 'padding': 4,
                    'suffix': '-${date_y}'})
            year = dt.date.today().strftime('%y')
            self.assertEqual(
                ir.sequence_get(sequence.id), f'X-{n + 3:04d}-{year}')
            self.assertEqual(
                Sequence(sequence.id).get(), f'X-{n + 4:04d}-{year}')
            # many numbers by one statement, in turn
            self.assertEqual(ir.sequence_get_many(sequence.id, 3),
                [f'X-{n + i:04d}-{year}' for i in (5, 6, 7)])
            self.assertEqual(ir.sequence_get_many(sequence.id, 0), [])
            Sequence.write([sequence], {'type': 'decimal timestamp'})
            with mock.patch.object(
                    Sequence, 'get_many', autospec=True,
                    side_effect=Sequence.get_many) as get_many:
                ir.sequence_get(sequence.id)
                self.assertEqual(len(ir.sequence_get_many(sequence.id, 2)),
                    2)
                self.assertEqual(get_many.call_count, 2)

    @with_transaction()
    def test_quantities_checked_by_database(self):
        "A hold item, allocation or order line of no place is refused"
        pool = Pool()
        HoldItem = pool.get('ticket.hold.item')
        Allocation = pool.get('ticket.allocation')
        OrderLine = pool.get('ticket.order.line')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            hold = reserve(session, 2)
            item, = hold.items
            allocation, = hold.allocations
            order = sell(session, 1)
            line, = order.lines
            cursor = Transaction().connection.cursor()
            for Model, record, values in [
                    (HoldItem, item, {'quantity': 0}),
                    (HoldItem, item, {'places_per_unit': -1}),
                    (Allocation, allocation, {'quantity': -2}),
                    (OrderLine, line, {'quantity': 0}),
                    (OrderLine, line, {'tickets_per_unit': -1}),
                    ]:
                with self.subTest(model=Model.__name__, values=values):
                    cursor.execute('SAVEPOINT quantity_check')
                    with self.assertRaises(SQLConstraintError):
                        Model.write([Model(record.id)], values)
                    cursor.execute('ROLLBACK TO SAVEPOINT quantity_check')
            self.assertEqual(
                (HoldItem(item.id).quantity, OrderLine(line.id).quantity),
                (2, 1))

    @with_transaction()
    def test_reserve_one_company(self):
        "A hold takes places of the sessions of one company only"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        company_a = create_company("A")
        company_b = create_company("B", currency=company_a.currency)
        with set_company(company_a):
            _, (session_a,) = create_event(company_a, (10,))
        with set_company(company_b):
            _, (session_b,) = create_event(company_b, (10,))

            with self.assertRaisesRegex(HoldError, "one company"):
                Hold.reserve([
                        {'session': session_b, 'quantity': 1},
                        {'session': session_a, 'quantity': 1},
                        ])
            with self.assertRaisesRegex(HoldError, "one company"):
                reserve(session_a, 1, company=company_b)
            self.assertEqual(
                counts(session_a.pool, session_b.pool), [(0, 0), (0, 0)])
            self.assertEqual(reserve(session_b, 1).company, company_b)

    @with_transaction()
    def test_hold_release_twice(self):
        "Releasing a hold twice gives its places back once"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            hold = reserve(session, 3)
            other = reserve(session, 2)

            # the client reads the answer of the button
            json.dumps(Hold.release([hold]), cls=JSONEncoder)
            Hold.release([hold])
            Hold.release([Hold(hold.id)])

            self.assertEqual(Hold(hold.id).state, 'released')
            self.assertEqual(counts(session.pool), [(2, 0)])
            self.assertEqual(
                {a.state for a in Hold(hold.id).allocations}, {'returned'})

            Hold.write([hold], {'expires_at': now() - dt.timedelta(hours=1)})
            Hold.expire_stale()
            self.assertEqual(Hold(hold.id).state, 'released')
            self.assertEqual(counts(session.pool), [(2, 0)])
            self.assertEqual(Hold(other.id).state, 'active')

    @with_transaction()
    def test_hold_expire_stale(self):
        "The cron expires the holds past their expiry and only them"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            stale = reserve(session, 3)
            live = reserve(session, 2)
            Hold.write([stale], {'expires_at': now() - dt.timedelta(
                        seconds=1)})

            self.assertEqual(Hold.expire_stale(), [stale])
            self.assertEqual(Hold.expire_stale(), [])

            self.assertEqual(Hold(stale.id).state, 'expired')
            self.assertEqual(Hold(live.id).state, 'active')
            self.assertEqual(counts(session.pool), [(2, 0)])

    @with_transaction()
    def test_delete_holds(self):
        "Deleting a cart gives its places back; an ordered hold stays"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        CapacityPool = pool.get('ticket.pool')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            cart = reserve(session, 2)
            ordered = reserve(session, 3)
            order = Order.create_from_holds([ordered])

            Hold.delete([cart])
            self.assertEqual(counts(session.pool), [(3, 0)])
            with self.assertRaisesRegex(HoldError, order.number):
                Hold.delete([Hold(ordered.id)])
            Order.pay([order])
            self.assertEqual(counts(session.pool), [(0, 3)])
            self.assertEqual(CapacityPool.check_counts(), [])

    @with_transaction()
    def test_convert_expired_hold(self):
        "An order cannot take the places of an expired or released hold"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            late = reserve(session, 2)
            Hold.write([late], {'expires_at': now() - dt.timedelta(
                        seconds=1)})
            with self.assertRaisesRegex(HoldError, late.token[:8]):
                Order.create_from_holds([late])

            released = reserve(session, 1)
            Hold.release([released])
            with self.assertRaises(HoldError):
                Order.create_from_holds([released])

            self.assertEqual(Order.search([]), [])
            self.assertEqual(Hold(late.id).state, 'active')

    @with_transaction()
    def test_order_from_holds(self):
        "An order takes over the places of its holds"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            _, (session1, session2) = create_event(company, (10, 10))
            party = Party(name="Jean Valjean")
            party.save()
            holds = [reserve(session1, 2), reserve(session2, 1)]

            order = Order.create_from_holds(
                holds + [holds[0]], party=party, email='jean@example.com')

            self.assertEqual(order.state, 'reserved')
            self.assertTrue(order.number.startswith('C'))
            self.assertEqual(order.company, company)
            self.assertEqual(order.channel, 'web')
            self.assertEqual(
                sorted((l.session.id, l.quantity) for l in order.lines),
                [(session1.id, 2), (session2.id, 1)])
            self.assertEqual(order.total, Decimal(0))
            self.assertGreater(order.reserved_until, now())
            self.assertEqual(
                {h.state for h in Hold.browse(holds)}, {'converted'})
            self.assertEqual(len(order.allocations), 2)
            self.assertEqual(
                counts(session1.pool, session2.pool), [(2, 0), (1, 0)])

            with self.assertRaises(OrderError):
                Order.create_from_holds([])

    @with_transaction()
    def test_pay_issues_tickets(self):
        "Paying an order sells its places and issues its tickets"
        pool = Pool()
        Order = pool.get('ticket.order')
        OrderLine = pool.get('ticket.order.line')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = Order.create_from_holds([reserve(session, 2)])
            line, = order.lines
            OrderLine.write([line], {
                    'unit_price': Decimal('30.00'), 'description': "Adult"})

            Order.pay([order])

            order = Order(order.id)
            self.assertEqual(order.state, 'paid')
            self.assertIsNotNone(order.paid_at)
            self.assertIsNone(order.reserved_until)
            self.assertEqual(order.total, Decimal('60.00'))
            self.assertEqual(len(order.tickets), 2)
            self.assertEqual(
                {t.price for t in order.tickets}, {Decimal('30.00')})
            self.assertEqual({t.type_label for t in order.tickets},
                {"Adult"})
            self.assertTrue(all(t.number.startswith('T')
                    for t in order.tickets))
            self.assertEqual(counts(session.pool), [(0, 2)])
            self.assertEqual(
                {a.state for a in order.allocations}, {'sold'})

    @with_transaction()
    def test_pay_twice(self):
        "Paying an order twice issues its tickets once"
        pool = Pool()
        Order = pool.get('ticket.order')
        Ticket = pool.get('ticket.ticket')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = sell(session, 3)

            Order.pay([order])
            Order.pay([Order(order.id)])

            self.assertEqual(len(Ticket.search([])), 3)
            self.assertEqual(len(Order(order.id).tickets), 3)
            self.assertEqual(counts(session.pool), [(0, 3)])

    @with_transaction()
    def test_pay_ended_order(self):
        "Paying a cancelled or expired order is refused"
        pool = Pool()
        Order = pool.get('ticket.order')
        Ticket = pool.get('ticket.ticket')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            cancelled = Order.create_from_holds([reserve(session, 1)])
            Order.cancel([cancelled])
            expired = Order.create_from_holds([reserve(session, 1)])
            Order.expire([expired])

            for order in [cancelled, expired]:
                with self.assertRaisesRegex(
                        OrderError, "not waiting for payment"):
                    Order.pay([Order(order.id)])
            self.assertEqual(Ticket.search([]), [])
            self.assertEqual(counts(session.pool), [(0, 0)])

    @with_transaction()
    def test_cancel_orders(self):
        "Cancelling an order returns its places, sold or held, once"
        pool = Pool()
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            paid = sell(session, 3)
            reserved = Order.create_from_holds([reserve(session, 2)])
            self.assertEqual(counts(session.pool), [(2, 3)])

            Order.cancel([paid])
            self.assertEqual(counts(session.pool), [(2, 0)])
            paid = Order(paid.id)
            self.assertEqual(paid.state, 'cancelled')
            self.assertIsNotNone(paid.cancelled_at)
            self.assertEqual({t.state for t in paid.tickets}, {'cancelled'})

            Order.cancel([reserved])
            Order.cancel([Order(reserved.id), Order(paid.id)])
            self.assertEqual(counts(session.pool), [(0, 0)])
            self.assertEqual(
                {a.state for a in Order(reserved.id).allocations},
                {'returned'})

    @with_transaction()
    def test_order_expire_stale(self):
        "The cron expires the reserved orders past their payment delay"
        pool = Pool()
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            late = Order.create_from_holds([reserve(session, 2)])
            waiting = Order.create_from_holds([reserve(session, 1)])
            paid = Order.create_from_holds([reserve(session, 1)])
            Order.write([late, paid], {
                    'reserved_until': now() - dt.timedelta(minutes=1)})
            Order.pay([paid])

            self.assertEqual(Order.expire_stale(), [late])
            self.assertEqual(Order.expire_stale(), [])
            self.assertEqual(
                [o.state for o in Order.browse([late, waiting, paid])],
                ['expired', 'reserved', 'paid'])
            self.assertEqual(counts(session.pool), [(1, 1)])

    @with_transaction()
    def test_delete_order(self):
        "Only an ended order may be deleted"
        pool = Pool()
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            order = Order.create_from_holds([reserve(session, 1)])
            with self.assertRaises(OrderError):
                Order.delete([order])

    @with_transaction()
    def test_pool_capacity_below_sold_and_held(self):
        "The capacity of a pool cannot go below its sold and held places"
        pool = Pool()
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            sell(session, 3)
            reserve(session, 2)

            Session.write([session], {'capacity': 5})
            self.assertEqual(Session(session.id).pool.capacity, 5)
            self.assertEqual(Session(session.id).available, 0)
            with self.assertRaisesRegex(
                    ValidationError, "cannot be lower than its sold"):
                Session.write([session], {'capacity': 4})

    @with_transaction()
    def test_pool_capacity_direct_write(self):
        "Writing a pool's capacity directly is checked too"
        pool = Pool()
        CapacityPool = pool.get('ticket.pool')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            reserve(session, 6)
            with self.assertRaisesRegex(
                    ValidationError, "cannot be lower than its sold"):
                CapacityPool.write([session.pool], {'capacity': 5})

    @with_transaction()
    def test_check_counts_after_operations(self):
        "The pool counters match the allocations after every operation"
        pool = Pool()
        CapacityPool = pool.get('ticket.pool')
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, (session1, session2) = create_event(company, (20, 20))
            shared = CapacityPool(
                name="Pass", event=event, capacity=25,
                sessions=[session1, session2])
            shared.save()

            released = reserve(session1, 2)
            stale = reserve(session2, 3)
            Hold.release([released])
            Hold.write([stale], {'expires_at': now() - dt.timedelta(
                        minutes=1)})
            Hold.expire_stale()
            paid = sell(session1, 4)
            cancelled = sell(session2, 2)
            Order.cancel([cancelled])
            reserved_cancelled = Order.create_from_holds(
                [reserve(session1, 1)])
            Order.cancel([reserved_cancelled])
            late = Order.create_from_holds(
                [reserve(session2, 5)], payment_delay=dt.timedelta(0))
            Order.write([late], {
                    'reserved_until': now() - dt.timedelta(minutes=1)})
            Order.expire_stale()
            waiting = Order.create_from_holds([reserve(session2, 3)])
            cart = reserve(session1, 1)
            with self.assertRaises(CapacityError):
                Hold.reserve([
                        {'session': session1, 'quantity': 10},
                        {'session': session2, 'quantity': 10}])

            self.assertEqual(CapacityPool.check_counts(), [])
            self.assertEqual(
                counts(session1.pool, session2.pool, shared),
                [(1, 4), (3, 0), (4, 4)])
            self.assertEqual(
                [Order(o.id).state for o in [paid, late, waiting]],
                ['paid', 'expired', 'reserved'])
            self.assertEqual(Hold(cart.id).state, 'active')

            # A counter changed behind the service is reported
            table = CapacityPool.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.update(
                    [table.held], [table.held + 1],
                    where=table.id == shared.id))
            forget_records(CapacityPool, [shared.id])
            drift, = CapacityPool.check_counts()
            self.assertEqual(drift[0], shared)
            self.assertEqual(drift[1:], (5, 4, 4, 4))

    @with_transaction()
    def test_ticket_secrets(self):
        "Ticket secrets are unique and carry at least 128 random bits"
        pool = Pool()
        Ticket = pool.get('ticket.ticket')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (100,))
            sell(session, 40)
            sell(session, 40)

            tickets = Ticket.search([])
            secrets = [t.secret for t in tickets]
            numbers = [t.number for t in tickets]
            self.assertEqual(len(tickets), 80)
            self.assertEqual(len(set(secrets)), 80)
            self.assertEqual(len(set(numbers)), 80)
            for secret in secrets:
                self.assertGreaterEqual(len(secret), 32)
                self.assertRegex(secret, r'^[A-Za-z0-9_-]+$')
                raw = base64.urlsafe_b64decode(secret + '=' * (
                        -len(secret) % 4))
                self.assertGreaterEqual(len(raw) * 8, 128)
            # random bits: the secrets share no common prefix
            self.assertGreater(len({s[:4] for s in secrets}), 70)

            ticket, = Ticket.copy([tickets[0]])
            self.assertNotEqual(ticket.secret, tickets[0].secret)


del ModuleTestCase
