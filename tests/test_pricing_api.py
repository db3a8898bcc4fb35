"""The pricing endpoints of the public API over real HTTP: tariffs of a
session, quotes, carts (quote + hold) and orders, every reply checked against
the served OpenAPI document, and refusals that change nothing."""
import unittest
from decimal import Decimal

from tests.server import API, ApiServer, Client, OpenAPIChecker

SERVER = None


def setUpModule():
    global SERVER
    SERVER = ApiServer('test_pricing_api')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


class PricingApiTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = SERVER
        reply = SERVER.client.get(f'{API}/openapi.json', check=False)
        assert reply.status == 200, reply
        cls.client = Client(
            SERVER.port, SERVER.database, OpenAPIChecker(reply.json))
        cls.addClassCleanup(cls.client.close)
        cls.session = SERVER.ids['sessions']['small']
        cls.tariffs = cls.create_tariffs()

    @classmethod
    def create_tariffs(cls):
        "A 5.5 % VAT product, a full price, a group rate (10+), a hidden one"
        from trytond.transaction import Transaction, TransactionError
        extras = {}
        while True:
            try:
                with Transaction().start(SERVER.database, 1, **extras):
                    tariffs = cls._create_tariffs()
                    Transaction().commit()
                    return tariffs
            except TransactionError as error:
                # Tryton asks to start again with the locks it needs
                error.fix(extras)

    @classmethod
    def _create_tariffs(cls):
        from trytond.modules.company.tests import set_company
        from trytond.pool import Pool
        from trytond.transaction import Transaction

        from guichet.ticket_pricing.tests.helpers import (
            create_accounts, create_product, create_tariff, create_tax)
        pool = Pool()
        ids = SERVER.ids
        company_id = ids['companies']['Guichet']
        with Transaction().set_context(company=company_id):
            Company = pool.get('company.company')
            Event = pool.get('ticket.event')
            company = Company(company_id)
            with set_company(company):
                accounts = create_accounts(company)
                vat = create_tax(company, '0.055', accounts)
                product = create_product(company, "Show", [vat], accounts)
                event = Event(ids['events']['main'])
                full = create_tariff(event, "Full", '20.00', product)
                group = create_tariff(event, "Group", '15.00', product,
                    min_quantity=10)
                box = create_tariff(event, "Counter", '5.00', product,
                    channels=['box_office'])
                return {'full': full.id, 'group': group.id, 'box': box.id}

    def counts(self):
        snapshot = self.server.snapshot()
        snapshot['orders'] = self.server.sql(
            'SELECT count(*) FROM ticket_order')
        return snapshot

    def line(self, tariff, quantity, session=None):
        return {'session': session or self.session,
            'tariff': self.tariffs[tariff], 'quantity': quantity}

    def test_session_tariffs_for_a_channel(self):
        reply = self.client.get(
            f'{API}/sessions/{self.session}/tariffs?channel=web')
        self.assertEqual(reply.status, 200, reply)
        by_name = {t['name']: t for t in reply.json['tariffs']}
        self.assertEqual(set(by_name), {'Full', 'Group'})
        self.assertEqual(Decimal(by_name['Full']['price']), Decimal('20.00'))
        self.assertEqual(by_name['Group']['min_quantity'], 10)

    def test_quote_vat_exact_to_the_cent(self):
        before = self.counts()
        reply = self.client.post(f'{API}/quotes',
            {'lines': [self.line('full', 2)]})
        self.assertEqual(reply.status, 200, reply)
        quote = reply.json
        # 40.00 tax included at 5.5 %: 40 / 1.055 = 37.914 -> 37.91 + 2.09
        self.assertEqual(Decimal(quote['total']), Decimal('40.00'))
        self.assertEqual(Decimal(quote['untaxed']), Decimal('37.91'))
        self.assertEqual(Decimal(quote['tax']), Decimal('2.09'))
        tax, = quote['taxes']
        self.assertEqual(Decimal(tax['amount']), Decimal('2.09'))
        self.assertEqual(self.counts(), before)

    def test_quote_refusals_change_nothing(self):
        before = self.counts()
        for body, status, code in [
                ({'lines': [self.line('group', 2)]}, 400, 'invalid_quantity'),
                ({'lines': [self.line('box', 1)]}, 409, 'tariff_not_for_channel'),
                ({'lines': [self.line('full', 0)]}, 400, None),
                ({'lines': [{'session': self.session, 'tariff': 999999,
                                'quantity': 1}]}, 404, None),
                ({'lines': 'x'}, 400, None),
                ]:
            with self.subTest(body=body):
                reply = self.client.post(f'{API}/quotes', body)
                self.assertEqual(reply.status, status, reply)
                self.assertTrue(reply.json['error']['message'])
                if code:
                    self.assertEqual(reply.json['error']['code'], code)
        self.assertEqual(self.counts(), before)

    def test_cart_then_order(self):
        pool_before = self.server.pool_of(self.session)
        reply = self.client.post(f'{API}/carts',
            {'lines': [self.line('full', 3)]})
        self.assertEqual(reply.status, 201, reply)
        token = reply.json['hold']['token']
        self.assertEqual(Decimal(reply.json['quote']['total']),
            Decimal('60.00'))
        pool_held = self.server.pool_of(self.session)
        self.assertEqual(pool_held[2], pool_before[2] + 3)

        reply = self.client.post(f'{API}/orders', {
                'holds': [token],
                'buyer': {'name': 'Ada Lovelace',
                    'email': 'ada@example.org'}})
        self.assertEqual(reply.status, 201, reply)
        order = reply.json
        self.assertTrue(order['number'].startswith('C'))
        self.assertEqual(order['state'], 'reserved')
        self.assertEqual(Decimal(order['total']), Decimal('60.00'))
        # The places stay held by the reserved order
        self.assertEqual(
            self.server.pool_of(self.session)[2], pool_held[2])

        # The same hold cannot make a second order
        before = self.counts()
        reply = self.client.post(f'{API}/orders', {
                'holds': [token],
                'buyer': {'name': 'Ada Lovelace',
                    'email': 'ada@example.org'}})
        self.assertEqual(reply.status // 100, 4, reply)
        self.assertEqual(self.counts(), before)

    def test_cart_refused_when_full(self):
        before = self.counts()
        reply = self.client.post(f'{API}/carts',
            {'lines': [self.line('full', 101)]})
        self.assertEqual(reply.status, 409, reply)
        self.assertEqual(self.counts(), before)
