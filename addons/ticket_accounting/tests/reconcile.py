"Tests of bank statements matched to the clearing accounts"
import datetime as dt
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from .helpers import (
    balances, moves_balance, partner_sale, sell, setup_partners,
    setup_theatre)

D = Decimal


def statement_journal(company, configuration):
    "A bank statement journal on the configured bank account"
    pool = Pool()
    Journal = pool.get('account.journal')
    StatementJournal = pool.get('account.statement.journal')
    journal, = Journal.create([{
                'name': "Bank", 'code': 'BQ', 'type': 'statement'}])
    statement_journal, = StatementJournal.create([{
                'name': "Bank", 'journal': journal.id,
                'company': company.id, 'currency': company.currency.id,
                'account': configuration.bank.id,
                'validation': 'number_of_lines',
                }])
    return statement_journal


def bank_statement(journal, origins, date=None):
    "A draft bank statement of origins, dicts of its lines' values"
    Statement = Pool().get('account.statement')
    date = date or dt.date.today()
    statement, = Statement.create([{
                'name': "Relevé %s" % date, 'company': journal.company.id,
                'journal': journal.id, 'date': date,
                'number_of_lines': len(origins),
                'origins': [('create', [dict({'date': date}, **o)
                            for o in origins])],
                }])
    return statement


def card_sales(t, quantities):
    "Card payments through the 'manual' provider (an online acquirer)"
    payments = []
    for quantity in quantities:
        _, payment = sell([(t.adult, t.sessions[0], quantity)],
            method='card', provider='manual')
        payments.append(payment)
    return payments


class ReconcileTestMixin:

    @with_transaction()
    def test_statement_provider_payout_with_fee(self):
        "A provider's payout on the bank statement is matched to its "
        "payments on the clearing account, its commission booked as bank "
        "charges; the payments not paid out and the unknown line remain"
        pool = Pool()
        ClearingOpenLine = pool.get('ticket.accounting.clearing.open_line')
        Origin = pool.get('account.statement.origin')
        ProviderPayout = pool.get('ticket.accounting.provider_payout')
        Statement = pool.get('account.statement')
        company = create_company()
        with set_company(company):
            t = setup_theatre(company)
            journal = statement_journal(company, t.configuration)
            p1, p2, p3 = card_sales(t, [2, 1, 1])
            self.assertEqual(balances(company)['517'], D('88.00'))

            statement = bank_statement(journal, [{
                        'number': 'po_1OaStripe', 'amount': D('64.90'),
                        'description': "STRIPE PAYMENTS UK PAYOUT",
                        'ticket_provider': 'manual',
                        'provider_fees': D('1.10'),
                        }, {
                        'number': 'VIR 4471', 'amount': D('100.00'),
                        'description': "VIREMENT M. DUPONT",
                        }])
            payouts = Statement.match_payouts([statement])

            payout, = payouts
            self.assertEqual(set(payout.payments), {p1, p2})
            self.assertEqual(
                (payout.gross, payout.fees, payout.net, payout.reference),
                (D('66.00'), D('1.10'), D('64.90'), 'po_1OaStripe'))
            matched, unknown = sorted(statement.origins, key=lambda o: o.id)
            self.assertEqual(matched.provider_payout, payout)
            self.assertEqual(matched.pending_amount, D(0))
            self.assertEqual(sorted((l.account.code, l.amount)
                    for l in matched.lines),
                [('517', D('66.00')), ('6278', D('-1.10'))])
            self.assertEqual(Origin.search([('pending_amount', '!=', 0)]),
                [unknown])
            open_lines = ClearingOpenLine.search([])
            self.assertEqual([(l.payment, l.amount, l.account.code)
                    for l in open_lines], [(p3, D('22.00'), '517')])

            # matching again matches nothing more
            self.assertEqual(Statement.match_payouts([statement]),
                [])
            Statement.validate_statement([statement])
            self.assertEqual(ProviderPayout(payout.id).state, 'done')
            self.assertEqual(balances(company).get('517'), D('22.00'))
            self.assertEqual(balances(company).get('6278'), D('1.10'))
            self.assertEqual(balances(company).get('5121'), D('64.90'))
            self.assertTrue(moves_balance(company))
            with self.assertRaisesRegex(UserError, "bank statement"):
                ProviderPayout.book([ProviderPayout(payout.id)])
            # the unknown line must be accounted before the statement posts
            with self.assertRaises(UserError):
                Statement.post([Statement(statement.id)])

    @with_transaction()
    def test_statement_partner_transfer(self):
        "A partner's transfer on the bank statement is matched to that "
        "partner's sales only, its commission booked on the commission "
        "account of the partners"
        pool = Pool()
        Statement = pool.get('account.statement')
        company = create_company()
        with set_company(company):
            t = setup_theatre(company)
            journal = statement_journal(company, t.configuration)
            (office, agency), commission = setup_partners(company, [
                    ("Office", D('0.05')), ("Agency", D('0.10'))])
            # the agency's sale first: the oldest payment is not the
            # office's
            other = partner_sale(agency, [(t.adult, t.sessions[0], 1)], 'B1')
            first = partner_sale(office, [(t.adult, t.sessions[0], 2)], 'A1')
            second = partner_sale(office, [(t.adult, t.sessions[1], 1)],
                'A2')

            statement = bank_statement(journal, [{
                        'number': 'VIR OT 11-2026', 'amount': D('62.70'),
                        'description': "VIREMENT OFFICE DE TOURISME",
                        'ticket_provider': 'partner',
                        'provider_fees': D('3.30'),
                        }])
            payout, = Statement.match_payouts([statement])
            self.assertEqual(payout.partner, office)
            self.assertEqual(set(payout.payments), {first, second})
            self.assertEqual((payout.gross, payout.fees, payout.net),
                (D('66.00'), D('3.30'), D('62.70')))
            origin, = statement.origins
            self.assertEqual(sorted((l.account.code, l.amount)
                    for l in origin.lines), sorted([
                        ('472', D('66.00')),
                        (commission.code, D('-3.30'))]))
            Statement.validate_statement([statement])
            books = balances(company)
            self.assertEqual(books['472'], other.amount)
            self.assertEqual(books[commission.code], D('3.30'))
            self.assertNotIn('6278', books)
            self.assertTrue(moves_balance(company))

    @with_transaction()
    def test_statement_partial_and_unmatched(self):
        "A payout waiting under its reference is matched by it; a line "
        "whose amount no run of open payments makes stays unmatched, its "
        "payments open; cancelling the statement undoes the payout"
        pool = Pool()
        ClearingOpenLine = pool.get('ticket.accounting.clearing.open_line')
        Payment = pool.get('ticket.order.payment')
        ProviderPayout = pool.get('ticket.accounting.provider_payout')
        Statement = pool.get('account.statement')
        company = create_company()
        with set_company(company):
            t = setup_theatre(company)
            journal = statement_journal(company, t.configuration)
            p1, p2, p3 = card_sales(t, [2, 1, 3])
            refund = Payment.refund(p2)
            waiting, = ProviderPayout.create([{
                        'company': company.id, 'provider': 'manual',
                        'method': 'card', 'reference': 'po_2',
                        'date': dt.date.today(), 'fees': D('0.50'),
                        'payments': [('add', [p1.id])],
                        }])
            statement = bank_statement(journal, [{
                        'number': 'po_2', 'amount': D('43.50'),
                        }, {
                        'number': 'po_3', 'amount': D('10.00'),
                        'ticket_provider': 'manual',
                        'provider_fees': D('0.20'),
                        }])
            payouts = Statement.match_payouts([statement])

            self.assertEqual(payouts, [waiting])
            by_number = {o.number: o for o in Statement(statement.id).origins}
            self.assertEqual(by_number['po_2'].provider_payout, waiting)
            self.assertEqual(by_number['po_2'].pending_amount, D(0))
            self.assertEqual(by_number['po_3'].lines, ())
            self.assertEqual(by_number['po_3'].pending_amount, D('10.00'))
            # the rest of what the provider owes stays open: p2, its refund
            # and p3
            self.assertEqual(
                sorted((l.payment.id, l.amount)
                    for l in ClearingOpenLine.search([])),
                sorted([(p2.id, D('22.00')), (refund.id, D('-22.00')),
                        (p3.id, D('66.00'))]))
            self.assertEqual(
                Payment.search([('provider_payout', '=', None),
                        ('id', 'in', [p2.id, p3.id])], count=True), 2)

            # a line of the rest less its fee is matched to it
            statement2 = bank_statement(journal, [{
                        'number': 'po_4', 'amount': D('65.40'),
                        'ticket_provider': 'manual',
                        'provider_fees': D('0.60'),
                        }])
            # the button, as the back office calls it, returns no action
            self.assertIsNone(
                Statement.match_provider_payouts([statement2]))
            origin, = Statement(statement2.id).origins
            payout = origin.provider_payout
            self.assertEqual(set(payout.payments), {p2, refund, p3})
            self.assertEqual(payout.gross, D('66.00'))
            self.assertEqual(ClearingOpenLine.search([]), [])

            Statement.validate_statement([Statement(statement.id)])
            self.assertEqual(ProviderPayout(waiting.id).state, 'done')
            Statement.cancel([Statement(statement.id)])
            self.assertEqual(ProviderPayout(waiting.id).state, 'draft')
