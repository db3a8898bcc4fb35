"Tests of producer payouts sent as SEPA credit transfers (pain.001)"
import datetime as dt
import os
from decimal import Decimal

from lxml import etree

import trytond.modules.account_payment_sepa.tests as sepa_tests
from trytond.exceptions import UserError
from trytond.modules.company.tests import create_company, set_company
from trytond.modules.currency.tests import create_currency
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .helpers import balances, sell, setup_theatre, theatre_company
from .mandates import IBAN, payment_journal, recognize, setup_mandate

D = Decimal
COMPANY_IBAN = 'FR76 3000 6000 0112 3456 7890 189'
NS = {'p': 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.03'}


def sepa_journal(company):
    "A payment journal processed by SEPA credit transfer from the company's "
    "bank account (a bank with BIC)"
    pool = Pool()
    Account = pool.get('bank.account')
    Bank = pool.get('bank')
    Journal = pool.get('account.payment.journal')
    Party = pool.get('party.party')
    bank = Bank(party=Party(name="Banque du Théâtre"), bic='AGRIFRPPXXX')
    bank.party.save()
    bank.save()
    account, = Account.create([{
                'bank': bank.id,
                'owners': [('add', [company.party.id])],
                'numbers': [('create', [{
                                'type': 'iban', 'number': COMPANY_IBAN}])],
                }])
    journal = Journal(name="Virements SEPA", process_method='sepa',
        currency=company.currency, company=company,
        sepa_bank_account_number=account.numbers[0],
        sepa_payable_flavor='pain.001.001.03',
        sepa_receivable_flavor='pain.008.001.02',
        sepa_charge_bearer='SLEV')
    journal.save()
    return journal


def send(payments):
    """Approve the payments and process them as the treasurer does (the
    payment process wizard); return the payment groups"""
    pool = Pool()
    Payment = pool.get('account.payment')
    Group = pool.get('account.payment.group')
    Process = pool.get('account.payment.process', type='wizard')
    Payment.approve(payments)
    session_id, _, _ = Process.create()
    with Transaction().set_context(
            active_model=Payment.__name__,
            active_ids=[p.id for p in payments]):
        _, data = Process(session_id).do_process(None)
    return Group.browse(data['res_id'])


class SepaTestMixin:

    @with_transaction()
    def test_payout_sepa_credit_transfer(self):
        "A producer payout on a SEPA journal is a credit transfer to the "
        "producer's IBAN for the net due, its end-to-end reference the "
        "statement number, in a pain.001 that the schema accepts"
        pool = Pool()
        Payout = pool.get('ticket.accounting.payout')
        Statement = pool.get('ticket.accounting.statement')
        company = create_company(currency=create_currency('EUR'))
        with set_company(company):
            t = setup_theatre(company)
            producer, _, _ = setup_mandate(company, t)
            first, second = t.sessions
            sell([(t.adult, first, 3), (t.reduced, first, 1)])
            sell([(t.adult, second, 2)], method='cash', channel='web')
            recognize(first)
            today = dt.date.today()
            statement, = Statement.create([{
                        'company': company.id, 'producer': producer.id,
                        'start_date': today - dt.timedelta(days=1),
                        'end_date': today + dt.timedelta(days=30),
                        }])
            self.assertFalse(statement.number)
            due = statement.net_due
            self.assertGreater(due, 0)
            journal = sepa_journal(company)
            payout = Payout(company=company, producer=producer,
                amount=due, journal=journal, statement=statement)
            payout.on_change_producer()
            payout.save()
            Payout.pay([payout])

            statement = Statement(statement.id)
            self.assertRegex(statement.number, r'^RS-\d{4}-\d{5}$')
            payment = payout.payment
            self.assertEqual(payment.kind, 'payable')
            self.assertEqual(payment.amount, due)
            self.assertEqual(payment.reference, statement.number)
            self.assertEqual(payment.sepa_end_to_end_id, statement.number)
            number = payment.sepa_payable_bank_account_number
            self.assertEqual(number.number_compact,
                IBAN.replace(' ', ''))
            self.assertEqual(list(number.account.owners), [producer])
            self.assertTrue(number.account.bank)
            self.assertEqual(balances(company)['5121'], -due)
            # the payment is found by its end-to-end reference (bank
            # returns)
            Payment = pool.get('account.payment')
            self.assertEqual(Payment.search([
                        ('sepa_end_to_end_id', '=', statement.number)]),
                [payment])

            group, = send([payment])
            message, = group.sepa_messages
            xml = etree.fromstring(bytes(message.message))
            schema = etree.XMLSchema(etree.parse(os.path.join(
                        os.path.dirname(sepa_tests.__file__),
                        'pain.001.001.03.xsd')))
            schema.assertValid(xml)
            transfer, = xml.findall('.//p:CdtTrfTxInf', NS)
            self.assertEqual(
                transfer.findtext('p:PmtId/p:EndToEndId', namespaces=NS),
                statement.number)
            amount = transfer.find('p:Amt/p:InstdAmt', NS)
            self.assertEqual(D(amount.text), due)
            self.assertEqual(amount.get('Ccy'), 'EUR')
            self.assertEqual(
                transfer.findtext('p:CdtrAcct/p:Id/p:IBAN', namespaces=NS),
                IBAN.replace(' ', ''))
            self.assertEqual(
                transfer.findtext('p:Cdtr/p:Nm', namespaces=NS),
                producer.name)
            self.assertEqual(
                xml.findtext('.//p:DbtrAcct/p:Id/p:IBAN', namespaces=NS),
                COMPANY_IBAN.replace(' ', ''))
            self.assertEqual(
                xml.findtext('.//p:GrpHdr/p:CtrlSum', namespaces=NS),
                str(due))

            # a second payout to the same IBAN uses the same bank account
            payout2 = Payout(company=company, producer=producer,
                amount=D('1.00'), journal=journal, event=t.event)
            payout2.on_change_producer()
            payout2.save()
            Payout.pay([payout2])
            self.assertEqual(
                payout2.payment.sepa_payable_bank_account_number, number)
            self.assertEqual(payout2.payment.reference, t.event.rec_name)

    @with_transaction()
    def test_payout_sepa_refused_iban_of_another_party(self):
        "A SEPA payout to an IBAN another party holds is refused and "
        "books nothing"
        pool = Pool()
        Account = pool.get('bank.account')
        Party = pool.get('party.party')
        Payout = pool.get('ticket.accounting.payout')
        Posting = pool.get('ticket.accounting.posting')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            producer, _, _ = setup_mandate(company, t)
            other = Party(name="Autre")
            other.save()
            Account.create([{
                        'owners': [('add', [other.id])],
                        'numbers': [('create', [{
                                        'type': 'iban', 'number': IBAN}])],
                        }])
            payout = Payout(company=company, producer=producer,
                amount=D('10.00'), journal=sepa_journal(company),
                event=t.event, iban=IBAN)
            payout.save()
            postings = Posting.search([], count=True)
            with self.assertRaisesRegex(UserError, "IBAN"):
                Payout.pay([payout])
            self.assertEqual(Posting.search([], count=True), postings)

    @with_transaction()
    def test_payout_without_sepa(self):
        "Without SEPA configuration (a manual payment journal) the payout "
        "is a payment without bank account, processed by hand"
        pool = Pool()
        Payout = pool.get('ticket.accounting.payout')
        company = theatre_company()
        with set_company(company):
            t = setup_theatre(company)
            producer, _, _ = setup_mandate(company, t)
            payout = Payout(company=company, producer=producer,
                amount=D('10.00'), journal=payment_journal(company),
                event=t.event)
            payout.on_change_producer()
            payout.save()
            Payout.pay([payout])
            payment = payout.payment
            self.assertEqual(payment.process_method, 'manual')
            self.assertIsNone(payment.sepa_payable_bank_account_number)
            group, = send([payment])
            self.assertEqual(payment.state, 'processing')
            self.assertFalse(group.sepa_messages)
