"Tests of tariffs and categories"
import datetime as dt
from decimal import Decimal

from trytond.model.exceptions import ValidationError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.tests.test_tryton import with_transaction

from guichet.ticket_event.common import now
from guichet.ticket_event.tests.helpers import create_event

from ..exceptions import PricingError
from .helpers import (
    create_accounts, create_product, create_tariff, create_tax, quote_lines)


def setup_catalogue(company, capacities=(100,), rate='0.055'):
    """An event with sessions of capacities and an admission product with
    one VAT of rate; return event, sessions, product, tax"""
    accounts = create_accounts(company)
    tax = create_tax(company, rate, accounts)
    product = create_product(company, "Admission", [tax], accounts)
    event, sessions = create_event(company, capacities)
    return event, sessions, product, tax


class TariffTestMixin:

    @with_transaction()
    def test_tariff_check_sale_channels(self):
        "A tariff sells only on its channels; hidden ones by direct link"
        company = create_company()
        with set_company(company):
            event, (session,), product, _ = setup_catalogue(company)
            public = create_tariff(event, "Adult", '20', product)
            counter = create_tariff(event, "Senior", '15', product,
                channels=['box_office'])
            hidden = create_tariff(event, "Friends", '12', product,
                channels=['hidden'])

            for channel in ['web', 'api', 'box_office', 'phone']:
                public.check_sale(session, channel)
            counter.check_sale(session, 'box_office')
            counter.check_sale(session, 'phone')
            hidden.check_sale(session, 'web')
            for tariff, channel in [
                    (counter, 'web'), (counter, 'partner'),
                    (hidden, 'box_office'), (public, 'partner')]:
                with self.subTest(tariff=tariff.name, channel=channel):
                    with self.assertRaises(PricingError) as cm:
                        tariff.check_sale(session, channel)
                    self.assertEqual(cm.exception.code, 'not_for_channel')

    @with_transaction()
    def test_tariff_check_sale_sessions_and_window(self):
        "A tariff sells for its sessions, within its sale window, if active"
        pool = Pool()
        Tariff = pool.get('ticket.tariff')
        company = create_company()
        with set_company(company):
            event, (first, second), product, _ = setup_catalogue(
                company, (10, 10))
            other_event, (other,) = create_event(company, (10,))
            saturday = create_tariff(event, "Saturday", '20', product,
                sessions=[second])
            early = create_tariff(event, "Early Bird", '15', product,
                sale_start=now() - dt.timedelta(days=2),
                sale_end=now() - dt.timedelta(days=1))
            late = create_tariff(event, "Late", '25', product,
                sale_start=now() + dt.timedelta(days=1))

            saturday.check_sale(second, 'web')
            for tariff, session, code in [
                    (saturday, first, 'not_for_session'),
                    (saturday, other, 'not_for_session'),
                    (early, first, 'window_closed'),
                    (late, first, 'window_closed'),
                    ]:
                with self.subTest(tariff=tariff.name):
                    with self.assertRaises(PricingError) as cm:
                        tariff.check_sale(session, 'web')
                    self.assertEqual(cm.exception.code, code)
            early.check_sale(first, 'web', at=now() - dt.timedelta(
                    days=1, hours=12))

            Tariff.write([saturday], {'active': False})
            with self.assertRaises(PricingError) as cm:
                Tariff(saturday.id).check_sale(second, 'web')
            self.assertEqual(cm.exception.code, 'not_for_session')

    @with_transaction()
    def test_tariff_quantity_per_order(self):
        "A minimum makes a group rate; a maximum caps an order"
        company = create_company()
        with set_company(company):
            event, _, product, _ = setup_catalogue(company)
            group = create_tariff(event, "Group", '12', product,
                min_quantity=10, max_quantity=30)

            for quantity in [10, 11, 30]:
                group.check_quantity(quantity)
            for quantity in [1, 9, 31]:
                with self.subTest(quantity=quantity):
                    with self.assertRaisesRegex(
                            PricingError, "by 10 to 30") as cm:
                        group.check_quantity(quantity)
                    self.assertEqual(cm.exception.code, 'quantity')

            with self.assertRaises(ValidationError):
                create_tariff(event, "Wrong", '12', product,
                    min_quantity=10, max_quantity=5)
            with self.assertRaises(ValidationError):
                create_tariff(event, "Zero", '12', product, min_quantity=0)
            with self.assertRaises(ValidationError):
                create_tariff(event, "Negative", '-1', product)

    @with_transaction()
    def test_tariff_pay_what_you_want(self):
        "A buyer chooses the price of a pay-what-you-want tariff in bounds"
        company = create_company()
        with set_company(company):
            event, _, product, _ = setup_catalogue(company)
            free = create_tariff(event, "Free Price", '10', product,
                pay_what_you_want=True, minimum_price=Decimal(5),
                maximum_price=Decimal(50))
            fixed = create_tariff(event, "Adult", '20', product)

            self.assertEqual(free.unit_price(), Decimal('10'))
            self.assertEqual(free.unit_price(Decimal('7.5')), Decimal('7.50'))
            self.assertEqual(free.unit_price(50), Decimal('50'))
            self.assertEqual(
                free.unit_price(Decimal('5.004')), Decimal('5.00'))
            for amount in [Decimal('4.99'), Decimal('50.01'), Decimal(-1)]:
                with self.subTest(amount=amount):
                    with self.assertRaises(PricingError) as cm:
                        free.unit_price(amount)
                    self.assertEqual(cm.exception.code, 'amount')
            for amount in [
                    '7', 7.5, True, Decimal('NaN'), Decimal('Infinity')]:
                with self.subTest(amount=amount):
                    with self.assertRaises(PricingError) as cm:
                        free.unit_price(amount)
                    self.assertEqual(cm.exception.code, 'amount')

            self.assertEqual(fixed.unit_price(), Decimal(20))
            self.assertEqual(fixed.unit_price(Decimal('20.00')), Decimal(20))
            with self.assertRaises(PricingError):
                fixed.unit_price(Decimal(1))

            with self.assertRaisesRegex(ValidationError, "below its minimum"):
                create_tariff(event, "Too low", '2', product,
                    pay_what_you_want=True, minimum_price=Decimal(5))

    @with_transaction()
    def test_tariff_category_label_and_pools(self):
        "The category prints above the name; its pool and the tariff's count"
        pool = Pool()
        Category = pool.get('ticket.tariff.category')
        CapacityPool = pool.get('ticket.pool')
        company = create_company()
        with set_company(company):
            event, (session,), product, _ = setup_catalogue(company)
            balcony_pool = CapacityPool(
                name="Balcony", event=event, capacity=40)
            early_pool = CapacityPool(
                name="Early", event=event, capacity=10)
            CapacityPool.save([balcony_pool, early_pool])
            balcony = Category(event=event, name="Balcony",
                pool=balcony_pool)
            balcony.save()
            early = create_tariff(event, "Early Bird", '15', product,
                category=balcony, pool=early_pool)
            plain = create_tariff(event, "Adult", '20', product)

            self.assertEqual(early.rec_name, "Balcony - Early Bird")
            self.assertEqual(early.label, "Balcony — Early Bird")
            self.assertEqual(plain.label, "Adult")
            self.assertEqual(
                early.pools_for(session), [balcony_pool, early_pool])
            self.assertEqual(plain.pools_for(session), [])

    @with_transaction()
    def test_tariff_catalogue_follows_changes(self):
        "The catalogue values kept per process change with their sources"
        pool = Pool()
        Tariff = pool.get('ticket.tariff')
        Category = pool.get('ticket.tariff.category')
        CapacityPool = pool.get('ticket.pool')
        Event = pool.get('ticket.event')
        Currency = pool.get('currency.currency')
        AccessList = pool.get('ticket.sale.list')
        company = create_company()
        with set_company(company):
            event, (first, second), product, _ = setup_catalogue(
                company, (10, 10))
            category = Category(event=event, name="Stalls")
            category.save()
            tariff = create_tariff(event, "Adult", '20', product,
                category=category)

            def fresh():
                return Tariff(tariff.id)

            # fill the catalogue values (the engine reads them)
            self.assertEqual(Tariff.sold_of_event(event),
                ((tariff.id, False),))
            quote = quote_lines([(tariff, first, 1)])
            self.assertEqual(quote.lines[0].description, "Stalls — Adult")
            self.assertEqual(quote.total, Decimal('20.00'))
            self.assertEqual(fresh().pools_for(first), [])

            Category.write([category], {'name': "Balcony"})
            self.assertEqual(fresh().label, "Balcony — Adult")
            # a translation edited by itself (Administration ▸ Translations)
            Lang = pool.get('ir.lang')
            Translation = pool.get('ir.translation')
            Lang.write(Lang.search([('code', '=', 'fr')]),
                {'translatable': True})
            with Transaction().set_context(language='fr'):
                Category.write([Category(category.id)], {'name': "Balcon"})
                self.assertEqual(fresh().label, "Balcon — Adult")
            translation, = Translation.search([
                    ('name', '=', 'ticket.tariff.category,name'),
                    ('res_id', '=', category.id), ('lang', '=', 'fr')])
            Translation.write([translation], {'value': "Galerie"})
            Transaction().cache.clear()     # the records of a next request
            with Transaction().set_context(language='fr'):
                self.assertEqual(fresh().label, "Galerie — Adult")
            extra = CapacityPool(name="Extra", event=event, capacity=5)
            extra.save()
            Category.write([category], {'pool': extra.id})
            self.assertEqual(fresh().pools_for(first), [extra])

            Tariff.write([tariff], {'price': Decimal('25')})
            self.assertEqual(
                quote_lines([(fresh(), first, 1)]).total, Decimal('25.00'))
            Tariff.write([tariff], {'sessions': [('add', [second.id])]})
            with self.assertRaises(PricingError) as cm:
                fresh().check_sale(first, 'web')
            self.assertEqual(cm.exception.code, 'not_for_session')
            Tariff.write([tariff], {'channels': ['box_office']})
            with self.assertRaises(PricingError) as cm:
                fresh().check_sale(second, 'web')
            self.assertEqual(cm.exception.code, 'not_for_channel')
            Tariff.write([tariff], {
                    'channels': ['online'],
                    'sale_end': now() - dt.timedelta(days=1),
                    })
            with self.assertRaises(PricingError) as cm:
                fresh().check_sale(second, 'web')
            self.assertEqual(cm.exception.code, 'window_closed')
            Tariff.write([tariff], {'sale_end': None, 'max_quantity': 2})
            fresh().check_sale(second, 'web')
            with self.assertRaises(PricingError) as cm:
                fresh().check_quantity(3)
            self.assertEqual(cm.exception.code, 'quantity')
            # the tariffs of the event, in order, the active ones
            free = create_tariff(event, "Free", '0', product,
                pay_what_you_want=True, sequence=1)
            self.assertEqual(Tariff.sold_of_event(event), tuple(
                    (t.id, bool(t.pay_what_you_want))
                    for t in Event(event.id).tariffs))
            self.assertEqual(len(Tariff.sold_of_event(event)), 2)
            Tariff.write([free], {'active': False})
            self.assertEqual(Tariff.sold_of_event(event),
                ((tariff.id, False),))
            # a deleted session no longer restricts the tariff
            Pool().get('ticket.session').delete([second])
            fresh().check_sale(first, 'web')

            # an access list restricts the tariff
            access_list = AccessList(company=company, name="Members",
                kind='email', tariffs=[tariff.id],
                entries=[{'value': 'ann@example.com'}])
            access_list.save()
            with self.assertRaises(PricingError) as cm:
                quote_lines([(fresh(), first, 1)])
            self.assertEqual(cm.exception.code, 'restricted')
            AccessList.write([access_list], {'active': False})
            quote_lines([(fresh(), first, 1)])

            # the price display of the event, the rounding of the currency
            Event.write([event], {'price_display': 'tax_excluded'})
            quote = quote_lines([(fresh(), first, 1)])
            self.assertEqual(quote.price_display, 'tax_excluded')
            self.assertEqual(quote.untaxed, Decimal('25.00'))
            Currency.write([company.currency], {'rounding': Decimal('1')})
            quote = quote_lines([(fresh(), first, 1)])
            self.assertEqual(quote.round(Decimal('2.4')), Decimal('2'))

    @with_transaction()
    def test_tariff_capacity_warning(self):
        "The form warns when a tariff is outside the session's capacity"
        pool = Pool()
        Tariff = pool.get('ticket.tariff')
        CapacityPool = pool.get('ticket.pool')
        company = create_company()
        with set_company(company):
            event, _, product, _ = setup_catalogue(company)
            press = create_tariff(event, "Press", '0', product,
                excluded_from_capacity=True)
            self.assertIn("nothing caps them", press.capacity_warning)
            quota = CapacityPool(name="Press", event=event, capacity=5)
            quota.save()
            Tariff.write([press], {'pool': quota.id})
            self.assertIn(
                "only its own pool", Tariff(press.id).capacity_warning)
            self.assertIsNone(
                create_tariff(event, "Adult", '20', product
                    ).capacity_warning)

    @with_transaction()
    def test_event_duplicate_copies_tariffs(self):
        "Duplicating an event copies its categories and tariffs"
        pool = Pool()
        Category = pool.get('ticket.tariff.category')
        Event = pool.get('ticket.event')
        company = create_company()
        with set_company(company):
            event, (session,), product, _ = setup_catalogue(company)
            day = Category(event=event, name="Saturday")
            day.save()
            create_tariff(event, "Adult", '20', product, category=day,
                sessions=[session])
            create_tariff(event, "Child", '10', product)

            copy = Event(event.id).duplicate("Concert 2027")

            self.assertEqual([c.name for c in copy.categories], ["Saturday"])
            self.assertNotEqual(copy.categories[0], day)
            self.assertEqual(
                sorted((t.name, t.price, t.category and t.category.name)
                    for t in copy.tariffs),
                [("Adult", Decimal('20'), "Saturday"),
                    ("Child", Decimal('10'), None)])
            self.assertEqual(
                {t.category for t in copy.tariffs if t.category},
                {copy.categories[0]})
            self.assertEqual([t.sessions for t in copy.tariffs], [(), ()])
            self.assertEqual(len(Event(event.id).tariffs), 2)
