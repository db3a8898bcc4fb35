"Tests of passes: multipasses, packs, season passes and their renewal"
import datetime as dt
from decimal import Decimal

from trytond.model.exceptions import ValidationError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from guichet.ticket_event.common import now
from guichet.ticket_event.exceptions import CapacityError
from guichet.ticket_event.tests.helpers import counts, create_event, pdf_text

from ..engine import LineRequest, QuoteRequest
from ..exceptions import PricingError
from .helpers import create_tariff
from .tariffs import setup_catalogue

D = Decimal


def setup_festival(company, capacities=(10, 10, 10), day_capacity=8,
        pass_capacity=None):
    """A festival with a session per day, a category per day capped by its
    pool, a day tariff per day and a pass admitting to every day through
    the day tariffs; return event, sessions, day pools, day tariffs, pass"""
    pool = Pool()
    CapacityPool = pool.get('ticket.pool')
    Category = pool.get('ticket.tariff.category')
    Component = pool.get('ticket.tariff.component')
    event, sessions, product, _ = setup_catalogue(company, capacities)
    pools, days = [], []
    for i, session in enumerate(sessions, 1):
        day_pool = CapacityPool(
            name=f"Day {i}", event=event, capacity=day_capacity)
        day_pool.save()
        category = Category(event=event, name=f"Day {i}", pool=day_pool)
        category.save()
        pools.append(day_pool)
        days.append(create_tariff(event, "Day", '30.00', product,
                category=category, sessions=[session]))
    own = None
    if pass_capacity is not None:
        own = CapacityPool(
            name="Passes", event=event, capacity=pass_capacity)
        own.save()
    festival_pass = create_tariff(event, "3-day pass", '75.00', product,
        pass_kind='multipass', pool=own)
    Component.create([{
                'multipass': festival_pass.id, 'session': s.id,
                'tariff': t.id} for s, t in zip(sessions, days)])
    return event, sessions, pools, days, festival_pass


def quote(lines, **kwargs):
    "Quote LineRequests"
    PriceEngine = Pool().get('ticket.price_engine')
    return PriceEngine.quote(QuoteRequest(lines=lines, **kwargs))


def buy(lines, party=None, email=None, pay=True, **kwargs):
    "Quote LineRequests, hold their places, order and pay; return the order"
    pool = Pool()
    Hold = pool.get('ticket.hold')
    Order = pool.get('ticket.order')
    quoted = quote(lines, email=email, **kwargs)
    order = Order.create_from_quote(
        quoted, [Hold.reserve_quote(quoted)], party=party, email=email)
    if pay:
        Order.pay([order])
    return Order(order.id)


class PassTestMixin:

    @with_transaction()
    def test_pass_choice_of_components(self):
        "A pass takes its mandatory components and 1 to 2 optional ones"
        pool = Pool()
        Component = pool.get('ticket.tariff.component')
        company = create_company()
        with set_company(company):
            event, sessions, product, _ = setup_catalogue(
                company, (10, 10, 10, 10))
            pass_ = create_tariff(event, "Pick 2", '40.00', product,
                pass_kind='multipass', min_choices=1, max_choices=2)
            opening, *others = Component.create([
                    {'multipass': pass_.id, 'session': sessions[0].id},
                    {'multipass': pass_.id, 'session': sessions[1].id,
                        'mandatory': False},
                    {'multipass': pass_.id, 'session': sessions[2].id,
                        'mandatory': False, 'price': D('5.00')},
                    {'multipass': pass_.id, 'session': sessions[3].id,
                        'mandatory': False, 'price': D('7.50')},
                    ])
            adult = create_tariff(event, "Adult", '20.00', product)

            # by component ids and by sessions
            priced = quote([LineRequest(pass_, quantity=2,
                        components=[others[2].id, sessions[2]])])
            line, = priced.lines
            self.assertEqual(line.unit_price, D('52.50'))
            self.assertEqual(line.total, D('105.00'))
            self.assertEqual(line.components,
                [opening, others[1], others[2]])
            self.assertEqual(
                [(i['session'], i['quantity'], i['component'])
                    for i in line.hold_items],
                [(sessions[0], 2, opening.id), (sessions[2], 2, others[1].id),
                    (sessions[3], 2, others[2].id)])
            # choosing a mandatory component changes nothing
            self.assertEqual(quote([LineRequest(pass_,
                            components=[opening, others[0]])]).total,
                D('40.00'))

            other_pass = create_tariff(event, "Other", '10.00', product,
                pass_kind='multipass')
            foreign, = Component.create([{'multipass': other_pass.id,
                        'session': sessions[1].id}])
            for components in [
                    None, [],                               # too few
                    [others[0], others[1], others[2]],      # too many
                    [others[0], others[0]],                 # twice
                    [others[0], sessions[1]],               # twice
                    [foreign],                              # another pass
                    [foreign.id], [-1], ['x'], [True],      # not ids of it
                    [adult],                                # not a component
                    ]:
                with self.subTest(components=components):
                    with self.assertRaises(PricingError) as cm:
                        quote([LineRequest(pass_, components=components)])
                    self.assertEqual(cm.exception.code, 'invalid')
            with self.assertRaises(PricingError) as cm:
                quote([LineRequest(adult, sessions[0],
                            components=[others[0]])])
            self.assertEqual(cm.exception.code, 'invalid')
            empty = create_tariff(event, "Empty", '10.00', product,
                pass_kind='multipass')
            with self.assertRaises(PricingError) as cm:
                quote([LineRequest(empty)])
            self.assertEqual(cm.exception.code, 'invalid')

    @with_transaction()
    def test_pass_component_validation(self):
        "A multipass admits to its event's sessions, each once"
        pool = Pool()
        Component = pool.get('ticket.tariff.component')
        Tariff = pool.get('ticket.tariff')
        company = create_company()
        with set_company(company):
            event, (first, second), product, _ = setup_catalogue(
                company, (10, 10))
            _, (elsewhere,) = create_event(company, (10,))
            first_only = create_tariff(event, "Early", '20.00', product,
                sessions=[first])

            def new_pass(**values):
                return create_tariff(event, "Pass", '40.00', product,
                    pass_kind='multipass', **values)
            for components in [
                    [{'session': elsewhere.id}],
                    [{'session': first.id}, {'tariff': first_only.id}],
                    [{'session': second.id, 'tariff': first_only.id}],
                    [{'session': first.id}, {'session': second.id}],
                    ]:
                with self.subTest(components=components):
                    multipass = new_pass(min_choices=1)
                    with self.assertRaises(ValidationError):
                        Component.create([{'multipass': multipass.id, **c}
                                for c in components])
            multipass = new_pass()
            Component.create([{'multipass': multipass.id,
                        'session': second.id, 'mandatory': False}])
            with self.assertRaises(ValidationError):
                Tariff.write([multipass], {'min_choices': 2})

            # a tariff sold for one session names the session
            multipass = new_pass()
            component, = Component.create([{'multipass': multipass.id,
                        'tariff': first_only.id}])
            self.assertEqual(component.admission_session, first)

            season_pass = create_tariff(event, "Season", '90.00', product,
                pass_kind='season', season=self.create_season(company))
            Component.create([
                    {'multipass': season_pass.id, 'session': first.id},
                    {'multipass': season_pass.id, 'session': elsewhere.id},
                    ])

    @staticmethod
    def create_season(company, name="2025-2026", **values):
        Season = Pool().get('ticket.season')
        season = Season(name=name, company=company, **values)
        season.save()
        return season

    @with_transaction()
    def test_pass_components_count_in_their_pools(self):
        "Each admission of a pass counts in its session's and day's pools"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            _, sessions, days, _, festival_pass = setup_festival(
                company, pass_capacity=5)
            own = festival_pass.pool

            priced = quote([LineRequest(festival_pass, quantity=2)])
            self.assertEqual(len(priced.hold_items()), 3)
            Hold.reserve_quote(priced)

            self.assertEqual(counts(*[s.pool for s in sessions]),
                [(2, 0)] * 3)
            self.assertEqual(counts(*days), [(2, 0)] * 3)
            # the pass's own pool counts a pass once, not per admission
            self.assertEqual(counts(own), [(2, 0)])

    @with_transaction()
    def test_pass_refused_when_a_day_is_full(self):
        "A full day refuses the passes that admit to it, all or nothing"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        CapacityPool = pool.get('ticket.pool')
        company = create_company()
        with set_company(company):
            _, sessions, days, day_tariffs, festival_pass = (
                setup_festival(company))
            buy([LineRequest(day_tariffs[1], sessions[1], quantity=7)])
            buy([LineRequest(festival_pass)])
            self.assertEqual(counts(*days), [(0, 1), (0, 8), (0, 1)])

            with self.assertRaises(PricingError) as cm:
                quote([LineRequest(festival_pass)])
            self.assertEqual(cm.exception.code, 'capacity')
            self.assertIn("Day 2", cm.exception.message)
            # holding the pass's places directly is refused too
            with self.assertRaises(CapacityError):
                Hold.reserve(quote([LineRequest(festival_pass)],
                        check_capacity=False).hold_items())
            self.assertEqual(counts(*days), [(0, 1), (0, 8), (0, 1)])
            self.assertEqual(counts(*[s.pool for s in sessions]),
                [(0, 1), (0, 8), (0, 1)])
            self.assertEqual(CapacityPool.check_counts(), [])
            # the other days still sell
            buy([LineRequest(day_tariffs[0], sessions[0], quantity=7)])
            self.assertEqual(counts(days[0]), [(0, 8)])

    @with_transaction()
    def test_pack_places_and_tickets(self):
        "Packs of 2 consume 2 places and issue 2 tickets per unit"
        pool = Pool()
        Component = pool.get('ticket.tariff.component')
        company = create_company()
        with set_company(company):
            event, sessions, days, day_tariffs, _ = setup_festival(
                company, capacities=(13, 13, 13), day_capacity=13)
            couple = create_tariff(event, "Couple", '50.00',
                day_tariffs[0].product, tickets_per_unit=2,
                category=day_tariffs[0].category)

            with self.assertRaises(PricingError) as cm:
                quote([LineRequest(couple, sessions[0], quantity=7)])
            self.assertEqual(cm.exception.code, 'capacity')
            order = buy([LineRequest(couple, sessions[0], quantity=6)])
            self.assertEqual(len(order.tickets), 12)
            self.assertEqual({t.price for t in order.tickets}, {D('25.00')})
            self.assertEqual(counts(sessions[0].pool, days[0]),
                [(0, 12), (0, 12)])

            # a pack of passes: 2 tickets of 2 admissions per unit
            duo = create_tariff(event, "Duo pass", '100.00',
                couple.product, pass_kind='multipass', tickets_per_unit=2)
            Component.create([{'multipass': duo.id, 'session': s.id}
                    for s in sessions[1:]])
            order = buy([LineRequest(duo, quantity=3)])
            self.assertEqual(len(order.tickets), 6)
            self.assertEqual(
                {len(t.admissions) for t in order.tickets}, {2})
            self.assertEqual(counts(*[s.pool for s in sessions[1:]]),
                [(0, 6), (0, 6)])
            self.assertEqual(order.total, D('300.00'))

    @with_transaction()
    def test_pass_admissions_issued_at_payment(self):
        "A paid pass gives a ticket per unit with an admission per day"
        pool = Pool()
        Order = pool.get('ticket.order')
        Hold = pool.get('ticket.hold')
        Admission = pool.get('ticket.ticket.admission')
        TicketReport = pool.get('ticket.order.tickets', type='report')
        company = create_company()
        with set_company(company):
            _, sessions, days, _, festival_pass = setup_festival(
                company)
            order = buy([LineRequest(festival_pass, quantity=2)],
                email='fan@example.org', pay=False)
            line, = order.lines
            self.assertEqual(len(line.components), 3)
            self.assertEqual(order.tickets, ())
            self.assertEqual(Admission.search([]), [])

            Order.pay([order])
            order = Order(order.id)
            self.assertEqual(len(order.tickets), 2)
            for ticket in order.tickets:
                self.assertEqual(
                    [(a.session, a.state) for a in ticket.admissions],
                    [(s, 'valid') for s in sessions])
            self.assertEqual(counts(*days), [(0, 2)] * 3)
            text = pdf_text(TicketReport.execute([order.id], {})[1])
            for day in ["Day 1 - Day", "Day 2 - Day", "Day 3 - Day"]:
                self.assertEqual(text.count(day), 2)

            # re-quoting the holds gives one line of passes again
            request = Order.quote_request(Hold.browse(order.holds))
            line, = request.lines
            self.assertEqual((line.tariff, line.quantity), (festival_pass, 2))
            self.assertEqual(len(line.components), 3)

            Order.cancel([order])
            self.assertEqual({a.state for a in Admission.search([])},
                {'cancelled'})
            self.assertEqual(counts(*days), [(0, 0)] * 3)

    def setup_seasons(self, company):
        """Last season's pass and this season's, whose renewal window is
        open, each over sessions of two events; return both passes"""
        Component = Pool().get('ticket.tariff.component')
        event, (first, second), product, _ = setup_catalogue(
            company, (50, 50))
        _, (other,) = create_event(company, (10,))
        last = self.create_season(company, "2025-2026")
        current = self.create_season(company, "2026-2027", previous=last,
            renewal_start=now() - dt.timedelta(days=1),
            renewal_end=now() + dt.timedelta(days=6))
        last_pass = create_tariff(event, "Subscription", '100.00', product,
            pass_kind='season', season=last)
        new_pass = create_tariff(event, "Subscription", '110.00', product,
            pass_kind='season', season=current, renews=last_pass)
        Component.create([
                {'multipass': last_pass.id, 'session': first.id},
                {'multipass': last_pass.id, 'session': other.id},
                {'multipass': new_pass.id, 'session': second.id},
                {'multipass': new_pass.id, 'session': other.id},
                ])
        return last_pass, new_pass

    @with_transaction()
    def test_season_pass_subscription(self):
        "Each ticket of a paid season pass makes a subscription"
        pool = Pool()
        Party = pool.get('party.party')
        Subscription = pool.get('ticket.subscription')
        company = create_company()
        with set_company(company):
            last_pass, _ = self.setup_seasons(company)
            alice = Party(name="Alice")
            alice.save()

            order = buy([LineRequest(last_pass, quantity=2)], party=alice,
                email='alice@example.org', pay=False)
            self.assertEqual(Subscription.search([]), [])
            Order = pool.get('ticket.order')
            Order.pay([order])

            subscriptions = Subscription.search([], order=[('id', 'ASC')])
            self.assertEqual(len(subscriptions), 2)
            self.assertEqual(
                {(s.season, s.party, s.email, s.state, s.order)
                    for s in subscriptions},
                {(last_pass.season, alice, 'alice@example.org', 'active',
                        order)})
            self.assertEqual(
                {s.ticket for s in subscriptions}, set(order.tickets))
            codes = {s.pass_code for s in subscriptions}
            self.assertEqual(len(codes), 2)
            self.assertTrue(all(len(c) == 11 for c in codes))
            self.assertEqual(
                {len(t.admissions) for t in order.tickets}, {2})

            Order.cancel([order])
            self.assertEqual(
                {s.state for s in Subscription.browse(subscriptions)},
                {'cancelled'})

    @with_transaction()
    def test_season_renewal_window(self):
        "During the window, only last season's holders buy, one pass each"
        pool = Pool()
        Subscription = pool.get('ticket.subscription')
        Season = pool.get('ticket.season')
        company = create_company()
        with set_company(company):
            last_pass, new_pass = self.setup_seasons(company)
            buy([LineRequest(last_pass)], email='alice@example.org')
            holder, = Subscription.search([])

            for kwargs in [{}, {'email': 'bob@example.org'},
                    {'passwords': ('WRONG-CODE1',)},
                    {'email': 'alice@example.org%'},
                    {'email': '%'}]:
                with self.subTest(**kwargs):
                    with self.assertRaises(PricingError) as cm:
                        quote([LineRequest(new_pass)], **kwargs)
                    self.assertEqual(cm.exception.code, 'restricted')
            # one pass to renew: two are refused
            with self.assertRaises(PricingError) as cm:
                quote([LineRequest(new_pass, quantity=2)],
                    email='alice@example.org')
            self.assertEqual(cm.exception.code, 'restricted')

            for kwargs in [{'email': 'Alice@Example.org'},
                    {'passwords': (holder.pass_code.lower(),)},
                    {'passwords': (holder.pass_code.replace('-', ''),)}]:
                with self.subTest(**kwargs):
                    line, = quote([LineRequest(new_pass)], **kwargs).lines
                    self.assertEqual(line.renewals, [holder])
                    self.assertEqual(line.total, D('110.00'))

            # once the window closes, everybody buys
            after = now() + dt.timedelta(days=7)
            line, = quote([LineRequest(new_pass)],
                email='bob@example.org', at=after).lines
            self.assertEqual(line.renewals, [])
            Season.write([new_pass.season], {
                    'renewal_end': now() - dt.timedelta(minutes=1)})
            buy([LineRequest(new_pass)], email='bob@example.org')

    @with_transaction()
    def test_season_renewal_keeps_holder_and_pass_code(self):
        "A renewal keeps the holder, the pass code and the seat, once"
        pool = Pool()
        Party = pool.get('party.party')
        Subscription = pool.get('ticket.subscription')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            last_pass, new_pass = self.setup_seasons(company)
            alice = Party(name="Alice")
            alice.save()
            buy([LineRequest(last_pass)], party=alice,
                email='alice@example.org')
            holder, = Subscription.search([])
            Subscription.write([holder], {'seat': "B12"})

            # a friend renews for Alice with her pass code
            order = buy([LineRequest(new_pass)], email='friend@example.org',
                passwords=(holder.pass_code,), pay=False)
            line, = order.lines
            self.assertEqual(line.renewals, (holder,))
            # the pass is being renewed: nobody else renews it meanwhile
            with self.assertRaises(PricingError) as cm:
                quote([LineRequest(new_pass)],
                    passwords=(holder.pass_code,))
            self.assertEqual(cm.exception.code, 'restricted')

            Order.pay([order])
            renewal, = Subscription.search([
                    ('season', '=', new_pass.season.id)])
            self.assertEqual(
                (renewal.pass_code, renewal.party, renewal.email,
                    renewal.seat, renewal.renewed_from, renewal.tariff),
                (holder.pass_code, alice, 'alice@example.org', "B12",
                    holder, new_pass))
            self.assertEqual(Subscription(holder.id).renewal, renewal)
            ticket, = order.tickets
            self.assertEqual(ticket.holder_name, "Alice")
            with self.assertRaises(PricingError) as cm:
                quote([LineRequest(new_pass)], email='alice@example.org')
            self.assertEqual(cm.exception.code, 'restricted')

    @with_transaction()
    def test_season_renew_action(self):
        "Renew creates a reserved order for each holder yet to renew"
        pool = Pool()
        Party = pool.get('party.party')
        Subscription = pool.get('ticket.subscription')
        Season = pool.get('ticket.season')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            last_pass, new_pass = self.setup_seasons(company)
            season = new_pass.season
            alice, bob = Party.create([{'name': "Alice"}, {'name': "Bob"}])
            buy([LineRequest(last_pass)], party=alice,
                email='alice@example.org')
            buy([LineRequest(last_pass)], party=bob, email='bob@example.org')
            alice_pass, bob_pass = Subscription.search(
                [], order=[('id', 'ASC')])
            order, = Subscription.renew([bob_pass], season)
            self.assertEqual(
                (order.state, order.party, order.lines[0].renewals),
                ('reserved', bob, (bob_pass,)))
            self.assertTrue(
                order.reserved_until <= season.renewal_end)
            with self.assertRaises(PricingError):
                Subscription.renew([bob_pass], season)

            Season.renew([season])
            alice_order, = Order.search([('party', '=', alice.id)],
                order=[('id', 'DESC')], limit=1)
            self.assertEqual(alice_order.state, 'reserved')
            self.assertEqual(alice_order.lines[0].renewals, (alice_pass,))
            self.assertEqual(len(Order.search([('state', '=', 'reserved')])),
                2)
            # everybody has a renewal order: nothing more to do
            Season.renew([season])
            self.assertEqual(len(Order.search([('state', '=', 'reserved')])),
                2)

            # an expired renewal order gives the right to renew back
            Order.expire([order])
            self.assertEqual(Subscription.unrenewed(season), [bob_pass])
