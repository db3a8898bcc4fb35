"""Server-side helpers for the tests of ticket_accounting.

``setup_theatre(company)`` builds the French chart, open fiscal years, the
ticketing accounts configuration, VAT at 5.5 % and 20 %, a play with two
sessions and its tariffs; ``sell`` books an order paid by a method.

The French chart is the slow part of that setup (hundreds of accounts from
account_fr's templates, three fiscal years of periods): the test case
(``SharedChartMixin``) makes once a company on the chart that
``theatre_company()`` gives the tests; each test rolls back what it adds,
so they still share nothing else."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.modules.account.tests import create_chart, get_fiscalyear
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import CONTEXT, DB_NAME
from trytond.transaction import Transaction, TransactionError

from guichet.ticket_event.tests.helpers import create_event
from guichet.ticket_pricing.tests.helpers import (
    create_product, create_tariff, quote_lines)

D = Decimal


SHARED_COMPANY = "Théâtre des Essais"


def theatre_company():
    """The company on the French chart the test case made, or a new company
    if it made none"""
    Company = Pool().get('company.company')
    companies = Company.search([('party.name', '=', SHARED_COMPANY)])
    return companies[0] if companies else create_company()


class SharedChartMixin:
    "Make once the company on the French chart of theatre_company()"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        extras = {}
        while True:
            with Transaction().start(DB_NAME, 1, context=CONTEXT,
                    **extras) as transaction:
                try:
                    company = create_company(name=SHARED_COMPANY)
                    with set_company(company):
                        create_french_chart(company)
                    transaction.commit()
                except TransactionError as error:
                    transaction.rollback()
                    error.fix(extras)
                    continue
                break


def create_french_chart(company):
    """The French chart of company and open fiscal years around today,
    unless company has them already"""
    pool = Pool()
    Account = pool.get('account.account')
    FiscalYear = pool.get('account.fiscalyear')
    if Account.search([('company', '=', company.id)], limit=1):
        return {a.code: a for a in Account.search([
                    ('company', '=', company.id),
                    ('code', 'in', ['706', '44571', '6234']),
                    ])}
    create_chart(company, chart='account_fr.root')
    today = dt.date.today()
    for year in [today.year - 1, today.year, today.year + 1]:
        fiscalyear = get_fiscalyear(company, today=today.replace(
                year=year, month=1, day=1))
        fiscalyear.name = str(year)
        fiscalyear.save()
        FiscalYear.create_period([fiscalyear])
    return {a.code: a for a in Account.search([
                ('company', '=', company.id),
                ('code', 'in', ['706', '44571', '6234']),
                ])}


def create_vat(company, rate, account):
    Tax = Pool().get('account.tax')
    rate = D(rate)
    name = f"TVA {float(rate * 100):g} %"
    tax = Tax(name=name, description=name, type='percentage', rate=rate,
        company=company, invoice_account=account,
        credit_note_account=account)
    tax.save()
    return tax


def setup_theatre(company, posting='payment', capacities=(100, 100),
        start=None):
    """A theatre on the French chart: return a namespace of its accounts,
    taxes, products, event, sessions and tariffs"""
    Configuration = Pool().get('ticket.accounting.configuration')
    accounts = create_french_chart(company)
    configuration = Configuration.set_french_defaults(company)
    configuration.posting = posting
    configuration.save()
    revenue = {'revenue': accounts['706'], 'tax': accounts['44571']}
    vat55 = create_vat(company, '0.055', accounts['44571'])
    vat20 = create_vat(company, '0.20', accounts['44571'])
    play = create_product(company, "Theatre", [vat55], revenue)
    workshop = create_product(company, "Workshop", [vat20], revenue)
    fee_product = create_product(company, "Booking fee", [vat20], revenue)
    event, sessions = create_event(company, capacities, start=start)
    adult = create_tariff(event, "Adult", '22.00', play)
    reduced = create_tariff(event, "Reduced", '15.00', play)
    backstage = create_tariff(event, "Backstage tour", '12.00', workshop)
    return Theatre(configuration=configuration, accounts=accounts,
        vat55=vat55, vat20=vat20, play=play, workshop=workshop,
        fee_product=fee_product, event=event, sessions=sessions,
        adult=adult, reduced=reduced, backstage=backstage)


class Theatre:
    def __init__(self, **values):
        self.__dict__.update(values)


def order(lines, channel='box_office', credit_codes=None, **kwargs):
    "A reserved order of lines (tariff, session, quantity)"
    pool = Pool()
    Hold = pool.get('ticket.hold')
    Order = pool.get('ticket.order')
    quote = quote_lines(lines, channel=channel,
        credit_codes=credit_codes or [])
    hold = Hold.reserve_quote(quote)
    return Order.create_from_quote(quote, [hold], **kwargs)


_references = iter(range(1, 10 ** 9))


def sell(lines, method='card', channel='box_office', credit_codes=None,
        provider='box_office', **kwargs):
    "An order of lines paid by method; return the order and its payment"
    pool = Pool()
    Order = pool.get('ticket.order')
    Payment = pool.get('ticket.order.payment')
    new = order(lines, channel=channel, credit_codes=credit_codes, **kwargs)
    payment = None
    if new.amount_to_pay:
        payment, _ = Payment.record(new, provider,
            'P%06d' % next(_references), new.amount_to_pay, method=method)
    else:
        Order.pay([new])
    return Order(new.id), payment


def setup_partners(company, rates):
    """Partners of company keeping rates of their sales, their payouts'
    commission booked on the commissions on sales (6222 in the French
    chart); return the partners and that account"""
    pool = Pool()
    Account = pool.get('account.account')
    Configuration = pool.get('ticket.accounting.configuration')
    Partner = pool.get('ticket.partner')
    Party = pool.get('party.party')
    Rule = pool.get('ticket.accounting.configuration.provider')
    commission, = Account.search([
            ('company', '=', company.id), ('code', 'like', '622%'),
            ('type', '!=', None), ('childs', '=', None),
            ('closed', '!=', True), ('party_required', '!=', True),
            ], order=[('code', 'DESC')], limit=1)
    Rule.create([{
                'configuration': Configuration.for_company(company).id,
                'provider': 'partner', 'booking': 'book',
                'fees': commission.id}])
    partners = Partner.create([{
                'name': name, 'company': company.id,
                'party': Party.create([{'name': name}])[0].id,
                'commission': rate,
                } for name, rate in rates])
    return partners, commission


def partner_sale(partner, lines, reference):
    """An order of lines sold and paid by partner through its API (payment
    provider Partner, method Other); return its payment"""
    Order = Pool().get('ticket.order')
    order, payment = sell(lines, method='other', provider='partner')
    Order.write([order], {'partner': partner.id,
            'partner_reference': reference})
    return payment


def balances(company):
    """The balance (debit - credit) of each account of company's moves,
    by code, without the zeros"""
    Line = Pool().get('account.move.line')
    result = defaultdict(lambda: D(0))
    for line in Line.search([('account.company', '=', company.id)]):
        result[line.account.code] += line.debit - line.credit
    return {c: b for c, b in sorted(result.items()) if b}


def moves_balance(company):
    "Whether every move of company balances"
    Move = Pool().get('account.move')
    return all(sum((l.debit - l.credit for l in m.lines), D(0)) == 0
        for m in Move.search([('company', '=', company.id)]))
