"Tests of the postings of payments, refunds, credits and recognition"
import datetime as dt
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .helpers import (
    balances, moves_balance, order, sell, setup_theatre, theatre_company)

D = Decimal


class PostingTestMixin:

    @with_transaction()
    def test_french_defaults(self):
        "The configuration takes its accounts from the French chart"
        company = theatre_company()
        with set_company(company):
            theatre = setup_theatre(company)
            configuration = theatre.configuration
            self.assertEqual({
                    name: getattr(configuration, name).code for name in [
                        'clearing_card', 'clearing_transfer',
                        'clearing_cheque', 'clearing_cash',
                        'deferred_revenue', 'credit_liability',
                        'advance', 'voucher_expense']}, {
                    'clearing_card': '517', 'clearing_transfer': '5121',
                    'clearing_cheque': '5112', 'clearing_cash': '5311',
                    'deferred_revenue': '487', 'credit_liability': '4191',
                    'advance': '4191', 'voucher_expense': '6234'})
            self.assertEqual(configuration.journal.type, 'revenue')

    @with_transaction()
    def test_french_defaults_other_chart(self):
        "A chart without the French accounts is refused with a message"
        from trytond.modules.account.tests import create_chart
        Configuration = Pool().get('ticket.accounting.configuration')
        company = create_company()
        with set_company(company):
            create_chart(company)
            with self.assertRaisesRegex(UserError, "French chart"):
                Configuration.set_french_defaults(company)
            self.assertEqual(Configuration.search([]), [])

    @with_transaction()
    def test_sale_deferred_and_vat(self):
        "A card payment debits the card clearing, credits deferred revenue "
        "excluding VAT per tariff and the VAT of each rate"
        Posting = Pool().get('ticket.accounting.posting')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            session = t.sessions[0]
            sale, payment = sell([(t.adult, session, 2),
                    (t.backstage, session, 1)], method='card')
            self.assertEqual(sale.state, 'paid')
            self.assertEqual(sale.total, D('56.00'))
            # 44.00 at 5.5 %: 41.71 + 2.29; 12.00 at 20 %: 10.00 + 2.00
            self.assertEqual(balances(company), {
                    '44571': D('-4.29'), '517': D('56.00'),
                    '487': D('-51.71')})
            posting, = Posting.search([('order', '=', sale.id)])
            self.assertEqual(posting.state, 'posted')
            self.assertEqual(posting.move.state, 'posted')
            self.assertEqual(posting.payment, payment)
            vat = {l.tax: (l.base, l.amount) for l in posting.lines
                if l.kind == 'tax'}
            self.assertEqual(vat, {
                    t.vat55: (D('41.71'), D('-2.29')),
                    t.vat20: (D('10.00'), D('-2.00'))})
            deferred = {l.tariff: l.amount for l in posting.lines
                if l.kind == 'deferred'}
            self.assertEqual(deferred, {
                    t.adult: D('-41.71'), t.backstage: D('-10.00')})
            self.assertTrue(moves_balance(company))

    @with_transaction()
    def test_partial_payments(self):
        "Two payments that cover an order book every part to the cent"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            new = order([(t.adult, t.sessions[0], 1),
                    (t.backstage, t.sessions[0], 1)])
            Payment.record(new, 'manual', 'C1', D('10.01'), method='cheque')
            Payment.record(new, 'manual', 'C2', D('23.99'), method='cash')
            self.assertEqual(balances(company), {
                    '44571': D('-3.15'), '5112': D('10.01'),
                    '5311': D('23.99'),
                    '487': D('-30.85')})
            self.assertTrue(moves_balance(company))

    @with_transaction()
    def test_refund_reverses(self):
        "A full refund reverses exactly what the payment booked; a partial "
        "one its share"
        Payment = Pool().get('ticket.order.payment')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            sale, payment = sell([(t.adult, t.sessions[0], 3)])
            Payment.refund(payment, D('22.00'))
            self.assertEqual(balances(company), {
                    '44571': D('-2.29'), '517': D('44.00'),
                    '487': D('-41.71')})
            Payment.refund(Payment(payment.id))
            self.assertEqual(balances(company), {})
            self.assertTrue(moves_balance(company))

    @with_transaction()
    def test_recognition(self):
        "Once a session took place its deferred revenue becomes revenue; a "
        "cancelled session recognizes nothing; a later refund debits revenue"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Session = pool.get('ticket.session')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            first, second = t.sessions
            _, payment1 = sell([(t.adult, first, 2)])
            sell([(t.reduced, second, 1)], method='cash')
            Session.cancel([second])
            self.assertEqual(Session.recognize_revenue(), [])
            later = first.end + dt.timedelta(hours=1)
            self.assertEqual(Session.recognize_revenue(at=later + dt.timedelta(
                        days=3)), [first])
            self.assertEqual(balances(company), {
                    '44571': D('-3.07'), '517': D('44.00'), '5311': D('15.00'),
                    '487': D('-14.22'), '706': D('-41.71')})
            self.assertEqual(Session.recognize_revenue(at=later), [])
            Payment.refund(payment1, D('22.00'))
            self.assertEqual(balances(company), {
                    '44571': D('-1.92'), '517': D('22.00'), '5311': D('15.00'),
                    '487': D('-14.22'), '706': D('-20.86')})
            self.assertTrue(moves_balance(company))

    @with_transaction()
    def test_batch_per_day_and_channel(self):
        "Per day: the entries wait, then one move per day and channel"
        pool = Pool()
        Move = pool.get('account.move')
        Posting = pool.get('ticket.accounting.posting')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company, posting='day')
            for channel in ['web', 'web', 'box_office']:
                sell([(t.adult, t.sessions[0], 1)], channel=channel)
            self.assertEqual(Move.search([]), [])
            self.assertEqual(Posting.post_pending(), 0)
            tomorrow = dt.date.today() + dt.timedelta(days=1)
            self.assertEqual(Posting.post_pending(tomorrow), 3)
            moves = Move.search([])
            self.assertEqual(len(moves), 2)
            self.assertEqual(sorted(len(m.lines) for m in moves), [3, 3])
            self.assertEqual(balances(company), {
                    '44571': D('-3.45'), '517': D('66.00'),
                    '487': D('-62.55')})
            self.assertEqual(Posting.search([('state', '=', 'draft')]), [])

    @with_transaction()
    def test_voucher_liability(self):
        "A gift voucher sold is a liability until spent; spent, it pays "
        "deferred revenue and VAT; a cancelled order gives it back"
        pool = Pool()
        Credit = pool.get('ticket.credit')
        Order = pool.get('ticket.order')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            with Transaction().set_context(voucher_payment_method='cash'):
                voucher, = Credit.issue(D('50.00'))
            gift, = Credit.issue(D('10.00'))
            self.assertEqual(balances(company), {
                    '4191': D('-60.00'), '5311': D('50.00'),
                    '6234': D('10.00')})
            sale, payment = sell([(t.adult, t.sessions[0], 3)],
                credit_codes=[voucher.code])
            self.assertEqual(payment.amount, D('16.00'))
            self.assertEqual(balances(company), {
                    '4191': D('-10.00'), '44571': D('-3.44'),
                    '517': D('16.00'), '487': D('-62.56'), '5311': D('50.00'),
                    '6234': D('10.00')})
            Order.cancel([sale])
            self.assertEqual(balances(company), {
                    '4191': D('-60.00'), '44571': D('-0.83'),
                    '517': D('16.00'), '487': D('-15.17'), '5311': D('50.00'),
                    '6234': D('10.00')})
            self.assertTrue(moves_balance(company))

    @with_transaction()
    def test_refund_as_credit(self):
        "An order refunded as a credit moves its revenue and VAT to the "
        "credits' liability"
        Order = Pool().get('ticket.order')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            sale, _ = sell([(t.adult, t.sessions[0], 1)])
            credit, = Order.refund_as_credit([sale])
            self.assertEqual(balances(company), {
                    '4191': D('-22.00'), '517': D('22.00')})

    @with_transaction()
    def test_late_payment_on_advance(self):
        "A payment no order can take waits on customer advances until "
        "given back"
        pool = Pool()
        Order = pool.get('ticket.order')
        Payment = pool.get('ticket.order.payment')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            new = order([(t.adult, t.sessions[0], 1)])
            Order.cancel([new])
            payment, _ = Payment.record(new, 'manual', 'LATE', D('22.00'),
                method='transfer')
            self.assertEqual(payment.state, 'refund_due')
            self.assertEqual(balances(company), {
                    '4191': D('-22.00'), '5121': D('22.00')})
            Payment.mark_refunded([payment])
            self.assertEqual(balances(company), {})

    @with_transaction()
    def test_no_configuration_books_nothing(self):
        "A company without ticketing accounts books nothing"
        from guichet.ticket_pricing.tests.helpers import (
            create_accounts, create_product, create_tariff, create_tax)
        from guichet.ticket_event.tests.helpers import create_event
        pool = Pool()
        Posting = pool.get('ticket.accounting.posting')
        company = create_company()
        with set_company(company):
            accounts = create_accounts(company)
            vat = create_tax(company, '0.055', accounts)
            product = create_product(company, "Seat", [vat], accounts)
            event, (session,) = create_event(company, (10,))
            tariff = create_tariff(event, "Seat", '10.00', product)
            sale, _ = sell([(tariff, session, 1)])
            self.assertEqual(sale.state, 'paid')
            self.assertEqual(Posting.search([]), [])

    @with_transaction()
    def test_for_company_follows_changes(self):
        "The configuration kept per process follows its changes"
        from trytond.transaction import without_check_access
        Configuration = Pool().get('ticket.accounting.configuration')
        company = theatre_company()
        other = create_company()
        with set_company(company), without_check_access():
            self.assertFalse(Transaction().check_access)
            self.assertIsNone(Configuration.for_company(company))
            configuration = Configuration.set_french_defaults(company)
            self.assertEqual(Configuration.for_company(company), configuration)
            self.assertIsNone(Configuration.for_company(other))
            # a deletion, a creation forget what was kept
            Configuration.delete([configuration])
            self.assertIsNone(Configuration.for_company(company))
            again = Configuration.set_french_defaults(company)
            self.assertNotEqual(again, configuration)
            self.assertEqual(Configuration.for_company(company), again)

    @with_transaction()
    def test_posting_never_changes(self):
        "A posting cannot be deleted nor edited"
        Posting = Pool().get('ticket.accounting.posting')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            sell([(t.adult, t.sessions[0], 1)])
            posting, = Posting.search([])
            with self.assertRaises(UserError):
                Posting.delete([posting])
