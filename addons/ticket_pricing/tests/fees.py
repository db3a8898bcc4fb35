"Tests of the booking fees and their cap per order and channel"
from decimal import Decimal

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from guichet.ticket_event.tests.helpers import create_event

from .helpers import (
    create_accounts, create_product, create_tariff, create_tax, quote_lines)

D = Decimal


def setup_fees(company):
    """An event at 5.5 % VAT with tariffs Adult (20.00) and Child (10.00),
    a fee product at 20 % VAT; return event, session, adult, child, fee
    product"""
    accounts = create_accounts(company)
    vat55 = create_tax(company, '0.055', accounts)
    vat20 = create_tax(company, '0.20', accounts)
    admission = create_product(company, "Admission", [vat55], accounts)
    fees = create_product(company, "Fees", [vat20], accounts)
    event, (session,) = create_event(company, (100,))
    adult = create_tariff(event, "Adult", '20.00', admission)
    child = create_tariff(event, "Child", '10.00', admission)
    return event, session, adult, child, fees


def create_fee(company, name, product, **values):
    Fee = Pool().get('ticket.fee')
    for key in ['amount', 'rate']:
        if key in values:
            values[key] = D(values[key])
    fee = Fee(company=company, name=name, product=product, **values)
    fee.save()
    return fee


def create_cap(company, channel, amount, event=None):
    FeeCap = Pool().get('ticket.fee.cap')
    cap = FeeCap(company=company, channel=channel, amount=D(amount),
        event=event)
    cap.save()
    return cap


def fee_lines(quote):
    return [(l.description, l.unit_price, l.untaxed, l.tax, l.notes)
        for l in quote.fee_lines]


class FeeTestMixin:

    @with_transaction()
    def test_fees_per_ticket_and_per_order(self):
        "Fees per ticket unit and per order, on their channels, with VAT"
        company = create_company()
        with set_company(company):
            event, session, adult, _, fees = setup_fees(company)
            create_fee(company, "Booking fee", fees, level='ticket',
                amount='1.50', channels=['web'])
            create_fee(company, "Order fee", fees, level='order',
                amount='2.00', channels=['web', 'api'])

            quote = quote_lines([(adult, session, 3)])

            # 4.50 / 1.2 = 3.75; 2.00 / 1.2 = 1.667 -> 1.67 + 0.33
            self.assertEqual(fee_lines(quote), [
                    ("Booking fee", D('4.50'), D('3.75'), D('0.75'), []),
                    ("Order fee", D('2.00'), D('1.67'), D('0.33'), []),
                    ])
            self.assertEqual([l.kind for l in quote.lines],
                ['ticket', 'fee', 'fee'])
            self.assertEqual(quote.hold_items()[0]['quantity'], 3)
            self.assertEqual(len(quote.hold_items()), 1)
            # 60.00 / 1.055 = 56.872 -> 56.87 + 3.13
            self.assertEqual(
                [(t.tax.name, t.base, t.amount) for t in quote.tax_lines],
                [("VAT 5.5%", D('56.87'), D('3.13')),
                    ("VAT 20%", D('5.42'), D('1.08'))])
            self.assertEqual((quote.untaxed, quote.tax, quote.total),
                (D('62.29'), D('4.21'), D('66.50')))

            quote = quote_lines([(adult, session, 3)], channel='api')
            self.assertEqual(
                [l[:2] for l in fee_lines(quote)],
                [("Order fee", D('2.00'))])
            quote = quote_lines([(adult, session, 3)], channel='box_office')
            self.assertEqual(fee_lines(quote), [])
            self.assertEqual(quote.total, D('60.00'))

    @with_transaction()
    def test_fees_capped_per_channel(self):
        "The fees of an order are scaled down to the cap of its channel"
        company = create_company()
        with set_company(company):
            event, session, adult, _, fees = setup_fees(company)
            create_fee(company, "Booking fee", fees, amount='1.50')
            create_fee(company, "Order fee", fees, level='order',
                amount='2.00')
            create_cap(company, 'web', '5.00')
            create_cap(company, 'api', '0')

            quote = quote_lines([(adult, session, 3)])
            # 4.50 * 5.00 / 6.50 = 3.4615 -> 3.46, the rest 1.54
            self.assertEqual([l[:2] + l[4:] for l in fee_lines(quote)], [
                    ("Booking fee", D('3.46'), ['capped']),
                    ("Order fee", D('1.54'), ['capped']),
                    ])
            self.assertEqual(quote.total, D('65.00'))

            # under the cap nothing changes
            quote = quote_lines([(adult, session, 1)])
            self.assertEqual([l[:2] + l[4:] for l in fee_lines(quote)], [
                    ("Booking fee", D('1.50'), []),
                    ("Order fee", D('2.00'), []),
                    ])

            quote = quote_lines([(adult, session, 3)], channel='api')
            self.assertEqual(fee_lines(quote), [])
            self.assertEqual(quote.total, D('60.00'))
            quote = quote_lines([(adult, session, 3)], channel='box_office')
            self.assertEqual(
                sum(l.unit_price for l in quote.fee_lines), D('6.50'))

            # an event's cap wins over the company's
            create_cap(company, 'web', '3.00', event=event)
            quote = quote_lines([(adult, session, 3)])
            self.assertEqual([l[:2] for l in fee_lines(quote)], [
                    ("Booking fee", D('2.07')),
                    ("Order fee", D('0.93')),
                    ])

    @with_transaction()
    def test_fees_percentage_tariff_delivery_event(self):
        "Percentage fees, fees per tariff, per delivery mode and per event"
        pool = Pool()
        Fee = pool.get('ticket.fee')
        company = create_company()
        with set_company(company):
            event, session, adult, child, fees = setup_fees(company)
            other_event, _ = create_event(company, (10,))
            create_fee(company, "Service", fees, level='order',
                computation='percentage', rate='0.05')
            create_fee(company, "Child fee", fees, amount='0.40',
                tariffs=[child])
            create_fee(company, "Postage", fees, level='order',
                amount='3.00', deliveries=['post'])
            create_fee(company, "Other event", fees, level='order',
                amount='9.00', event=other_event)
            stopped = create_fee(company, "Stopped", fees, level='order',
                amount='9.00')
            Fee.write([stopped], {'active': False})

            quote = quote_lines([(adult, session, 3), (child, session, 2)])
            # 5 % of 80.00; 2 children
            self.assertEqual([l[:2] for l in fee_lines(quote)], [
                    ("Service", D('4.00')),
                    ("Child fee", D('0.80')),
                    ])

            quote = quote_lines([(adult, session, 1)], delivery='post')
            self.assertEqual([l[:2] for l in fee_lines(quote)], [
                    ("Service", D('1.00')),
                    ("Postage", D('3.00')),
                    ])

    @with_transaction()
    def test_fee_settings_follow_changes(self):
        "The fees and caps kept for the engine follow every change"
        pool = Pool()
        Fee = pool.get('ticket.fee')
        FeeTariff = pool.get('ticket.fee-ticket.tariff')
        FeeCap = pool.get('ticket.fee.cap')
        Tariff = pool.get('ticket.tariff')
        company = create_company()
        with set_company(company):
            event, session, adult, child, fees = setup_fees(company)
            fee = create_fee(company, "Booking fee", fees, amount='1.50')

            def fees_of(lines):
                return [l[:2] for l in fee_lines(quote_lines(lines))]
            self.assertEqual(fees_of([(adult, session, 2)]),
                [("Booking fee", D('3.00'))])

            Fee.write([fee], {'amount': D('2.00'), 'name': "Service"})
            self.assertEqual(fees_of([(adult, session, 2)]),
                [("Service", D('4.00'))])

            FeeTariff.create([{'fee': fee.id, 'tariff': child.id}])
            self.assertEqual(fees_of([(adult, session, 2)]), [])
            self.assertEqual(fees_of([(child, session, 1)]),
                [("Service", D('2.00'))])

            cap, = FeeCap.create([{'company': company.id, 'channel': 'web',
                            'amount': D('1.00')}])
            self.assertEqual(fees_of([(child, session, 1)]),
                [("Service", D('1.00'))])
            FeeCap.write([cap], {'channel': 'api'})
            self.assertEqual(fees_of([(child, session, 1)]),
                [("Service", D('2.00'))])

            # the tariff deleted, the fee is for every tariff again
            Tariff.delete([child])
            self.assertEqual(fees_of([(adult, session, 1)]),
                [("Service", D('2.00'))])

            Fee.write([fee], {'active': False})
            self.assertEqual(fees_of([(adult, session, 1)]), [])
            FeeCap.delete([cap])
            Fee.write([fee], {'active': True})
            Fee.delete([fee])
            self.assertEqual(fees_of([(adult, session, 1)]), [])
