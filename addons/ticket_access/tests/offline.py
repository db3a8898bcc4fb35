"Tests of signed codes, devices, offline bundles, sync and conflicts"
import datetime as dt
import secrets
from unittest import mock

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from guichet.ticket_event.common import now
from guichet.ticket_event.tests.helpers import create_event, sell

from .. import signing
from ..offline import OfflineVerifier
from .helpers import reread, rules, scan, setup_gate


def tamper(code, position):
    "Flip one bit of the decoded payload or signature of a signed code"
    data = bytearray(signing.b64decode(code[2:]))
    data[position] ^= 0x01
    return 'G1' + signing.b64encode(bytes(data))


class OfflineTestMixin:

    @with_transaction()
    def test_forged_codes_are_refused(self):
        "A tampered, re-signed with another key or truncated code is refused"
        Scan = Pool().get('ticket.access.scan')
        company = create_company()
        with set_company(company):
            event, (session,), (ticket, *_), checkin, _ = setup_gate(company)
            code = ticket.qr_data
            other_key, _ = signing.generate_key_pair()
            _, payload, _ = signing.decode(code)
            forged = signing.sign(other_key, signing.decode(code)[0])
            swapped = signing.sign(other_key, signing.SignedTicket(
                    event.id, ticket.id + 1, session.id, 0, 0,
                    ticket.secret))
            forgeries = {
                'tampered ticket id': tamper(code, 5),
                'tampered secret': tamper(code, len(payload) - 1),
                'tampered signature': tamper(code, len(payload) + 3),
                'wrong key': forged,
                'wrong key, other ticket': swapped,
                'truncated': code[:-10],
                'truncated payload': code[:40],
                'prefix only': 'G1',
                'not base64': 'G1' + '*' * 150,
                }
            for name, forgery in forgeries.items():
                with self.subTest(forgery=name):
                    self.assertNotEqual(forgery, code)
                    with self.assertRaises(signing.InvalidCode):
                        signing.verify(forgery, event.access_public_key)
                    outcome = scan(checkin, forgery)
                    self.assertEqual(outcome.result, 'invalid_signature')
                    self.assertIsNone(outcome.ticket)
            self.assertEqual(reread(ticket)[0].state, 'valid')
            self.assertEqual(Scan.search_count(
                    [('result', '=', 'invalid_signature')]), len(forgeries))
            self.assertEqual(scan(checkin, code).result, 'ok')

    @with_transaction()
    def test_event_keys(self):
        "Every event has its own key pair; a copy gets a new one"
        pool = Pool()
        Event = pool.get('ticket.event')
        company = create_company()
        with set_company(company):
            event, _, (ticket, *_), _, _ = setup_gate(company)
            copy, = Event.copy([event])
            self.assertTrue(copy.access_public_key)
            self.assertNotEqual(
                copy.access_public_key, event.access_public_key)
            with self.assertRaises(signing.InvalidCode):
                signing.verify(ticket.qr_data, copy.access_public_key)

    @with_transaction()
    def test_pdf_carries_signed_code(self):
        "The QR code of the PDF ticket is the signed code"
        pool = Pool()
        Report = pool.get('ticket.order.tickets', type='report')
        company = create_company()
        with set_company(company):
            event, _, tickets, _, _ = setup_gate(company, tickets=2)
            with mock.patch('guichet.ticket_event.report.qr_matrix',
                    wraps=__import__('guichet.ticket_event.report',
                        fromlist=['qr_matrix']).qr_matrix) as drawing:
                Report.render_pdf(tickets)
            codes = [c.args[0] for c in drawing.call_args_list]
            self.assertEqual(len(codes), 2)
            self.assertEqual(
                [signing.verify(c, event.access_public_key).ticket
                    for c in codes], [t.id for t in tickets])

    @with_transaction()
    def test_device_keys_and_revocation(self):
        "A device's key works until it is revoked or replaced"
        pool = Pool()
        Device = pool.get('ticket.access.device')
        company = create_company()
        with set_company(company):
            _, _, _, checkin, device = setup_gate(company)
            key = device.key
            self.assertEqual(len(key), 128)
            self.assertEqual(Device.authenticate(key),
                (device.id, company.id, [checkin.id]))
            self.assertIsNone(Device.authenticate(key[:-1] + 'x'))
            Device.new_key([device])
            device, = reread(device)
            self.assertIsNone(Device.authenticate(key))
            self.assertIsNotNone(Device.authenticate(device.key))
            key = device.key
            Device.revoke([device])
            device, = reread(device)
            self.assertEqual(device.state, 'revoked')
            self.assertIsNone(device.key)
            self.assertIsNone(Device.authenticate(key))

    @with_transaction()
    def test_bundle_and_sync(self):
        "A bundle holds hashes and states; a sync only what changed"
        pool = Pool()
        Bundle = pool.get('ticket.access.bundle')
        Ticket = pool.get('ticket.ticket')
        company = create_company()
        with set_company(company):
            event, (session,), tickets, checkin, _ = setup_gate(
                company, tickets=4)
            bundle = Bundle.build([rules(checkin)])
            self.assertEqual(bundle['keys'],
                {str(event.id): event.access_public_key})
            self.assertEqual(sorted(t['h'] for t in bundle['tickets']),
                sorted(signing.secret_hash(t.secret) for t in tickets))
            self.assertNotIn('secret', str(bundle))
            for ticket in tickets:
                self.assertNotIn(ticket.secret, str(bundle))
            self.assertEqual(bundle['revoked'], [])
            self.assertEqual(bundle['entries'], [])
            token = int(bundle['sync_token'])

            # The token is the oldest running transaction: this one.
            self.assertEqual(len(Bundle.build(
                        [rules(checkin)], since=token)['tickets']), 4)
            scan(checkin, tickets[0].secret)
            Ticket.cancel([tickets[1]])
            changes = Bundle.build([rules(checkin)], since=token)
            self.assertEqual(changes['revoked'], [{'id': tickets[1].id,
                        'h': signing.secret_hash(tickets[1].secret)}])
            self.assertEqual(changes['entries'], [{'list': checkin.id,
                        'ticket': tickets[0].id, 'session': session.id,
                        'state': 'inside'}])

    @with_transaction()
    def test_new_tickets_stamped(self):
        "Tickets issued by the plain INSERT or by the ORM carry the "
        "transaction that made them (the next sync sends them)"
        pool = Pool()
        Order = pool.get('ticket.order')
        Ticket = pool.get('ticket.ticket')
        company = create_company()
        with set_company(company):
            _, (session,) = create_event(company, (10,))
            calls = []
            insert_plain = Order.insert_plain.__func__

            def spy(cls, model, *args, **kwargs):
                calls.append(model)
                return insert_plain(cls, model, *args, **kwargs)
            with mock.patch.object(Order, 'insert_plain', classmethod(spy)):
                plain = sell(session, 2)
            self.assertIn('ticket.ticket', calls)
            # a value given to access_xid: the ORM's create stamps it
            self.assertFalse(Ticket._plain_issue([{'access_xid': 1}]))
            with mock.patch.object(Ticket, '_plain_issue',
                    classmethod(lambda cls, vlist: False)):
                orm = sell(session, 1)
            cursor = Transaction().connection.cursor()
            cursor.execute('SELECT "order", '
                'access_xid = pg_current_xact_id()::text::bigint '
                'FROM ticket_ticket ORDER BY id')
            self.assertEqual(cursor.fetchall(),
                [(plain.id, True), (plain.id, True), (orm.id, True)])

    @with_transaction()
    def test_offline_verifier(self):
        "A device checks codes with the bundle and no network"
        pool = Pool()
        Bundle = pool.get('ticket.access.bundle')
        Ticket = pool.get('ticket.ticket')
        company = create_company()
        with set_company(company):
            _, (session,), tickets, checkin, _ = setup_gate(
                company, tickets=4)
            Ticket.cancel([tickets[3]])
            scan(checkin, tickets[2].secret)
            device = OfflineVerifier(Bundle.build([rules(checkin)]))
            at = now()
            self.assertEqual(device.admit(tickets[0].qr_data, checkin.id, at),
                'ok')
            self.assertEqual(device.admit(tickets[0].qr_data, checkin.id, at),
                'already_used')
            self.assertEqual(device.admit(tickets[1].secret, checkin.id, at),
                'ok')
            self.assertEqual(device.check(tickets[2].qr_data, checkin.id,
                    at)[0], 'already_used')
            self.assertEqual(device.check(tickets[3].qr_data, checkin.id,
                    at)[0], 'cancelled')
            self.assertEqual(device.check(tamper(tickets[1].qr_data, 3),
                    checkin.id, at)[0], 'invalid_signature')
            self.assertEqual(device.check(secrets.token_urlsafe(24),
                    checkin.id, at)[0], 'unknown')
            # A ticket sold after the bundle is known by its signature
            late, = sell(session, 1).tickets
            self.assertEqual(device.check(late.qr_data, checkin.id, at)[0],
                'ok')
            self.assertEqual(device.check(late.secret, checkin.id, at)[0],
                'unknown')

    def _offline_race(self, order):
        """Ticket scanned online at 20:05 and offline at 20:01 by two
        devices; upload in the given order; return the scans' results"""
        pool = Pool()
        Bundle = pool.get('ticket.access.bundle')
        Device = pool.get('ticket.access.device')
        company = create_company()
        with set_company(company):
            _, (session,), (ticket, *_), checkin, gate1 = setup_gate(company)
            gate2, = Device.create([{'name': "Gate 2", 'lists': [
                            ('add', [checkin.id])]}])
            at = session.start - dt.timedelta(minutes=60)
            online = lambda: scan(  # noqa: E731
                checkin, ticket.secret, device=gate1.id,
                at=at + dt.timedelta(minutes=5))
            offline = lambda: Bundle.upload(  # noqa: E731
                {checkin.id: rules(checkin)}, gate2.id, [{
                        'id': 'scan-1', 'list': checkin.id,
                        'code': ticket.qr_data, 'direction': 'in',
                        'scanned_at': at + dt.timedelta(minutes=1),
                        'result': 'ok'}])
            for step in order:
                (online if step == 'online' else offline)()
            Scan = pool.get('ticket.access.scan')
            scans = Scan.search([('ticket', '=', ticket.id)])
            ticket, = reread(ticket)
            entry, = ticket.access_entries
            return ({(s.device.name, s.offline, s.result, s.conflict)
                    for s in scans}, entry.admitted_at - at, ticket.state)

    @with_transaction()
    def test_offline_conflict_online_first(self):
        "The earlier offline scan wins even when uploaded after"
        self.assertEqual(self._offline_race(['online', 'offline']), ({
                    ('Gate 1', False, 'already_used', True),
                    ('Gate 2', True, 'ok', True)},
                dt.timedelta(minutes=1), 'used'))

    @with_transaction()
    def test_offline_conflict_offline_first(self):
        "Uploaded first, the earlier offline scan keeps the admission"
        self.assertEqual(self._offline_race(['offline', 'online']), ({
                    ('Gate 1', False, 'already_used', False),
                    ('Gate 2', True, 'ok', False)},
                dt.timedelta(minutes=1), 'used'))

    @with_transaction()
    def test_offline_upload_twice(self):
        "Uploading the same scans again records them once"
        pool = Pool()
        Bundle = pool.get('ticket.access.bundle')
        Scan = pool.get('ticket.access.scan')
        company = create_company()
        with set_company(company):
            _, _, tickets, checkin, device = setup_gate(company)
            scans = [{'id': f'd1-{i}', 'list': checkin.id,
                    'code': t.qr_data, 'scanned_at': now(), 'result': 'ok'}
                for i, t in enumerate(tickets)]
            scans.append(dict(scans[0], id='d1-again'))
            first = Bundle.upload({checkin.id: rules(checkin)}, device.id,
                scans)
            again = Bundle.upload({checkin.id: rules(checkin)}, device.id,
                scans)
            self.assertEqual(first, again)
            self.assertEqual([r['result'] for r in first],
                ['ok', 'ok', 'ok', 'already_used'])
            self.assertEqual(Scan.search_count([]), 4)

    @with_transaction()
    def test_offline_refusal_admits_nobody(self):
        "A scan the device refused offline does not admit the ticket later"
        pool = Pool()
        Bundle = pool.get('ticket.access.bundle')
        company = create_company()
        with set_company(company):
            _, _, (ticket, other), checkin, device = setup_gate(
                company, tickets=2)
            results = Bundle.upload({checkin.id: rules(checkin)}, device.id, [
                    {'id': 'refused', 'list': checkin.id,
                        'code': ticket.qr_data, 'scanned_at': now(),
                        'result': 'unknown'},
                    {'id': 'admitted', 'list': checkin.id,
                        'code': other.qr_data, 'scanned_at': now(),
                        'result': 'ok'}])
            self.assertEqual([r['result'] for r in results],
                ['unknown', 'ok'])
            ticket, other = reread(ticket, other)
            self.assertEqual((ticket.state, other.state), ('valid', 'used'))
            self.assertFalse(ticket.access_entries)
            self.assertEqual(scan(checkin, ticket.secret).result, 'ok')
