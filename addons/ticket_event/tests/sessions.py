import datetime as dt

from trytond.model.exceptions import ValidationError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from ..common import now
from ..exceptions import SaleClosedError
from .helpers import create_event, reserve, sell


class SessionTestMixin:
    "Sessions: scheduling, dates and time zones, sale windows"

    @with_transaction()
    def test_check_on_sale_channels(self):
        "Each channel sells only the sessions visible to it"
        company = create_company()
        with set_company(company):
            _, sessions = create_event(company, (10,) * 5)
            cases = [
                (['online'], {'web', 'api'}),
                (['box_office'], {'box_office', 'phone'}),
                (['partner'], {'partner'}),
                (['link', 'partner'], {'web', 'api', 'partner'}),
                ([], set()),
                ]
            Session = Pool().get('ticket.session')
            for session, (visibility, channels) in zip(sessions, cases):
                Session.write([session], {'visibility': visibility})
            for session, (visibility, channels) in zip(sessions, cases):
                for channel in [
                        'web', 'api', 'box_office', 'phone', 'partner',
                        'unknown']:
                    with self.subTest(
                            visibility=visibility, channel=channel):
                        if channel in channels:
                            session.check_on_sale(channel)
                        else:
                            with self.assertRaises(SaleClosedError):
                                session.check_on_sale(channel)

    @with_transaction()
    def test_label_follows_changes(self):
        "The label of a session kept per process changes with its sources"
        pool = Pool()
        Event = pool.get('ticket.event')
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            event, (session,) = create_event(company, (10,),
                start=dt.datetime(2031, 5, 1, 18, 30))

            def label():
                return Session(session.id).rec_name

            self.assertEqual(label(), "Concert - Thu 2031-05-01 20:30 CEST")
            Event.write([event], {'name': "Récital"})
            self.assertEqual(label(), "Récital - Thu 2031-05-01 20:30 CEST")
            Session.write([session], {'name': "Matinée"})
            self.assertEqual(label(), "Récital - Thu 2031-05-01 20:30 CEST (Matinée)")
            Session.write([session], {
                    'start': dt.datetime(2031, 5, 2, 14, 0),
                    'end': dt.datetime(2031, 5, 2, 16, 0)})
            self.assertEqual(label(), "Récital - Fri 2031-05-02 16:00 CEST (Matinée)")
            Event.write([event], {'timezone': 'Europe/London'})
            self.assertEqual(label(), "Récital - Fri 2031-05-02 15:00 BST (Matinée)")

    @with_transaction()
    def test_sale_values_of(self):
        "The sale values of a session by id, None for no session"
        pool = Pool()
        Event = pool.get('ticket.event')
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            event, (session,) = create_event(company, (10,))
            values = Session.sale_values_of(session.id)
            self.assertEqual((values['event'], values['event_state'],
                    values['event_visibility']),
                (event.id, 'published', 'public'))
            Event.write([event], {'visibility': 'private'})
            self.assertEqual(
                Session.sale_values_of(session.id)['event_visibility'],
                'private')
            self.assertIsNone(Session.sale_values_of(session.id + 1000))

    @with_transaction()
    def test_sale_values_follow_changes(self):
        "The sale values kept per process change with their sources"
        pool = Pool()
        Event = pool.get('ticket.event')
        Session = pool.get('ticket.session')
        CapacityPool = pool.get('ticket.pool')
        company = create_company()
        with set_company(company):
            event, (session, other) = create_event(company, (10, 10))

            def fresh():
                return Session(session.id)

            session.check_on_sale('web')
            item = {'session': session, 'quantity': 2}
            self.assertEqual(CapacityPool.quantities_for([item]),
                {session.pool.id: 2})

            # the pools of the session
            shared = CapacityPool(name="Shared", event=event, capacity=15,
                sessions=[session.id, other.id])
            shared.save()
            item = {'session': fresh(), 'quantity': 2}
            self.assertEqual(CapacityPool.quantities_for([item]),
                {session.pool.id: 2, shared.id: 2})
            CapacityPool.write([shared], {
                    'sessions': [('remove', [session.id])]})
            item = {'session': fresh(), 'quantity': 2}
            self.assertEqual(CapacityPool.quantities_for([item]),
                {session.pool.id: 2})

            # its state, visibility and dates, its event's state
            Session.sell_out([session])
            with self.assertRaisesRegex(SaleClosedError, "sold out"):
                fresh().check_on_sale('web')
            Session.open_sale([session])
            fresh().check_on_sale('web')
            Session.write([session], {'visibility': ['box_office']})
            with self.assertRaisesRegex(SaleClosedError, "not on sale"):
                fresh().check_on_sale('web')
            Session.write([session], {
                    'visibility': ['online'],
                    'sale_end': session.start - dt.timedelta(days=20),
                    'sale_start': session.start - dt.timedelta(days=30),
                    })
            with self.assertRaises(SaleClosedError):
                fresh().check_on_sale('web')
            Session.write([session], {'sale_end': None, 'sale_start': None})
            fresh().check_on_sale('web')
            Event.draft([event])
            with self.assertRaisesRegex(SaleClosedError, "not on sale"):
                fresh().check_on_sale('web')

    @with_transaction()
    def test_check_on_sale_state_and_window(self):
        "Sales need a published event, an on-sale session, an open window"
        pool = Pool()
        Event = pool.get('ticket.event')
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            event, (session,) = create_event(company, (10,), on_sale=False)
            start = session.start
            with self.assertRaises(SaleClosedError):
                session.check_on_sale('web')
            Session.open_sale([session])
            with self.assertRaisesRegex(SaleClosedError, "not on sale"):
                session.check_on_sale('web')
            Event.publish([event])
            session.check_on_sale('web')

            Session.sell_out([session])
            with self.assertRaisesRegex(SaleClosedError, "sold out"):
                session.check_on_sale('box_office')
            Session.open_sale([session])

            Session.write([session], {
                    'sale_start': start - dt.timedelta(days=2),
                    'sale_end': start - dt.timedelta(days=1),
                    })
            before = start - dt.timedelta(days=3)
            during = start - dt.timedelta(days=1, hours=12)
            after_online = start - dt.timedelta(hours=1)
            after_start = start + dt.timedelta(hours=1)
            after_end = start + dt.timedelta(hours=3)
            for channel in ['web', 'api', 'partner', 'box_office', 'phone']:
                with self.subTest(channel=channel):
                    Session.write([session], {'visibility': [
                                'online', 'box_office', 'partner']})
                    with self.assertRaisesRegex(
                            SaleClosedError, "not opened"):
                        session.check_on_sale(channel, at=before)
                    session.check_on_sale(channel, at=during)
                    if channel in {'box_office', 'phone'}:
                        session.check_on_sale(channel, at=after_online)
                        session.check_on_sale(channel, at=after_start)
                    else:
                        with self.assertRaisesRegex(
                                SaleClosedError, "closed"):
                            session.check_on_sale(channel, at=after_online)
                    with self.assertRaisesRegex(SaleClosedError, "closed"):
                        session.check_on_sale(channel, at=after_end)

            Event.close([event])
            session = Session(session.id)
            self.assertEqual(session.state, 'closed')
            with self.assertRaises(SaleClosedError):
                session.check_on_sale('box_office', at=during)

    @with_transaction()
    def test_session_local_time(self):
        "Session dates are shown in the event's time zone"
        company = create_company()
        with set_company(company):
            _, (summer,) = create_event(
                company, (10,), start=dt.datetime(2030, 7, 6, 18, 30),
                on_sale=False)
            _, (winter,) = create_event(
                company, (10,), start=dt.datetime(2030, 12, 7, 19, 0),
                on_sale=False)
            _, (new_york,) = create_event(
                company, (10,), start=dt.datetime(2030, 12, 7, 19, 0),
                timezone='America/New_York', on_sale=False)

            self.assertEqual(summer.local_start, 'Sat 2030-07-06 20:30 CEST')
            self.assertEqual(summer.local_end, 'Sat 2030-07-06 22:30 CEST')
            self.assertEqual(winter.local_start, 'Sat 2030-12-07 20:00 CET')
            self.assertEqual(
                new_york.local_start, 'Sat 2030-12-07 14:00 EST')
            self.assertEqual(
                summer.rec_name, 'Concert - Sat 2030-07-06 20:30 CEST')
            self.assertEqual(summer.pool.name, 'Sat 2030-07-06 20:30 CEST')

    @with_transaction()
    def test_event_dates_and_hide_dates(self):
        "Only an event lasting more than 30 days may hide its dates"
        pool = Pool()
        Event = pool.get('ticket.event')
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            start = dt.datetime(2030, 5, 1, 18)
            event, sessions = create_event(
                company, (10, 10), start=start, on_sale=False)
            event = Event(event.id)
            self.assertEqual(event.start, start)
            self.assertEqual(event.end, start + dt.timedelta(days=1, hours=2))
            self.assertFalse(event.long_event)
            with self.assertRaisesRegex(ValidationError, "30 days"):
                Event.write([event], {'hide_dates': True})

            with self.assertRaisesRegex(ValidationError, "30 days"):
                Event.create([{
                            'name': "Empty", 'venue': event.venue.id,
                            'hide_dates': True}])

            Session.write([sessions[1]], {
                    'start': start + dt.timedelta(days=40),
                    'end': start + dt.timedelta(days=40, hours=2)})
            event = Event(event.id)
            self.assertTrue(event.long_event)
            Event.write([event], {'hide_dates': True})

            with self.assertRaisesRegex(ValidationError, "30 days"):
                Session.write([sessions[1]], {
                        'start': start + dt.timedelta(days=2),
                        'end': start + dt.timedelta(days=2, hours=2)})

    @with_transaction()
    def test_create_sessions_weekly_across_dst(self):
        "Weekly sessions keep their local time across a DST change"
        pool = Pool()
        Start = pool.get('ticket.session.create.start')
        company = create_company()
        with set_company(company):
            event, _ = create_event(company, (), on_sale=False)
            start = Start(
                event=event, mode='weekly',
                from_date=dt.date(2030, 3, 18), to_date=dt.date(2030, 4, 6),
                weekdays=['5', '6'], time=dt.time(20, 30),
                duration=dt.timedelta(hours=2), capacity=50)

            sessions = start.create_sessions()

            # Saturdays and Sundays; summer time starts on 2030-03-31
            self.assertEqual([s.start for s in sessions], [
                    dt.datetime(2030, 3, 23, 19, 30),
                    dt.datetime(2030, 3, 24, 19, 30),
                    dt.datetime(2030, 3, 30, 19, 30),
                    dt.datetime(2030, 3, 31, 18, 30),
                    dt.datetime(2030, 4, 6, 18, 30),
                    ])
            self.assertEqual({s.local_start[15:] for s in sessions},
                {'20:30 CET', '20:30 CEST'})
            self.assertEqual(
                {s.end - s.start for s in sessions}, {dt.timedelta(hours=2)})
            self.assertEqual({s.capacity for s in sessions}, {50})
            self.assertEqual({s.pool.capacity for s in sessions}, {50})

    @with_transaction()
    def test_create_sessions_on_dates(self):
        "Copies on dates keep the local time and the shared pools"
        pool = Pool()
        CapacityPool = pool.get('ticket.pool')
        Start = pool.get('ticket.session.create.start')
        Date = pool.get('ticket.session.create.date')
        company = create_company()
        with set_company(company):
            event, (template,) = create_event(
                company, (30,), start=dt.datetime(2030, 3, 30, 19, 30),
                on_sale=False, sale_end=dt.datetime(2030, 3, 30, 17, 30))
            shared = CapacityPool(
                name="Season", event=event, capacity=40, sessions=[template])
            shared.save()
            start = Start(
                event=event, mode='dates', template=template,
                dates=[Date(date=dt.date(2030, 4, 6)),
                    Date(date=dt.date(2030, 3, 25))])

            copy1, copy2 = start.create_sessions()

            self.assertEqual(copy1.start, dt.datetime(2030, 4, 6, 18, 30))
            self.assertEqual(copy1.end, dt.datetime(2030, 4, 6, 20, 30))
            self.assertEqual(copy1.sale_end, dt.datetime(2030, 4, 6, 16, 30))
            self.assertEqual(copy2.start, dt.datetime(2030, 3, 25, 19, 30))
            for copy in [copy1, copy2]:
                self.assertEqual(copy.event, event)
                self.assertEqual(copy.state, 'scheduled')
                self.assertEqual(copy.capacity, 30)
                self.assertNotEqual(copy.pool, template.pool)
                self.assertEqual(
                    {p.id for p in copy.pools}, {copy.pool.id, shared.id})
            self.assertEqual(len(CapacityPool(shared.id).sessions), 3)

    @with_transaction()
    def test_create_sessions_wizard(self):
        "The wizard opens the sessions it created"
        pool = Pool()
        CreateSessions = pool.get('ticket.session.create', type='wizard')
        Venue = pool.get('ticket.venue')
        company = create_company()
        with set_company(company):
            event, (existing,) = create_event(company, (10,), on_sale=False)
            Venue.write([event.venue], {'capacity': 80})
            session_id, _, _ = CreateSessions.create()
            with Transaction().set_context(
                    active_model='ticket.event', active_id=event.id,
                    active_ids=[event.id]):
                defaults = CreateSessions.execute(
                    session_id, {}, 'start')['view']['defaults']
                self.assertEqual(
                    (defaults['event'], defaults['capacity']),
                    (event.id, 80))
                values = {
                    'event': event.id, 'mode': 'weekly', 'capacity': 80,
                    'from_date': dt.date(2030, 6, 3),
                    'to_date': dt.date(2030, 6, 16),
                    'weekdays': ['0', '2'], 'time': dt.time(19),
                    'duration': None, 'template': None, 'dates': [],
                    }
                result = CreateSessions.execute(
                    session_id, {'start': values}, 'create_')
                (action, _), = result['actions']
                domain = PYSONDecoder().decode(action['pyson_domain'])
                sessions = pool.get('ticket.session').search(domain)
                self.assertEqual(len(sessions), 4)
                self.assertNotIn(existing, sessions)
                self.assertEqual(
                    {s.start.date().weekday() for s in sessions}, {0, 2})

                session_id, _, _ = CreateSessions.create()
                values['weekdays'] = ['6']
                values['to_date'] = dt.date(2030, 6, 8)
                with self.assertRaisesRegex(ValidationError, "No session"):
                    CreateSessions.execute(
                        session_id, {'start': values}, 'create_')

    @with_transaction()
    def test_session_defaults_from_venue(self):
        "A new session takes the capacity of the venue"
        pool = Pool()
        Session = pool.get('ticket.session')
        Venue = pool.get('ticket.venue')
        company = create_company()
        with set_company(company):
            event, _ = create_event(company, (), on_sale=False)
            Venue.write([event.venue], {'capacity': 120})
            session = Session(event=event)
            session.on_change_event()
            self.assertEqual(session.capacity, 120)
            session = Session(event=event, capacity=40)
            session.on_change_event()
            self.assertEqual(session.capacity, 40)
            session.start = dt.datetime(2030, 6, 3, 18)
            session.on_change_start()
            self.assertEqual(session.end, dt.datetime(2030, 6, 3, 20))

    @with_transaction()
    def test_delete_sessions(self):
        "Deleting a session deletes its own pool, not the shared ones"
        pool = Pool()
        CapacityPool = pool.get('ticket.pool')
        Event = pool.get('ticket.event')
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            event, (session1, session2) = create_event(
                company, (10, 10), on_sale=False)
            shared = CapacityPool(
                name="Shared", event=event, capacity=15,
                sessions=[session1, session2])
            shared.save()

            Session.delete([session1])
            self.assertEqual(
                CapacityPool.search([]), [session2.pool, shared])

            Event.delete([event])
            self.assertEqual(CapacityPool.search([]), [])
            self.assertEqual(Session.search([]), [])

    @with_transaction()
    def test_duplicate_event(self):
        "Duplicating an event copies its sessions and pools, shifted"
        pool = Pool()
        CapacityPool = pool.get('ticket.pool')
        Event = pool.get('ticket.event')
        company = create_company()
        with set_company(company):
            event, (session1, session2) = create_event(
                company, (10, 20), start=dt.datetime(2030, 3, 29, 19, 30))
            shared = CapacityPool(
                name="Weekend", event=event, capacity=25,
                sessions=[session1, session2])
            shared.save()
            sell(session1, 2)

            copy = event.duplicate(
                "Concert 2", copy_sessions=True, shift=dt.timedelta(days=7))

            self.assertEqual(copy.name, "Concert 2")
            self.assertEqual(copy.state, 'draft')
            self.assertNotEqual(copy.token, event.token)
            self.assertEqual(len(Event(event.id).sessions), 2)
            new1, new2 = copy.sessions
            # 20:30 in Paris before and after the change to summer time
            self.assertEqual(new1.start, dt.datetime(2030, 4, 5, 18, 30))
            self.assertEqual(new2.start, dt.datetime(2030, 4, 6, 18, 30))
            self.assertEqual(new1.local_start[15:], '20:30 CEST')
            self.assertEqual([new1.state, new2.state], ['scheduled'] * 2)
            self.assertEqual([new1.capacity, new2.capacity], [10, 20])
            self.assertEqual(
                {(p.held, p.sold) for p in copy.pools}, {(0, 0)})
            new_shared, = [p for p in copy.pools
                if p not in {new1.pool, new2.pool}]
            self.assertEqual(
                (new_shared.name, new_shared.capacity), ("Weekend", 25))
            self.assertEqual(set(new_shared.sessions), {new1, new2})
            self.assertEqual(len(CapacityPool(shared.id).sessions), 2)

            bare = event.duplicate("Concert 3")
            self.assertEqual((bare.sessions, bare.pools), ((), ()))

    @with_transaction()
    def test_update_sale_states(self):
        "The cron opens, sells out and closes sessions as time goes"
        pool = Pool()
        Session = pool.get('ticket.session')
        company = create_company()
        with set_company(company):
            event, (opening, full, past) = create_event(
                company, (10, 2, 10), on_sale=False)
            Session.write([opening], {
                    'sale_start': now() - dt.timedelta(minutes=1)})
            Session.open_sale([full])
            Session.write([past], {
                    'start': now() - dt.timedelta(hours=3),
                    'end': now() - dt.timedelta(hours=1)})
            pool.get('ticket.event').publish([event])
            reserve(full, 2)

            Session.update_sale_states()

            self.assertEqual(
                [s.state for s in Session.browse([opening, full, past])],
                ['on_sale', 'sold_out', 'closed'])
