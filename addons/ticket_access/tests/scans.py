"Tests of the scan service: every result, re-entry, undo, two lists"
import datetime as dt
import secrets

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from guichet.ticket_event.common import now
from guichet.ticket_event.tests.helpers import create_event, sell

from .helpers import reread, scan, setup_gate


class ScanTestMixin:

    def results(self, ticket):
        Scan = Pool().get('ticket.access.scan')
        return [(s.direction, s.result) for s in Scan.search(
                [('ticket', '=', ticket.id)],
                order=[('id', 'ASC')])]

    @with_transaction()
    def test_scan_ok_then_already_used(self):
        "A ticket is admitted once: the second scan is already_used"
        company = create_company()
        with set_company(company):
            _, _, (ticket, other, _), checkin, device = setup_gate(company)

            first = scan(checkin, ticket.secret, device=device.id)
            second = scan(checkin, ticket.secret, device=device.id)

            self.assertEqual((first.result, first.direction), ('ok', 'in'))
            self.assertEqual(first.ticket.holder_name, ticket.holder_name)
            self.assertEqual(second.result, 'already_used')
            self.assertIn("Already used", second.message)
            ticket, other = reread(ticket, other)
            self.assertEqual((ticket.state, other.state), ('used', 'valid'))
            entry, = ticket.access_entries
            self.assertEqual((entry.state, entry.list), ('inside', checkin))
            self.assertEqual(self.results(ticket),
                [('in', 'ok'), ('in', 'already_used')])

    @with_transaction()
    def test_scan_signed_code(self):
        "The signed code of the printed ticket admits it"
        from .. import signing
        company = create_company()
        with set_company(company):
            event, (session,), (ticket, *_), checkin, _ = setup_gate(company)
            code = ticket.qr_data
            self.assertTrue(code.startswith('G1'))
            signed = signing.verify(code, event.access_public_key)
            self.assertEqual(
                (signed.ticket, signed.session, signed.event,
                    signed.secret),
                (ticket.id, session.id, event.id, ticket.secret))
            self.assertEqual(signed.valid_from,
                signing.timestamp(session.start))

            self.assertEqual(scan(checkin, code).result, 'ok')
            self.assertEqual(scan(checkin, code).result, 'already_used')

    @with_transaction()
    def test_unknown_ticket(self):
        "An unknown secret or another organizer's ticket is unknown"
        Scan = Pool().get('ticket.access.scan')
        company = create_company()
        other_company = create_company("Other", currency=company.currency)
        with set_company(other_company):
            _, (other_session,) = create_event(other_company)
            foreign, = sell(other_session, 1).tickets
        with set_company(company):
            _, _, _, checkin, _ = setup_gate(company)
            for code in [secrets.token_urlsafe(24), foreign.secret]:
                outcome = scan(checkin, code)
                self.assertEqual(outcome.result, 'unknown')
                self.assertIsNone(outcome.ticket)
            outcome = scan(checkin, ticket_id=foreign.id)
            self.assertEqual(outcome.result, 'unknown')
            self.assertEqual(Scan.search_count(
                    [('result', '=', 'unknown'), ('ticket', '=', None)]), 3)
            self.assertEqual(reread(foreign)[0].state, 'valid')

    @with_transaction()
    def test_cancelled_ticket(self):
        "A cancelled ticket is refused"
        Ticket = Pool().get('ticket.ticket')
        company = create_company()
        with set_company(company):
            _, _, (ticket, *_), checkin, _ = setup_gate(company)
            Ticket.cancel([ticket])
            self.assertEqual(scan(checkin, ticket.secret).result, 'cancelled')
            self.assertFalse(reread(ticket)[0].access_entries)

    @with_transaction()
    def test_wrong_list(self):
        "A ticket of another event of the organizer is wrong_list"
        company = create_company()
        with set_company(company):
            _, _, _, checkin, _ = setup_gate(company)
            _, (other_session,) = create_event(company)
            ticket, = sell(other_session, 1).tickets
            self.assertEqual(
                scan(checkin, ticket.secret).result, 'wrong_list')

    @with_transaction()
    def test_wrong_session(self):
        "A list limited to a session refuses the tickets of the others"
        CheckinList = Pool().get('ticket.access.list')
        company = create_company()
        with set_company(company):
            _, sessions, (ticket, *_), checkin, _ = setup_gate(
                company, capacities=(10, 10))
            CheckinList.write([checkin], {
                    'sessions': [('add', [sessions[1].id])]})
            self.assertEqual(
                scan(checkin, ticket.secret).result, 'wrong_session')
            second, = sell(sessions[1], 1).tickets
            self.assertEqual(scan(checkin, second.secret).result, 'ok')

    @with_transaction()
    def test_time_window(self):
        "Gates open 2 hours before the start and close 1 hour after the end"
        company = create_company()
        with set_company(company):
            _, (session,), (ticket, *_), checkin, _ = setup_gate(company,
                open_before=dt.timedelta(hours=2),
                close_after=dt.timedelta(hours=1))
            early = session.start - dt.timedelta(hours=2, minutes=1)
            late = session.end + dt.timedelta(hours=1, minutes=1)

            self.assertEqual(scan(checkin, ticket.secret).result,
                'not_yet_valid')
            self.assertEqual(scan(checkin, ticket.secret, at=early).result,
                'not_yet_valid')
            self.assertEqual(scan(checkin, ticket.secret, at=late).result,
                'wrong_session')
            self.assertEqual(scan(checkin, ticket.secret,
                    at=early + dt.timedelta(minutes=2)).result, 'ok')

    @with_transaction()
    def test_reentry_alternates(self):
        "With re-entry, scans alternate in and out"
        company = create_company()
        with set_company(company):
            _, _, (ticket, *_), checkin, _ = setup_gate(
                company, allow_reentry=True)
            moves = [(o.result, o.direction)
                for o in [scan(checkin, ticket.secret) for _ in range(3)]]
            self.assertEqual(moves,
                [('ok', 'in'), ('ok', 'out'), ('ok', 'in')])
            self.assertEqual(
                scan(checkin, ticket.secret, direction='in').result,
                'already_used')
            self.assertEqual(
                scan(checkin, ticket.secret, direction='out').direction,
                'out')
            self.assertEqual(
                scan(checkin, ticket.secret, direction='out').result,
                'already_used')
            entry, = reread(ticket)[0].access_entries
            self.assertEqual(entry.state, 'outside')

    @with_transaction()
    def test_no_reentry_after_exit(self):
        "Without re-entry, a ticket that went out may not enter again"
        company = create_company()
        with set_company(company):
            _, _, (ticket, *_), checkin, _ = setup_gate(company)
            self.assertEqual(scan(checkin, ticket.secret).result, 'ok')
            self.assertEqual(
                scan(checkin, ticket.secret, direction='out').result, 'ok')
            self.assertEqual(scan(checkin, ticket.secret).result,
                'already_used')

    @with_transaction()
    def test_count_only(self):
        "A count-only list records every scan and admits nobody"
        company = create_company()
        with set_company(company):
            _, _, (ticket, *_), checkin, _ = setup_gate(
                company, count_only=True)
            self.assertEqual([scan(checkin, ticket.secret).result
                    for _ in range(2)], ['ok', 'ok'])
            ticket, = reread(ticket)
            self.assertEqual(ticket.state, 'valid')
            self.assertFalse(ticket.access_entries)
            self.assertEqual(len(ticket.access_scans), 2)

    @with_transaction()
    def test_lists_are_independent(self):
        "A ticket admitted at the main gate may enter the VIP lounge once"
        CheckinList = Pool().get('ticket.access.list')
        company = create_company()
        with set_company(company):
            event, _, (ticket, *_), main, _ = setup_gate(company)
            vip = CheckinList(name="VIP", event=event, open_before=None,
                close_after=None)
            vip.save()
            self.assertEqual([scan(c, ticket.secret).result
                    for c in [main, vip, main, vip]],
                ['ok', 'ok', 'already_used', 'already_used'])

    @with_transaction()
    def test_undo_scan(self):
        "Undoing the admitting scan lets the ticket in again"
        Scan = Pool().get('ticket.access.scan')
        company = create_company()
        with set_company(company):
            _, _, (ticket, *_), checkin, _ = setup_gate(company)
            first = scan(checkin, ticket.secret)
            Scan.undo([Scan(first.scan)])
            ticket, = reread(ticket)
            self.assertEqual(ticket.state, 'valid')
            self.assertEqual(ticket.access_entries[0].state, 'void')
            self.assertTrue(Scan(first.scan).undone)
            self.assertEqual(scan(checkin, ticket.secret).result, 'ok')
            self.assertEqual(reread(ticket)[0].state, 'used')

    @with_transaction()
    def test_mark_unused(self):
        "Marking a ticket unused undoes its check-ins on every list"
        pool = Pool()
        Ticket = pool.get('ticket.ticket')
        CheckinList = pool.get('ticket.access.list')
        company = create_company()
        with set_company(company):
            event, _, (ticket, *_), main, _ = setup_gate(company)
            vip = CheckinList(name="VIP", event=event, open_before=None,
                close_after=None)
            vip.save()
            scan(main, ticket.secret)
            scan(vip, ticket.secret)
            Ticket.mark_unused([reread(ticket)[0]])
            ticket, = reread(ticket)
            self.assertEqual(ticket.state, 'valid')
            self.assertEqual({e.state for e in ticket.access_entries},
                {'void'})
            self.assertTrue(all(s.undone for s in ticket.access_scans))
            self.assertEqual(scan(main, ticket.secret).result, 'ok')
            # The core transition does the same
            Ticket.unuse([reread(ticket)[0]])
            self.assertEqual(scan(main, ticket.secret).result, 'ok')

    @with_transaction()
    def test_manual_scan_by_ticket_id(self):
        "A ticket found by search is admitted by its id"
        company = create_company()
        with set_company(company):
            _, _, (ticket, *_), checkin, _ = setup_gate(company)
            self.assertEqual(scan(checkin, ticket_id=ticket.id).result, 'ok')
            self.assertEqual(scan(checkin, ticket.secret).result,
                'already_used')

    @with_transaction()
    def test_dashboard(self):
        "Admitted and expected per list and session, scans per minute"
        pool = Pool()
        Status = pool.get('ticket.access.list.status')
        CheckinList = pool.get('ticket.access.list')
        company = create_company()
        with set_company(company):
            _, sessions, tickets, checkin, _ = setup_gate(
                company, capacities=(10, 10), tickets=4,
                allow_reentry=True)
            sell(sessions[1], 2)
            scan(checkin, tickets[0].secret)
            scan(checkin, tickets[1].secret)
            scan(checkin, tickets[1].secret)
            statuses = Status.search([('list', '=', checkin.id)])
            self.assertEqual(
                [(s.session, s.expected, s.admitted, s.inside)
                    for s in statuses],
                [(sessions[0], 4, 2, 1), (sessions[1], 2, 0, 0)])
            checkin, = reread(checkin)
            self.assertEqual((checkin.admitted, checkin.expected), (2, 6))
            self.assertEqual(checkin.scans_per_minute, 3 / 5)
            self.assertEqual(len(checkin.status), 2)
            self.assertEqual([s.scans_per_minute for s in statuses],
                [3 / 5, 0])

    @with_transaction()
    def test_scan_rate(self):
        "Scans of the last hour counted by list and minute for the graph"
        pool = Pool()
        Rate = pool.get('ticket.access.scan.rate')
        company = create_company()
        with set_company(company):
            _, _, tickets, checkin, _ = setup_gate(company, tickets=3)
            _, _, others, other_list, _ = setup_gate(company, tickets=1)
            earlier = now() - dt.timedelta(hours=2)
            scan(checkin, tickets[2].secret, at=earlier)
            scan(checkin, tickets[0].secret)
            scan(checkin, tickets[0].secret)
            scan(checkin, tickets[1].secret)
            scan(checkin, secrets.token_urlsafe(32))
            scan(other_list, others[0].secret)
            rates = Rate.search([('list', '=', checkin.id)])
            self.assertEqual(
                (sum(r.scans for r in rates), sum(r.admitted for r in rates),
                    sum(r.refused for r in rates)), (4, 2, 2))
            self.assertTrue(all(r.minute.second == 0 for r in rates))
            self.assertEqual(len({r.id for r in Rate.search([])}),
                len(Rate.search([])))
            other, = Rate.search([('list', '=', other_list.id)])
            self.assertEqual((other.scans, other.admitted), (1, 1))
