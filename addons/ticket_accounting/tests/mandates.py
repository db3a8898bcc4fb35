"Tests of providers, fees, levies, mandates, statements, payouts, reports"
import datetime as dt
import io
import zipfile
from decimal import Decimal

from pypdf import PdfReader

from trytond.exceptions import UserError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from .helpers import (
    balances, moves_balance, partner_sale, sell, setup_partners,
    setup_theatre, theatre_company)
from .xlsx import read_sheet

D = Decimal
IBAN = 'FR14 2004 1010 0505 0001 3M02 606'


def accounts(company, *codes):
    Account = Pool().get('account.account')
    found = {a.code: a for a in Account.search([
                ('company', '=', company.id), ('code', 'in', codes)])}
    return [found[c] for c in codes]


def setup_mandate(company, t, rate='0.08'):
    """Make t's event a mandate of a producer with 8 % commission and the
    CNM (3.5 %) and SACEM (10 %) levies; return producer, cnm, sacem"""
    pool = Pool()
    Levy = pool.get('ticket.accounting.levy')
    Party = pool.get('party.party')
    producer = Party(name="Compagnie des Tréteaux", payout_iban=IBAN)
    producer.save()
    cnm_party, sacem_party = Party.create([{'name': "CNM"},
            {'name': "SACEM"}])
    tax_expense, rights, other_taxes, accrued = accounts(
        company, '6378', '6516', '447', '4686')
    cnm, sacem = Levy.create([{
                'company': company.id, 'name': "Taxe CNM",
                'rate': D('0.035'), 'collector': cnm_party.id,
                'expense_account': tax_expense.id,
                'liability_account': other_taxes.id,
                }, {
                'company': company.id, 'name': "SACEM",
                'rate': D('0.10'), 'collector': sacem_party.id,
                'expense_account': rights.id,
                'liability_account': accrued.id,
                }])
    t.configuration.commission_product = t.fee_product
    t.configuration.save()
    t.event.producer = producer
    t.event.commission_rate = D(rate)
    t.event.levies = [cnm, sacem]
    t.event.save()
    return producer, cnm, sacem


def recognize(session):
    Session = Pool().get('ticket.session')
    return Session.recognize_revenue(at=session.end + dt.timedelta(hours=1))


def line_sum(company, kinds, **domain):
    Line = Pool().get('ticket.accounting.posting.line')
    return sum((l.amount for l in Line.search([
                    ('posting.company', '=', company.id),
                    ('kind', 'in', kinds),
                    ] + [(k, '=', v) for k, v in domain.items()])), D(0))


def payment_journal(company):
    Journal = Pool().get('account.payment.journal')
    journal = Journal(name="Virements SEPA", process_method='manual',
        currency=company.currency, company=company)
    journal.save()
    return journal


class MandateTestMixin:

    @with_transaction()
    def test_provider_posted_elsewhere(self):
        "A provider posted elsewhere books nothing; one with its own "
        "clearing account books on it"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Posting = pool.get('ticket.accounting.posting')
        Provider = pool.get('ticket.accounting.configuration.provider')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            cheques, = accounts(company, '5112')
            Provider.create([{
                        'configuration': t.configuration.id,
                        'provider': 'manual', 'booking': 'elsewhere',
                        }, {
                        'configuration': t.configuration.id,
                        'provider': 'box_office', 'clearing': cheques.id,
                        }])
            elsewhere, payment = sell([(t.adult, t.sessions[0], 1)],
                provider='manual')
            self.assertEqual(elsewhere.state, 'paid')
            self.assertEqual(Posting.search([]), [])
            Payment.refund(payment)
            self.assertEqual(Posting.search([]), [])
            sell([(t.adult, t.sessions[0], 1)], method='card')
            self.assertEqual(balances(company), {
                    '44571': D('-1.15'), '487': D('-20.85'),
                    '5112': D('22.00')})
            with self.assertRaises(UserError):
                Provider.create([{'configuration': t.configuration.id,
                            'provider': 'manual'}])

    @with_transaction()
    def test_fee_revenue_with_vat(self):
        "A booking fee is revenue at sale with its own VAT; a refund "
        "reverses it exactly"
        from guichet.ticket_pricing.tests.fees import create_fee
        Payment = Pool().get('ticket.order.payment')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            create_fee(company, "Frais de location", t.fee_product,
                amount='1.20')
            sale, payment = sell([(t.adult, t.sessions[0], 2)])
            self.assertEqual(sale.total, D('46.40'))
            self.assertEqual(balances(company), {
                    '44571': D('-2.69'), '487': D('-41.71'),
                    '517': D('46.40'), '706': D('-2.00')})
            self.assertEqual(line_sum(company, ['fee']), D('-2.00'))
            Payment.refund(payment)
            self.assertEqual(balances(company), {})

    @with_transaction()
    def test_mandate_commission_and_levies(self):
        "A mandate's tickets are the producer's; once the performance took "
        "place the commission with VAT and the levies are deducted; a "
        "refund after settles again to the cent"
        Payment = Pool().get('ticket.order.payment')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            producer, cnm, sacem = setup_mandate(company, t)
            session = t.sessions[0]
            _, payment = sell([(t.adult, session, 2)])
            self.assertEqual(balances(company), {
                    '4671': D('-44.00'), '517': D('44.00')})
            # the producer's VAT is not the company's
            self.assertEqual(line_sum(company, ['tax']), 0)
            self.assertEqual(recognize(session), [session])
            self.assertEqual(balances(company), {
                    '44571': D('-0.67'), '447': D('-1.46'),
                    '4686': D('-4.17'), '4671': D('-34.36'),
                    '517': D('44.00'), '706': D('-3.34')})
            Payment.refund(payment, D('22.00'))
            base = -line_sum(company, ['mandate'], session=session)
            self.assertEqual(base, D('20.86'))
            self.assertEqual(-line_sum(company, ['levy'], levy=cnm),
                (base * D('0.035')).quantize(D('0.01')))
            self.assertEqual(-line_sum(company, ['levy'], levy=sacem),
                (base * D('0.10')).quantize(D('0.01')))
            self.assertEqual(-line_sum(company, ['commission']),
                (base * D('0.08')).quantize(D('0.01')))
            self.assertEqual(-line_sum(company, ['commission_tax']),
                D('0.33'))
            self.assertTrue(moves_balance(company))

    @with_transaction()
    def test_levies_statement(self):
        "The levies statement: per levy and event the revenue excluding "
        "VAT, the rate and the levy, as booked (a refund after the show "
        "included); exported to XLSX"
        from ..report import ledger_xlsx, levy_rows
        Payment = Pool().get('ticket.order.payment')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            producer, cnm, sacem = setup_mandate(company, t)
            first, second = t.sessions
            _, payment = sell([(t.adult, first, 2)])
            sell([(t.reduced, second, 3)], method='cash')
            start = dt.date.today() - dt.timedelta(days=1)
            end = second.end.date() + dt.timedelta(days=2)
            self.assertEqual(levy_rows(company, start, end), [])
            recognize(first)
            Payment.refund(payment, D('22.00'))
            recognize(second)
            rows = levy_rows(company, start, end)
            base = -line_sum(company, ['mandate'])
            self.assertEqual(base, D('20.86') + D('42.65'))
            self.assertEqual([(r[0], r[1], r[2]) for r in rows], [
                    (sacem, t.event, base), (cnm, t.event, base)])
            for levy, _, row_base, amount in rows:
                self.assertEqual(amount,
                    -line_sum(company, ['levy'], levy=levy))
                # each session's levy rounded to the cent
                self.assertLessEqual(
                    abs(amount - row_base * levy.rate), D('0.01'))
            self.assertEqual(sum(r[3] for r in rows),
                -balances(company)['447'] - balances(company)['4686'])

            sheet = read_sheet(ledger_xlsx(company, 'levies', start, end))
            self.assertEqual(sheet[0], ['Levy', 'Collector', 'Event',
                    'Excl. VAT', 'Rate', 'Amount'])
            self.assertEqual(sheet[1][:5], ['SACEM', 'SACEM',
                    t.event.rec_name, float(base), '10 %'])
            self.assertEqual(sheet[2][:5], ['Taxe CNM', 'CNM',
                    t.event.rec_name, float(base), '3.5 %'])
            self.assertEqual(round(sheet[3][5], 2),
                float(sum(r[3] for r in rows)))

    @with_transaction()
    def test_statement_equals_lines(self):
        "A remittance statement: tickets per session and tariff, "
        "commission, levies, payouts; its net due is the sum of its lines "
        "and what the producer's account holds; PDF and XLSX"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        Statement = pool.get('ticket.accounting.statement')
        Payout = pool.get('ticket.accounting.payout')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            producer, cnm, sacem = setup_mandate(company, t)
            first, second = t.sessions
            _, payment = sell([(t.adult, first, 3), (t.reduced, first, 1)])
            sell([(t.adult, second, 2)], method='cash', channel='web')
            Payment.refund(payment, D('22.00'))
            recognize(first)
            today = dt.date.today()
            statement, = Statement.create([{
                        'company': company.id, 'producer': producer.id,
                        'start_date': today - dt.timedelta(days=1),
                        # the settlement is dated when the show took place
                        'end_date': today + dt.timedelta(days=30),
                        }])
            self.assertEqual(statement.net_due,
                sum((l.amount for l in statement.lines), D(0)))
            self.assertEqual(statement.net_due, -balances(company)['4671'])
            sales = {(l.session, l.tariff): (l.quantity, l.gross,
                    l.refunds) for l in statement.lines
                if l.kind == 'sales'}
            # the refund of 22.00 of 81.00 takes its share of each line
            self.assertEqual(sales[first, t.adult],
                (2, D('66.00'), D('17.93')))
            self.assertEqual(sales[first, t.reduced],
                (1, D('15.00'), D('4.07')))
            self.assertEqual(sales[second, t.adult], (2, D('44.00'), 0))
            self.assertEqual(statement.gross, D('125.00'))
            self.assertEqual(statement.refunds, D('22.00'))
            self.assertEqual({l.kind for l in statement.lines},
                {'sales', 'commission', 'commission_tax', 'levy'})
            self.assertTrue(statement.amount_in_words)
            self.assertEqual(statement.in_words('fr')[:4], 'quat')

            pdf = PdfReader(io.BytesIO(self.render(statement, 'pdf')))
            text = ''.join(p.extract_text() for p in pdf.pages)
            self.assertIn("Compagnie des Tréteaux", text)
            self.assertIn("Taxe CNM", text)
            # the test company's currency is the US dollar
            self.assertIn("ninety dollars, nine cents", text)
            xlsx = zipfile.ZipFile(io.BytesIO(self.render(statement, 'xlsx')))
            strings = xlsx.read('xl/sharedStrings.xml').decode()
            self.assertIn("Reduced", strings)
            self.assertIn("SACEM", strings)

            # the payout of the net due
            payout = Payout(company=company, producer=producer,
                amount=statement.net_due, journal=payment_journal(company),
                statement=statement)
            payout.on_change_producer()
            payout.save()
            Payout.pay([payout])
            self.assertEqual(payout.state, 'done')
            self.assertEqual(payout.iban, IBAN)
            self.assertEqual(payout.payment.state, 'submitted')
            self.assertEqual(payout.payment.kind, 'payable')
            self.assertEqual(payout.payment.amount, statement.net_due)
            self.assertNotIn('4671', balances(company))
            self.assertEqual(balances(company)['5121'], -statement.net_due)

            # made final, the statement counts the payout of its period;
            # final statements never change; a correction is a new one
            due = statement.net_due
            Statement.finalize([statement])
            statement = Statement(statement.id)
            self.assertEqual(statement.state, 'final')
            self.assertEqual(statement.paid_out, due)
            self.assertEqual(statement.net_due, 0)
            with self.assertRaises(UserError):
                Statement.write([statement], {'end_date': today})
            correction, = Statement.copy([statement],
                default={'state': 'draft'})
            Statement.compute([correction])
            correction = Statement(correction.id)
            self.assertEqual(correction.corrects, None)
            self.assertEqual(correction.paid_out, due)
            self.assertEqual(correction.net_due, 0)

    @with_transaction()
    def test_statement_booking_fees(self):
        "A remittance statement shows the booking fees of its orders per "
        "fee, net of refunded fees, as the fee lines have them; they are "
        "the company's revenue so the net due stays the producer's "
        "account; PDF and XLSX have the fee section"
        from guichet.ticket_pricing.tests.fees import create_fee
        pool = Pool()
        Line = pool.get('ticket.accounting.posting.line')
        Payment = pool.get('ticket.order.payment')
        Statement = pool.get('ticket.accounting.statement')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            producer, _, _ = setup_mandate(company, t)
            first, second = t.sessions
            create_fee(company, "Frais de location", t.fee_product,
                amount='1.20')
            kept, _ = sell([(t.adult, first, 2)])
            refunded, payment = sell([(t.reduced, second, 1)])
            Payment.refund(payment)
            today = dt.date.today()
            statement, = Statement.create([{
                        'company': company.id, 'producer': producer.id,
                        'start_date': today - dt.timedelta(days=1),
                        'end_date': today + dt.timedelta(days=30),
                        }])
            fee, = [l for l in statement.lines if l.kind == 'fee']
            lines = Line.search([
                    ('posting.company', '=', company.id),
                    ('product', '=', t.fee_product.id),
                    ('kind', 'in', ['fee', 'tax']),
                    ])
            self.assertEqual({l.kind for l in lines}, {'fee', 'tax'})

            def total(kind, sign):
                return sum((abs(l.amount) for l in lines
                        if l.kind in kind and (l.amount < 0) == sign), D(0))
            self.assertEqual(fee.product, t.fee_product)
            self.assertEqual(fee.tax, t.vat20)
            self.assertEqual(fee.gross, total({'fee', 'tax'}, True))
            self.assertEqual(fee.gross, D('3.60'))
            self.assertEqual(fee.refunds, total({'fee', 'tax'}, False))
            self.assertEqual(fee.refunds, D('1.20'))
            self.assertEqual(fee.vat,
                total({'tax'}, True) - total({'tax'}, False))
            self.assertEqual(fee.untaxed, -line_sum(company, ['fee']))
            self.assertEqual(fee.untaxed, D('2.00'))
            self.assertEqual(fee.vat + fee.untaxed, D('2.40'))
            self.assertEqual(fee.quantity, 1)
            self.assertEqual(fee.amount, 0)
            self.assertEqual(statement.fees, D('2.40'))
            # the fees are not the producer's: the net due is the sum of
            # the lines and what the producer's account holds
            self.assertEqual(statement.net_due,
                sum((l.amount for l in statement.lines), D(0)))
            self.assertEqual(statement.net_due, -balances(company)['4671'])
            self.assertEqual(statement.gross, D('59.00'))
            self.assertEqual(statement.refunds, D('15.00'))

            pdf = PdfReader(io.BytesIO(self.render(statement, 'pdf')))
            text = ''.join(p.extract_text() for p in pdf.pages)
            self.assertIn("Booking fees", text)
            self.assertIn("Booking fee", text)
            self.assertIn("3.60", text)
            sheet = read_sheet(self.render(statement, 'xlsx'), sheet=3)
            self.assertEqual(sheet[1][:3], ["Booking fee", t.vat20.rec_name,
                    1])
            self.assertEqual(sheet[1][3:], [3.6, 1.2, 2.0, 0.4, 2.4])
            main = read_sheet(self.render(statement, 'xlsx'))
            self.assertNotIn("Booking fee", [r[0] for r in main if r])

            # a statement of another producer has none of these fees
            other = Pool().get('party.party')(name="Autre producteur")
            other.save()
            statement, = Statement.create([{
                        'company': company.id, 'producer': other.id,
                        'start_date': today - dt.timedelta(days=1),
                        'end_date': today + dt.timedelta(days=30),
                        }])
            self.assertEqual(statement.lines, ())
            self.assertEqual(statement.fees, 0)

    @with_transaction()
    def test_statement_final_when_event_closes(self):
        "The draft statements of an event become final when it closes"
        pool = Pool()
        Event = pool.get('ticket.event')
        Statement = pool.get('ticket.accounting.statement')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            sell([(t.adult, t.sessions[0], 1)])
            today = dt.date.today()
            statement, = Statement.create([{
                        'company': company.id, 'event': t.event.id,
                        'start_date': today, 'end_date': today}])
            self.assertEqual(statement.net_due, D('22.00'))
            Event.close([t.event])
            self.assertEqual(statement.state, 'final')

    @with_transaction()
    def test_invalid_iban_refused(self):
        "An invalid IBAN is refused with a message"
        Party = Pool().get('party.party')
        company = create_company()
        with set_company(company):
            with self.assertRaisesRegex(UserError, "IBAN"):
                Party.create([{'name': "X", 'payout_iban': 'FR14 0000'}])
            party, = Party.create([{'name': "Y",
                        'payout_iban': 'fr1420041010050500013m02606'}])
            self.assertEqual(party.payout_iban, IBAN)

    @with_transaction()
    def test_provider_payout_with_fees(self):
        "A provider pays out its payments less its commission: clearing "
        "credited, bank and bank charges debited; the payments it does not "
        "cover stay open"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        ProviderPayout = pool.get('ticket.accounting.provider_payout')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            _, first = sell([(t.adult, t.sessions[0], 2)])
            _, second = sell([(t.reduced, t.sessions[0], 1)])
            _, third = sell([(t.reduced, t.sessions[1], 1)])
            refund = Payment.refund(second, D('5.00'))
            payout = ProviderPayout(company=company, provider='box_office',
                method='card', reference='po_123', fees=D('1.32'),
                payments=[first, second, refund])
            payout.save()
            self.assertEqual(payout.gross, D('54.00'))
            self.assertEqual(payout.net, D('52.68'))
            ProviderPayout.book([payout])
            books = balances(company)
            self.assertEqual(books['517'], D('15.00'))
            self.assertEqual(books['5121'], D('52.68'))
            self.assertEqual(books['6278'], D('1.32'))
            self.assertEqual(Payment.search([
                        ('provider_payout', '=', None),
                        ('state', '=', 'succeeded')]), [third])
            self.assertTrue(moves_balance(company))
            empty = ProviderPayout(company=company, provider='box_office',
                method='card', fees=D(0))
            empty.save()
            with self.assertRaises(UserError):
                ProviderPayout.book([empty])

    @with_transaction()
    def test_partner_payout(self):
        "A partner settles its own sales less its commission: its payout "
        "takes its open payments until its date, proposes its commission "
        "as fees and books them on the provider's commission account"
        pool = Pool()
        Payment = pool.get('ticket.order.payment')
        ProviderPayout = pool.get('ticket.accounting.provider_payout')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            (office, agency), commission = setup_partners(company, [
                    ("Office", D('0.08')), ("Agency", D('0.10'))])

            first = partner_sale(office, [(t.adult, t.sessions[0], 2)], 'A1')
            foreign = partner_sale(agency, [(t.reduced, t.sessions[0], 1)],
                'B1')
            second = partner_sale(office, [(t.reduced, t.sessions[1], 1)],
                'A2')
            before = balances(company)

            # the partner is required, and a payout of yesterday finds none
            payout = ProviderPayout(company=company, provider='partner',
                method='other', reference='Office 11/2026',
                date=dt.date.today() - dt.timedelta(days=1), fees=D(0))
            with self.assertRaises(UserError):
                payout.save()
            payout.partner = office
            payout.save()
            ProviderPayout.add_open([payout])
            self.assertEqual(ProviderPayout(payout.id).payments, ())

            ProviderPayout.write([payout], {'date': dt.date.today()})
            ProviderPayout.add_open([payout])
            payout = ProviderPayout(payout.id)
            self.assertEqual(sorted(payout.payments),
                sorted([first, second]))
            gross = first.amount + second.amount
            self.assertEqual(payout.gross, gross)
            fees = (gross * D('0.08')).quantize(D('0.01'))
            self.assertEqual(payout.fees, fees)

            ProviderPayout.book([payout])
            after = balances(company)
            self.assertEqual(after['472'] - before['472'], -gross)
            self.assertEqual(after.get('5121', D(0))
                - before.get('5121', D(0)), gross - fees)
            self.assertEqual(after[commission.code]
                - before.get(commission.code, D(0)), fees)
            self.assertNotIn('6278', after)
            self.assertTrue(moves_balance(company))
            self.assertEqual(Payment.search([
                        ('provider', '=', 'partner'),
                        ('provider_payout', '=', None)]), [foreign])
            self.assertIn("Office", payout.rec_name)

            # another partner's payment is refused (last: the refused
            # write is not rolled back inside the test's transaction)
            other = ProviderPayout(company=company, provider='partner',
                partner=office, method='other', fees=D(0))
            other.save()
            with self.assertRaises(UserError):
                ProviderPayout.write([other], {
                        'payments': [('add', [foreign.id])]})

    @with_transaction()
    def test_ledger_reports(self):
        "VAT by rate and tariff, sales journal and deferred revenue by "
        "session agree with the books; each exports to XLSX"
        from ..report import (
            deferred_rows, journal_rows, ledger_xlsx, vat_rows)
        Payment = Pool().get('ticket.order.payment')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            first, second = t.sessions
            _, payment = sell([(t.adult, first, 2), (t.backstage, first, 1)])
            sell([(t.reduced, second, 2)], method='cash', channel='web')
            Payment.refund(payment, D('10.00'))
            recognize(first)
            today = dt.date.today()
            rows = vat_rows(company, today, today)
            books = balances(company)
            self.assertEqual(sum(r[3] for r in rows), -books['44571'])
            by_tariff = {r[1]: (r[0], r[2], r[3]) for r in rows}
            self.assertEqual(by_tariff[t.reduced],
                (t.vat55, D('28.44'), D('1.56')))
            journal = journal_rows(company, today, today)
            self.assertEqual(sum(r[6] + r[7] for r in journal),
                books['517'] + books['5311'])
            # today both performances are to come; once the first took
            # place only the second's revenue stays deferred
            self.assertEqual([s for s, _ in deferred_rows(company, today)],
                [first, second])
            deferred = deferred_rows(
                company, first.end.date() + dt.timedelta(days=1))
            self.assertEqual(deferred, [(second, D('28.44'))])
            self.assertEqual(-books['487'], D('28.44'))
            for kind in ['vat', 'journal', 'deferred', 'levies']:
                content = ledger_xlsx(company, kind, today, today)
                self.assertTrue(read_sheet(content))

            # the sales journal in XLSX: a row per day, session, tariff,
            # channel, payment method and kind, with its tickets
            sheet = read_sheet(ledger_xlsx(company, 'journal', today, today))
            self.assertEqual(sheet[0], ['Date', 'Event', 'Session',
                    'Tariff', 'Channel', 'Method', 'Entry', 'Tickets',
                    'Excl. VAT', 'VAT', 'Amount'])
            body, total = sheet[1:-1], sheet[-1]
            self.assertEqual(len(body), len(journal))
            rows = {(r[2], r[3], r[4], r[5], r[6]): r[7:] for r in body}
            self.assertEqual(rows[second.rec_name, 'Reduced', 'web', 'cash',
                    'payment'], [2.0, 28.44, 1.56, 30.0])
            self.assertEqual(rows[first.rec_name, 'Adult', 'box_office',
                    'card', 'payment'], [2.0, 41.71, 2.29, 44.0])
            self.assertEqual(rows[first.rec_name, 'Backstage tour',
                    'box_office', 'card', 'payment'], [1.0, 10.0, 2.0, 12.0])
            refunds = [r for r in body if r[6] == 'refund']
            self.assertTrue(refunds)
            self.assertEqual(round(sum(r[10] for r in refunds), 2), -10.0)
            self.assertEqual(total[0], 'Total')
            self.assertEqual(round(total[10], 2),
                float(books['517'] + books['5311']))

    def render(self, statement, extension):
        Report = Pool().get(
            f'ticket.accounting.statement.{extension}', type='report')
        oext, content, _, name = Report.execute([statement.id], {})
        self.assertEqual(oext, extension)
        return content

    @with_transaction()
    def test_payout_schedule(self):
        "On the 1st and 16th the scheduler pays the producer what its event "
        "owes up to the day before, less what was paid out, once per "
        "period; after the event it waits for the sessions to take place"
        pool = Pool()
        Payout = pool.get('ticket.accounting.payout')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            setup_mandate(company, t)
            first, second = t.sessions
            t.configuration.payout_journal = payment_journal(company)
            t.configuration.save()
            today = dt.date.today()
            sell([(t.adult, first, 2)])
            self.assertEqual(t.event.payout_schedule, 'after_event')
            self.assertEqual(
                Payout.pay_scheduled(today + dt.timedelta(days=1)), [])

            t.event.payout_schedule = 'twice_monthly'
            t.event.save()
            day1 = next_boundary(today)
            payout, = Payout.pay_scheduled(day1)
            payout = Payout(payout.id)
            self.assertEqual(payout.amount, D('44.00'))
            self.assertEqual(payout.state, 'done')
            self.assertEqual(payout.iban, IBAN)
            self.assertEqual(payout.payment.state, 'submitted')
            self.assertEqual(payout.statement.state, 'final')
            self.assertEqual(payout.statement.end_date,
                day1 - dt.timedelta(days=1))
            self.assertNotIn('4671', balances(company))
            self.assertEqual(Payout.pay_scheduled(day1), [])

            # the show: commission and levies are the producer's debt
            recognize(first)
            day2 = next_boundary(max(first.end.date(), day1))
            self.assertEqual(Payout.pay_scheduled(day2), [])
            owed = balances(company)['4671']
            self.assertEqual(owed, D('9.64'))
            # a later sale pays it back first
            sell([(t.adult, second, 1)])
            day3 = next_boundary(day2)
            payout3, = Payout.pay_scheduled(day3)
            payout3 = Payout(payout3.id)
            self.assertEqual(payout3.amount, D('22.00') - owed)
            statement = payout3.statement
            self.assertEqual(statement.paid_out, D('44.00'))
            self.assertEqual(statement.net_due,
                sum((l.amount for l in statement.lines), D(0)))
            self.assertNotIn('4671', balances(company))
            self.assertTrue(moves_balance(company))


def next_boundary(date):
    "The first 1st or 16th of a month after date"
    if date.day < 16:
        return date.replace(day=16)
    return (date.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
