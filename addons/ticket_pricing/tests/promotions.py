"""Tests of the promo codes, package deals, access lists and credits"""
import datetime as dt
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from guichet.ticket_event.common import now
from guichet.ticket_event.tests.helpers import create_event

from ..exceptions import PricingError
from .helpers import (
    create_accounts, create_product, create_tariff, create_tax, quote_lines)

D = Decimal


def setup_promotions(company):
    """An event at 10 % VAT (prices tax included) with two sessions and
    tariffs Adult (20.00) and Child (10.00); return event, sessions, adult,
    child"""
    accounts = create_accounts(company)
    vat = create_tax(company, '0.10', accounts)
    admission = create_product(company, "Admission", [vat], accounts)
    event, sessions = create_event(company, (100, 100))
    adult = create_tariff(event, "Adult", '20.00', admission)
    child = create_tariff(event, "Child", '10.00', admission)
    return event, sessions, adult, child


def create_campaign(company, codes=(), **values):
    """Create a campaign with codes given as (code, max_uses); return the
    campaign and its codes"""
    pool = Pool()
    Campaign = pool.get('ticket.promo.campaign')
    PromoCode = pool.get('ticket.promo.code')
    for key in ['amount', 'rate']:
        if key in values:
            values[key] = D(values[key])
    campaign = Campaign(company=company, name="Campaign", **values)
    campaign.save()
    codes = PromoCode.create([{
                'campaign': campaign.id, 'code': c, 'max_uses': n}
            for c, n in codes])
    return campaign, codes


def buy(quote, email=None, party=None):
    "Hold the places of quote and create its order"
    pool = Pool()
    Hold = pool.get('ticket.hold')
    Order = pool.get('ticket.order')
    hold = Hold.reserve_quote(quote)
    return Order.create_from_quote(quote, [hold], email=email, party=party)


def discounts(quote):
    return [(l.description, l.discount) for l in quote.ticket_lines]


def reload(record):
    return record.__class__(record.id)


class PromotionTestMixin:

    def assertRefused(self, code, func, *args, **kwargs):
        with self.assertRaises(PricingError) as context:
            func(*args, **kwargs)
        self.assertEqual(context.exception.code, code)
        return context.exception

    # Promo codes

    @with_transaction()
    def test_promo_percentage_per_ticket_on_its_tariffs(self):
        "A percentage code discounts only the tariffs of its campaign"
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, child = setup_promotions(company)
            create_campaign(company, [('SUMMER', 10)],
                computation='percentage', rate='0.25', tariffs=[adult])

            quote = quote_lines([(adult, s1, 2), (child, s1, 1)],
                promo_code='SUMMER')

            self.assertEqual(discounts(quote),
                [("Adult", D('10.00')), ("Child", D('0'))])
            self.assertEqual(quote.total, D('40.00'))
            self.assertEqual(quote.promo_code.code, 'SUMMER')
            # 40.00 / 1.1 = 36.36 + 3.64
            self.assertEqual((quote.untaxed, quote.tax),
                (D('36.36'), D('3.64')))

    @with_transaction()
    def test_promo_fixed_per_ticket_dearest_first(self):
        "A fixed code discounts the dearest tickets up to its tickets/order"
        company = create_company()
        with set_company(company):
            event, (s1, s2), adult, child = setup_promotions(company)
            create_campaign(company, [('FIVE', 10)], computation='fixed',
                amount='5', uses_per_order=2)

            quote = quote_lines([(child, s1, 3), (adult, s2, 1)],
                promo_code='five')

            self.assertEqual(discounts(quote),
                [("Child", D('5.00')), ("Adult", D('5.00'))])
            self.assertEqual(quote.total, D('40.00'))

    @with_transaction()
    def test_promo_never_makes_a_line_negative(self):
        "A fixed amount above the price discounts the price, not more"
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, child = setup_promotions(company)
            create_campaign(company, [('FREE', 10)], computation='fixed',
                amount='15')

            quote = quote_lines([(child, s1, 2)], promo_code='FREE')

            line, = quote.ticket_lines
            self.assertEqual(line.discount, D('20.00'))
            self.assertEqual((line.total, line.tax), (D('0.00'), D('0.00')))
            self.assertEqual(quote.total, D('0.00'))

    @with_transaction()
    def test_promo_per_order_spread_over_lines(self):
        "A fixed amount per order is spread in proportion to the lines"
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, child = setup_promotions(company)
            create_campaign(company, [('SIX', 10)], computation='fixed',
                amount='6', per='order')
            create_campaign(company, [('BIG', 10)], computation='fixed',
                amount='100', per='order')

            quote = quote_lines([(adult, s1, 1), (child, s1, 1)],
                promo_code='SIX')
            self.assertEqual(discounts(quote),
                [("Adult", D('4.00')), ("Child", D('2.00'))])
            self.assertEqual(quote.total, D('24.00'))

            quote = quote_lines([(adult, s1, 1), (child, s1, 2)],
                promo_code='BIG')
            self.assertEqual(discounts(quote),
                [("Adult", D('20.00')), ("Child", D('20.00'))])
            self.assertEqual(quote.total, D('0.00'))

    @with_transaction()
    def test_promo_per_order_spread_rounds_to_the_cent(self):
        "A spread amount sums exactly to the amount, to the cent"
        company = create_company()
        with set_company(company):
            event, (s1, s2), adult, _ = setup_promotions(company)
            create_campaign(company, [('TEN', 10)], computation='fixed',
                amount='10', per='order')

            quote = quote_lines(
                [(adult, s1, 1), (adult, s2, 1), (adult, s1, 1)],
                promo_code='TEN')

            self.assertEqual(sorted(l.discount for l in quote.ticket_lines),
                [D('3.33'), D('3.33'), D('3.34')])
            self.assertEqual(quote.total, D('50.00'))

    @with_transaction()
    def test_promo_sessions_and_events(self):
        "A code for some sessions does not apply to the others"
        company = create_company()
        with set_company(company):
            event, (s1, s2), adult, _ = setup_promotions(company)
            create_campaign(company, [('FIRST', 10)],
                computation='percentage', rate='0.5', sessions=[s1],
                events=[event])

            quote = quote_lines([(adult, s1, 1), (adult, s2, 1)],
                promo_code='FIRST')
            self.assertEqual([l.discount for l in quote.ticket_lines],
                [D('10.00'), D('0')])
            self.assertRefused('code_invalid', quote_lines,
                [(adult, s2, 1)], promo_code='FIRST')

    @with_transaction()
    def test_promo_refusals(self):
        "Unknown, not yet valid, expired, inactive and used-up codes"
        pool = Pool()
        PromoCode = pool.get('ticket.promo.code')
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, _ = setup_promotions(company)
            yesterday = now() - dt.timedelta(days=1)
            tomorrow = now() + dt.timedelta(days=1)
            create_campaign(company, [('LATER', 5)], computation='fixed',
                amount='1', start=tomorrow)
            create_campaign(company, [('PAST', 5)], computation='fixed',
                amount='1', end=yesterday)
            _, (off, used, few) = create_campaign(company,
                [('OFF', 5), ('USED', 1), ('FEW', 3)], computation='fixed',
                amount='1')
            PromoCode.write([off], {'active': False})
            PromoCode.consume(used, 1)
            PromoCode.consume(few, 2)

            def quote(code, quantity=1):
                return quote_lines([(adult, s1, quantity)], promo_code=code)

            for code in ['NOPE', 'LATER', 'PAST', 'OFF']:
                with self.subTest(code=code):
                    self.assertRefused('code_invalid', quote, code)
            self.assertRefused('code_exhausted', quote, 'USED')
            error = self.assertRefused('code_exhausted', quote, 'FEW', 2)
            self.assertIn('1 uses left', error.message)
            self.assertEqual(quote('FEW').discount, D('1.00'))
            self.assertEqual([reload(c).uses for c in [off, used, few]],
                [0, 1, 2])

    @with_transaction()
    def test_promo_never_combined(self):
        "Two codes in one order are refused, whatever the separator"
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, _ = setup_promotions(company)
            create_campaign(company, [('ONE', 5), ('TWO', 5)],
                computation='fixed', amount='1')
            for value in ['ONE TWO', 'ONE,TWO', ('ONE', 'TWO')]:
                with self.subTest(value=value):
                    error = self.assertRefused('code_invalid', quote_lines,
                        [(adult, s1, 1)], promo_code=value)
                    self.assertIn('combined', error.message)
            quote = quote_lines([(adult, s1, 1)], promo_code=('one', 'ONE'))
            self.assertEqual(quote.promo_code.code, 'ONE')

    @with_transaction()
    def test_promo_use_recorded_on_order_and_given_back(self):
        "An order takes the uses of its code; cancel and expiry give them back"
        pool = Pool()
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, _ = setup_promotions(company)
            _, (code,) = create_campaign(company, [('SHARED', 5)],
                computation='percentage', rate='0.1')

            first = buy(quote_lines([(adult, s1, 2)], promo_code='SHARED'))
            second = buy(quote_lines([(adult, s1, 3)], promo_code='SHARED'))

            self.assertEqual((first.promo_code, first.promo_uses), (code, 2))
            self.assertEqual(reload(code).uses, 5)
            self.assertRefused('code_exhausted', quote_lines,
                [(adult, s1, 1)], promo_code='SHARED')

            Order.cancel([first])
            self.assertEqual(reload(code).uses, 3)
            Order.cancel([reload(first)])
            self.assertEqual(reload(code).uses, 3)
            Order.expire([second])
            self.assertEqual(reload(code).uses, 0)
            self.assertEqual(reload(second).promo_uses, 0)
            self.assertEqual(reload(second).promo_code, code)

    @with_transaction()
    def test_promo_last_use_race(self):
        "Of two orders quoted with the last use, the second is refused"
        pool = Pool()
        Order = pool.get('ticket.order')
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, _ = setup_promotions(company)
            _, (code,) = create_campaign(company, [('LAST', 1)],
                computation='fixed', amount='5')
            quote1 = quote_lines([(adult, s1, 1)], promo_code='LAST')
            quote2 = quote_lines([(adult, s1, 1)], promo_code='LAST')
            buy(quote1)
            hold = Hold.reserve_quote(quote2)
            orders = Order.search([], count=True)

            self.assertRefused('code_exhausted', Order.create_from_quote,
                quote2, [hold])

            self.assertEqual(reload(code).uses, 1)
            self.assertEqual(Order.search([], count=True), orders)
            self.assertEqual(reload(hold).state, 'active')

    @with_transaction()
    def test_promo_use_given_back_when_order_refused(self):
        "A code whose order is refused afterwards keeps its use"
        pool = Pool()
        Order = pool.get('ticket.order')
        Hold = pool.get('ticket.hold')
        company = create_company()
        with set_company(company):
            event, (s1, s2), adult, _ = setup_promotions(company)
            _, (code,) = create_campaign(company, [('ONCE', 1)],
                computation='fixed', amount='5')
            quote = quote_lines([(adult, s1, 1)], promo_code='ONCE')
            other = Hold.reserve([{'session': s2, 'quantity': 1}])

            with self.assertRaises(UserError):
                Order.create_from_quote(quote, [other])

            self.assertEqual(reload(code).uses, 0)

    @with_transaction()
    def test_promo_generate_codes(self):
        "Codes generated in bulk are unique, prefixed and random"
        pool = Pool()
        PromoCode = pool.get('ticket.promo.code')
        company = create_company()
        with set_company(company):
            setup_promotions(company)
            campaign, _ = create_campaign(company, computation='fixed',
                amount='5')

            codes = PromoCode.generate(campaign, 50, prefix='fest-',
                length=8)

            self.assertEqual(len({c.code for c in codes}), 50)
            for code in codes:
                self.assertRegex(code.code, r'^FEST-[A-HJ-NP-Z2-9]{8}$')
                self.assertEqual((code.max_uses, code.uses), (1, 0))
            with self.assertRaises(ValidationError):
                PromoCode.generate(campaign, 0)
            with self.assertRaises(ValidationError):
                PromoCode.generate(campaign, 5, length=3)
            self.assertEqual(len(PromoCode.search([])), 50)

    @with_transaction()
    def test_promo_import_codes(self):
        "Codes pasted one per line; blanks and duplicates are refused"
        pool = Pool()
        PromoCode = pool.get('ticket.promo.code')
        company = create_company()
        with set_company(company):
            setup_promotions(company)
            campaign, _ = create_campaign(company, computation='fixed',
                amount='5')

            codes = PromoCode.import_text(
                campaign, 'abc-1\n DEF_2\t\nGHI3\n\n', max_uses=2)
            self.assertEqual([(c.code, c.max_uses) for c in codes],
                [('ABC-1', 2), ('DEF_2', 2), ('GHI3', 2)])

            for text, words in [
                    ('NEW1\n\nNEW2', ['Line 2', 'blank']),
                    ('NEW1\nNEW2\nnew1', ['NEW1', 'lines 1 and 3']),
                    ('NEW1\nghi3', ['GHI3', 'line 2', 'exists']),
                    ('NEW1\nNEW 2', ['NEW 2', 'line 2']),
                    ('  \n ', ['at least one']),
                    ]:
                with self.subTest(text=text):
                    with self.assertRaises(ValidationError) as context:
                        PromoCode.import_text(campaign, text)
                    for word in words:
                        self.assertIn(word, context.exception.message)
            self.assertEqual(len(PromoCode.search([])), 3)

    @with_transaction()
    def test_promo_code_characters_and_uniqueness(self):
        "A code is stored in capitals, unique whatever its case"
        pool = Pool()
        PromoCode = pool.get('ticket.promo.code')
        company = create_company()
        with set_company(company):
            setup_promotions(company)
            campaign, (code,) = create_campaign(company, [(' mixed ', 1)],
                computation='fixed', amount='5')
            self.assertEqual(code.code, 'MIXED')
            with self.assertRaises(ValidationError):
                PromoCode.create([{'campaign': campaign.id,
                            'code': 'with space', 'max_uses': 1}])
            with self.assertRaises(UserError):
                PromoCode.create([{'campaign': campaign.id,
                            'code': 'Mixed', 'max_uses': 1}])

    # Package deals

    def create_deal(self, event, components, amount):
        Deal = Pool().get('ticket.package.deal')
        deal = Deal(event=event, name="Family", amount=D(amount),
            components=[{'tariff': t.id, 'quantity': q}
                for t, q in components])
        deal.save()
        return deal

    @with_transaction()
    def test_deal_applies_per_combination_across_sessions(self):
        "2 Adults + 1 Child give 3.00 off, as many times as found"
        company = create_company()
        with set_company(company):
            event, (s1, s2), adult, child = setup_promotions(company)
            deal = self.create_deal(event, [(adult, 2), (child, 1)], '3')

            quote = quote_lines([(adult, s1, 3), (adult, s2, 2),
                    (child, s1, 1), (child, s2, 2)])

            self.assertEqual(quote.deals, [(deal, 2, D('6.00'))])
            self.assertEqual(quote.discount, D('6.00'))
            self.assertEqual(quote.total, D('124.00'))
            self.assertEqual(sum(l.total for l in quote.lines), quote.total)

            quote = quote_lines([(adult, s1, 2), (child, s2, 1)])
            self.assertEqual(quote.deals, [(deal, 1, D('3.00'))])
            # 3.00 spread over 40.00 and 10.00
            self.assertEqual(discounts(quote),
                [("Adult", D('2.40')), ("Child", D('0.60'))])

    @with_transaction()
    def test_deals_kept_follow_changes(self):
        "The deals of an event kept for the engine follow every change"
        Deal = Pool().get('ticket.package.deal')
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, child = setup_promotions(company)
            lines = [(adult, s1, 2), (child, s1, 1)]
            self.assertEqual(quote_lines(lines).deals, [])

            deal = self.create_deal(event, [(adult, 2), (child, 1)], '3')
            self.assertEqual(quote_lines(lines).deals,
                [(deal, 1, D('3.00'))])
            Deal.write([deal], {'active': False})
            self.assertEqual(quote_lines(lines).deals, [])
            Deal.write([deal], {'active': True})
            self.assertEqual(quote_lines(lines).deals,
                [(deal, 1, D('3.00'))])
            Deal.delete([deal])
            self.assertEqual(quote_lines(lines).deals, [])

    @with_transaction()
    def test_deal_not_applied_to_incomplete_combination(self):
        "Without the whole combination, no deal"
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, child = setup_promotions(company)
            self.create_deal(event, [(adult, 2), (child, 1)], '3')

            quote = quote_lines([(adult, s1, 5)])

            self.assertEqual(quote.deals, [])
            self.assertEqual(quote.discount, D('0'))

    @with_transaction()
    def test_deal_with_promo_code_never_negative(self):
        "A deal after a code discounts at most what the lines have left"
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, child = setup_promotions(company)
            deal = self.create_deal(event, [(adult, 1), (child, 1)], '10')
            create_campaign(company, [('HALF', 5)], computation='percentage',
                rate='0.9')

            quote = quote_lines([(adult, s1, 1), (child, s1, 1)],
                promo_code='HALF')

            self.assertEqual(quote.deals, [(deal, 1, D('3.00'))])
            self.assertEqual(quote.total, D('0.00'))
            self.assertTrue(all(l.total >= 0 for l in quote.lines))

    # Access lists

    def create_list(self, company, kind, entries, tariffs):
        AccessList = Pool().get('ticket.sale.list')
        access_list = AccessList(company=company, name="List", kind=kind,
            tariffs=tariffs,
            entries=[{'value': v, 'quantity': q} for v, q in entries])
        access_list.save()
        return access_list

    @with_transaction()
    def test_access_list_emails(self):
        "A tariff of an e-mail list sells only to its e-mails"
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, child = setup_promotions(company)
            self.create_list(company, 'email',
                [('Ann@Example.com', None)], [adult])

            self.assertRefused('restricted', quote_lines, [(adult, s1, 1)])
            self.assertRefused('restricted', quote_lines, [(adult, s1, 1)],
                email='bob@example.com')
            quote = quote_lines([(adult, s1, 1)], email=' ann@example.COM')
            self.assertEqual(quote.total, D('20.00'))
            self.assertEqual(quote_lines([(child, s1, 1)]).total, D('10.00'))

    @with_transaction()
    def test_access_list_quantity_shared_by_tariffs(self):
        "An entry's quantity counts its orders over all the list's tariffs"
        pool = Pool()
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, (s1, s2), adult, child = setup_promotions(company)
            access_list = self.create_list(company, 'email',
                [('ann@example.com', 3)], [adult, child])
            entry, = access_list.entries
            email = 'ann@example.com'

            self.assertRefused('restricted', quote_lines,
                [(adult, s1, 2), (child, s2, 2)], email=email)
            order = buy(quote_lines([(adult, s1, 2)], email=email),
                email=email)
            self.assertEqual([l.access_entry for l in order.lines], [entry])
            self.assertEqual(reload(entry).bought, 2)

            error = self.assertRefused('restricted', quote_lines,
                [(child, s2, 2)], email=email)
            self.assertIn('1 left', error.message)
            quote_lines([(child, s2, 1)], email=email)

            Order.cancel([order])
            self.assertEqual(reload(entry).bought, 0)
            quote_lines([(child, s2, 3)], email=email)

    @with_transaction()
    def test_access_list_checked_again_at_order(self):
        "Two orders quoted for the last places of an entry: one goes through"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, _ = setup_promotions(company)
            self.create_list(company, 'password', [('Secret', 2)], [adult])
            quote1 = quote_lines([(adult, s1, 2)], passwords=('secret',))
            quote2 = quote_lines([(adult, s1, 1)], passwords=('SECRET',))
            buy(quote1)
            hold = Hold.reserve_quote(quote2)

            self.assertRefused('restricted', Order.create_from_quote,
                quote2, [hold])
            self.assertEqual(reload(hold).state, 'active')

    @with_transaction()
    def test_access_list_domain_and_passwords(self):
        "A domain list takes its e-mails; a password list its passwords"
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, child = setup_promotions(company)
            self.create_list(company, 'domain', [('@univ.fr', None)],
                [adult])
            self.create_list(company, 'password', [('Press2026', 4)],
                [child])

            quote_lines([(adult, s1, 1)], email='student@UNIV.fr')
            for email in ['student@other.fr', 'univ.fr', 'x@sub.univ.fr']:
                with self.subTest(email=email):
                    self.assertRefused('restricted', quote_lines,
                        [(adult, s1, 1)], email=email)
            quote_lines([(child, s1, 4)], passwords=('nope', 'press2026'))
            self.assertRefused('restricted', quote_lines,
                [(child, s1, 1)], passwords=('press',))
            self.assertRefused('restricted', quote_lines,
                [(child, s1, 5)], passwords=('Press2026',))

    # Credits and gift vouchers

    def issue(self, amount, **kwargs):
        Credit = Pool().get('ticket.credit')
        credit, = Credit.issue(D(amount), **kwargs)
        return credit

    @with_transaction()
    def test_credit_pays_part_of_the_total(self):
        "A credit pays the total up to its balance, without changing VAT"
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, _ = setup_promotions(company)
            credit = self.issue('25')
            self.assertEqual(len(credit.code), 16)
            self.assertEqual((credit.state, credit.balance),
                ('active', D('25.00')))

            quote = quote_lines([(adult, s1, 2)],
                credit_codes=(credit.code.lower(),))

            self.assertEqual(quote.credits, [(credit, D('25.00'))])
            self.assertEqual((quote.total, quote.to_pay),
                (D('40.00'), D('15.00')))
            self.assertEqual(quote.tax, D('3.64'))

            quote = quote_lines([(adult, s1, 1)], credit_codes=(
                    credit.code[:4] + '-' + credit.code[4:],))
            self.assertEqual(quote.credits, [(credit, D('20.00'))])
            self.assertEqual(quote.to_pay, D('0.00'))

    @with_transaction()
    def test_credit_refusals(self):
        "Unknown, draft, cancelled, not yet valid, expired and spent credits"
        pool = Pool()
        Credit = pool.get('ticket.credit')
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, _ = setup_promotions(company)
            draft = Credit(amount=D('10'))
            draft.save()
            cancelled = self.issue('10')
            Credit.cancel([cancelled])
            later = self.issue('10',
                valid_from=now() + dt.timedelta(days=1))
            past = self.issue('10', valid_until=now() - dt.timedelta(days=1))
            spent = self.issue('10')
            Credit.move(spent.id, D('-10'))

            for code in ['UNKNOWN', draft.code, cancelled.code, later.code,
                    past.code, spent.code]:
                with self.subTest(code=code):
                    self.assertRefused('credit_invalid', quote_lines,
                        [(adult, s1, 1)], credit_codes=(code,))
            self.assertFalse(Credit.move(spent.id, D('-1')))
            self.assertEqual(reload(spent).balance, D('0.00'))

    @with_transaction()
    def test_credit_debited_by_order_and_given_back(self):
        "An order debits its credits; cancelling it credits them back"
        pool = Pool()
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, _ = setup_promotions(company)
            credit = self.issue('50')

            order = buy(quote_lines([(adult, s1, 1)],
                    credit_codes=(credit.code,)))
            credit = reload(credit)
            self.assertEqual(credit.balance, D('30.00'))
            self.assertEqual([(l.order, l.amount) for l in credit.lines],
                [(order, D('-20.00'))])
            self.assertEqual((order.credit_amount, order.amount_to_pay),
                (D('20.00'), D('0.00')))
            # the figures of one query are the records' sums
            self.assertEqual(order.credit_amount,
                -sum(l.amount for l in order.credit_lines))
            self.assertEqual(order.total,
                sum(l.amount for l in order.lines))

            Order.cancel([order])
            Order.cancel([reload(order)])
            credit = reload(credit)
            self.assertEqual(credit.balance, D('50.00'))
            self.assertEqual(
                credit.amount + sum(l.amount for l in credit.lines),
                credit.balance)
            self.assertEqual(reload(order).credit_amount, D('0'))

    @with_transaction()
    def test_credit_race_refuses_and_changes_nothing(self):
        "An order whose credit was spent meanwhile is refused, code use too"
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, _ = setup_promotions(company)
            _, (code,) = create_campaign(company, [('ONCE', 1)],
                computation='fixed', amount='5')
            credit = self.issue('20')
            quote1 = quote_lines([(adult, s1, 1)],
                credit_codes=(credit.code,))
            quote2 = quote_lines([(adult, s1, 1)], promo_code='ONCE',
                credit_codes=(credit.code,))
            self.assertEqual(quote2.credits, [(credit, D('15.00'))])
            buy(quote1)
            hold = Hold.reserve_quote(quote2)
            orders = Order.search([], count=True)

            self.assertRefused('credit_invalid', Order.create_from_quote,
                quote2, [hold])

            self.assertEqual(reload(credit).balance, D('0.00'))
            self.assertEqual(len(reload(credit).lines), 1)
            self.assertEqual(reload(code).uses, 0)
            self.assertEqual(Order.search([], count=True), orders)

    @with_transaction()
    def test_credit_issue_in_bulk(self):
        "Vouchers issued in bulk are active with distinct codes"
        pool = Pool()
        Credit = pool.get('ticket.credit')
        company = create_company()
        with set_company(company):
            until = (now() + dt.timedelta(days=365)).replace(microsecond=0)
            credits = Credit.issue(D('30'), count=20, valid_until=until)
            self.assertEqual(len({c.code for c in credits}), 20)
            self.assertEqual({(c.state, c.balance, c.valid_until, c.kind)
                    for c in credits},
                {('active', D('30.00'), until, 'voucher')})
            with self.assertRaises(ValidationError):
                Credit.issue(D('30'), count=0)

    @with_transaction()
    def test_credit_refund_of_order(self):
        "Refund as credit: the order is cancelled, the buyer gets its total"
        pool = Pool()
        Order = pool.get('ticket.order')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, _ = setup_promotions(company)
            buyer = Party(name="Ann")
            buyer.save()
            voucher = self.issue('15')
            order = buy(quote_lines([(adult, s1, 2)],
                    credit_codes=(voucher.code,)), party=buyer)
            unpaid = buy(quote_lines([(adult, s1, 1)]))
            Order.pay([order])
            Order.cancel([unpaid])

            credit, = Order.refund_as_credit([order])

            order = reload(order)
            self.assertEqual(order.state, 'cancelled')
            self.assertEqual(order.refund_credit, credit)
            self.assertEqual((credit.party, credit.kind, credit.amount,
                    credit.balance, credit.state, credit.origin_order),
                (buyer, 'credit', D('25.00'), D('25.00'), 'active', order))
            self.assertEqual(reload(voucher).balance, D('15.00'))
            for orders in [[order], [unpaid]]:
                with self.subTest(order=orders[0].state):
                    with self.assertRaises(UserError):
                        Order.refund_as_credit(orders)
            self.assertEqual(
                len(pool.get('ticket.credit').search([])), 2)

    @with_transaction()
    def test_credit_combined_with_promo_code(self):
        "A credit pays what is left after a promo code"
        company = create_company()
        with set_company(company):
            event, (s1, _), adult, _ = setup_promotions(company)
            create_campaign(company, [('TEN', 5)], computation='fixed',
                amount='10', per='order')
            first = self.issue('5')
            second = self.issue('50')

            quote = quote_lines([(adult, s1, 2)], promo_code='TEN',
                credit_codes=(first.code, second.code))

            self.assertEqual(quote.total, D('30.00'))
            self.assertEqual(quote.credits,
                [(first, D('5.00')), (second, D('25.00'))])
            self.assertEqual(quote.to_pay, D('0.00'))
