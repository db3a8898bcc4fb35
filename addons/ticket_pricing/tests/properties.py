"""Property-based tests of the price engine (hypothesis).

Random orders of up to six lines over random tariffs (price, VAT rates,
tax-included or tax-excluded event), random discounts and capped fees must
always give: totals equal to the sums of the lines, a tax per rate rounded
to the cent that sums to the total tax, no negative line, the same quote for
the same input."""
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from guichet.ticket_event.tests.helpers import create_event

from .fees import create_cap, create_fee
from .helpers import (
    create_accounts, create_product, create_tariff, create_tax, request)

D = Decimal
CENT = D('0.01')
RATES = ['0.021', '0.055', '0.10', '0.20']
# Products by their VAT rates: none, each one, two together.
PRODUCT_RATES = [(), ('0.021',), ('0.055',), ('0.10',), ('0.20',),
    ('0.055', '0.10')]
FEE_CAP = D('7.77')

LINES = st.lists(
    st.tuples(
        st.integers(0, len(PRODUCT_RATES) - 1),
        st.decimals(min_value=0, max_value=500, places=2),
        st.integers(1, 20),
        st.booleans()),
    min_size=1, max_size=6)
DISCOUNTS = st.lists(
    st.decimals(min_value=0, max_value=2000, places=2), max_size=6)
CHANNELS = st.sampled_from(['web', 'box_office'])


def line_values(quote):
    return [(l.kind, l.description, l.quantity, l.unit_price, l.discount,
            l.untaxed, l.tax, l.total,
            [(t.tax.id, t.base, t.amount) for t in l.taxes])
        for l in quote.lines]


def quote_values(quote):
    return (line_values(quote),
        [(t.tax.id, t.base, t.amount) for t in quote.tax_lines],
        quote.untaxed, quote.tax, quote.total)


def is_cent(amount):
    return amount == amount.quantize(CENT)


class PropertyTestMixin:

    @with_transaction()
    def test_engine_properties(self):
        "The engine's invariants hold for random orders"
        pool = Pool()
        Event = pool.get('ticket.event')
        PriceEngine = pool.get('ticket.price_engine')
        company = create_company()
        with set_company(company):
            accounts = create_accounts(company)
            taxes = {r: create_tax(company, r, accounts) for r in RATES}
            products = [
                create_product(company, f"Product {i}",
                    [taxes[r] for r in rates], accounts)
                for i, rates in enumerate(PRODUCT_RATES)]
            fee_product = create_product(
                company, "Fees", [taxes['0.20']], accounts)
            included, (session_in,) = create_event(company, (1000,))
            excluded, (session_ex,) = create_event(company, (1000,))
            Event.write([excluded], {'price_display': 'tax_excluded'})
            create_fee(company, "Per ticket", fee_product, amount='0.99',
                channels=['web'])
            create_fee(company, "Service", fee_product, level='order',
                computation='percentage', rate='0.035', channels=['web'])
            create_cap(company, 'web', FEE_CAP)
            tariffs = {}

            def tariff(index, price, tax_excluded):
                key = (index, price, tax_excluded)
                if key not in tariffs:
                    tariffs[key] = create_tariff(
                        excluded if tax_excluded else included,
                        f"T{len(tariffs)}", price, products[index])
                return tariffs[key]

            def run(lines, discounts, channel):
                "Quote with the discounts given to the lines before fees"
                with Transaction().set_context(company=company.id):
                    quote = PriceEngine.new_quote(request(
                            lines, channel=channel))
                    for step in PriceEngine.steps():
                        if step == PriceEngine.add_fees:
                            for line, discount in zip(
                                    quote.lines, discounts):
                                line.add_discount(discount)
                        step(quote)
                return quote

            @settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
            @given(LINES, DISCOUNTS, CHANNELS)
            def check(specs, discounts, channel):
                lines = [(tariff(i, price, ex),
                        session_ex if ex else session_in, quantity)
                    for i, price, quantity, ex in specs]
                quote = run(lines, discounts, channel)

                # totals are the sums of the lines
                self.assertEqual(
                    quote.total, sum((l.total for l in quote.lines), D(0)))
                self.assertEqual(quote.untaxed,
                    sum((l.untaxed for l in quote.lines), D(0)))
                self.assertEqual(
                    quote.tax, sum((l.tax for l in quote.lines), D(0)))
                self.assertEqual(quote.total, quote.untaxed + quote.tax)

                # the tax per rate is in cents and sums to the total tax
                self.assertEqual(
                    sum((t.amount for t in quote.tax_lines), D(0)),
                    quote.tax)
                self.assertEqual(
                    len({t.tax for t in quote.tax_lines}),
                    len(quote.tax_lines))
                for tax_line in quote.tax_lines:
                    self.assertTrue(is_cent(tax_line.amount))
                    self.assertTrue(is_cent(tax_line.base))

                for line, (_, price, quantity, ex) in zip(
                        quote.lines, specs):
                    gross = price * quantity
                    # a discount never makes a line negative
                    self.assertGreaterEqual(line.discount, 0)
                    self.assertLessEqual(line.discount, gross)
                    net = (gross - line.discount).quantize(CENT)
                    self.assertGreaterEqual(line.untaxed, 0)
                    self.assertGreaterEqual(line.tax, 0)
                    # the price shown is kept to the cent
                    self.assertEqual(line.untaxed if ex else line.total, net)
                for line in quote.lines:
                    self.assertEqual(line.total, line.untaxed + line.tax)
                    self.assertEqual(
                        sum((t.amount for t in line.taxes), D(0)), line.tax)
                    for tax_amount in line.taxes:
                        self.assertTrue(is_cent(tax_amount.amount))
                        # each tax is the rate of its base, rounded; the
                        # largest may take the cent of a tax-included price
                        self.assertLessEqual(
                            abs(tax_amount.amount
                                - tax_amount.base * tax_amount.tax.rate),
                            D('0.015'))
                    if not line.taxes:
                        self.assertEqual(line.tax, 0)

                # fees: on the web only, never above the cap
                fees = sum((l.total for l in quote.fee_lines), D(0))
                if channel == 'web':
                    self.assertLessEqual(fees, FEE_CAP)
                    self.assertTrue(quote.fee_lines)
                else:
                    self.assertEqual(quote.fee_lines, [])

                # the same input gives the same quote
                self.assertEqual(quote_values(run(lines, discounts, channel)),
                    quote_values(quote))

            check()
