"Tests of seats sold through holds, orders and tickets"
import datetime as dt
from decimal import Decimal
from unittest.mock import patch

from trytond import backend
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from guichet.ticket_event.common import now
from guichet.ticket_event.tests.helpers import (
    counts, create_event, pdf_text)

from ..exceptions import SeatingError
from ..inventory import Inventory
from .helpers import (
    create_theatre, held, labels, seat_of, seated_event, states)


class SeatingTestMixin:

    @with_transaction()
    def test_session_inventory(self):
        "A session on a map has a status line per row, all free"
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), _ = seated_event(company, theatre)
            self.assertEqual(states(session)[0], 'FFFFF|FFFFF')
            self.assertEqual(session.seats_free, 74)
            self.assertEqual(session.seats_sold, 0)
            self.assertEqual(Inventory.check(session), [])

    @with_transaction()
    def test_best_available_through_hold(self):
        "A hold without seats gets the best seats, in the tariff's zone"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), tariffs = seated_event(company, theatre)
            full = tariffs['Orchestre Plein']
            hold = Hold.reserve([{
                        'session': session, 'quantity': 2,
                        'tariff': full.id, 'pools': [],
                        'description': full.label}])
            self.assertEqual(held(hold), ['Orchestre A4', 'Orchestre A5'])
            balcony = tariffs['Balcon Plein']
            hold = Hold.reserve([{
                        'session': session, 'quantity': 3,
                        'tariff': balcony.id}])
            self.assertEqual(
                {label.split()[0] for label in held(hold)}, {'Balcon'})
            self.assertEqual(counts(session.pool), [(5, 0)])
            self.assertEqual(session.__class__(session.id).seats_held, 5)
            self.assertEqual(Inventory.check(session), [])

    @with_transaction()
    def test_pick_and_taken(self):
        "Seats picked are held once; a seat taken is refused, nothing held"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), tariffs = seated_event(company, theatre)
            tariff = tariffs['Orchestre Plein']
            seats = [seat_of(theatre, "Orchestre", 'B', n).id
                for n in ['3', '4']]
            hold = Hold.reserve([{'session': session, 'quantity': 2,
                        'tariff': tariff.id, 'seats': seats}])
            self.assertEqual(held(hold), ['Orchestre B3', 'Orchestre B4'])
            with self.assertRaisesRegex(SeatingError, "row B, seat 4"):
                Hold.reserve([{'session': session, 'quantity': 2,
                            'tariff': tariff.id,
                            'seats': [seats[1],
                                seat_of(theatre, "Orchestre", 'B', '5').id]}])
            with self.assertRaises(SeatingError) as cm:
                Hold.reserve([{'session': session, 'quantity': 1,
                            'tariff': tariff.id,
                            'seats': [seat_of(theatre, "Balcon", 'A', '1').id]
                            }])
            self.assertEqual(cm.exception.code, 'tariff_seat')
            with self.assertRaises(SeatingError) as cm:
                Hold.reserve([{'session': session, 'quantity': 2,
                            'tariff': tariff.id, 'seats': seats[:1]}])
            self.assertEqual(cm.exception.code, 'seat_invalid')

    @with_transaction()
    def test_release_expire_order_cancel(self):
        "Every end of a hold or an order gives its seats back, once"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), tariffs = seated_event(company, theatre)
            tariff = tariffs['Orchestre Plein']

            def reserve(quantity):
                return Hold.reserve([{'session': session,
                            'quantity': quantity, 'tariff': tariff.id}])

            released = reserve(2)
            Hold.release([released])
            Hold.release([Hold(released.id)])
            stale = reserve(3)
            Hold.write([stale], {'expires_at': now() - dt.timedelta(
                        minutes=1)})
            Hold.expire_stale()
            self.assertEqual(session.__class__(session.id).seats_held, 0)

            paid = Order.create_from_holds([reserve(2)])
            Order.pay([paid])
            cancelled = Order.create_from_holds([reserve(2)])
            Order.pay([cancelled])
            Order.cancel([cancelled])
            late = Order.create_from_holds([reserve(1)])
            Order.write([late], {'reserved_until': now() - dt.timedelta(
                        minutes=1)})
            Order.expire_stale()
            waiting = Order.create_from_holds([reserve(4)])

            session = session.__class__(session.id)
            self.assertEqual(
                (session.seats_sold, session.seats_held, session.seats_free),
                (2, 4, 68))
            self.assertEqual(counts(session.pool), [(4, 2)])
            self.assertEqual(Inventory.check(session), [])
            self.assertEqual(
                {b.state for b in Order(cancelled.id).seat_bookings},
                {'released'})
            self.assertEqual(len(Order(waiting.id).seat_bookings), 4)

    @with_transaction()
    def test_tickets_carry_seats(self):
        "A paid order's tickets carry its seats, printed on the PDF"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        Engine = pool.get('ticket.price_engine')
        Report = pool.get('ticket.order.tickets', type='report')
        from guichet.ticket_pricing.engine import LineRequest, QuoteRequest
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), tariffs = seated_event(company, theatre)
            quote = Engine.quote(QuoteRequest(lines=[
                        LineRequest(tariff=tariffs['Orchestre Plein'],
                            session=session, quantity=2),
                        LineRequest(tariff=tariffs['Orchestre Réduit'],
                            session=session, quantity=1)]))
            hold = Hold.reserve_quote(quote)
            self.assertEqual(held(hold),
                ['Orchestre A3', 'Orchestre A4', 'Orchestre A5'])
            order = Order.create_from_quote(quote, [hold])
            Order.pay([order])
            order = Order(order.id)
            self.assertEqual(order.total, Decimal('80.00'))
            self.assertEqual(
                sorted((t.type_label, t.seat.rec_name) for t in order.tickets),
                [("Orchestre — Plein", "Orchestre, row A, seat 3"),
                    ("Orchestre — Plein", "Orchestre, row A, seat 4"),
                    ("Orchestre — Réduit", "Orchestre, row A, seat 5")])
            self.assertEqual({b.state for b in order.seat_bookings}, {'sold'})
            self.assertEqual({b.ticket for b in order.seat_bookings},
                set(order.tickets))
            _, content, _, _ = Report.execute([order.id], {})
            text = pdf_text(content)
            self.assertIn("Seat: Orchestre, row A, seat 3", text)

    @with_transaction()
    def test_unseated_payment_looks_for_no_seat(self):
        """Paying an order of a session without a map looks for no seat
        (no booking search, no inventory move); a seated one does"""
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        Booking = pool.get('ticket.seat.booking')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            event, (session,), tariffs = seated_event(company, theatre)
            free, = create_event(company, (10,))[1]
            for target, seated in [(free, False), (session, True)]:
                item = {'session': target, 'quantity': 2}
                if seated:
                    item['tariff'] = tariffs['Orchestre Plein'].id
                order = Order.create_from_holds([Hold.reserve([item])])
                with patch.object(Booking, 'search',
                            wraps=Booking.search) as search, \
                        patch.object(Inventory, 'move',
                            wraps=Inventory.move) as move:
                    Order.pay([order])
                self.assertEqual(search.called, seated)
                self.assertEqual(move.called, seated)
                order = Order(order.id)
                self.assertEqual(order.state, 'paid')
                self.assertEqual(len(order.tickets), 2)
                self.assertEqual({b.state for b in order.seat_bookings},
                    {'sold'} if seated else set())

    @with_transaction()
    def test_seat_sold_once_in_postgresql(self):
        "The database refuses a second booking or ticket of a seat"
        pool = Pool()
        Booking = pool.get('ticket.seat.booking')
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), tariffs = seated_event(company, theatre)
            hold = Hold.reserve([{'session': session, 'quantity': 1,
                        'tariff': tariffs['Orchestre Plein'].id}])
            seat = hold.seats[0].seat
            table = Booking.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute('SAVEPOINT second')
            with self.assertRaises(backend.DatabaseIntegrityError):
                cursor.execute(*table.insert(
                        [table.session, table.seat, table.state],
                        [[session.id, seat.id, 'sold']]))
            cursor.execute('ROLLBACK TO SAVEPOINT second')
            # ended bookings do not count
            cursor.execute(*table.insert(
                    [table.session, table.seat, table.state],
                    [[session.id, seat.id, 'released']]))

    @with_transaction()
    def test_block_seats(self):
        "Blocked seats are never sold; freed, they are"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), tariffs = seated_event(company, theatre)
            front = [seat_of(theatre, "Orchestre", 'A', n)
                for n in ['3', '4', '5', '6', '7', '8']]
            Session.block([session], front, note="Régie")
            self.assertEqual(session.__class__(session.id).seats_blocked, 6)
            booking = [b for b in session.seat_bookings
                if b.state == 'blocked'][0]
            self.assertEqual(booking.holder, "Régie")
            hold = Hold.reserve([{'session': session, 'quantity': 2,
                        'tariff': tariffs['Orchestre Plein'].id}])
            self.assertEqual(held(hold), ['Orchestre B4', 'Orchestre B5'])
            with self.assertRaises(SeatingError):
                Hold.reserve([{'session': session, 'quantity': 1,
                            'tariff': tariffs['Orchestre Plein'].id,
                            'seats': [front[0].id]}])
            with self.assertRaises(SeatingError):
                Session.block([session], [front[0]])
            Session.unblock([session], front)
            self.assertEqual(session.__class__(session.id).seats_blocked, 0)
            hold = Hold.reserve([{'session': session, 'quantity': 1,
                        'tariff': tariffs['Orchestre Plein'].id,
                        'seats': [front[0].id]}])
            self.assertEqual(Inventory.check(session), [])

    @with_transaction()
    def test_map_change_refused_with_bookings(self):
        pool = Pool()
        Session = pool.get('ticket.session')
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), tariffs = seated_event(company, theatre)
            Session.write([session], {'seat_map': None})
            self.assertEqual(
                Inventory.states(session, theatre.get_layout()), [None] * 8)
            Session.write([session], {'seat_map': theatre.id})
            Hold.reserve([{'session': session, 'quantity': 1,
                        'tariff': tariffs['Balcon Plein'].id}])
            with self.assertRaises(SeatingError):
                Session.write([session], {'seat_map': None})

    @with_transaction()
    def test_copied_session_has_its_inventory(self):
        pool = Pool()
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), _ = seated_event(company, theatre)
            copy, = Session.copy([session])
            self.assertEqual(copy.seat_map, theatre)
            self.assertEqual(states(copy)[0], 'FFFFF|FFFFF')

    @with_transaction()
    def test_seat_plan_report(self):
        "The back office's seat plan names the holders"
        pool = Pool()
        Party = pool.get('party.party')
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        Report = pool.get('ticket.session.seat_plan', type='report')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), tariffs = seated_event(company, theatre)
            party = Party(name="Célimène")
            party.save()
            order = Order.create_from_holds([Hold.reserve([{
                                'session': session, 'quantity': 2,
                                'tariff': tariffs['Orchestre Plein'].id}])],
                party=party)
            Order.pay([order])
            kind, content, _, _ = Report.execute([session.id], {})
            self.assertEqual(kind, 'html')
            html = content.decode()
            self.assertIn('<svg', html)
            self.assertIn("Célimène", html)
            self.assertIn("Orchestre, row A, seat 5", html)
            self.assertEqual(html.count('<circle'), 74)

    @with_transaction()
    def test_svg(self):
        "The public SVG colors seats by status, labels them, names nobody"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Party = pool.get('party.party')
        Order = pool.get('ticket.order')
        from ..svg import session_svg
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            _, (session,), tariffs = seated_event(company, theatre)
            party = Party(name="Oronte")
            party.save()
            Order.create_from_holds([Hold.reserve([{'session': session,
                                'quantity': 2,
                                'tariff': tariffs['Balcon Plein'].id}])],
                party=party)
            svg = session_svg(session, 'web')
            self.assertTrue(svg.startswith('<svg'))
            self.assertEqual(svg.count('<circle'), 74)
            self.assertEqual(svg.count('class="t '), 2)
            self.assertIn('<title>Orchestre, row A, seat 1 · Orchestre · '
                'free</title>', svg)
            self.assertNotIn("Oronte", svg)
            self.assertIn("Oronte", session_svg(session, public=False))

    def assertSeats(self, seats, expected):
        self.assertEqual(labels(seats), expected)
