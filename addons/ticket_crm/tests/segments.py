import datetime as dt
from decimal import Decimal

from trytond.model.exceptions import ValidationError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .helpers import (
    buy, customer, days_ago, members, segment, subscribe, tariff,
    venue_event)


def today(days=0):
    return dt.date.today() + dt.timedelta(days=days)


class SegmentTestMixin:
    "Each filter of a segment, their combinations, RFM and the count"

    def setup_audience(self, company):
        """Alice: jazz fan (3 orders, 150 €), Bob: theatre (1 order, 30 €,
        a year ago), Carol: both (2 orders, 70 €), Dave: no purchase but a
        consent; returns the records by name"""
        pool = Pool()
        Consent = pool.get('ticket.crm.consent')
        Season = pool.get('ticket.season')
        jazz, (jazz1, jazz2) = venue_event(company, "Jazz", "Pinède",
            tags=["Jazz", "Festival"], capacities=(50, 50))
        play, (play1,) = venue_event(company, "Play", "Célestins",
            tags=["Theatre"])
        early = tariff(jazz, "Early Bird", category="Lawn")
        people = {
            'alice': customer("Alice", 'alice@example.org', '69002', 'FR'),
            'bob': customer("Bob", 'bob@example.org', '75011', 'FR'),
            'carol': customer("Carol", 'carol@example.org', '1200', 'CH'),
            'dave': customer("Dave", 'dave@example.org', '69100', 'FR'),
            }
        buy(jazz1, people['alice'], 2, '25.00', paid_at=days_ago(40),
            tariff=early)
        buy(jazz2, people['alice'], 2, '25.00', paid_at=days_ago(5))
        buy(jazz2, people['alice'], 1, '50.00', paid_at=days_ago(2))
        buy(play1, people['bob'], 1, '30.00', paid_at=days_ago(365))
        buy(play1, people['carol'], 1, '30.00', paid_at=days_ago(20))
        buy(jazz1, people['carol'], 1, '40.00', paid_at=days_ago(10))
        Consent.record_consent(people['alice'], 'marketing', True, 'shop')
        Consent.record_consent(people['dave'], 'marketing', True, 'import')
        Consent.record_consent(people['carol'], 'marketing', True, 'shop')
        Consent.record_consent(people['carol'], 'marketing', False, 'shop')
        last, this = Season(name="2025", company=company), Season(
            name="2026", company=company)
        last.save()
        this.previous = last
        this.save()
        subscribe(last, people['alice'], 'AAAAA-AAAAA')
        subscribe(last, people['bob'], 'BBBBB-BBBBB')
        subscribe(this, people['alice'], 'AAAAA-AAAAA')
        return dict(people, jazz=jazz, jazz1=jazz1, play=play,
            play1=play1, early=early, last=last, this=this)

    def check(self, company, lines, expected, match='all'):
        record = segment(company, lines, match=match)
        self.assertEqual(members(record), expected)
        self.assertEqual(record.count, len(expected))

    @with_transaction()
    def test_filter_purchase(self):
        "Test the 'bought' filter by event, tag, venue, tariff and dates"
        company = create_company()
        with set_company(company):
            a = self.setup_audience(company)
            for values, expected in [
                    ({'event': a['jazz'].id}, ["Alice", "Carol"]),
                    ({'session': a['play1'].id}, ["Bob", "Carol"]),
                    ({'tag': a['jazz'].tags[0].id}, ["Alice", "Carol"]),
                    ({'venue': a['play'].venue.id}, ["Bob", "Carol"]),
                    ({'tariff': a['early'].id}, ["Alice"]),
                    ({'category': a['early'].category.id}, ["Alice"]),
                    ({'date_from': today(-30)}, ["Alice", "Carol"]),
                    ({'date_from': today(-30), 'date_to': today(-8)},
                        ["Carol"]),
                    ({'event': a['jazz'].id, 'date_basis': 'session',
                            'date_from': today(11), 'date_to': today(11)},
                        ["Alice"]),
                    ]:
                with self.subTest(values=values):
                    self.check(company, [dict(kind='purchase', **values)],
                        expected)

    @with_transaction()
    def test_filter_attendance(self):
        "Test the 'attended' filter follows the check-in"
        pool = Pool()
        CheckinList = pool.get('ticket.access.list')
        Scan = pool.get('ticket.access.scan')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            a = self.setup_audience(company)
            checkin = CheckinList(name="Gate", event=a['jazz'],
                open_before=None, close_after=None)
            checkin.save()
            rules = CheckinList.rules([checkin.id])[checkin.id]
            order, = Order.search([('party', '=', a['carol'].id),
                    ('lines.session', '=', a['jazz1'].id)])
            self.assertTrue(
                Scan.scan(rules, code=order.tickets[0].secret).ok)
            self.check(company, [
                    {'kind': 'attendance', 'event': a['jazz'].id}],
                ["Carol"])
            self.check(company, [
                    {'kind': 'purchase', 'event': a['jazz'].id},
                    {'kind': 'attendance', 'event': a['jazz'].id,
                        'negate': True}],
                ["Alice"])

    @with_transaction()
    def test_filter_orders_and_amount(self):
        "Test the number of orders and the amount spent"
        company = create_company()
        with set_company(company):
            self.setup_audience(company)
            self.check(company, [{'kind': 'orders', 'minimum': 2}],
                ["Alice", "Carol"])
            self.check(company, [{'kind': 'orders', 'maximum': 1}],
                ["Bob"])
            self.check(company, [{'kind': 'orders', 'minimum': 2,
                        'date_from': today(-7)}], ["Alice"])
            self.check(company, [{'kind': 'amount',
                        'amount_minimum': Decimal('60')}],
                ["Alice", "Carol"])
            self.check(company, [{'kind': 'amount',
                        'amount_minimum': Decimal('60'),
                        'amount_maximum': Decimal('100')}], ["Carol"])
            # count and amount of the same dates, summed in one query
            self.check(company, [
                    {'kind': 'orders', 'minimum': 2, 'date_from': today(-7)},
                    {'kind': 'amount', 'amount_minimum': Decimal('100'),
                        'date_from': today(-7)}], ["Alice"])
            self.check(company, [
                    {'kind': 'orders', 'minimum': 1,
                        'date_from': today(-30)},
                    {'kind': 'amount', 'amount_maximum': Decimal('70'),
                        'date_from': today(-30)}], ["Carol"])
            self.check(company, [
                    {'kind': 'orders', 'minimum': 1,
                        'date_from': today(-30)},
                    {'kind': 'amount', 'amount_minimum': Decimal('101'),
                        'date_from': today(-30)}], [])

    @with_transaction()
    def test_filter_rfm(self):
        "Test RFM quintiles are computed in SQL and filtered"
        pool = Pool()
        Score = pool.get('ticket.crm.rfm')
        company = create_company()
        with set_company(company):
            a = self.setup_audience(company)
            Score.compute([company])
            scores = {s.party.name: (s.r, s.f, s.m, s.frequency,
                    s.monetary) for s in Score.search([])}
            self.assertEqual(scores, {
                    "Alice": (3, 3, 3, 3, Decimal('150.00')),
                    "Carol": (2, 2, 2, 2, Decimal('70.00')),
                    "Bob": (1, 1, 1, 1, Decimal('30.00')),
                    })
            self.check(company, [{'kind': 'rfm', 'r_min': 2, 'm_max': 2}],
                ["Carol"])
            Score.compute([company])
            self.assertEqual(len(Score.search([])), 3)
            self.assertEqual(
                Score.search([('party', '=', a['alice'].id)])[0].score,
                "R3 F3 M3")

    @with_transaction()
    def test_filter_subscriptions(self):
        "Test season pass holders and lapsed subscribers"
        company = create_company()
        with set_company(company):
            a = self.setup_audience(company)
            self.check(company, [
                    {'kind': 'subscription', 'season': a['last'].id}],
                ["Alice", "Bob"])
            self.check(company, [
                    {'kind': 'lapsed', 'season': a['this'].id}], ["Bob"])
            self.check(company, [
                    {'kind': 'lapsed', 'season': a['last'].id}], [])

    @with_transaction()
    def test_filter_address_and_consent(self):
        "Test postal codes, country and consent"
        company = create_company()
        with set_company(company):
            a = self.setup_audience(company)
            self.check(company, [{'kind': 'address',
                        'postal_codes': '69, 750'}],
                ["Alice", "Bob", "Dave"])
            self.check(company, [{'kind': 'address',
                        'country': a['carol'].addresses[0].country.id}],
                ["Carol"])
            self.check(company, [{'kind': 'consent',
                        'purpose': 'marketing'}], ["Alice", "Dave"])
            self.check(company, [{'kind': 'consent',
                        'purpose': 'marketing', 'negate': True}],
                ["Bob", "Carol"])

    @with_transaction()
    def test_combinations(self):
        "Test lines combined with and, or, not and nested segments"
        company = create_company()
        with set_company(company):
            a = self.setup_audience(company)
            jazz = {'kind': 'purchase', 'event': a['jazz'].id}
            theatre = {'kind': 'purchase', 'event': a['play'].id}
            self.check(company, [jazz, theatre], ["Carol"])
            self.check(company, [jazz, theatre], ["Alice", "Bob", "Carol"],
                match='any')
            self.check(company, [jazz, dict(theatre, negate=True)],
                ["Alice"])
            self.check(company, [], ["Alice", "Bob", "Carol", "Dave"])
            both = segment(company, [jazz, theatre], name="Both")
            self.check(company, [
                    {'kind': 'segment', 'segment_ref': both.id},
                    {'kind': 'consent', 'purpose': 'marketing'}],
                ["Alice", "Carol", "Dave"],
                match='any')

    @with_transaction()
    def test_segment_cycle_refused(self):
        "Test a segment cannot contain itself"
        pool = Pool()
        Segment = pool.get('ticket.crm.segment')
        company = create_company()
        with set_company(company):
            first = segment(company, [], name="First")
            second = segment(company, [
                    {'kind': 'segment', 'segment_ref': first.id}],
                name="Second")
            with self.assertRaises(ValidationError):
                Segment.write([first], {'lines': [('create', [{
                                    'kind': 'segment',
                                    'segment_ref': second.id}])]})

    @with_transaction()
    def test_live_count_of_unsaved_segment(self):
        "Test the count follows the lines being edited"
        pool = Pool()
        Segment = pool.get('ticket.crm.segment')
        Line = pool.get('ticket.crm.segment.line')
        company = create_company()
        with set_company(company):
            a = self.setup_audience(company)
            record = Segment(company=company, match='all', lines=[])
            self.assertEqual(record.on_change_with_count(), 4)
            record.lines = [Line(kind='purchase', event=a['jazz'],
                    date_basis='purchase', negate=False)]
            self.assertEqual(record.on_change_with_count(), 2)
            record.lines += (Line(kind='subscription', season=None,
                    negate=False),)
            self.assertEqual(record.on_change_with_count(), 2)

    @with_transaction()
    def test_members_search_and_exports(self):
        "Test members are searchable, exported to XLSX and CSV"
        import csv
        import io
        import zipfile
        pool = Pool()
        Party = pool.get('party.party')
        from ..audience import member_rows, to_csv, to_xlsx
        company = create_company()
        with set_company(company):
            a = self.setup_audience(company)
            record = segment(company, [
                    {'kind': 'purchase', 'event': a['jazz'].id}])
            self.assertEqual(
                sorted(p.name for p in Party.search(
                        [('segments', '=', record.id)])),
                ["Alice", "Carol"])
            rows = member_rows(record)
            content = to_csv(rows).decode('utf-8')
            table = list(csv.reader(io.StringIO(content)))
            self.assertEqual(table[0][:3], ["Code", "Name", "E-mail"])
            self.assertEqual([r[1] for r in table[1:]], ["Alice", "Carol"])
            self.assertEqual(table[1][2], 'alice@example.org')
            self.assertEqual(table[1][7:9], ['3', '150.00'])
            self.assertEqual(table[1][14:], ['True', 'False'])
            xlsx = zipfile.ZipFile(io.BytesIO(to_xlsx(rows)))
            self.assertIn('xl/worksheets/sheet1.xml', xlsx.namelist())
            self.assertIn(b'alice@example.org',
                xlsx.read('xl/sharedStrings.xml'))

    @with_transaction()
    def test_mailing_list_only_consenting(self):
        "Test a segment pushed to a list adds only consenting members"
        pool = Pool()
        List = pool.get('marketing.email.list')
        Email = pool.get('marketing.email')
        company = create_company()
        with set_company(company):
            self.setup_audience(company)
            record = segment(company, [])
            list_ = List(name="Newsletter")
            list_.save()
            self.assertEqual(record.add_to_list(list_, 'marketing'),
                (2, 2))
            self.assertEqual(sorted(e.email for e in Email.search([])),
                ['alice@example.org', 'dave@example.org'])
            Email.write(Email.search([('email', '=', 'dave@example.org')]),
                {'active': False})
            self.assertEqual(record.add_to_list(list_, 'marketing'),
                (0, 2))

    @with_transaction()
    def test_unsubscribe_withdraws_consent(self):
        "The unsubscribe link withdraws the consent that added the address"
        pool = Pool()
        List = pool.get('marketing.email.list')
        Email = pool.get('marketing.email')
        Consent = pool.get('ticket.crm.consent')
        company = create_company()
        with set_company(company):
            a = self.setup_audience(company)
            record = segment(company, [])
            list_ = List(name="Newsletter")
            list_.save()
            record.add_to_list(list_, 'marketing')
            alice, = Email.search([('email', '=', 'alice@example.org')])
            self.assertEqual((alice.ticket_party, alice.ticket_purpose),
                (a['alice'], 'marketing'))
            members = record.member_ids()
            self.assertIn(a['alice'].id,
                Consent.given_ids(members, 'marketing', company.id))

            self.assertTrue(Email.unsubscribe([alice.email_token]))

            self.assertNotIn(a['alice'].id,
                Consent.given_ids(members, 'marketing', company.id))
            withdrawal, = Consent.search([('party', '=', a['alice'].id),
                    ('source', '=', 'unsubscribe')])
            self.assertEqual((withdrawal.given, withdrawal.purpose,
                    withdrawal.reference), (False, 'marketing', "Newsletter"))
            # a token that matches nothing withdraws nothing, nor does an
            # address that left already
            self.assertFalse(Email.unsubscribe(['nothing']))
            self.assertFalse(Email.unsubscribe([alice.email_token]))
            self.assertEqual(Consent.search_count(
                    [('source', '=', 'unsubscribe')]), 1)

    @with_transaction()
    def test_scenario_audience(self):
        "Test a segment sets the audience of a marketing scenario"
        pool = Pool()
        Scenario = pool.get('marketing.automation.scenario')
        Party = pool.get('party.party')
        from trytond.pyson import PYSONDecoder
        company = create_company()
        with set_company(company):
            a = self.setup_audience(company)
            record = segment(company, [
                    {'kind': 'address', 'postal_codes': '69'}])
            scenario = Scenario(name="Welcome")
            scenario.segment = record
            scenario.on_change_segment()
            scenario.save()
            self.assertEqual(scenario.model, 'party.party')
            domain = PYSONDecoder({}).decode(scenario.domain)
            self.assertEqual(
                sorted(p.name for p in Party.search(domain)),
                ["Alice", "Dave"])

    def stat_rows(self):
        "The rows of the customer summary and detail tables"
        cursor = Transaction().connection.cursor()
        rows = {}
        for table, columns in [
                ('ticket_crm_party_stat', 'party, company, orders, amount, '
                    'first_purchase, last_purchase'),
                ('ticket_crm_spend', '"order", party, company, paid_at, '
                    'amount'),
                ('ticket_crm_purchase', '"order", party, company, paid_at, '
                    'session, tariff')]:
            cursor.execute(
                f'SELECT {columns} FROM {table} ORDER BY {columns}')
            rows[table] = cursor.fetchall()
        return rows

    def check_rebuild(self):
        "The incremental summary equals a full rebuild"
        Stat = Pool().get('ticket.crm.party.stat')
        before = self.stat_rows()
        Stat.rebuild()
        self.assertEqual(self.stat_rows(), before)

    @with_transaction()
    def test_counts_follow_orders(self):
        "Test counts stay exact when orders are paid, refunded and merged"
        pool = Pool()
        Order = pool.get('ticket.order')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            a = self.setup_audience(company)
            loyal = segment(company, [{'kind': 'orders', 'minimum': 2}],
                name="Loyal")
            recent = segment(company, [
                    {'kind': 'purchase', 'event': a['play'].id,
                        'date_from': today(-30)},
                    {'kind': 'amount', 'amount_minimum': Decimal('50'),
                        'date_from': today(-30)}], name="Recent")
            self.assertEqual(members(loyal), ["Alice", "Carol"])
            self.assertEqual(members(recent), ["Carol"])
            self.check_rebuild()

            # A new paid order moves Bob into both segments
            order = buy(a['play1'], a['bob'], 2, '30.00')
            self.assertEqual(members(loyal), ["Alice", "Bob", "Carol"])
            self.assertEqual(members(recent), ["Bob", "Carol"])
            self.assertEqual(loyal.count, 3)
            self.check_rebuild()

            # An unpaid order changes nothing but makes a new customer
            erin = customer("Erin", 'erin@example.org')
            buy(a['play1'], erin, 1, pay=False)
            self.assertEqual(members(recent), ["Bob", "Carol"])
            self.assertEqual(members(segment(company, [], name="All")),
                ["Alice", "Bob", "Carol", "Dave", "Erin"])
            self.check_rebuild()

            # Its refund moves him out again
            Order.refund_as_credit([order])
            self.assertEqual(Order(order.id).state, 'cancelled')
            self.assertEqual(members(loyal), ["Alice", "Carol"])
            self.assertEqual(members(recent), ["Carol"])
            self.check_rebuild()

            # Merging Bob into Carol moves his purchases with him
            Party.merge(a['bob'], a['carol'])
            self.assertEqual(members(segment(company, [
                            {'kind': 'orders', 'minimum': 3}],
                        name="Three")), ["Alice", "Carol"])
            self.check_rebuild()
