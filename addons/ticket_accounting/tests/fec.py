"Tests of the FEC export (account_fr) of the ticketing moves"
import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from .helpers import sell, setup_theatre, theatre_company

D = Decimal
HEADER = [
    'JournalCode', 'JournalLib', 'EcritureNum', 'EcritureDate', 'CompteNum',
    'CompteLib', 'CompAuxNum', 'CompAuxLib', 'PieceRef', 'PieceDate',
    'EcritureLib', 'Debit', 'Credit', 'EcritureLet', 'DateLet', 'ValidDate',
    'Montantdevise', 'Idevise']
# The columns the standard (article A47 A-1 of the LPF) requires filled
REQUIRED = [
    'JournalCode', 'JournalLib', 'EcritureNum', 'EcritureDate', 'CompteNum',
    'CompteLib', 'PieceRef', 'PieceDate', 'EcritureLib', 'Debit', 'Credit',
    'ValidDate']


def fec_rows(fiscalyear):
    "The rows of the FEC of fiscalyear as dicts, and its header"
    FEC = Pool().get('account.fr.fec', type='wizard')
    session_id, _, _ = FEC.create()
    wizard = FEC(session_id)
    wizard.start.fiscalyear = fiscalyear
    wizard.start.type = 'is-bic'
    wizard.start.deferral_period = None
    wizard.transition_generate()
    text = bytes(wizard.result.file).decode('utf-8')
    FEC.delete(session_id)
    reader = csv.reader(io.StringIO(text), delimiter='\t',
        quoting=csv.QUOTE_NONE, escapechar='\\')
    header, *rows = list(reader)
    return header, [dict(zip(header, r)) for r in rows], rows


def amount(text):
    return D(text.replace(',', '.'))


class FecTestMixin:

    @with_transaction()
    def test_fec_export(self):
        "The FEC of account_fr lists every posted ticketing move, line by "
        "line, with the columns the standard requires, each entry in balance"
        pool = Pool()
        Configuration = pool.get('ticket.accounting.configuration')
        FiscalYear = pool.get('account.fiscalyear')
        Move = pool.get('account.move')
        Payment = pool.get('ticket.order.payment')
        Posting = pool.get('ticket.accounting.posting')
        Session = pool.get('ticket.session')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            first, second = t.sessions
            _, card = sell([(t.adult, first, 2), (t.backstage, first, 1)],
                method='card', channel='web')
            sell([(t.reduced, second, 1)], method='cash')
            Payment.refund(card, D('22.00'))
            Session.recognize_revenue(at=first.end + dt.timedelta(hours=1))
            # Per day and channel: two sales make one batch move
            configuration = Configuration.for_company(company)
            configuration.posting = 'day'
            configuration.save()
            sell([(t.adult, second, 1)], method='cheque', channel='phone')
            sell([(t.reduced, second, 2)], method='cheque', channel='phone')
            Posting.post_pending(dt.date.today() + dt.timedelta(days=1))

            postings = Posting.search([('company', '=', company.id)])
            self.assertTrue(all(p.state == 'posted' for p in postings))
            moves = {p.move for p in postings}
            batch, = [m for m in moves if not m.origin]
            self.assertEqual(len(Posting.search([('move', '=', batch.id)])),
                2)

            rows, header = [], None
            for fiscalyear in FiscalYear.search([
                        ('company', '=', company.id)]):
                header, year_rows, raw = fec_rows(fiscalyear)
                self.assertTrue(all(len(r) == len(HEADER) for r in raw))
                # without the opening balance the next year carries over
                rows.extend(r for r in year_rows
                    if r['JournalCode'] != 'OUV')
            self.assertEqual(header, HEADER)

            # every posted ticketing move, each of its lines
            self.assertEqual({r['EcritureNum'] for r in rows},
                {m.number for m in moves})
            self.assertEqual(len(rows), sum(len([
                            l for l in m.lines if l.debit or l.credit])
                    for m in moves))
            self.assertTrue(all(m.state == 'posted' for m in moves))
            for row in rows:
                for column in REQUIRED:
                    self.assertTrue(row[column], (column, row))
                self.assertNotEqual(row['PieceRef'], '-', row)
                dt.datetime.strptime(row['EcritureDate'], '%Y%m%d')
                dt.datetime.strptime(row['ValidDate'], '%Y%m%d')
            totals = defaultdict(lambda: D(0))
            for row in rows:
                totals[row['EcritureNum']] += (
                    amount(row['Debit']) - amount(row['Credit']))
            self.assertEqual(set(totals.values()), {D(0)})
            # the batch move is referenced by its day and channel
            batch_rows = [r for r in rows if r['EcritureNum'] == batch.number]
            self.assertTrue(batch_rows)
            self.assertEqual({r['PieceRef'] for r in batch_rows},
                {batch.description})
            self.assertIn('phone', batch.description)
            # the FEC's ledger agrees with the books, account by account
            by_account = defaultdict(lambda: D(0))
            for row in rows:
                by_account[row['CompteNum']] += (
                    amount(row['Debit']) - amount(row['Credit']))
            books = defaultdict(lambda: D(0))
            for move in Move.search([('company', '=', company.id)]):
                for line in move.lines:
                    books[line.account.code] += line.debit - line.credit
            self.assertEqual(
                {k: v for k, v in by_account.items() if v},
                {k: v for k, v in books.items() if v})
            # deferred + recognized revenue = the entries' ticket lines
            self.assertEqual(by_account['487'] + by_account['706'],
                sum((l.amount for p in postings for l in p.lines
                        if l.kind in {'deferred', 'revenue'}), D(0)))
