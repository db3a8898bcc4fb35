"Tests of priced orders: from a quote to paid tickets"
from decimal import Decimal
from unittest.mock import Mock, patch

from trytond.model.exceptions import (
    DigitsValidationError, RequiredValidationError, SQLConstraintError)
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from guichet.ticket_event import hold as hold_module
from guichet.ticket_event.common import now
from guichet.ticket_event.tests.helpers import counts

from ..exceptions import PricingError
from .fees import create_fee, setup_fees
from .helpers import create_tariff, quote_lines

D = Decimal


class OrderTestMixin:

    @with_transaction()
    def test_order_from_quote(self):
        "An order from a quote keeps its priced lines and taxes; paid, it "
        "issues the tickets at their price"
        pool = Pool()
        Category = pool.get('ticket.tariff.category')
        CapacityPool = pool.get('ticket.pool')
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            event, session, adult, child, fees = setup_fees(company)
            stalls_pool = CapacityPool(name="Stalls", event=event,
                capacity=30)
            stalls_pool.save()
            stalls = Category(event=event, name="Stalls", pool=stalls_pool)
            stalls.save()
            front = create_tariff(event, "Front", '30.00', adult.product,
                category=stalls)
            create_fee(company, "Booking fee", fees, amount='1.00',
                channels=['web'])
            party = Party(name="Cosette")
            party.save()

            quote = quote_lines([(front, session, 2), (child, session, 1)])
            hold = Hold.reserve_quote(quote)
            self.assertEqual(counts(session.pool, stalls_pool),
                [(3, 0), (2, 0)])
            order = Order.create_from_quote(quote, [hold], party=party,
                email='cosette@example.com')

            self.assertEqual(order.state, 'reserved')
            self.assertEqual(order.channel, 'web')
            self.assertEqual(
                [(l.kind, l.description, l.quantity, l.unit_price,
                        l.untaxed_amount, l.tax_amount, l.amount)
                    for l in order.lines], [
                    ('ticket', "Stalls — Front", 2, D('30.00'), D('56.87'),
                        D('3.13'), D('60.00')),
                    ('ticket', "Child", 1, D('10.00'), D('9.48'),
                        D('0.52'), D('10.00')),
                    ('fee', "Booking fee", 1, D('3.00'), D('2.50'),
                        D('0.50'), D('3.00')),
                    ])
            self.assertEqual(
                [(l.tariff, l.product) for l in order.lines], [
                    (front, adult.product), (child, adult.product),
                    (None, fees)])
            self.assertEqual(
                [(t.tax.name, t.base, t.amount) for t in order.tax_lines],
                [("VAT 5.5%", D('66.35'), D('3.65')),
                    ("VAT 20%", D('2.50'), D('0.50'))])
            self.assertEqual(
                (order.untaxed_amount, order.tax_amount, order.total),
                (D('68.85'), D('4.15'), D('73.00')))
            self.assertEqual(
                [[(t.tax.name, t.amount) for t in l.taxes]
                    for l in order.lines],
                [[("VAT 5.5%", D('3.13'))], [("VAT 5.5%", D('0.52'))],
                    [("VAT 20%", D('0.50'))]])

            Order.pay([order])
            order = Order(order.id)
            self.assertEqual(
                sorted((t.type_label, t.price) for t in order.tickets),
                [("Child", D('10.00')), ("Stalls — Front", D('30.00')),
                    ("Stalls — Front", D('30.00'))])
            self.assertEqual(counts(session.pool, stalls_pool),
                [(0, 3), (0, 2)])
            self.assertEqual(CapacityPool.check_counts(), [])

    @with_transaction()
    def test_order_from_quote_plain_as_orm(self):
        "The order's lines and taxes inserted by plain SQL are those that "
        "the ORM creates (the back office's path)"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        company = create_company()

        def stored(order):
            order = Order(order.id)
            return ([(l.kind, l.tariff, l.product, l.session, l.description,
                        l.quantity, l.unit_price, l.discount,
                        l.untaxed_amount, l.tax_amount, l.total_amount,
                        l.tickets_per_unit, l.access_entry, l.create_uid,
                        [(t.tax, t.base, t.amount, t.create_uid)
                            for t in l.taxes])
                    for l in sorted(order.lines, key=lambda l: l.id)],
                [(t.tax, t.base, t.amount, t.create_uid)
                    for t in sorted(order.tax_lines, key=lambda t: t.id)],
                order.total, order.untaxed_amount, order.tax_amount)

        with set_company(company):
            event, session, adult, child, fees = setup_fees(company)
            create_fee(company, "Booking fee", fees, amount='1.00',
                channels=['web'])
            wanted = [(adult, session, 2), (child, session, 1)]
            plain_calls = []
            plain_values = Order._plain_line_values.__func__

            def spy(cls, lines):
                values = plain_values(cls, lines)
                plain_calls.append(values is not None)
                return values

            quote = quote_lines(wanted)
            with patch.object(Order, '_plain_line_values', classmethod(spy)):
                plain = Order.create_from_quote(quote,
                    [Hold.reserve_quote(quote)])
            self.assertEqual(plain_calls, [True])

            quote = quote_lines(wanted)
            with patch.object(Order, '_plain_line_values',
                    classmethod(lambda cls, lines: None)), \
                    patch.object(Order, '_plain_amounts',
                        classmethod(lambda cls, *args: False)):
                generic = Order.create_from_quote(quote,
                    [Hold.reserve_quote(quote)])

            self.assertEqual(stored(plain), stored(generic))
            self.assertEqual(len(stored(plain)[0]), 3)
            self.assertEqual(stored(plain)[2:], (quote.total,
                    quote.total - quote.tax, quote.tax))

    @with_transaction()
    def test_order_row_plain_as_orm(self):
        "The order's row inserted by plain SQL is the one that the ORM "
        "creates, kept in the cache as stored; with a trigger on its "
        "creation the ORM creates it"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        Party = pool.get('party.party')
        Trigger = pool.get('ir.trigger')
        company = create_company()
        table = Order.__table__()
        cursor = Transaction().connection.cursor()
        # the columns that differ between two orders created one after
        # the other
        varying = {'id', 'number', 'create_date', 'write_date',
            'reserved_until'}

        def row(order):
            cursor.execute(*table.select(where=table.id == order.id))
            names = [d[0] for d in cursor.description]
            return {n: v for n, v in zip(names, cursor.fetchone())
                if n not in varying}

        def create(**kwargs):
            "The order created and the models inserted by insert_rows"
            inserted = []

            def spy(Model, vlist, cache=False):
                inserted.append(Model.__name__)
                return insert_rows(Model, vlist, cache=cache)
            quote = quote_lines([(adult, session, 2)])
            with patch.object(hold_module, 'insert_rows', spy):
                order = Order.create_from_quote(quote,
                    [Hold.reserve_quote(quote)], party=party,
                    email=' fantine@example.com ', phone='0601020304',
                    **kwargs)
            return order, inserted

        insert_rows = hold_module.insert_rows
        with set_company(company):
            event, session, adult, child, fees = setup_fees(company)
            party = Party(name="Fantine")
            party.save()

            plain, inserted = create()
            self.assertIn('ticket.order', inserted)
            self.assertEqual(plain.state, 'reserved')
            stored = row(plain)
            cached = plain._cache[plain.id]
            for name in ['company', 'party', 'email', 'phone', 'channel',
                    'state', 'user', 'reserved_until']:
                self.assertIn(name, cached)
            self.assertEqual(cached['email'], 'fantine@example.com')

            # the ORM's create (the orders' checks and hooks)
            with patch.object(Order, '_plain_amounts',
                    classmethod(lambda cls, *args: False)):
                generic, inserted = create()
            self.assertNotIn('ticket.order', inserted)
            self.assertEqual(stored, row(generic))
            self.assertEqual(stored['email'], 'fantine@example.com')
            self.assertEqual((stored['state'], stored['channel']),
                ('reserved', 'web'))
            self.assertEqual(
                (Order(plain.id).reserved_until.microsecond,
                    Order(generic.id).reserved_until.microsecond), (0, 0))

            # a trigger on the orders' creation: the ORM creates the order
            # (and queues the trigger's action)
            trigger = Mock()
            get_triggers = Trigger.get_triggers

            def triggers(model, mode):
                if model == 'ticket.order':
                    return [trigger]
                return get_triggers(model, mode)
            with patch.object(Trigger, 'get_triggers', triggers):
                triggered, inserted = create()
            self.assertNotIn('ticket.order', inserted)
            self.assertIn('ticket.order.line', inserted)
            self.assertEqual(stored, row(triggered))
            trigger.queue_trigger_action.assert_called_once_with(
                [triggered])
            # a value the ORM refuses: its error, not a plain insert
            valid = {'number': 'X', 'company': company.id, 'channel': 'web'}
            for values, plain_ in [
                    ({}, True),
                    ({'email': 'a b'}, True),
                    ({'email': 'a\nb'}, False),
                    ({'channel': 'moon'}, False),
                    ({'reserved_until': now()}, True),
                    ]:
                self.assertEqual(Order._plain_amounts(Order,
                        [dict(valid, **values)], plain.currency), plain_,
                    values)

    @with_transaction()
    def test_order_insert_plain_checks(self):
        "Amounts finer than the currency or missing values go through the "
        "ORM and its checks"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, session, adult, child, fees = setup_fees(company)
            quote = quote_lines([(adult, session, 1)])
            order = Order.create_from_quote(quote,
                [Hold.reserve_quote(quote)])
            tax = order.tax_lines[0].tax
            currency = order.currency
            self.assertTrue(Order._plain_amounts(pool.get('ticket.order.tax'),
                    [{'order': order.id, 'tax': tax.id, 'base': D('1.00'),
                            'amount': D('0.10')}], currency))
            cursor = Transaction().connection.cursor()
            # a table's check broken by the plain INSERT: the ORM's error
            zero = {'order': order.id, 'quantity': 0, 'unit_price': D('1.00'),
                'kind': 'fee', 'tickets_per_unit': 0}
            self.assertTrue(Order._plain_amounts(
                    pool.get('ticket.order.line'), [zero], currency))
            for model, values, error in [
                    ('ticket.order.tax', {'order': order.id, 'tax': tax.id,
                            'base': D('1.005'), 'amount': D('0.10')},
                        DigitsValidationError),
                    ('ticket.order.tax', {'order': order.id, 'tax': tax.id,
                            'base': D('1.00')}, RequiredValidationError),
                    ('ticket.order.line', zero, SQLConstraintError),
                    ]:
                # (each error aborts the transaction: a savepoint each)
                cursor.execute('SAVEPOINT insert_plain')
                with self.assertRaises(error):
                    Order.insert_plain(model, [values], currency)
                cursor.execute('ROLLBACK TO SAVEPOINT insert_plain')

    @with_transaction()
    def test_order_pack(self):
        "Six packs of two consume twelve places and issue twelve tickets"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, session, adult, _, _ = setup_fees(company)
            couple = create_tariff(event, "Couple", '35.00', adult.product,
                tickets_per_unit=2)

            quote = quote_lines([(couple, session, 6)])
            order = Order.create_from_quote(
                quote, [Hold.reserve_quote(quote)])
            Order.pay([order])

            order = Order(order.id)
            self.assertEqual(order.total, D('210.00'))
            self.assertEqual(len(order.tickets), 12)
            self.assertEqual({t.price for t in order.tickets},
                {D('17.50')})
            self.assertEqual(counts(session.pool), [(0, 12)])

    @with_transaction()
    def test_order_holds_must_match_quote(self):
        "An order is refused when the holds differ from the quote"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, session, adult, child, _ = setup_fees(company)
            hold = Hold.reserve_quote(quote_lines([(adult, session, 2)]))

            for lines in [
                    [(adult, session, 3)],
                    [(child, session, 2)],
                    [(adult, session, 2), (child, session, 1)],
                    ]:
                quote = quote_lines(lines, check_capacity=False)
                with self.assertRaises(PricingError) as cm:
                    Order.create_from_quote(quote, [hold])
                self.assertEqual(cm.exception.code, 'invalid')
            self.assertEqual(Order.search([]), [])
            self.assertEqual(Hold(hold.id).state, 'active')
            self.assertEqual(counts(session.pool), [(2, 0)])

    @with_transaction()
    def test_order_holds_match_items_of_request(self):
        """The items of the holds as the request from them read them are
        those checked (not read again); holds other than the request's are
        read"""
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        PriceEngine = pool.get('ticket.price_engine')
        company = create_company()
        with set_company(company):
            event, session, adult, child, _ = setup_fees(company)
            hold = Hold.reserve_quote(quote_lines([(adult, session, 2)]))
            other = Hold.reserve_quote(quote_lines([(adult, session, 2)]))
            request = Order.quote_request([hold])
            self.assertEqual(request.held,
                {hold.id: [(session.id, adult.id, 2)]})
            quote = PriceEngine.quote(request)
            # the items as read by the request: 3 places (not what is held)
            request.held[hold.id] = [(session.id, adult.id, 3)]
            with self.assertRaises(PricingError) as cm:
                Order.create_from_quote(quote, [hold])
            self.assertEqual(cm.exception.code, 'invalid')
            request.held[hold.id] = [(session.id, adult.id, 2)]
            # another hold than the request's: its items
            Order.create_from_quote(quote, [other])
            Order.create_from_quote(quote, [hold])
            self.assertEqual(Hold(hold.id).state, 'converted')

    @with_transaction()
    def test_order_quote_request_from_holds(self):
        "The candidate order of holds prices their places again"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        PriceEngine = pool.get('ticket.price_engine')
        company = create_company()
        with set_company(company):
            event, session, adult, child, _ = setup_fees(company)
            first = quote_lines([(adult, session, 2), (child, session, 1)])
            hold = Hold.reserve_quote(first)

            request = Order.quote_request([hold], email='a@example.com')
            self.assertFalse(request.check_capacity)
            self.assertEqual(request.channel, 'web')
            self.assertEqual(
                sorted((l.tariff.name, l.session, l.quantity)
                    for l in request.lines),
                [("Adult", session, 2), ("Child", session, 1)])
            again = PriceEngine.quote(request)
            self.assertEqual(again.total, D('50.00'))
            order = Order.create_from_quote(again, [hold])
            self.assertEqual(order.total, D('50.00'))
