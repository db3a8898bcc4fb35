"""Server-side set-up of a box office, for the tests, the bench and the demo.

Call inside a transaction with the company in the context::

    office = setup_box_office(company)
    office['point'], office['methods']['cash'], ...
"""
import datetime as dt
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

METHODS = [
    # key, name, cash, ticket method, account suffix
    ('cash', "Cash", True, 'cash', None),
    ('card', "Card", False, 'card', "Card receipts"),
    ('cheque', "Cheque", False, 'cheque', "Cheques to deposit"),
    ('credit', "Voucher / Credit", False, 'voucher', "Vouchers and credits"),
    ]


def ensure_accounting(company):
    """A chart of accounts and this year's fiscal year with its periods,
    created when the company has none; return the accounts by kind"""
    pool = Pool()
    Account = pool.get('account.account')
    FiscalYear = pool.get('account.fiscalyear')
    if not Account.search([('company', '=', company.id)], limit=1):
        from trytond.modules.account.tests import create_chart
        create_chart(company)
    today = dt.date.today()
    if not FiscalYear.search([
                ('company', '=', company.id),
                ('start_date', '<=', today),
                ('end_date', '>=', today),
                ], limit=1):
        Sequence = pool.get('ir.sequence.strict')
        ModelData = pool.get('ir.model.data')
        sequence, = Sequence.create([{
                    'name': str(today.year),
                    'company': company.id,
                    'sequence_type': ModelData.get_id(
                        'account', 'sequence_type_account_move'),
                    }])
        fiscalyear, = FiscalYear.create([{
                    'name': str(today.year),
                    'company': company.id,
                    'start_date': today.replace(month=1, day=1),
                    'end_date': today.replace(month=12, day=31),
                    'move_sequence': sequence.id,
                    }])
        FiscalYear.create_period([fiscalyear])
    revenue, = Account.search([
            ('type.revenue', '=', True),
            ('closed', '!=', True),
            ('company', '=', company.id),
            ], limit=1)
    cash = Account.search([
            ('company', '=', company.id),
            ['OR', ('code', '=', '1.1.1'), ('code', 'like', '53%')],
            ('type', '!=', None),
            ('closed', '!=', True),
            ], order=[('code', 'ASC')], limit=1)
    if not cash:
        cash = Account.search([
                ('company', '=', company.id),
                ('type.statement', '=', 'balance'),
                ('type.receivable', '=', False),
                ('type.payable', '=', False),
                ('closed', '!=', True),
                ], limit=1)
    return {'revenue': revenue, 'cash': cash[0]}


def setup_box_office(company, name="Box office"):
    """A box office sale point of company with its payment methods (cash,
    card, cheque and voucher/credit) and cash transfer types (float from
    the safe, cash differences); return them"""
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    Location = pool.get('stock.location')
    Method = pool.get('sale.point.payment.method')
    Point = pool.get('sale.point')
    Sequence = pool.get('ir.sequence.strict')
    TransferType = pool.get('sale.point.cash.transfer.type')
    ModelData = pool.get('ir.model.data')
    with Transaction().set_context(company=company.id):
        accounts = ensure_accounting(company)
        cash_account = accounts['cash']

        def account(label):
            copy, = Account.copy([cash_account], default={
                    'name': label, 'code': None})
            return copy
        methods = {}
        for key, label, is_cash, ticket_method, account_name in METHODS:
            existing = Method.search([
                    ('company', '=', company.id),
                    ('name', '=', label),
                    ], limit=1)
            if existing:
                methods[key] = existing[0]
                continue
            methods[key], = Method.create([{
                        'company': company.id,
                        'name': label,
                        'cash': is_cash,
                        'ticket_method': ticket_method,
                        'account': (cash_account if is_cash
                            else account(account_name)).id,
                        }])
        journal_cash, = Journal.search([('type', '=', 'cash')], limit=1)
        journal_revenue, = Journal.search(
            [('type', '=', 'revenue')], limit=1)
        float_type, difference_type = TransferType.create([{
                    'company': company.id,
                    'name': "Float from the safe",
                    'journal': journal_cash.id,
                    'account': account("Safe").id,
                    }, {
                    'company': company.id,
                    'name': "Cash difference",
                    'journal': journal_cash.id,
                    'account': account("Cash differences").id,
                    }])
        sequence, = Sequence.create([{
                    'name': name,
                    'company': company.id,
                    'sequence_type': ModelData.get_id(
                        'sale_point', 'sequence_type_sale'),
                    }])
        storage, = Location.search([('code', '=', 'STO')], limit=1)
        customer, = Location.search([('code', '=', 'CUS')], limit=1)
        point, = Point.create([{
                    'name': name,
                    'company': company.id,
                    'journal': journal_revenue.id,
                    'sequence': sequence.id,
                    'storage_location': storage.id,
                    'customer_location': customer.id,
                    'ticket_box_office': True,
                    'ticket_credit_method': methods['credit'].id,
                    'ticket_float_type': float_type.id,
                    'ticket_difference_type': difference_type.id,
                    }])
        return {
            'point': point,
            'methods': methods,
            'float_type': float_type,
            'difference_type': difference_type,
            'accounts': accounts,
            }


def make_salable(products):
    "The products of tariffs are sold by the point of sale"
    Template = Pool().get('product.template')
    for template in {p.template for p in products}:
        Template.write([template], {
                'salable': True, 'sale_uom': template.default_uom.id})


def create_operator(company, login='guichet', password=None, name=None):
    """A user with the box office role only (ticketing box office and
    point of sale groups)"""
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    groups = [ModelData.get_id('ticket_event', 'group_ticket_box_office'),
        ModelData.get_id('sale_point', 'group_sale_point')]
    values = {
        'name': name or login.title(),
        'login': login,
        'companies': [('add', [company.id])],
        'company': company.id,
        'groups': [('add', groups)],
        }
    if password:
        values['password'] = password
    user, = User.create([values])
    return user


def money(value):
    return Decimal(value).quantize(Decimal('0.01'))
