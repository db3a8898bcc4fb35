"""Server-side helpers for the tests of ticket_pricing.

Call them inside ``with set_company(company):`` (product taxes are read
per company)::

    accounts = create_accounts(company)
    vat = create_tax(company, '0.055', accounts)
    product = create_product(company, "Admission", [vat], accounts)
    event, (session,) = create_event(company, (100,))
    adult = create_tariff(event, "Adult", '20.00', product)
    quote = quote_lines([(adult, session, 2)])
"""
from decimal import Decimal

from trytond.modules.account.tests import create_chart
from trytond.pool import Pool

from ..engine import LineRequest, QuoteRequest


def create_accounts(company):
    """Create the chart of accounts of company; return its revenue and tax
    accounts by kind"""
    Account = Pool().get('account.account')
    create_chart(company)
    revenue, = Account.search([
            ('type.revenue', '=', True),
            ('closed', '!=', True),
            ('company', '=', company.id),
            ], limit=1)
    tax, = Account.search([
            ('company', '=', company.id),
            ('code', '=', '6.3.6'),
            ], limit=1)
    return {'revenue': revenue, 'tax': tax}


def create_tax(company, rate, accounts, name=None):
    "Create a percentage tax (VAT) of rate, a Decimal or a string"
    Tax = Pool().get('account.tax')
    rate = Decimal(rate)
    name = name or f"VAT {float(rate * 100):g}%"
    tax = Tax(name=name, description=name, type='percentage', rate=rate,
        company=company, invoice_account=accounts['tax'],
        credit_note_account=accounts['tax'])
    tax.save()
    return tax


def create_product(company, name, taxes, accounts):
    """Create a service product whose account category carries the revenue
    account and the customer taxes"""
    pool = Pool()
    Category = pool.get('product.category')
    Product = pool.get('product.product')
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    unit, = Uom.search([('name', '=', "Unit")])
    category = Category(name=name, accounting=True,
        account_revenue=accounts['revenue'],
        customer_taxes=list(taxes))
    category.save()
    template = Template(name=name, type='service', default_uom=unit,
        list_price=Decimal(0), account_category=category, products=[])
    template.save()
    product = Product(template=template)
    product.save()
    return product


def create_tariff(event, name, price, product, **values):
    "Create a tariff of event at price (a Decimal or a string)"
    Tariff = Pool().get('ticket.tariff')
    tariff = Tariff(event=event, name=name, price=Decimal(price),
        product=product, **values)
    tariff.save()
    return tariff


def request(lines, **kwargs):
    """A QuoteRequest of lines given as (tariff, session, quantity) or
    (tariff, session, quantity, amount)"""
    return QuoteRequest(lines=[
            LineRequest(tariff=l[0], session=l[1], quantity=l[2],
                amount=l[3] if len(l) > 3 else None)
            for l in lines], **kwargs)


def quote_lines(lines, **kwargs):
    "Quote lines given as for request()"
    PriceEngine = Pool().get('ticket.price_engine')
    return PriceEngine.quote(request(lines, **kwargs))
