"""The box office service on a real database: sales, refunds, exchanges,
cash sessions, the role of the operators."""
from decimal import Decimal
from unittest.mock import patch

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction, check_access

from guichet.ticket_event.tests.helpers import create_event, pdf_text
from guichet.ticket_pricing.tests.helpers import (
    create_product, create_tariff, create_tax)

from .. import service
from ..exceptions import PosError
from ..report import receipt_pdf, ticket_pdf, z_report_pdf
from .box_office import create_operator, make_salable, setup_box_office

D = Decimal


def setup():
    """A company with a box office, an event of two sessions and two
    tariffs (adult 20.00, child 12.50 at 5.5 % VAT); return them"""
    pool = Pool()
    Account = pool.get('account.account')
    company = create_company()
    with set_company(company):
        office = setup_box_office(company)
        tax_account, = Account.search([
                ('company', '=', company.id), ('code', '=', '6.3.6')],
            limit=1)
        vat = create_tax(company, '0.055', {'tax': tax_account})
        product = create_product(company, "Admission", [vat],
            {'revenue': office['accounts']['revenue']})
        make_salable([product])
        event, sessions = create_event(company, (50, 50))
        adult = create_tariff(event, "Adult", '20.00', product)
        child = create_tariff(event, "Child", '12.50', product)
        counter = create_tariff(event, "Counter only", '5.00', product,
            channels=['box_office'])
    return company, office, sessions, (adult, child, counter)


class ServiceTestMixin:

    @with_transaction()
    def test_sale_refund_exchange_close(self):
        "A whole evening: open, sell, refund, exchange, close with a gap"
        pool = Pool()
        Service = pool.get('ticket.pos.service')
        Order = pool.get('ticket.order')
        Session = pool.get('sale.point.cash.session')
        Move = pool.get('account.move')
        company, office, (first, second), (adult, child, counter) = setup()
        point, methods = office['point'], office['methods']
        with set_company(company):
            with self.assertRaises(PosError):
                Service.sell(point, [(adult, first, 1)],
                    [(methods['cash'], D('20'))])
            Service.open_session(point, D('150.00'))
            with self.assertRaises(PosError):
                Service.open_session(point, D('150.00'))

            sale = Service.sell(point,
                [(adult, first, 2), (child, first, 1), (counter, first, 1)],
                [(methods['card'], D('30.00')),
                    (methods['cash'], D('50.00'))])
            order = sale.order
            self.assertEqual(order.state, 'paid')
            self.assertEqual(order.channel, 'box_office')
            self.assertEqual(order.total, D('57.50'))
            self.assertEqual(sale.change, D('22.50'))
            self.assertEqual(sale.operator.id, Transaction().user)
            self.assertEqual(len(order.tickets), 4)
            self.assertEqual(sale.sale.state, 'done')
            self.assertEqual(sale.sale.total, D('57.50'))
            self.assertEqual(
                sorted((p.method.name, p.amount) for p in sale.sale.payments),
                [("Card", D('30.00')), ("Cash", D('27.50'))])
            self.assertEqual(
                sorted((p.provider, p.method, p.amount)
                    for p in order.payments),
                [('pos', 'card', D('30.00')), ('pos', 'cash', D('27.50'))])
            self.assertIn('Counter only', pdf_text(ticket_pdf(order.tickets)))
            self.assertIn(order.number, pdf_text(receipt_pdf(sale)))

            with self.assertRaises(PosError):
                Service.sell(point, [(adult, first, 1)],
                    [(methods['card'], D('19.00'))])
            with self.assertRaises(PosError):
                # change only comes out of cash
                Service.sell(point, [(adult, first, 1)],
                    [(methods['card'], D('25.00'))])

            other = Service.sell(point, [(adult, first, 1)],
                [(methods['cash'], D('20.00'))])
            refund = Service.refund(point, other.order)
            self.assertEqual(refund.order.state, 'cancelled')
            self.assertEqual(refund.amount, D('-20.00'))
            self.assertEqual(refund.sale.total, D('-20.00'))
            self.assertEqual(Order(other.order.id).amount_paid, D(0))

            third = Service.sell(point, [(child, first, 2)],
                [(methods['cheque'], D('25.00'))])
            with self.assertRaises(PosError):
                Service.exchange(point, third.order, second,
                    [(methods['cash'], D('20.00'))])
            exchange = Service.exchange(point, third.order, second, [])
            self.assertEqual(exchange.order.state, 'cancelled')
            self.assertEqual(exchange.new_order.state, 'paid')
            self.assertEqual(exchange.amount, D('0'))
            with self.assertRaises(PosError):
                Service.exchange(point, exchange.new_order, second, [])

            holder = Service.change_holder(point,
                exchange.new_order.tickets[0], "Jeanne Moreau")
            self.assertEqual(holder.kind, 'holder')
            self.assertEqual(
                exchange.new_order.tickets[0].holder_name, "Jeanne Moreau")

            session = point.current_cash_session()
            expected = Service.expected_amounts(session)
            self.assertEqual(expected[methods['cash']],
                D('150.00') + D('27.50') + D('20.00') - D('20.00'))
            self.assertEqual(expected[methods['card']], D('30.00'))
            self.assertEqual(expected[methods['cheque']], D('25.00'))
            closed = Service.close_session(point, {
                    methods['cash']: D('175.00'),
                    methods['card']: D('30.00'),
                    methods['cheque']: D('25.00'),
                    })
            self.assertEqual(closed.state, 'posted')
            counts = {c.method.name: c.difference
                for c in closed.ticket_counts}
            self.assertEqual(counts["Cash"], D('-2.50'))
            self.assertEqual(counts["Card"], D(0))
            moves = Move.search([('company', '=', company.id)])
            self.assertTrue(moves)
            for move in moves:
                self.assertEqual(move.state, 'posted')
                self.assertEqual(
                    sum(l.debit for l in move.lines),
                    sum(l.credit for l in move.lines))
            text = pdf_text(z_report_pdf(closed))
            self.assertRegex(text, r'Difference\n-\S*2\.50')
            self.assertIsNone(point.current_cash_session())
            self.assertEqual(Session.search([], count=True), 1)

    @with_transaction()
    def test_close_books_each_sale(self):
        "Closing posts each sale and transfer of the session as its move"
        pool = Pool()
        Service = pool.get('ticket.pos.service')
        Account = pool.get('account.account')
        Move = pool.get('account.move')
        company, office, (first, second), (adult, child, _) = setup()
        point, methods = office['point'], office['methods']
        cash, card, cheque = (
            methods['cash'], methods['card'], methods['cheque'])
        with set_company(company):
            tax_account, = Account.search([
                    ('company', '=', company.id), ('code', '=', '6.3.6')],
                limit=1)
            revenue = office['accounts']['revenue']
            programmes, = Account.copy([revenue], default={
                    'name': "Programmes", 'code': None})
            vat20 = create_tax(company, '0.20', {'tax': tax_account})
            product = create_product(company, "Programme", [vat20],
                {'revenue': programmes})
            make_salable([product])
            premium = create_tariff(first.event, "Premium", '30.00', product)
            vat55, = adult.product.customer_taxes_used

            Service.open_session(point, D('100.00'))
            one = Service.sell(point, [(adult, first, 2), (child, first, 1)],
                [(card, D('20.00')), (cash, D('50.00'))])
            two = Service.sell(point,
                [(premium, first, 1), (adult, second, 1)],
                [(cheque, D('50.00'))])
            three = Service.sell(point, [(child, second, 3)],
                [(cash, D('40.00'))])
            back = Service.refund(point, three.order)
            # the sales posted by slices of 3 (4 sales: 2 slices)
            with patch.object(service, 'POST_BATCH', 3):
                closed = Service.close_session(point, {
                        cash: D('130.00'), card: D('20.00'),
                        cheque: D('50.00')})

            self.assertEqual(closed.state, 'posted')
            self.assertEqual(
                sorted((c.method.name, c.expected, c.counted)
                    for c in closed.ticket_counts),
                [("Card", D('20.00'), D('20.00')),
                    ("Cash", D('132.50'), D('130.00')),
                    ("Cheque", D('50.00'), D('50.00'))])

            def booked(move):
                return sorted(
                    (l.account.name, l.debit, l.credit,
                        sorted((t.type, t.tax.name, t.amount)
                            for t in l.tax_lines))
                    for l in move.lines)
            rev, prog, vat = revenue.name, "Programmes", tax_account.name
            base55 = ('base', vat55.name)
            tax55 = ('tax', vat55.name)
            self.assertEqual({
                    name: booked(operation.sale.move)
                    for name, operation in [('one', one), ('two', two),
                        ('three', three), ('back', back)]}, {
                    # two adults: 37.91 net does not divide, one line of
                    # each unit
                    'one': sorted([
                            (rev, D(0), D('18.95'), [(*base55, D('18.95'))]),
                            (rev, D(0), D('18.96'), [(*base55, D('18.96'))]),
                            (rev, D(0), D('11.85'), [(*base55, D('11.85'))]),
                            (vat, D(0), D('2.74'), [(*tax55, D('2.74'))]),
                            ("Card receipts", D('20.00'), D(0), []),
                            (cash.account.name, D('32.50'), D(0), []),
                            ]),
                    'two': sorted([
                            (prog, D(0), D('25.00'),
                                [('base', vat20.name, D('25.00'))]),
                            (rev, D(0), D('18.96'), [(*base55, D('18.96'))]),
                            (vat, D(0), D('5.00'),
                                [('tax', vat20.name, D('5.00'))]),
                            (vat, D(0), D('1.04'), [(*tax55, D('1.04'))]),
                            ("Cheques to deposit", D('50.00'), D(0), []),
                            ]),
                    'three': sorted([
                            (rev, D(0), D('35.55'), [(*base55, D('35.55'))]),
                            (vat, D(0), D('1.95'), [(*tax55, D('1.95'))]),
                            (cash.account.name, D('37.50'), D(0), []),
                            ]),
                    'back': sorted([
                            (rev, D('35.55'), D(0),
                                [(*base55, D('-35.55'))]),
                            (vat, D('1.95'), D(0), [(*tax55, D('-1.95'))]),
                            (cash.account.name, D(0), D('37.50'), []),
                            ]),
                    })
            for operation in [one, two, three, back]:
                sale = operation.sale
                self.assertEqual(sale.state, 'posted')
                self.assertEqual(sale.move.state, 'posted')
                self.assertEqual(sale.move.origin, sale)
                self.assertEqual(sale.move.journal, point.journal)
                self.assertEqual(
                    sum(l.debit - l.credit for l in sale.move.lines), 0)
            transfers = sorted(closed.transfers, key=lambda t: t.amount)
            self.assertEqual(
                [(t.state, t.amount, booked(t.move)) for t in transfers],
                [('posted', D('-2.50'), sorted([
                                ("Cash differences", D('2.50'), D(0), []),
                                (cash.account.name, D(0), D('2.50'), []),
                                ])),
                    ('posted', D('100.00'), sorted([
                                ("Safe", D(0), D('100.00'), []),
                                (cash.account.name, D('100.00'), D(0), []),
                                ]))])
            moves = Move.search([('company', '=', company.id)])
            self.assertEqual(len(moves), 6)
            self.assertEqual({m.state for m in moves}, {'posted'})
            self.assertEqual(len({m.number for m in moves}), 6)

    @with_transaction()
    def test_refused_sale_changes_nothing(self):
        "A sale refused for its payment holds no place"
        pool = Pool()
        Service = pool.get('ticket.pos.service')
        company, office, (first, _), (adult, _, _) = setup()
        point, methods = office['point'], office['methods']
        with set_company(company):
            Service.open_session(point, D(0))
            for lines, payments in [
                    ([(adult, first, 1)], [(methods['card'], D('1'))]),
                    ([(adult, first, 0)], [(methods['card'], D('20'))]),
                    ([(adult, first, 1)], [(methods['cash'], D('-20'))]),
                    ([(adult, first, 1)], [(methods['credit'], D('20'))]),
                    ([(adult, first, 100)],
                        [(methods['cash'], D('2000'))]),
                    ]:
                with self.subTest(lines=lines, payments=payments):
                    with self.assertRaises(UserError):
                        Service.sell(point, lines, payments)
                    Transaction().rollback()

    @with_transaction()
    def test_operator_role(self):
        "An operator sells but reaches neither configuration nor accounts"
        pool = Pool()
        Point = pool.get('sale.point')
        Method = pool.get('sale.point.payment.method')
        Account = pool.get('account.account')
        Move = pool.get('account.move')
        Event = pool.get('ticket.event')
        Operation = pool.get('ticket.pos.operation')
        Tariff = pool.get('ticket.tariff')
        Service = pool.get('ticket.pos.service')
        User = pool.get('res.user')
        company, office, (first, _), (adult, _, _) = setup()
        point, methods = office['point'], office['methods']
        with set_company(company):
            operator = create_operator(company, 'operator')
        with Transaction().set_user(operator.id), \
                Transaction().set_context(
                    User.get_preferences(context_only=True)):
            Service.open_session(point, D(0))
            sale = Service.sell(point, [(adult, first, 1)],
                [(methods['cash'], D('20'))])
            self.assertEqual(sale.operator, operator)
            self.assertEqual(sale.order.user, operator)
            with check_access():
                self.assertEqual(Operation.search([]), [sale])
                self.assertEqual(Point.search([]), [point])
                for model, records, values in [
                        (Point, [point], {'name': "X"}),
                        (Method, [methods['cash']], {'name': "X"}),
                        (Tariff, [adult], {'price': D(1)}),
                        (Event, [adult.event], {'name': "X"}),
                        (Account, [office['accounts']['cash']],
                            {'name': "X"}),
                        ]:
                    with self.subTest(model=model.__name__):
                        with self.assertRaises(AccessError):
                            model.write(records, values)
                for model in [Move]:
                    with self.subTest(model=model.__name__):
                        with self.assertRaises(AccessError):
                            model.search([])

    @with_transaction()
    def test_credit_refund_and_voucher(self):
        "A refund as credit pays part of the next sale"
        pool = Pool()
        Service = pool.get('ticket.pos.service')
        company, office, (first, _), (adult, child, _) = setup()
        point, methods = office['point'], office['methods']
        with set_company(company):
            Service.open_session(point, D(0))
            sale = Service.sell(point, [(adult, first, 1)],
                [(methods['card'], D('20.00'))])
            refund = Service.refund(point, sale.order, 'credit')
            self.assertEqual(refund.kind, 'refund_credit')
            self.assertEqual(refund.order.state, 'cancelled')
            self.assertEqual(refund.credit.balance, D('20.00'))
            self.assertIsNone(refund.sale)
            other = Service.sell(point, [(adult, first, 1), (child, first, 1)],
                [(methods['cash'], D('20.00'))],
                credit_codes=[refund.credit.code])
            self.assertEqual(other.order.state, 'paid')
            self.assertEqual(other.amount, D('12.50'))
            self.assertEqual(other.change, D('7.50'))
            self.assertEqual(
                sorted((p.method.name, p.amount) for p in other.sale.payments),
                [("Cash", D('12.50')), ("Voucher / Credit", D('20.00'))])
            with self.assertRaises(PosError):
                Service.refund(point, other.order, 'cash')
            with self.assertRaises(PosError):
                Service.refund(point, other.order, 'cheque')

    @with_transaction()
    def test_refund_one_ticket(self):
        "One ticket of an order refunded in cash, one as a credit, the last"
        pool = Pool()
        Service = pool.get('ticket.pos.service')
        Order = pool.get('ticket.order')
        Ticket = pool.get('ticket.ticket')
        Session = pool.get('ticket.session')
        CapacityPool = pool.get('ticket.pool')
        Move = pool.get('account.move')
        company, office, (first, second), (adult, child, _) = setup()
        point, methods = office['point'], office['methods']
        with set_company(company):
            Service.open_session(point, D('100.00'))
            sale = Service.sell(point,
                [(adult, first, 2), (child, first, 1)],
                [(methods['card'], D('52.50'))])
            order = sale.order
            available = Session(first.id).available
            adult_1, adult_2 = [t for t in order.tickets
                if t.line.tariff == adult]
            child_1, = [t for t in order.tickets if t.line.tariff == child]

            refund = Service.refund_ticket(point, adult_1, 'cash')
            self.assertEqual(refund.kind, 'refund')
            self.assertEqual(refund.ticket, adult_1)
            self.assertEqual(refund.amount, D('-20.00'))
            self.assertEqual(refund.sale.total, D('-20.00'))
            self.assertEqual(
                [(p.method.name, p.amount) for p in refund.sale.payments],
                [("Cash", D('-20.00'))])
            order = Order(order.id)
            self.assertEqual(order.state, 'paid')
            self.assertEqual(order.amount_paid, D('32.50'))
            self.assertEqual(Ticket(adult_1.id).state, 'cancelled')
            self.assertEqual(Ticket(adult_2.id).state, 'valid')
            self.assertEqual(Session(first.id).available, available + 1)
            self.assertEqual(CapacityPool.check_counts(), [])
            with self.assertRaises(PosError):
                Service.refund_ticket(point, adult_1, 'cash')
            with self.assertRaises(PosError):
                Service.exchange(point, order, second, [])

            Ticket.use([Ticket(adult_2.id)])
            with self.assertRaises(PosError):
                Service.refund_ticket(point, adult_2, 'cash')
            Ticket.unuse([Ticket(adult_2.id)])

            credit = Service.refund_ticket(point, child_1, 'credit')
            self.assertEqual(credit.kind, 'refund_credit')
            self.assertEqual(credit.amount, D('-12.50'))
            self.assertEqual(credit.credit.balance, D('12.50'))
            self.assertEqual(Order(order.id).state, 'paid')
            self.assertEqual(Session(first.id).available, available + 2)

            # the last ticket: the whole order, for what is left of it
            last = Service.refund_ticket(point, adult_2, 'cash')
            self.assertIsNone(last.ticket)
            self.assertEqual(last.amount, D('-20.00'))
            self.assertEqual(last.sale.total, D('-20.00'))
            self.assertEqual(Order(order.id).state, 'cancelled')
            self.assertEqual(Session(first.id).available, available + 3)
            self.assertEqual(CapacityPool.check_counts(), [])

            expected = Service.expected_amounts(point.current_cash_session())
            self.assertEqual(expected[methods['cash']], D('60.00'))
            self.assertEqual(expected[methods['card']], D('52.50'))
            closed = Service.close_session(point, {
                    methods['cash']: D('60.00'),
                    methods['card']: D('52.50'),
                    })
            self.assertEqual(closed.state, 'posted')
            for move in Move.search([('company', '=', company.id)]):
                self.assertEqual(move.state, 'posted')
                self.assertEqual(
                    sum(l.debit for l in move.lines),
                    sum(l.credit for l in move.lines))

    @with_transaction()
    def test_refund_ticket_then_order(self):
        "An order refunded after one of its tickets gives back the rest"
        pool = Pool()
        Service = pool.get('ticket.pos.service')
        company, office, (first, _), (adult, child, _) = setup()
        point, methods = office['point'], office['methods']
        with set_company(company):
            Service.open_session(point, D(0))
            sale = Service.sell(point,
                [(adult, first, 2), (child, first, 1)],
                [(methods['cash'], D('52.50'))])
            ticket = sale.order.tickets[0]
            Service.refund_ticket(point, ticket, 'cash')
            rest = Service.refund(point, sale.order, 'credit')
            self.assertEqual(rest.credit.balance,
                D('52.50') - ticket.price)
            self.assertEqual(rest.order.state, 'cancelled')
