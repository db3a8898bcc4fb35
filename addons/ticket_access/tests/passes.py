"Tests of check-in with the pricing module: passes and tariff scopes"
import datetime as dt

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from .. import signing
from .helpers import during, reread, rules, scan


def festival(company):
    """A 3-day festival, its day tariffs and a pass admitting to every day;
    a paid order of one pass and one Friday ticket; a list for the whole
    festival open 1 hour around each day"""
    from guichet.ticket_pricing.engine import LineRequest
    from guichet.ticket_pricing.tests.passes import buy, setup_festival
    CheckinList = Pool().get('ticket.access.list')
    event, sessions, _, days, festival_pass = setup_festival(company)
    order = buy([
            LineRequest(tariff=festival_pass, quantity=1),
            LineRequest(tariff=days[0], session=sessions[0], quantity=1),
            ])
    pass_ticket, = [t for t in order.tickets if t.admissions]
    day_ticket, = [t for t in order.tickets if not t.admissions]
    checkin = CheckinList(name="Festival", event=event,
        open_before=dt.timedelta(hours=1), close_after=dt.timedelta(hours=1))
    checkin.save()
    return event, sessions, days, festival_pass, pass_ticket, day_ticket, (
        checkin)


class PassTestMixin:

    @with_transaction()
    def test_pass_admitted_once_per_session(self):
        "A pass enters each day once, at that day's session only"
        company = create_company()
        with set_company(company):
            event, sessions, _, _, ticket, _, checkin = festival(company)
            self.assertEqual(len(ticket.admissions), 3)
            code = ticket.qr_data
            signed = signing.verify(code, event.access_public_key)
            self.assertEqual(signed.ticket, ticket.id)
            self.assertEqual(signed.valid_until,
                signing.timestamp(sessions[-1].end))

            friday, saturday = during(sessions[0]), during(sessions[1])
            first = scan(checkin, code, at=friday)
            self.assertEqual((first.result, first.admission.session),
                ('ok', sessions[0].id))
            self.assertEqual(scan(checkin, code, at=friday).result,
                'already_used')
            self.assertEqual(scan(checkin, code, at=saturday).result, 'ok')
            self.assertEqual(scan(checkin, code, at=saturday).result,
                'already_used')
            between = sessions[0].end + dt.timedelta(hours=3)
            self.assertEqual(scan(checkin, code, at=between).result,
                'not_yet_valid')
            ticket, = reread(ticket)
            self.assertEqual(ticket.state, 'valid')
            self.assertEqual([a.state for a in ticket.admissions],
                ['used', 'used', 'valid'])

    @with_transaction()
    def test_pass_mark_unused_and_cancel(self):
        "Marking a pass unused frees its admissions; cancelled is refused"
        Ticket = Pool().get('ticket.ticket')
        company = create_company()
        with set_company(company):
            _, sessions, _, _, ticket, _, checkin = festival(company)
            friday = during(sessions[0])
            scan(checkin, ticket.secret, at=friday)
            Ticket.mark_unused([ticket])
            ticket, = reread(ticket)
            self.assertEqual([a.state for a in ticket.admissions],
                ['valid'] * 3)
            self.assertEqual(
                scan(checkin, ticket.secret, at=friday).result, 'ok')
            Ticket.cancel([ticket])
            self.assertEqual(scan(checkin, ticket.secret,
                    at=during(sessions[1])).result, 'cancelled')

    @with_transaction()
    def test_tariff_scope(self):
        "A list of the Saturday tariff admits the pass, not a Friday ticket"
        CheckinList = Pool().get('ticket.access.list')
        company = create_company()
        with set_company(company):
            _, sessions, days, _, ticket, day_ticket, checkin = festival(
                company)
            CheckinList.write([checkin], {'tariffs': [('add', [days[1].id])]})
            self.assertEqual(rules(checkin).tariffs, {days[1].id})
            friday = during(sessions[0])
            self.assertEqual(scan(checkin, day_ticket.secret,
                    at=friday).result, 'wrong_list')
            self.assertEqual(
                scan(checkin, ticket.secret, at=friday).result, 'ok')
            CheckinList.write([checkin], {
                    'tariffs': [('remove', [days[1].id])],
                    'categories': [('add', [days[0].category.id])]})
            self.assertEqual(scan(checkin, day_ticket.secret,
                    at=friday).result, 'ok')

    @with_transaction()
    def test_pass_in_bundle(self):
        "The bundle carries a pass with its admissions"
        from ..offline import OfflineVerifier
        Bundle = Pool().get('ticket.access.bundle')
        company = create_company()
        with set_company(company):
            _, sessions, _, _, ticket, day_ticket, checkin = festival(
                company)
            bundle = Bundle.build([rules(checkin)])
            by_id = {t['id']: t for t in bundle['tickets']}
            self.assertEqual(
                [a['session'] for a in by_id[ticket.id]['admissions']],
                [s.id for s in sessions])
            device = OfflineVerifier(bundle)
            friday = during(sessions[0])
            self.assertEqual(device.admit(ticket.qr_data, checkin.id,
                    friday), 'ok')
            self.assertEqual(device.admit(ticket.qr_data, checkin.id,
                    friday), 'already_used')
            self.assertEqual(device.admit(ticket.qr_data, checkin.id,
                    during(sessions[2])), 'ok')
