"""Tests of the seating service: contingents, season passes and their
renewal, holds priced by seat category, picks and changes"""
import datetime as dt
from decimal import Decimal

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from guichet.ticket_event.common import now
from guichet.ticket_pricing.engine import LineRequest, QuoteRequest
from guichet.ticket_pricing.exceptions import PricingError

from ..exceptions import SeatingError
from ..inventory import Inventory
from .helpers import create_theatre, held, labels, seat_of, seated_event


def hold(session, **kwargs):
    Service = Pool().get('ticket.seat.service')
    return Service.hold(session, **kwargs)


class SalesTestMixin:

    @with_transaction()
    def test_hold_priced_by_seat_category(self):
        "Best available is priced by the default tariff of each zone"
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), tariffs = seated_event(company, theatre)
            balcony = theatre.categories[1]
            new, quote, choice = hold(session, quantity=2, category=balcony)
            self.assertEqual({label.split()[0] for label in held(new)},
                {'Balcon'})
            self.assertEqual(quote.total, Decimal('30.00'))
            self.assertEqual([b.tariff for b in new.seats],
                [tariffs['Balcon Plein']] * 2)
            new, quote, choice = hold(session, quantity=1)
            self.assertEqual(quote.total, Decimal('30.00'))
            self.assertFalse(choice.split)

    @with_transaction()
    def test_hold_with_tariffs(self):
        "Tariffs asked sit together in their zone, in order"
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), tariffs = seated_event(company, theatre)
            new, quote, _ = hold(session, tariffs=[
                    (tariffs['Orchestre Plein'], 1),
                    (tariffs['Orchestre Réduit'], 2)])
            self.assertEqual(held(new),
                ['Orchestre A3', 'Orchestre A4', 'Orchestre A5'])
            self.assertEqual(quote.total, Decimal('70.00'))
            by_tariff = {b.seat.label: b.tariff.name for b in new.seats}
            self.assertEqual(by_tariff, {
                    '3': "Plein", '4': "Réduit", '5': "Réduit"})
            # a tariff of the stalls for a balcony seat
            with self.assertRaises(SeatingError) as cm:
                hold(session, seats=[seat_of(theatre, "Balcon", 'A', '1')],
                    tariffs=[(tariffs['Orchestre Plein'], 1)])
            self.assertEqual(cm.exception.code, 'tariff_seat')
            with self.assertRaises(SeatingError):
                hold(session, quantity=2,
                    tariffs=[(tariffs['Orchestre Plein'], 1)])

    @with_transaction()
    def test_pick_isolated_rule(self):
        "A public pick may not leave a single seat; the box office may"
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), _ = seated_event(company, theatre)
            a2, a3 = [seat_of(theatre, "Orchestre", 'A', n)
                for n in ['2', '3']]
            with self.assertRaises(SeatingError) as cm:
                hold(session, seats=[a2, a3])
            self.assertEqual(cm.exception.code, 'isolated_seat')
            self.assertIn("row A, seat 1", cm.exception.message)
            new, _, _ = hold(session, seats=[a2, a3], channel='box_office',
                public=False)
            self.assertEqual(held(new), ['Orchestre A2', 'Orchestre A3'])
            with self.assertRaises(SeatingError) as cm:
                hold(session, seats=[a3])
            self.assertEqual(cm.exception.code, 'seat_taken')

    @with_transaction()
    def test_change_seats(self):
        "A hold moves to other seats, as many, at the same tariffs"
        pool = Pool()
        Service = pool.get('ticket.seat.service')
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), _ = seated_event(company, theatre)
            new, quote, _ = hold(session, quantity=2)
            before = session.pool.held
            wanted = [seat_of(theatre, "Orchestre", 'C', n)
                for n in ['4', '5']]
            Service.change(new, session, wanted)
            self.assertEqual(held(Hold(new.id)),
                ['Orchestre C4', 'Orchestre C5'])
            self.assertEqual(session.pool.__class__(session.pool.id).held,
                before)
            with self.assertRaises(SeatingError):
                Service.change(new, session, wanted[:1])
            with self.assertRaises(SeatingError):
                Service.change(new, session, [
                        seat_of(theatre, "Balcon", 'A', n)
                        for n in ['4', '5']])
            self.assertEqual(Inventory.check(session), [])

    @with_transaction()
    def test_wheelchair(self):
        "Wheelchair spaces go only to those who ask for them"
        pool = Pool()
        Seat = pool.get('ticket.seat')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            a1, a2 = [seat_of(theatre, "Orchestre", 'A', n)
                for n in ['1', '2']]
            Seat.write([a1], {'wheelchair': True})
            Seat.write([a2], {'companion': True})
            _, (session,), _ = seated_event(company, theatre)
            new, _, _ = hold(session, quantity=2, wheelchair=True)
            self.assertEqual(held(new), ['Orchestre A1', 'Orchestre A2'])
            with self.assertRaises(SeatingError) as cm:
                hold(session, quantity=1, wheelchair=True)
            self.assertEqual(cm.exception.code, 'seats_unavailable')

    @with_transaction()
    def test_split(self):
        "No row fits: the best split, said so, or a refusal when asked"
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), _ = seated_event(company, theatre)
            balcony = theatre.categories[1]
            with self.assertRaises(SeatingError) as cm:
                hold(session, quantity=12, category=balcony,
                    allow_split=False)
            self.assertEqual(cm.exception.code, 'seats_not_together')
            new, _, choice = hold(session, quantity=12, category=balcony)
            self.assertTrue(choice.split)
            self.assertEqual(len(new.seats), 12)

    @with_transaction()
    def test_contingent(self):
        "A contingent's seats are sold only by its channel, then released"
        pool = Pool()
        Contingent = pool.get('ticket.seat.contingent')
        Hold = pool.get('ticket.hold')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            event, (session, other), tariffs = seated_event(
                company, theatre, sessions=2)
            agency = Party(name="Agence Molière")
            agency.save()
            front = [seat_of(theatre, "Orchestre", 'A', str(n))
                for n in range(1, 11)]
            contingent = Contingent(name="Agence", event=event,
                sessions=[session, other], seats=front, channel='partner',
                party=agency, release_at=now() + dt.timedelta(days=1))
            contingent.save()
            Contingent.activate([contingent])
            self.assertEqual(Contingent(contingent.id).seats_kept, 20)
            self.assertEqual(session.__class__(session.id).seats_contingent,
                10)

            new, _, _ = hold(session, quantity=2)
            self.assertEqual(held(new), ['Orchestre B4', 'Orchestre B5'])
            with self.assertRaises(SeatingError):
                hold(session, seats=[front[0], front[1]])

            Session = pool.get('ticket.session')
            Tariff = pool.get('ticket.tariff')
            Session.write([session], {'visibility': ['online', 'partner']})
            Tariff.write(list(tariffs.values()),
                {'channels': ['online', 'box_office', 'partner']})
            partner, _, _ = hold(session, quantity=2, channel='partner',
                public=False)
            self.assertEqual(held(partner), ['Orchestre A4', 'Orchestre A5'])
            self.assertEqual(Contingent(contingent.id).seats_sold, 2)
            # a partner's cart released: its seats go back to the contingent
            Hold.release([partner])
            self.assertEqual(Contingent(contingent.id).seats_kept, 20)
            partner, _, _ = hold(session, quantity=2, channel='partner',
                public=False, contingent=contingent)

            # released by the cron at its date
            Contingent.write([contingent], {
                    'release_at': now() - dt.timedelta(minutes=1)})
            self.assertEqual(Contingent.release_due(), [contingent])
            self.assertEqual(Contingent(contingent.id).state, 'released')
            self.assertEqual(session.__class__(session.id).seats_contingent,
                0)
            new, _, _ = hold(session, seats=front[8:10])
            # the partner's seats stay theirs; released later, to sale
            Hold.release([partner])
            self.assertEqual(session.__class__(session.id).seats_contingent,
                0)
            self.assertEqual(Inventory.check(session), [])
            self.assertEqual(Inventory.check(other), [])

    @with_transaction()
    def test_season_pass_seat_and_renewal(self):
        "A season pass holds a seat in all its sessions; renewed, the same"
        pool = Pool()
        Season = pool.get('ticket.season')
        Tariff = pool.get('ticket.tariff')
        Component = pool.get('ticket.tariff.component')
        Subscription = pool.get('ticket.subscription')
        Order = pool.get('ticket.order')
        Hold = pool.get('ticket.hold')
        Party = pool.get('party.party')
        Engine = pool.get('ticket.price_engine')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            event, sessions, tariffs = seated_event(
                company, theatre, sessions=4)
            product = tariffs['Orchestre Plein'].product
            this, following = Season(name="2025"), Season(name="2026")
            this.save()
            following.previous = this
            following.renewal_start = now() - dt.timedelta(hours=1)
            following.renewal_end = now() + dt.timedelta(days=7)
            following.save()
            passes = []
            for season, season_sessions in [
                    (this, sessions[:2]), (following, sessions[2:])]:
                tariff = Tariff(event=event,
                    name=f"Abonnement {season.name}", price=Decimal('50'),
                    product=product, pass_kind='season', season=season,
                    category=tariffs['Orchestre Plein'].category)
                tariff.save()
                Component.create([{'multipass': tariff.id, 'session': s.id}
                        for s in season_sessions])
                passes.append(tariff)
            Tariff.write([passes[1]], {'renews': passes[0].id})
            party = Party(name="Philinte")
            party.save()

            # Philinte picks seat C6 for both sessions of the pass
            c6 = seat_of(theatre, "Orchestre", 'C', '6')
            cart, quote, _ = hold(sessions[0], seats=[c6],
                tariffs=[(passes[0], 1)])
            self.assertEqual(
                sorted((b.session.id, b.seat.rec_name) for b in cart.seats),
                [(sessions[0].id, "Orchestre, row C, seat 6"),
                    (sessions[1].id, "Orchestre, row C, seat 6")])
            self.assertEqual(quote.total, Decimal('50.00'))
            order = Order.create_from_quote(quote, [cart], party=party,
                email='philinte@example.org')
            Order.pay([order])
            ticket, = Order(order.id).tickets
            self.assertEqual(ticket.seat, c6)
            self.assertEqual(
                {b.ticket for b in Order(order.id).seat_bookings}, {ticket})
            subscription, = Subscription.search([('party', '=', party.id)])
            self.assertEqual(subscription.map_seat, c6)
            self.assertEqual(subscription.seat, "Orchestre, row C, seat 6")

            # renewing in a cart with his pass code, Philinte gets his seat
            # (best available would give row A)
            quote = Engine.quote(QuoteRequest(lines=[
                        LineRequest(tariff=passes[1], quantity=1)],
                    passwords=(subscription.pass_code,)))
            self.assertEqual(
                {b.seat.rec_name for b in Hold.reserve_quote(quote).seats},
                {"Orchestre, row C, seat 6"})
            Hold.release(Hold.search([('state', '=', 'active')]))
            # so does the renewal made by the box office
            renewal, = Subscription.renew([subscription], following)
            self.assertEqual(
                labels([b.seat for b in renewal.seat_bookings]),
                ['Orchestre C6', 'Orchestre C6'])
            Order.pay([renewal])
            renewed = Subscription.search([('renewed_from', '=',
                        subscription.id)])
            self.assertEqual([s.map_seat for s in renewed], [c6])
            for session in sessions:
                self.assertEqual(Inventory.check(session), [])

    @with_transaction()
    def test_hold_refusals_change_nothing(self):
        "A refused hold takes no seat and no place"
        pool = Pool()
        Tariff = pool.get('ticket.tariff')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            event, (session,), tariffs = seated_event(company, theatre)
            with self.assertRaises(SeatingError):
                hold(session, quantity=75)
            Tariff.write([tariffs['Balcon Plein']], {'min_quantity': 2})
            with self.assertRaises(PricingError) as cm:
                hold(session, seats=[seat_of(theatre, "Balcon", 'A', '1')],
                    tariffs=[(tariffs['Balcon Plein'], 1)])
            self.assertEqual(cm.exception.code, 'quantity')
            pool_ = session.pool.__class__(session.pool.id)
            self.assertEqual((pool_.held, pool_.sold), (0, 0))
            self.assertEqual(session.__class__(session.id).seats_free, 74)
