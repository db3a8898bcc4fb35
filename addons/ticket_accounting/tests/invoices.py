"Tests of the invoices of paid orders for business buyers"
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.modules.account_invoice.tests.test_module import (
    set_invoice_sequences)
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .helpers import balances, moves_balance, order, sell, setup_theatre

D = Decimal
VAT = 'FR40303265045'
SIRET = '73282932000074'


def setup_invoicing(company, **kwargs):
    "A theatre whose fiscal years number invoices, and France"
    pool = Pool()
    Country = pool.get('country.country')
    FiscalYear = pool.get('account.fiscalyear')
    t = setup_theatre(company, **kwargs)
    for fiscalyear in FiscalYear.search([('company', '=', company.id)]):
        set_invoice_sequences(fiscalyear).save()
    if not Country.search([('code', '=', 'FR')]):
        Country.create([{'name': "France", 'code': 'FR'}])
    return t


def buyer(**values):
    from ..invoice import Buyer
    data = dict(name="Comité d'entreprise ACME", street="1 rue de la Paix",
        postal_code="75002", city="Paris", country='FR',
        vat_number='FR 40 303 265 045', siret='732 829 320 00074')
    data.update(values)
    return Buyer(**data)


class InvoiceTestMixin:

    @with_transaction()
    def test_invoice_tickets_and_fees(self):
        "The invoice has a line per ticket and per fee, the order's totals, "
        "and is paid by the revenue already booked: the books do not move"
        from guichet.ticket_pricing.tests.fees import create_fee
        Order = Pool().get('ticket.order')
        company = create_company()
        with set_company(company):
            t = setup_invoicing(company)
            create_fee(company, "Frais de location", t.fee_product,
                amount='1.20')
            sale, _ = sell([(t.adult, t.sessions[0], 3),
                    (t.backstage, t.sessions[1], 1)], method='card')
            before = balances(company)
            invoice = Order.invoice_order(sale, buyer())

            self.assertEqual(invoice.state, 'paid')
            self.assertEqual(invoice.total_amount, sale.total)
            self.assertEqual(invoice.untaxed_amount, sale.untaxed_amount)
            self.assertEqual(invoice.tax_amount, sale.tax_amount)
            self.assertEqual(Order(sale.id).invoice, invoice)
            tickets = [l for l in invoice.lines if l.product == t.play]
            self.assertEqual(len(tickets), 3)
            self.assertEqual(len([l for l in invoice.lines
                        if l.product == t.workshop]), 1)
            fees = [l for l in invoice.lines if l.product == t.fee_product]
            self.assertTrue(fees)
            self.assertEqual(len(invoice.lines), 4 + len(fees))
            self.assertEqual({l.taxes for l in tickets}, {(t.vat55,)})
            self.assertIn(t.sessions[0].rec_name, tickets[0].description)
            numbers = {tk.number for tk in sale.tickets}
            self.assertTrue(all(any(n in l.description for n in numbers)
                    for l in tickets))
            self.assertEqual(sum((l.amount for l in tickets), D(0)),
                sum((l.untaxed_amount for l in sale.lines
                        if l.tariff == t.adult), D(0)))
            party = invoice.party
            self.assertEqual(party.name, "Comité d'entreprise ACME")
            self.assertEqual({(i.type, i.code.replace(' ', ''))
                    for i in party.identifiers},
                {('eu_vat', VAT), ('fr_siret', SIRET)})
            self.assertEqual(invoice.invoice_address.city, "Paris")

            # revenue and VAT once: the ledger is as the payment left it
            self.assertEqual(balances(company), before)
            self.assertTrue(moves_balance(company))

    @with_transaction()
    def test_invoice_vat_rounding(self):
        "The VAT of the invoice is the VAT collected, to the cent, whatever "
        "the rounding of the VAT computed again on the lines"
        Order = Pool().get('ticket.order')
        company = create_company()
        with set_company(company):
            t = setup_invoicing(company)
            for quantity in [1, 3, 7]:
                sale, _ = sell([(t.reduced, t.sessions[0], quantity),
                        (t.backstage, t.sessions[0], quantity)])
                invoice = Order.invoice_order(sale, buyer())
                self.assertEqual(invoice.total_amount, sale.total)
                self.assertEqual(invoice.tax_amount, sale.tax_amount)
                self.assertEqual(invoice.state, 'paid')
            # the same buyer is one party
            Party = Pool().get('party.party')
            self.assertEqual(len(Party.search([
                            ('identifiers.code', '=', VAT)])), 1)

    @with_transaction()
    def test_invoice_refused(self):
        "An invalid VAT or SIRET, an unpaid order or a second invoice is "
        "refused with a message and writes nothing"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Order = pool.get('ticket.order')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            t = setup_invoicing(company)
            sale, _ = sell([(t.adult, t.sessions[0], 1)])
            parties = Party.search([], count=True)
            cases = [
                (buyer(vat_number='FR40303265046'),
                    "not a valid European VAT number"),
                (buyer(vat_number=''), "not a valid European VAT"),
                (buyer(siret='73282932000075'), "not a valid SIRET"),
                (buyer(name=' '), "needs the buyer's name"),
                (buyer(country='ZZ'), "not a known country"),
                ]
            for data, message in cases:
                with self.assertRaisesRegex(UserError, message):
                    Order.invoice_order(sale, data)
            self.assertEqual(Invoice.search([]), [])
            self.assertEqual(Party.search([], count=True), parties)
            self.assertIsNone(Order(sale.id).invoice)

            reserved = order([(t.adult, t.sessions[0], 1)])
            with self.assertRaisesRegex(UserError, "not paid"):
                Order.invoice_order(reserved, buyer())

            invoice = Order.invoice_order(sale, buyer(siret=None))
            with self.assertRaisesRegex(UserError, "already invoiced"):
                Order.invoice_order(Order(sale.id), buyer())
            self.assertEqual(Invoice.search([]), [invoice])

    @with_transaction()
    def test_invoice_wizard(self):
        "The back office wizard invoices the order to the buyer it asks"
        pool = Pool()
        Country = pool.get('country.country')
        Order = pool.get('ticket.order')
        InvoiceRequest = pool.get(
            'ticket.accounting.invoice.request', type='wizard')
        company = create_company()
        with set_company(company):
            t = setup_invoicing(company)
            sale, _ = sell([(t.adult, t.sessions[0], 2)])
            session_id, _, _ = InvoiceRequest.create()
            wizard = InvoiceRequest(session_id)
            france, = Country.search([('code', '=', 'FR')])
            with Transaction().set_context(active_model='ticket.order',
                    active_id=sale.id, active_ids=[sale.id]):
                defaults = wizard.default_start(None)
                self.assertIsInstance(defaults, dict)
                wizard.start.name = "ACME"
                wizard.start.street = "2 rue Haute"
                wizard.start.postal_code = "69001"
                wizard.start.city = "Lyon"
                wizard.start.country = france
                wizard.start.vat_number = VAT
                wizard.start.siret = None
                action, _ = wizard.do_invoice({'views': [1, 2]})
            sale = Order(sale.id)
            self.assertEqual(action['res_id'], [sale.invoice.id])
            self.assertEqual(sale.invoice.state, 'paid')
            self.assertEqual(sale.invoice.party.name, "ACME")
