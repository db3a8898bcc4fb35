"""The partner API over real HTTP: a reseller's key sells a paid order in one
request, the same reference twice (even at once) sells once, a full session
or a bad request changes nothing, every reply checked against the served
OpenAPI document."""
import threading
import unittest
from decimal import Decimal

from tests.server import API, Client, OpenAPIChecker
from tests.test_shop_fixtures import ShopServer

SERVER = None
PARTNER = f'{API}/partner'


def setUpModule():
    global SERVER
    SERVER = ShopServer('test_partner_api')
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


def setup_partners(pool, ids, shop):
    """Partners "Agence" (every event) and "Office" (event "concert" only)
    of company Guichet, "Ailleurs" of company Other; tariff "Plein tarif"
    sold on the Partners channel too; sessions "small" and "concert" visible
    to partners, a new session "partner" of 3 places for partners only.
    Return the ids and keys."""
    import datetime as dt

    from trytond.transaction import Transaction

    from guichet.ticket_event.common import now
    Partner = pool.get('ticket.partner')
    Party = pool.get('party.party')
    Session = pool.get('ticket.session')
    Tariff = pool.get('ticket.tariff')
    Event = pool.get('ticket.event')
    company = ids['companies']['Guichet']
    result = {}
    with Transaction().set_context(company=company):
        Tariff.write([Tariff(shop['full']), Tariff(shop['concert'])],
            {'channels': ['online', 'box_office', 'partner']})
        Session.write([Session(ids['sessions']['small']),
                Session(ids['sessions']['concert'])],
            {'visibility': ['online', 'box_office', 'partner']})
        start = now() + dt.timedelta(days=20)
        session = Session(event=Event(ids['events']['main']), start=start,
            end=start + dt.timedelta(hours=2), capacity=3,
            visibility=['partner'])
        session.save()
        Session.open_sale([session])
        result['session'] = session.id
        agence, office = Partner.create([{
                    'name': "Agence", 'company': company,
                    'party': Party.create([{'name': "Agence Voyages"}])[0],
                    }, {
                    'name': "Office", 'company': company,
                    'party': Party.create([{'name': "Office de tourisme"}])[0],
                    'events': [('add', [ids['events']['concert']])],
                    }])
    with Transaction().set_context(company=ids['companies']['Other']):
        other, = Partner.create([{
                    'name': "Ailleurs", 'company': ids['companies']['Other'],
                    'party': Party.create([{'name': "Ailleurs"}])[0],
                    }])
    for name, partner in [
            ('agence', agence), ('office', office), ('other', other)]:
        result[name] = partner.id
        result[f'{name}_key'] = partner.application.key
    return result


class PartnerApiTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = SERVER
        cls.ids = SERVER.ids
        cls.shop = SERVER.ids['shop']
        reply = SERVER.client.get(f'{API}/openapi.json')
        assert reply.status == 200, reply
        cls.checker = OpenAPIChecker(reply.json)
        cls.client = Client(SERVER.port, SERVER.database, cls.checker)
        cls.addClassCleanup(cls.client.close)
        cls.partners = SERVER.run(setup_partners, SERVER.ids, cls.shop)
        cls.small = SERVER.ids['sessions']['small']

    def auth(self, name='agence'):
        return {'Authorization': f'Bearer {self.partners[name + "_key"]}'}

    def order(self, reference, lines=None, partner='agence', **extra):
        body = {
            'reference': reference,
            'lines': lines or [{'session': self.small,
                    'tariff': self.shop['full'], 'quantity': 2}],
            'buyer': {'name': "Jeanne Martin",
                'email': f'{reference.lower()}@example.org'},
            **extra}
        return self.client.post(f'{PARTNER}/orders', body,
            headers=self.auth(partner))

    def counts(self):
        snapshot = self.server.snapshot()
        for table in ['ticket_order', 'ticket_ticket',
                'ticket_order_payment', 'party_party']:
            snapshot[table] = self.server.sql(f'SELECT count(*) FROM {table}')
        return snapshot

    def test_sell_paid_order(self):
        "One request sells a paid order with its tickets"
        capacity, sold, held = self.server.pool_of(self.small)
        reply = self.order('A-1001')
        self.assertEqual(reply.status, 201, reply.json)
        order = reply.json
        self.assertEqual(order['state'], 'paid')
        self.assertEqual(order['reference'], 'A-1001')
        self.assertEqual(order['channel'], 'partner')
        # 2 × 20.00, no web fee on the partner channel
        self.assertEqual(order['total'], '40.00')
        self.assertEqual(order['to_pay'], '0.00')
        self.assertEqual(len(order['tickets']), 2)
        self.assertEqual({t['state'] for t in order['tickets']}, {'valid'})
        self.assertTrue(all(t['code'] for t in order['tickets']))
        self.assertEqual(self.server.pool_of(self.small),
            (capacity, sold + 2, held))
        rows = self.server.sql(
            'SELECT p.provider, p.method, p.amount, p.reference, o.state, '
            'o.partner, pa.name FROM ticket_order_payment p '
            'JOIN ticket_order o ON o.id = p."order" '
            'JOIN party_party pa ON pa.id = o.party '
            'WHERE o.number = %s', (order['number'],))
        self.assertEqual(rows, [('partner', 'other', Decimal('40.00'),
                    f'partner-{self.partners["agence"]}:A-1001', 'paid',
                    self.partners['agence'], "Jeanne Martin")])

    def test_same_reference_sells_once(self):
        "The same reference again answers the first order"
        first = self.order('A-2001')
        self.assertEqual(first.status, 201, first.json)
        before = self.counts()
        again = self.order('A-2001')
        self.assertEqual(again.status, 200, again.json)
        self.assertEqual(again.json['number'], first.json['number'])
        self.assertEqual(again.json['tickets'], first.json['tickets'])
        self.assertEqual(self.counts(), before)
        # another partner's reference is its own
        other = self.order('A-2001', partner='office', lines=[{
                    'session': self.ids['sessions']['concert'],
                    'tariff': self.shop['concert'], 'quantity': 1}])
        self.assertEqual(other.status, 201, other.json)
        self.assertNotEqual(other.json['number'], first.json['number'])

    def test_same_reference_at_once_sells_once(self):
        "Two requests with one reference at the same time: one order"
        replies = []
        barrier = threading.Barrier(4)

        def send():
            client = Client(SERVER.port, SERVER.database, self.checker)
            try:
                barrier.wait()
                replies.append(client.post(f'{PARTNER}/orders', {
                            'reference': 'A-3001',
                            'lines': [{'session': self.small,
                                    'tariff': self.shop['full'],
                                    'quantity': 1}],
                            'buyer': {'name': "Paul", 'email':
                                'paul@example.org'}},
                        headers=self.auth()))
            finally:
                client.close()
        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(r.status for r in replies),
            [200, 200, 200, 201])
        self.assertEqual(len({r.json['number'] for r in replies}), 1)
        self.assertEqual(self.server.sql(
                'SELECT count(*) FROM ticket_order WHERE partner_reference '
                "= 'A-3001'"), [(1,)])

    def test_sold_out_changes_nothing(self):
        "More places than left: 409 and nothing written"
        session = self.partners['session']
        lines = [{'session': session, 'tariff': self.shop['full'],
                'quantity': 2}]
        self.assertEqual(self.order('A-4001', lines=lines).status, 201)
        before = self.counts()
        reply = self.order('A-4002', lines=lines)
        self.assertEqual(reply.status, 409, reply.json)
        self.assertEqual(reply.json['error']['code'], 'capacity_exceeded')
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.server.pool_of(session)[1:], (2, 0))

    def test_refusals_change_nothing(self):
        "Each client mistake is a 4xx with a message and writes nothing"
        before = self.counts()
        full, small = self.shop['full'], self.small

        def body(**values):
            return dict({'reference': 'R-1', 'lines': [{'session': small,
                        'tariff': full, 'quantity': 1}],
                    'buyer': {'name': "X", 'email': 'x@example.org'}},
                **values)
        cases = [
            (401, 'unauthorized', {}, body()),
            (401, 'unauthorized', {'Authorization': 'Bearer nope'}, body()),
            (401, 'unauthorized', {'Authorization': 'Basic '
                    + self.partners['agence_key']}, body()),
            (400, 'invalid_reference', None, body(reference='')),
            (400, 'invalid_reference', None, body(reference='a b')),
            (400, 'invalid_reference', None, body(reference=12)),
            (400, 'invalid_body', None, body(extra=1)),
            (400, 'invalid_body', None, body(lines=[])),
            (400, 'invalid_body', None, body(lines=[{'tariff': full,
                        'quantity': 1}])),
            (400, 'invalid_quantity', None, body(lines=[{'session': small,
                        'tariff': full, 'quantity': 0}])),
            (400, 'invalid_body', None, body(lines=[{'session': small,
                        'tariff': 'x', 'quantity': 1}])),
            (400, 'invalid_body', None, body(buyer={'name': "X"})),
            (400, 'invalid_body', None, body(send_email='yes')),
            (400, 'invalid_body', None, body(language='de')),
            # a tariff not sold to partners
            (409, 'tariff_not_for_channel', None, body(lines=[{
                            'session': small,
                            'tariff': self.shop['reduced'],
                            'quantity': 1}])),
            # a session not shown to partners
            (409, None, None, body(lines=[{
                            'session': self.ids['sessions']['open'],
                            'tariff': full, 'quantity': 1}])),
            # another company's session
            (404, 'session_not_found', None, body(lines=[{
                            'session': self.ids['sessions']['other'],
                            'tariff': full, 'quantity': 1}])),
            ]
        for status, code, headers, data in cases:
            with self.subTest(status=status, code=code, body=data):
                reply = self.client.post(f'{PARTNER}/orders', data,
                    headers=self.auth() if headers is None else headers,
                   )
                self.assertEqual(reply.status, status, reply.json)
                if code:
                    self.assertEqual(reply.json['error']['code'], code)
                self.assertTrue(reply.json['error']['message'])
        # "Office" sells event "concert" only
        reply = self.order('R-2', partner='office')
        self.assertEqual(reply.status, 404, reply.json)
        self.assertEqual(reply.json['error']['code'], 'session_not_found')
        # "Ailleurs" sells its own company's events only
        reply = self.order('R-3', partner='other')
        self.assertEqual(reply.status, 404, reply.json)
        self.assertEqual(self.counts(), before)

    def test_revoked_key_refused(self):
        "A revoked partner's key is refused at once"
        def revoke(pool, partner_id):
            Partner = pool.get('ticket.partner')
            partner = Partner(partner_id)
            key = partner.application.key
            Partner.revoke([partner])
            return key
        created = SERVER.run(setup_partners, SERVER.ids, self.shop)
        lines = [{'session': self.small, 'tariff': self.shop['full'],
                'quantity': 1}]
        headers = {'Authorization': f'Bearer {created["agence_key"]}'}
        body = {'reference': 'V-1', 'lines': lines,
            'buyer': {'name': "V", 'email': 'v@example.org'}}
        reply = self.client.post(f'{PARTNER}/orders', body, headers=headers)
        self.assertEqual(reply.status, 201, reply.json)
        SERVER.run(revoke, created['agence'])
        body['reference'] = 'V-2'
        reply = self.client.post(f'{PARTNER}/orders', body, headers=headers)
        self.assertEqual(reply.status, 401, reply.json)
        reply = self.client.get(f'{PARTNER}/orders/V-1', headers=headers)
        self.assertEqual(reply.status, 401, reply.json)

    def test_get_order_and_tickets_pdf(self):
        "The partner reads its order and its PDF tickets again"
        from guichet.ticket_event.tests.helpers import pdf_text
        sold = self.order('A-5001')
        self.assertEqual(sold.status, 201, sold.json)
        reply = self.client.get(f'{PARTNER}/orders/A-5001',
            headers=self.auth())
        self.assertEqual(reply.json, sold.json)
        reply = self.client.get(f'{PARTNER}/orders/A-5001/tickets.pdf',
            headers=self.auth())
        self.assertEqual(reply.content_type, 'application/pdf')
        text = pdf_text(reply.raw)
        for ticket in sold.json['tickets']:
            self.assertIn(ticket['number'], text)
        # not another partner's order, nor an unknown one
        for path, name in [('A-5001', 'office'), ('A-9999', 'agence')]:
            reply = self.client.get(f'{PARTNER}/orders/{path}',
                headers=self.auth(name))
            self.assertEqual(reply.status, 404, reply.json)
            self.assertEqual(reply.json['error']['code'], 'order_not_found')
        reply = self.client.get(f'{PARTNER}/orders/a%20b',
            headers=self.auth())
        self.assertEqual(reply.status, 400, reply.json)

    def test_send_email(self):
        "send_email: the buyer gets the shop's confirmation with the PDF"
        reply = self.order('A-6001', send_email=True, language='en')
        self.assertEqual(reply.status, 201, reply.json)
        mail, = self.server.catcher.wait_for(1,
            match=lambda m: 'a-6001@example.org' in m.to)
        self.assertIn(reply.json['number'], mail.subject)
        self.assertIn('application/pdf',
            [t for _, t, _ in mail.attachments()])
        # without it, no e-mail
        reply = self.order('A-6002')
        self.assertEqual(reply.status, 201, reply.json)
        self.assertEqual(self.server.sql('SELECT shop_token IS NULL FROM '
                "ticket_order WHERE partner_reference = 'A-6002'"),
            [(True,)])
