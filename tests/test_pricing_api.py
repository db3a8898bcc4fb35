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
        """Event "main" (tax included): Full, Group (10+), Counter (box
        office), Balcony (category pool of 5), Early (window closed),
        Saturday (session "small" only), Solidarity (pay what you want 5 to
        50), Friends (hidden), Donation (no ticket, no VAT); event "concert"
        (tax excluded): Pro; company "Other": Other. A fee of 1.00 per
        ticket on the api channel, capped at 2.50 per order."""
        import datetime as dt

        from trytond.modules.company.tests import set_company
        from trytond.pool import Pool
        from trytond.transaction import Transaction

        from guichet.ticket_event.common import now
        from guichet.ticket_pricing.tests.helpers import (
            create_accounts, create_product, create_tariff, create_tax)
        pool = Pool()
        Company = pool.get('company.company')
        Event = pool.get('ticket.event')
        Session = pool.get('ticket.session')
        Category = pool.get('ticket.tariff.category')
        CapacityPool = pool.get('ticket.pool')
        Fee = pool.get('ticket.fee')
        FeeCap = pool.get('ticket.fee.cap')
        ids = SERVER.ids
        company_id = ids['companies']['Guichet']
        with Transaction().set_context(company=company_id):
            company = Company(company_id)
            with set_company(company):
                accounts = create_accounts(company)
                vat = create_tax(company, '0.055', accounts)
                vat20 = create_tax(company, '0.20', accounts)
                product = create_product(company, "Show", [vat], accounts)
                fees = create_product(company, "Fees", [vat20], accounts)
                gift = create_product(company, "Donation", [], accounts)
                event = Event(ids['events']['main'])
                full = create_tariff(event, "Full", '20.00', product)
                group = create_tariff(event, "Group", '15.00', product,
                    min_quantity=10)
                box = create_tariff(event, "Counter", '5.00', product,
                    channels=['box_office'])
                balcony_pool = CapacityPool(
                    name="Balcony", event=event, capacity=5)
                balcony_pool.save()
                balcony = Category(event=event, name="Balcony",
                    pool=balcony_pool)
                balcony.save()
                tariffs = {
                    'full': full, 'group': group, 'box': box,
                    'balcony': create_tariff(event, "Balcony", '30.00',
                        product, category=balcony),
                    'early': create_tariff(event, "Early", '12.00', product,
                        sale_start=now() - dt.timedelta(days=2),
                        sale_end=now() - dt.timedelta(days=1)),
                    'saturday': create_tariff(event, "Saturday", '25.00',
                        product, sessions=[
                            Session(ids['sessions']['small'])]),
                    'solidarity': create_tariff(event, "Solidarity",
                        '10.00', product, pay_what_you_want=True,
                        minimum_price=Decimal(5), maximum_price=Decimal(50)),
                    'friends': create_tariff(event, "Friends", '8.00',
                        product, channels=['hidden']),
                    'donation': create_tariff(event, "Donation", '5.00',
                        gift, issues_ticket=False),
                    }
                concert = Event(ids['events']['concert'])
                Event.write([concert], {'price_display': 'tax_excluded'})
                tariffs['pro'] = create_tariff(
                    concert, "Pro", '10.00', product)
                Fee(company=company, name="API fee", product=fees,
                    level='ticket', amount=Decimal('1.00'),
                    channels=['api']).save()
                FeeCap(company=company, channel='api',
                    amount=Decimal('2.50')).save()
            cls.balcony_pool = balcony_pool.id
        other_id = ids['companies']['Other']
        with Transaction().set_context(company=other_id):
            other = Company(other_id)
            with set_company(other):
                accounts = create_accounts(other)
                vat = create_tax(other, '0.055', accounts)
                product = create_product(other, "Show", [vat], accounts)
                tariffs['other'] = create_tariff(
                    Event(ids['events']['other']), "Other", '9.00', product)
        return {k: t.id for k, t in tariffs.items()}

    def counts(self):
        snapshot = self.server.snapshot()
        snapshot['orders'] = self.server.sql(
            'SELECT count(*) FROM ticket_order')
        snapshot['parties'] = self.server.sql(
            'SELECT count(*) FROM party_party')
        return snapshot

    def assertRefused(self, path, body, status, code, **kwargs):
        "POST body to path is refused with status and code, nothing written"
        before = self.counts()
        reply = self.client.post(f'{API}{path}', body, **kwargs)
        self.assertEqual(reply.status, status, reply)
        self.assertEqual(reply.json['error']['code'], code, reply)
        self.assertTrue(reply.json['error']['message'].strip(), reply)
        self.assertEqual(self.counts(), before)
        return reply

    def line(self, tariff, quantity, session=None):
        return {'session': session or self.session,
            'tariff': self.tariffs[tariff], 'quantity': quantity}

    def test_session_tariffs_for_a_channel(self):
        reply = self.client.get(
            f'{API}/sessions/{self.session}/tariffs?channel=web')
        self.assertEqual(reply.status, 200, reply)
        by_name = {t['name']: t for t in reply.json['tariffs']}
        self.assertEqual(set(by_name), {'Full', 'Group', 'Balcony',
                'Saturday', 'Solidarity', 'Donation'})
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

    def sid(self, name):
        return self.server.ids['sessions'][name]

    def test_session_tariffs_details(self):
        "Listed tariffs carry category, bounds, tax-included price, stock"
        reply = self.client.get(f'{API}/sessions/{self.sid("open")}/tariffs')
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json['channel'], 'web')
        self.assertEqual(reply.json['currency'], 'EUR')
        self.assertEqual(reply.json['price_display'], 'tax_included')
        by_name = {t['name']: t for t in reply.json['tariffs']}
        # not Counter (box office), Early (closed), Saturday (other
        # session), Friends (hidden: by link only)
        self.assertEqual(set(by_name),
            {'Full', 'Group', 'Balcony', 'Solidarity', 'Donation'})
        balcony = by_name['Balcony']
        self.assertEqual(balcony['category']['name'], 'Balcony')
        self.assertEqual(
            (balcony['price'], balcony['price_tax_included']),
            ('30.00', '30.00'))
        self.assertEqual(balcony['available'], 5)
        capacity, sold, held = self.server.pool_of(self.sid('open'))
        self.assertEqual(by_name['Full']['available'],
            capacity - sold - held)
        self.assertIsNone(by_name['Full']['category'])
        solidarity = by_name['Solidarity']
        self.assertTrue(solidarity['pay_what_you_want'])
        self.assertEqual(
            (solidarity['minimum_price'], solidarity['maximum_price']),
            ('5.00', '50.00'))
        self.assertIsNone(by_name['Full']['minimum_price'])
        self.assertEqual(
            (by_name['Group']['min_quantity'],
                by_name['Group']['max_quantity']), (10, None))
        self.assertFalse(by_name['Donation']['issues_ticket'])

        reply = self.client.get(
            f'{API}/sessions/{self.sid("small")}/tariffs?channel=api')
        self.assertIn('Saturday', {t['name'] for t in reply.json['tariffs']})

        reply = self.client.get(
            f'{API}/sessions/{self.sid("concert")}/tariffs')
        pro, = reply.json['tariffs']
        self.assertEqual(reply.json['price_display'], 'tax_excluded')
        self.assertEqual((pro['price'], pro['price_tax_included']),
            ('10.00', '10.55'))

    def test_session_tariffs_refused(self):
        for path, status, code in [
                (f'/sessions/{self.sid("open")}/tariffs?channel=box_office',
                    400, 'invalid_channel'),
                (f'/sessions/{self.sid("box_office")}/tariffs', 404,
                    'session_not_found'),
                (f'/sessions/{self.sid("draft_session")}/tariffs', 404,
                    'session_not_found'),
                ('/sessions/999999/tariffs', 404, 'session_not_found'),
                ]:
            with self.subTest(path=path):
                reply = self.client.get(f'{API}{path}')
                self.assertEqual(reply.status, status, reply)
                self.assertEqual(reply.json['error']['code'], code)

    def test_quote_fees_capped_and_taxes_per_rate(self):
        "On the api channel a fee per ticket is capped at 2.50 per order"
        before = self.counts()
        reply = self.client.post(f'{API}/quotes', {
                'lines': [self.line('full', 3, self.sid('open'))],
                'channel': 'api'})
        self.assertEqual(reply.status, 200, reply)
        quote = reply.json
        line, = quote['lines']
        self.assertEqual(
            (line['kind'], line['tariff'], line['session'], line['quantity'],
                line['unit_price'], line['untaxed'], line['tax'],
                line['total']),
            ('ticket', self.tariffs['full'], self.sid('open'), 3, '20.00',
                '56.87', '3.13', '60.00'))
        fee, = quote['fees']
        # 3 x 1.00 capped at 2.50, 20 % VAT: 2.50 / 1.2 = 2.083 -> 2.08
        self.assertEqual(
            (fee['kind'], fee['description'], fee['total'], fee['untaxed'],
                fee['tax'], fee['notes']),
            ('fee', 'API fee', '2.50', '2.08', '0.42', ['capped']))
        self.assertEqual(
            [(t['name'], t['rate'], t['base'], t['amount'])
                for t in quote['taxes']],
            [('VAT 5.5%', '0.055', '56.87', '3.13'),
                ('VAT 20%', '0.2', '2.08', '0.42')])
        self.assertEqual(
            (quote['untaxed'], quote['tax'], quote['total'],
                quote['to_pay'], quote['credit'], quote['discount']),
            ('58.95', '3.55', '62.50', '62.50', '0.00', '0.00'))
        # the web has no fee
        reply = self.client.post(f'{API}/quotes',
            {'lines': [self.line('full', 3, self.sid('open'))]})
        self.assertEqual(reply.json['fees'], [])
        self.assertEqual(reply.json['total'], '60.00')
        self.assertEqual(self.counts(), before)

    def test_quote_tariff_kinds(self):
        "Pay what you want, hidden by link, donation without session"
        reply = self.client.post(f'{API}/quotes', {'lines': [
                    dict(self.line('solidarity', 2), amount='21.10'),
                    self.line('friends', 1),
                    {'tariff': self.tariffs['donation'], 'quantity': 1},
                    ]})
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(
            [(l['kind'], l['description'], l['unit_price'], l['untaxed'],
                    l['tax'], l['total']) for l in reply.json['lines']],
            [('ticket', 'Solidarity', '21.10', '40.00', '2.20', '42.20'),
                ('ticket', 'Friends', '8.00', '7.58', '0.42', '8.00'),
                ('product', 'Donation', '5.00', '5.00', '0.00', '5.00')])
        self.assertEqual(reply.json['total'], '55.20')
        reply = self.client.post(f'{API}/quotes', {'lines': [
                    dict(self.line('solidarity', 1), amount=12)]})
        self.assertEqual(reply.json['total'], '12.00')

    def test_quote_refusals_with_codes(self):
        other = {'session': self.sid('other'),
            'tariff': self.tariffs['other'], 'quantity': 1}
        for body, status, code in [
                ({'lines': [dict(self.line('solidarity', 1), amount='4.99')]},
                    400, 'invalid_amount'),
                ({'lines': [dict(self.line('solidarity', 1), amount=7.5)]},
                    400, 'invalid_amount'),
                ({'lines': [dict(self.line('solidarity', 1), amount='NaN')]},
                    400, 'invalid_amount'),
                ({'lines': [dict(self.line('full', 1), amount='1.00')]},
                    400, 'invalid_amount'),
                ({'lines': [self.line('full', 1001)]}, 400,
                    'invalid_quantity'),
                ({'lines': [self.line('full', True)]}, 400,
                    'invalid_quantity'),
                ({'lines': [{'tariff': self.tariffs['full'],
                                'quantity': 1}]}, 400, 'invalid_request'),
                ({'lines': [self.line('full', 1), other]}, 400,
                    'mixed_companies'),
                ({'lines': [self.line('full', 1)], 'coupon': 'X'}, 400,
                    'invalid_body'),
                ({'lines': [self.line('full', 1)], 'channel': 'box_office'},
                    400, 'invalid_channel'),
                ({'lines': [self.line('full', 1)], 'delivery': 'pigeon'},
                    400, 'invalid_body'),
                ({'lines': [self.line('full', 1)], 'email': 'nobody'},
                    400, 'invalid_body'),
                ({'lines': []}, 400, 'invalid_body'),
                ([], 400, 'invalid_body'),
                ({'lines': [self.line('early', 1)]}, 409,
                    'tariff_window_closed'),
                ({'lines': [self.line('saturday', 1, self.sid('open'))]},
                    409, 'tariff_not_for_session'),
                ({'lines': [self.line('full', 1, self.sid('closed'))]}, 409,
                    'sale_closed'),
                ({'lines': [self.line('full', 1, self.sid('concert'))]},
                    409, 'tariff_not_for_session'),
                ({'lines': [self.line('balcony', 6, self.sid('open'))]},
                    409, 'capacity_exceeded'),
                ({'lines': [self.line('full', 1, self.sid('draft_session'))]},
                    404, 'session_not_found'),
                ({'lines': [self.line('full', 1, 2 ** 31)]}, 400,
                    'invalid_body'),
                ]:
            for path in ['/quotes', '/carts']:
                with self.subTest(path=path, body=body):
                    self.assertRefused(path, body, status, code)
        before = self.counts()
        reply = self.client.post(f'{API}/quotes', data=b'{"lines": [',
            headers={'Content-Type': 'application/json'})
        self.assertEqual(reply.status, 400, reply)
        reply = self.client.post(f'{API}/quotes', data=b'{}',
            headers={'Content-Type': 'text/plain'})
        self.assertEqual(reply.status, 415, reply)
        self.assertEqual(self.counts(), before)

    def test_cart_counts_in_category_pool(self):
        "A cart holds its places in the session's and the category's pools"
        def balcony():
            (counts,) = self.server.sql(
                'SELECT capacity, sold, held FROM ticket_pool WHERE id = %s',
                (self.balcony_pool,))
            return counts
        session = self.sid('small')
        session_before, balcony_before = self.server.pool_of(session), \
            balcony()
        reply = self.client.post(f'{API}/carts', {
                'lines': [self.line('balcony', 2, session)]})
        self.assertEqual(reply.status, 201, reply)
        cart = reply.json
        self.assertTrue(reply.headers['Location'].endswith(
                cart['hold']['token']))
        self.assertEqual(cart['hold']['quantity'], 2)
        self.assertEqual(cart['quote']['total'], '60.00')
        self.assertEqual(balcony()[2], balcony_before[2] + 2)
        self.assertEqual(
            self.server.pool_of(session)[2], session_before[2] + 2)
        self.assertRefused('/carts', {
                'lines': [self.line('balcony', 4, self.sid('open'))]},
            409, 'capacity_exceeded')

        reply = self.client.delete(f'{API}/holds/{cart["hold"]["token"]}')
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(balcony(), balcony_before)
        self.assertEqual(self.server.pool_of(session), session_before)

    def test_order_with_fees_taxes_and_buyer(self):
        "An order over a cart keeps the engine's lines, fees and taxes"
        reply = self.client.post(f'{API}/carts', {
                'lines': [self.line('full', 3, self.sid('open'))],
                'channel': 'api'})
        self.assertEqual(reply.status, 201, reply)
        token = reply.json['hold']['token']
        reply = self.client.post(f'{API}/orders', {
                'holds': [token],
                'buyer': {'name': 'Grace Hopper',
                    'email': 'grace@example.org', 'phone': '+33 1 23'}})
        self.assertEqual(reply.status, 201, reply)
        order = reply.json
        self.assertEqual(
            (order['state'], order['channel'], order['email'],
                order['currency']),
            ('reserved', 'api', 'grace@example.org', 'EUR'))
        self.assertTrue(order['reserved_until'])
        self.assertEqual(
            [(l['description'], l['quantity'], l['total'])
                for l in order['lines'] + order['fees']],
            [('Full', 3, '60.00'), ('API fee', 1, '2.50')])
        self.assertEqual(
            [(t['name'], t['base'], t['amount']) for t in order['taxes']],
            [('VAT 5.5%', '56.87', '3.13'), ('VAT 20%', '2.08', '0.42')])
        self.assertEqual((order['untaxed'], order['tax'], order['total']),
            ('58.95', '3.55', '62.50'))
        rows = self.server.sql(
            'SELECT o.total_amount, p.name FROM ticket_order_line o '
            'JOIN ticket_order t ON t.id = o."order" '
            'JOIN party_party p ON p.id = t.party '
            'WHERE t.number = %s ORDER BY o.id', (order['number'],))
        self.assertEqual(rows, [(Decimal('60.00'), 'Grace Hopper'),
                (Decimal('2.50'), 'Grace Hopper')])

        # the same buyer orders again: the party is found by e-mail
        parties = self.counts()['parties']
        reply = self.client.post(f'{API}/carts', {
                'lines': [self.line('full', 1, self.sid('open'))]})
        reply = self.client.post(f'{API}/orders', {
                'holds': [reply.json['hold']['token']],
                'buyer': {'name': 'G. Hopper', 'email': 'grace@example.org'}})
        self.assertEqual(reply.status, 201, reply)
        self.assertEqual(self.counts()['parties'], parties)

    def test_order_refusals(self):
        reply = self.client.post(f'{API}/carts', {
                'lines': [self.line('full', 1, self.sid('open'))]})
        token = reply.json['hold']['token']
        buyer = {'name': 'Ada', 'email': 'ada@example.org'}
        # a hold of the core names no tariff: it cannot be priced
        reply = self.client.hold([(self.sid('open'), 1)])
        self.assertEqual(reply.status, 201, reply)
        plain = reply.json['token']
        for body, status, code in [
                ({'holds': [plain], 'buyer': buyer}, 400, 'invalid_request'),
                ({'holds': [token, plain], 'buyer': buyer}, 400,
                    'invalid_request'),
                ({'holds': ['x' * 32], 'buyer': buyer}, 404,
                    'hold_not_found'),
                ({'holds': [token, token], 'buyer': buyer}, 400,
                    'invalid_body'),
                ({'holds': [], 'buyer': buyer}, 400, 'invalid_body'),
                ({'holds': [token]}, 400, 'invalid_body'),
                ({'holds': [token], 'buyer': {'name': 'Ada'}}, 400,
                    'invalid_body'),
                ({'holds': [token], 'buyer': {'name': ' ',
                            'email': 'ada@example.org'}}, 400,
                    'invalid_body'),
                ({'holds': [token], 'buyer': {'name': 'Ada',
                            'email': 'not an e-mail'}}, 400, 'invalid_body'),
                ({'holds': [token], 'buyer': buyer, 'channel': 'web'}, 400,
                    'invalid_body'),
                ]:
            with self.subTest(body=body):
                self.assertRefused('/orders', body, status, code)

        self.server.sql("UPDATE ticket_hold SET expires_at = "
            "now() AT TIME ZONE 'UTC' - interval '1 minute' "
            "WHERE token = %s", (token,))
        self.assertRefused('/orders', {'holds': [token], 'buyer': buyer},
            409, 'hold_not_active')

    def test_document_describes_pricing(self):
        from openapi_spec_validator import validate
        reply = self.client.get(f'{API}/openapi.json')
        document = reply.json
        validate(document)
        for path in ['/sessions/{session_id}/tariffs', '/quotes', '/carts',
                '/orders']:
            self.assertIn(f'{API}{path}', document['paths'])
        self.assertEqual(
            set(document['paths'][f'{API}/orders']['post']['responses']),
            {'201', '400', '403', '404', '409', '413', '415', '503'})
