"""The invoice route over real HTTP, on a real trytond with every addon:
a business buyer's invoice of a paid shop order, every reply checked
against the served OpenAPI document, and the refusals (bad VAT, unknown
order, unpaid order, second request) that write nothing."""
import secrets
import unittest
from decimal import Decimal

from tests.server import API, ApiServer, Client, OpenAPIChecker

SERVER = None
BUYER = {
    'name': "ACME Spectacles SAS", 'street': "12 quai des Arts",
    'postal_code': "69002", 'city': "Lyon", 'country': 'FR',
    'vat_number': 'FR40303265045', 'siret': '73282932000074',
    }


def setUpModule():
    global SERVER
    SERVER = ApiServer('test_invoice_api')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


def setup_theatre(pool, company):
    """A theatre on Tryton's universal chart (the server has not the French
    one), its fiscal years numbering invoices, and France"""
    import datetime as dt
    from trytond.modules.account.tests import create_chart, get_fiscalyear
    from trytond.modules.account_invoice.tests.test_module import (
        set_invoice_sequences)
    from guichet.ticket_event.tests.helpers import create_event
    from guichet.ticket_pricing.tests.helpers import (
        create_product, create_tariff)
    from .helpers import Theatre, create_vat
    Account = pool.get('account.account')
    Configuration = pool.get('ticket.accounting.configuration')
    Country = pool.get('country.country')
    FiscalYear = pool.get('account.fiscalyear')
    Journal = pool.get('account.journal')
    create_chart(company)
    today = dt.date.today()
    for year in [today.year - 1, today.year, today.year + 1]:
        fiscalyear = get_fiscalyear(company, today=today.replace(
                year=year, month=1, day=1))
        fiscalyear.name = "FY%s" % year
        set_invoice_sequences(fiscalyear)
        fiscalyear.save()
        FiscalYear.create_period([fiscalyear])
    accounts = Account.search([('company', '=', company.id),
            ('type', '!=', None), ('party_required', '=', False),
            ('closed', '!=', True), ('childs', '=', None)],
        order=[('code', 'ASC'), ('id', 'ASC')])
    revenue = [a for a in accounts if a.type.revenue][0]
    expense = [a for a in accounts if a.type.expense][0]
    other = [a for a in accounts if a.type.statement == 'balance'
        and not a.type.receivable and not a.type.payable]
    balance, liability = other[0], other[-1]
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    configuration, = Configuration.create([dict({
                    'company': company.id, 'journal': journal.id,
                    'deferred_revenue': liability.id,
                    'credit_liability': liability.id,
                    'advance': liability.id,
                    'voucher_expense': expense.id,
                    'bank': balance.id, 'bank_charges': expense.id,
                    }, **{f'clearing_{m}': balance.id for m in [
                        'card', 'transfer', 'cheque', 'cash', 'voucher',
                        'other']})])
    vat55 = create_vat(company, '0.055', liability)
    vat20 = create_vat(company, '0.20', liability)
    revenue = {'revenue': revenue, 'tax': liability}
    play = create_product(company, "Theatre", [vat55], revenue)
    workshop = create_product(company, "Workshop", [vat20], revenue)
    event, sessions = create_event(company, (100, 100))
    if not Country.search([('code', '=', 'FR')]):
        Country.create([{'name': "France", 'code': 'FR'}])
    return Theatre(configuration=configuration, event=event,
        sessions=sessions,
        adult=create_tariff(event, "Adult", '22.00', play),
        reduced=create_tariff(event, "Reduced", '15.00', play),
        backstage=create_tariff(event, "Backstage tour", '12.00', workshop))


def setup_orders(server):
    """A theatre with invoicing, a paid and a reserved order with link
    tokens; the transaction starts again with the table locks Tryton asks
    for (creating a chart locks its configuration)"""
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        try:
            with Transaction().start(server.database, 0, **extras):
                return _setup_orders(server)
        except TransactionError as error:
            error.fix(extras)


def _setup_orders(server):
    from trytond.modules.company.tests import create_company, set_company
    from trytond.pool import Pool
    from .helpers import order, sell
    pool = Pool(server.database)
    tokens = {}
    Currency = pool.get('currency.currency')
    Order = pool.get('ticket.order')
    euro, = Currency.search([('code', '=', 'EUR')], limit=1)
    company = create_company("Théâtre des Factures", euro)
    with set_company(company):
        t = setup_theatre(pool, company)
        paid, _ = sell([(t.adult, t.sessions[0], 2),
                (t.backstage, t.sessions[0], 1)], method='card')
        reserved = order([(t.reduced, t.sessions[1], 1)])
        for name, record in [('paid', paid), ('reserved', reserved)]:
            tokens[name] = secrets.token_urlsafe(24)
            Order.write([record], {'shop_token': tokens[name]})
        tokens['total'] = str(paid.total)
        tokens['tax'] = str(paid.tax_amount)
    return tokens


class InvoiceApiTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = SERVER
        reply = SERVER.client.get(f'{API}/openapi.json', check=False)
        assert reply.status == 200, reply
        cls.document = reply.json
        cls.checker = OpenAPIChecker(reply.json)
        cls.client = Client(SERVER.port, SERVER.database, cls.checker)
        cls.addClassCleanup(cls.client.close)
        cls.tokens = setup_orders(SERVER)

    def invoices(self):
        return self.server.sql('SELECT count(*) FROM account_invoice')[0][0]

    def post(self, token, body, status):
        reply = self.client.post(f'{API}/orders/{token}/invoice', body)
        self.assertEqual(reply.status, status, reply)
        return reply

    def test_documented(self):
        "The route is in the OpenAPI document"
        path = self.document['paths']['/ticket/api/v1/orders/{token}/invoice']
        self.assertEqual(path['post']['operationId'], 'invoiceOrder')
        self.assertIn('InvoiceRequest', self.document['components']['schemas'])

    def test_invoice_once(self):
        "A paid order is invoiced once; bad input is refused with a message "
        "and writes nothing"
        paid, reserved = self.tokens['paid'], self.tokens['reserved']
        before = self.invoices()
        parties = self.server.sql('SELECT count(*) FROM party_party')

        reply = self.post(paid, dict(BUYER, vat_number='FR40303265046'), 400)
        self.assertEqual(reply.json['error']['code'], 'invalid_buyer')
        self.assertIn('VAT', reply.json['error']['message'])
        reply = self.post(paid, dict(BUYER, siret='12345678901234'), 400)
        self.assertIn('SIRET', reply.json['error']['message'])
        reply = self.post(paid, dict(BUYER, country='ZZ'), 400)
        reply = self.post(paid, {'name': "ACME"}, 400)
        self.assertEqual(reply.json['error']['code'], 'invalid_body')
        reply = self.post(paid, dict(BUYER, discount=10), 400)
        reply = self.post(paid, dict(BUYER, city="Ly\x00on"), 400)
        reply = self.post(paid, dict(BUYER, name="A" * 201), 400)
        self.assertIn('at most 200', reply.json['error']['message'])
        reply = self.post('x' * 32, BUYER, 404)
        self.assertEqual(reply.json['error']['code'], 'order_not_found')
        reply = self.post(reserved, BUYER, 409)
        self.assertEqual(reply.json['error']['code'], 'order_not_paid')
        self.assertEqual(self.invoices(), before)
        self.assertEqual(
            self.server.sql('SELECT count(*) FROM party_party'), parties)

        reply = self.post(paid, BUYER, 201)
        invoice = reply.json
        self.assertEqual(invoice['state'], 'paid')
        self.assertEqual(invoice['total'], self.tokens['total'])
        self.assertEqual(invoice['tax'], self.tokens['tax'])
        self.assertEqual(invoice['vat_number'], 'FR40303265045')
        self.assertEqual(Decimal(invoice['untaxed']) + Decimal(invoice['tax']),
            Decimal(invoice['total']))
        self.assertEqual(self.invoices(), before + 1)

        reply = self.post(paid, BUYER, 409)
        self.assertEqual(reply.json['error']['code'], 'already_invoiced')
        self.assertIn(invoice['number'], reply.json['error']['message'])
        self.assertEqual(self.invoices(), before + 1)
