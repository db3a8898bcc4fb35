"Tests of the price engine: lines, VAT per tariff, refusals, capacity"
from decimal import Decimal

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from guichet.ticket_event.tests.helpers import counts, create_event, reserve

from ..engine import LineRequest, QuoteRequest
from ..exceptions import PricingError
from .helpers import (
    create_accounts, create_product, create_tariff, create_tax, quote_lines)
from .tariffs import setup_catalogue

D = Decimal


def amounts(quote):
    "The (description, quantity, unit price, discount, untaxed, tax, total)"
    return [(l.description, l.quantity, l.unit_price, l.discount, l.untaxed,
            l.tax, l.total) for l in quote.lines]


def tax_amounts(quote):
    return [(t.tax.name, t.base, t.amount) for t in quote.tax_lines]


class EngineTestMixin:

    @with_transaction()
    def test_quote_tax_included(self):
        "Tax-included prices: the VAT is taken out of each line to the cent"
        company = create_company()
        with set_company(company):
            event, (session,), product, _ = setup_catalogue(company)
            adult = create_tariff(event, "Adult", '20.00', product)
            child = create_tariff(event, "Child", '12.50', product)

            quote = quote_lines([(adult, session, 2), (child, session, 3)])

            # 40.00 / 1.055 = 37.914 -> 37.91; 37.91 * 5.5 % = 2.085 -> 2.09
            # 37.50 / 1.055 = 35.545 -> 35.55; 35.55 * 5.5 % = 1.955 -> 1.96
            # which gives 37.51: the tax gives the cent back (1.95)
            self.assertEqual(amounts(quote), [
                    ("Adult", 2, D('20.00'), D(0), D('37.91'), D('2.09'),
                        D('40.00')),
                    ("Child", 3, D('12.50'), D(0), D('35.55'), D('1.95'),
                        D('37.50')),
                    ])
            self.assertEqual(tax_amounts(quote),
                [("VAT 5.5%", D('73.46'), D('4.04'))])
            self.assertEqual(
                (quote.untaxed, quote.tax, quote.total, quote.to_pay),
                (D('73.46'), D('4.04'), D('77.50'), D('77.50')))
            self.assertEqual(quote.price_display, 'tax_included')
            self.assertEqual([l.kind for l in quote.lines],
                ['ticket', 'ticket'])

    @with_transaction()
    def test_quote_tax_excluded(self):
        "Tax-excluded prices: the VAT is added to each line"
        pool = Pool()
        Event = pool.get('ticket.event')
        company = create_company()
        with set_company(company):
            accounts = create_accounts(company)
            vat20 = create_tax(company, '0.20', accounts)
            vat55 = create_tax(company, '0.055', accounts)
            seminar = create_product(company, "Seminar", [vat20], accounts)
            book = create_product(company, "Book", [vat55], accounts)
            event, (session,) = create_event(company, (50,))
            Event.write([event], {'price_display': 'tax_excluded'})
            seat = create_tariff(event, "Seat", '10.00', seminar)
            proceedings = create_tariff(event, "Proceedings", '9.99', book,
                issues_ticket=False)

            quote = quote_lines(
                [(seat, session, 3), (proceedings, None, 1)])

            self.assertEqual(amounts(quote), [
                    ("Seat", 3, D('10.00'), D(0), D('30.00'), D('6.00'),
                        D('36.00')),
                    ("Proceedings", 1, D('9.99'), D(0), D('9.99'),
                        D('0.55'), D('10.54')),
                    ])
            self.assertEqual(tax_amounts(quote), [
                    ("VAT 20%", D('30.00'), D('6.00')),
                    ("VAT 5.5%", D('9.99'), D('0.55')),
                    ])
            self.assertEqual((quote.untaxed, quote.tax, quote.total),
                (D('39.99'), D('6.55'), D('46.54')))
            self.assertEqual([l.kind for l in quote.lines],
                ['ticket', 'product'])
            self.assertEqual(quote.hold_items()[0]['quantity'], 3)
            self.assertEqual(len(quote.hold_items()), 1)

    @with_transaction()
    def test_quote_taxes_follow_changes(self):
        "A change of a tax or of a product's taxes shows in the next quote"
        pool = Pool()
        Category = pool.get('product.category')
        Tax = pool.get('account.tax')
        company = create_company()
        with set_company(company):
            accounts = create_accounts(company)
            vat20 = create_tax(company, '0.20', accounts)
            vat55 = create_tax(company, '0.055', accounts)
            product = create_product(company, "Seat", [vat55], accounts)
            event, (session,) = create_event(company, (50,))
            seat = create_tariff(event, "Seat", '10.55', product)

            def taxes():
                quote = quote_lines([(seat, session, 1)])
                return (quote.untaxed, quote.tax, quote.total,
                    [t.tax.id for t in quote.tax_lines])
            self.assertEqual(taxes(), (D('10.00'), D('0.55'), D('10.55'),
                    [vat55.id]))
            self.assertEqual(taxes(), (D('10.00'), D('0.55'), D('10.55'),
                    [vat55.id]))
            Tax.write([vat55], {'rate': D('0.10')})
            # 10.55 / 1.10 = 9.59; 9.59 * 10 % = 0.96
            self.assertEqual(taxes(), (D('9.59'), D('0.96'), D('10.55'),
                    [vat55.id]))
            Category.write([product.template.account_category], {
                    'customer_taxes': [
                        ('remove', [vat55.id]), ('add', [vat20.id])],
                    })
            # 10.55 / 1.20 = 8.79; 8.79 * 20 % = 1.76
            self.assertEqual(taxes(), (D('8.79'), D('1.76'), D('10.55'),
                    [vat20.id]))

    @with_transaction()
    def test_buyer_party_keeps_defaults(self):
        """A buyer's party has no record per multi-value (accounts,
        locations...) and reads the same defaults as any party"""
        from trytond.model import fields

        from ..routes import find_party
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            create_accounts(company)
            standard = Party(name="Standard")
            standard.save()
            buyer = find_party(pool, "Ann Buyer", 'ann@example.org')
            self.assertEqual(
                find_party(pool, "Someone", 'ann@example.org'), buyer)
            self.assertEqual(buyer.name, "Ann Buyer")
            self.assertEqual(buyer.email, 'ann@example.org')
            names = [n for n, f in Party._fields.items()
                if isinstance(f, fields.MultiValue)]
            self.assertIn('lang', names)
            for name in names:
                Value = Party.multivalue_model(name)
                if 'party' in Value._fields:
                    self.assertEqual(
                        Value.search([('party', '=', buyer.id)]), [], name)
                self.assertEqual(
                    getattr(Party(buyer.id), name),
                    getattr(Party(standard.id), name), name)

    @with_transaction()
    def test_quote_display_per_event(self):
        "Each line follows the price display of its own event"
        pool = Pool()
        Event = pool.get('ticket.event')
        company = create_company()
        with set_company(company):
            event, (session,), product, _ = setup_catalogue(company)
            business, (meeting,) = create_event(company, (10,))
            Event.write([business], {'price_display': 'tax_excluded'})
            public = create_tariff(event, "Adult", '10.55', product)
            pro = create_tariff(business, "Pro", '10.00', product)

            quote = quote_lines([(public, session, 1), (pro, meeting, 1)])

            self.assertEqual(amounts(quote), [
                    ("Adult", 1, D('10.55'), D(0), D('10.00'), D('0.55'),
                        D('10.55')),
                    ("Pro", 1, D('10.00'), D(0), D('10.00'), D('0.55'),
                        D('10.55')),
                    ])

    @with_transaction()
    def test_quote_without_company_context(self):
        "The taxes are the tariff's company's whatever the context"
        company = create_company()
        with set_company(company):
            event, (session,), product, _ = setup_catalogue(
                company, rate='0.20')
            adult = create_tariff(event, "Adult", '12.00', product)
        with Transaction().set_context(company=None):
            # records read again in this context
            Tariff = Pool().get('ticket.tariff')
            Session = Pool().get('ticket.session')
            quote = quote_lines(
                [(Tariff(adult.id), Session(session.id), 1)])
        self.assertEqual((quote.untaxed, quote.tax, quote.total),
            (D('10.00'), D('2.00'), D('12.00')))

    @with_transaction()
    def test_quote_pay_what_you_want(self):
        "The buyer's amount is the unit price of a pay-what-you-want line"
        company = create_company()
        with set_company(company):
            event, (session,), product, _ = setup_catalogue(company)
            free = create_tariff(event, "Solidarity", '10', product,
                pay_what_you_want=True, minimum_price=D(5))

            quote = quote_lines([(free, session, 2, D('21.10'))])
            self.assertEqual(amounts(quote), [
                    ("Solidarity", 2, D('21.10'), D(0), D('40.00'),
                        D('2.20'), D('42.20'))])
            with self.assertRaises(PricingError) as cm:
                quote_lines([(free, session, 2, D('4'))])
            self.assertEqual(cm.exception.code, 'amount')

    @with_transaction()
    def test_quote_refusals(self):
        "The engine refuses a bad candidate order with a reason code"
        pool = Pool()
        PriceEngine = pool.get('ticket.price_engine')
        Session = pool.get('ticket.session')
        Hold = pool.get('ticket.hold')
        company = create_company()
        other_company = create_company("Other", currency=company.currency)
        with set_company(other_company):
            foreign_event, (foreign,), foreign_product, _ = setup_catalogue(
                other_company)
            foreign_tariff = create_tariff(
                foreign_event, "Foreign", '10', foreign_product)
        with set_company(company):
            event, (session, closed), product, _ = setup_catalogue(
                company, (10, 10))
            Session.close([closed])
            adult = create_tariff(event, "Adult", '20', product)
            group = create_tariff(event, "Group", '12', product,
                min_quantity=10)

            cases = [
                ([], 'invalid'),
                ([(adult, session, 0)], 'quantity'),
                ([(adult, session, 1001)], 'quantity'),
                ([(adult, session, True)], 'quantity'),
                ([(adult, session, 2.0)], 'quantity'),
                ([(adult, None, 1)], 'invalid'),
                ([(adult, session, 1), (foreign_tariff, foreign, 1)],
                    'invalid'),
                ([(adult, foreign, 1)], 'not_for_session'),
                ([(adult, closed, 1)], 'sale_closed'),
                ([(group, session, 9)], 'quantity'),
                ([(group, session, 5), (adult, session, 2)], 'quantity'),
                ([(adult, session, 11)], 'capacity'),
                ([(adult, session, 6), (group, session, 10)], 'capacity'),
                ]
            for lines, code in cases:
                with self.subTest(lines=lines):
                    request = QuoteRequest(lines=[
                            LineRequest(tariff=t, session=s, quantity=q)
                            for t, s, q in lines])
                    with self.assertRaises(PricingError) as cm:
                        PriceEngine.quote(request)
                    self.assertEqual(cm.exception.code, code)
                    self.assertTrue(cm.exception.message)
            self.assertEqual(Hold.search([]), [])

            # two lines of the group rate count together
            quote = quote_lines([(group, session, 5), (group, session, 5)])
            self.assertEqual(quote.total, D('120.00'))
            # a quote of the places already held skips the capacity
            reserve(session, 10)
            quote = quote_lines([(adult, session, 2)], check_capacity=False)
            self.assertEqual(quote.total, D('40.00'))
            with self.assertRaises(PricingError) as cm:
                quote_lines([(adult, session, 1)])
            self.assertEqual(cm.exception.code, 'capacity')

    @with_transaction()
    def test_quote_channel(self):
        "A tariff outside the channel of the order is refused"
        company = create_company()
        with set_company(company):
            event, (session,), product, _ = setup_catalogue(company)
            counter = create_tariff(event, "Counter", '5', product,
                channels=['box_office'])
            donation = create_tariff(event, "Donation", '5', product,
                channels=['box_office'], issues_ticket=False)
            for lines in [[(counter, session, 1)], [(donation, None, 1)]]:
                with self.assertRaises(PricingError) as cm:
                    quote_lines(lines, channel='web')
                self.assertEqual(cm.exception.code, 'not_for_channel')
                quote = quote_lines(lines, channel='box_office')
                self.assertEqual(quote.total, D('5.00'))

    @with_transaction()
    def test_quote_pools_of_category_and_tariff(self):
        "A sale counts in the session's, category's and tariff's pools"
        pool = Pool()
        Category = pool.get('ticket.tariff.category')
        CapacityPool = pool.get('ticket.pool')
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            event, (session,), product, _ = setup_catalogue(company, (20,))
            balcony_pool = CapacityPool(
                name="Balcony", event=event, capacity=8)
            early_pool = CapacityPool(name="Early", event=event, capacity=3)
            CapacityPool.save([balcony_pool, early_pool])
            balcony = Category(event=event, name="Balcony",
                pool=balcony_pool)
            balcony.save()
            early = create_tariff(event, "Early Bird", '15', product,
                category=balcony, pool=early_pool)
            full = create_tariff(event, "Full", '25', product,
                category=balcony)

            for lines, pool_name in [
                    ([(early, session, 4)], "Early"),
                    ([(full, session, 9)], "Balcony"),
                    ([(early, session, 3), (full, session, 6)], "Balcony"),
                    ]:
                with self.assertRaisesRegex(PricingError, pool_name) as cm:
                    quote_lines(lines)
                self.assertEqual(cm.exception.code, 'capacity')

            quote = quote_lines([(early, session, 3), (full, session, 5)])
            self.assertEqual([l.description for l in quote.lines],
                ["Balcony — Early Bird", "Balcony — Full"])
            hold = Hold.reserve_quote(quote)
            self.assertEqual(
                counts(session.pool, balcony_pool, early_pool),
                [(8, 0), (8, 0), (3, 0)])
            self.assertEqual(
                sorted((i.tariff.name, i.quantity) for i in hold.items),
                [("Early Bird", 3), ("Full", 5)])
            with self.assertRaises(PricingError):
                quote_lines([(full, session, 1)])

    @with_transaction()
    def test_quote_pack_and_excluded_from_capacity(self):
        "A pack takes its places per unit; press places skip the session"
        pool = Pool()
        CapacityPool = pool.get('ticket.pool')
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            event, (session,), product, _ = setup_catalogue(company, (12,))
            couple = create_tariff(event, "Couple", '50', product,
                tickets_per_unit=2)
            press_pool = CapacityPool(name="Press", event=event, capacity=4)
            press_pool.save()
            press = create_tariff(event, "Press", '0', product,
                excluded_from_capacity=True, pool=press_pool)

            quote = quote_lines([(couple, session, 6)])
            self.assertEqual(quote.total, D('300.00'))
            Hold.reserve_quote(quote)
            self.assertEqual(counts(session.pool), [(12, 0)])
            with self.assertRaises(PricingError):
                quote_lines([(couple, session, 1)])

            quote = quote_lines([(press, session, 4)])
            self.assertEqual(quote.total, D('0.00'))
            Hold.reserve_quote(quote)
            self.assertEqual(
                counts(session.pool, press_pool), [(12, 0), (4, 0)])
            with self.assertRaises(PricingError) as cm:
                quote_lines([(press, session, 1)])
            self.assertEqual(cm.exception.code, 'capacity')

    @with_transaction()
    def test_quote_line_discount_floor(self):
        "A discount never takes a line below zero"
        company = create_company()
        with set_company(company):
            event, (session,), product, _ = setup_catalogue(company)
            adult = create_tariff(event, "Adult", '20', product)
            quote = quote_lines([(adult, session, 2)])
            line, = quote.lines
            self.assertEqual(line.add_discount(D('15')), D('15'))
            self.assertEqual(line.add_discount(D('30')), D('25'))
            self.assertEqual(line.add_discount(D('-5')), D('0'))
            self.assertEqual(line.add_discount(D('1')), D('0'))
            self.assertEqual(line.discount, D('40'))
