"""Demo data of the accounting module: the demo company books its
ticketing on the French chart (Comptabilité ▸ Configuration ▸ Ticketing
Accounts), with open fiscal years, and the money of the demo orders is
recorded as payments (card on the web, cash at the box office), each a
posted move: deferred revenue, VAT collected, clearing accounts. The
events bear the CNM show tax (3.5 %); a box-office terminal's payments
(provider "pos", when ticket_pos is installed) are posted by its cash
sessions, so they are marked "posted elsewhere". The producers' payouts
go through the payment journal "Virements SEPA", SEPA credit transfers
(pain.001) from the company's demo bank account. Sessions already past
have their revenue recognized and settled; each event has a draft
remittance statement."""
import datetime as dt
from decimal import Decimal


def create_accounting(database):
    "Configure the demo company's accounts and book the demo orders"
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        with Transaction().start(database, 1, **extras) as transaction:
            try:
                pool = Pool()
                Company = pool.get('company.company')
                company, = Company.search([])
                with transaction.set_context(company=company.id):
                    _create_accounting(pool, company)
                transaction.commit()
            except TransactionError as error:
                # again with the table locks the transaction asked for
                transaction.rollback()
                error.fix(extras)
                continue
            return


def _create_fiscalyears(pool, company, years):
    FiscalYear = pool.get('account.fiscalyear')
    Sequence = pool.get('ir.sequence.strict')
    ModelData = pool.get('ir.model.data')
    sequence_type = ModelData.get_id('account', 'sequence_type_account_move')
    for year in years:
        existing = FiscalYear.search([
                ('company', '=', company.id),
                ('start_date', '<=', dt.date(year, 12, 31)),
                ('end_date', '>=', dt.date(year, 1, 1)),
                ])
        if existing:
            for fiscalyear in existing:
                if not fiscalyear.invoice_sequences:
                    _set_invoice_sequences(pool, company, fiscalyear)
            continue
        sequence, = Sequence.create([{
                    'name': str(year),
                    'sequence_type': sequence_type,
                    'company': company.id,
                    }])
        fiscalyear, = FiscalYear.create([{
                    'name': str(year),
                    'company': company.id,
                    'start_date': dt.date(year, 1, 1),
                    'end_date': dt.date(year, 12, 31),
                    'move_sequence': sequence.id,
                    }])
        FiscalYear.create_period([fiscalyear])
        _set_invoice_sequences(pool, company, fiscalyear)


# The countries of the demo's business buyers (the full list comes with
# trytond_import_countries, which needs pycountry)
COUNTRIES = [('FR', "France"), ('BE', "Belgium"), ('CH', "Switzerland"),
    ('DE', "Germany"), ('ES', "Spain"), ('IT', "Italy"), ('LU', "Luxembourg")]


def _create_countries(pool):
    "The countries invoices of business buyers need, when none is loaded"
    Country = pool.get('country.country')
    known = {c.code for c in Country.search([])}
    Country.create([{'code': code, 'name': name}
            for code, name in COUNTRIES if code not in known])


def _set_invoice_sequences(pool, company, fiscalyear):
    "Number the invoices of business buyers (account_invoice) in fiscalyear"
    Sequence = pool.get('ir.sequence.strict')
    ModelData = pool.get('ir.model.data')
    InvoiceSequence = pool.get('account.fiscalyear.invoice_sequence')
    sequence, = Sequence.create([{
                'name': f'{fiscalyear.name} invoices',
                'prefix': f'F{fiscalyear.name}-',
                'padding': 5,
                'sequence_type': ModelData.get_id(
                    'account_invoice', 'sequence_type_account_invoice'),
                'company': company.id,
                }])
    values = {f'{kind}_sequence': sequence.id for kind in [
            'out_invoice', 'in_invoice', 'out_credit_note',
            'in_credit_note']}
    if fiscalyear.invoice_sequences:
        InvoiceSequence.write(list(fiscalyear.invoice_sequences), values)
    else:
        InvoiceSequence.create([dict(values, fiscalyear=fiscalyear.id,
                    company=company.id)])


def _create_accounting(pool, company):
    Configuration = pool.get('ticket.accounting.configuration')
    Order = pool.get('ticket.order')
    Payment = pool.get('ticket.order.payment')
    Session = pool.get('ticket.session')
    Date = pool.get('ir.date')
    today = Date.today()
    _create_fiscalyears(pool, company,
        range(today.year - 1, today.year + 3))
    _create_countries(pool)
    configuration = Configuration.set_french_defaults(company)
    _configure(pool, company, configuration)
    methods = {'web': 'card', 'box_office': 'cash', 'phone': 'cheque'}
    for order in Order.search([
                ('state', 'in', ['paid', 'cancelled']),
                ('paid_at', '!=', None),
                ], order=[('id', 'ASC')]):
        due = order.total - getattr(order, 'credit_amount', 0)
        if due <= 0 or order.amount_paid:
            continue
        # The money of the demo orders, as the shop's provider or the box
        # office would have recorded it
        payment, _ = Payment.record(order,
            'manual' if order.channel == 'web' else 'box_office',
            f'DEMO-{order.number}', due,
            method=methods.get(order.channel, 'transfer'))
        if payment.state == 'refund_due':
            Payment.mark_refunded([payment])
    Session.recognize_revenue()
    _create_statements(pool, company, today)


def _configure(pool, company, configuration):
    "The CNM tax on every event; the terminal's money posted elsewhere"
    Account = pool.get('account.account')
    Event = pool.get('ticket.event')
    Levy = pool.get('ticket.accounting.levy')
    Payment = pool.get('ticket.order.payment')
    Provider = pool.get('ticket.accounting.configuration.provider')
    accounts = {a.code: a for a in Account.search([
                ('company', '=', company.id),
                ('code', 'in', ['6378', '447']),
                ])}
    cnm, = Levy.create([{
                'company': company.id,
                'name': "Taxe CNM",
                'rate': Decimal('0.035'),
                'expense_account': accounts['6378'].id,
                'liability_account': accounts['447'].id,
                }])
    Event.write(Event.search([('company', '=', company.id)]),
        {'levies': [('add', [cnm.id])]})
    PaymentJournal = pool.get('account.payment.journal')
    Bank = pool.get('bank')
    BankAccount = pool.get('bank.account')
    Party = pool.get('party.party')
    # the company's bank account the SEPA credit transfers leave from
    bank = Bank(party=Party(name="Banque de démonstration"),
        bic='BNPAFRPPXXX')
    bank.party.save()
    bank.save()
    account, = BankAccount.create([{
                'bank': bank.id,
                'owners': [('add', [company.party.id])],
                'currency': company.currency.id,
                'numbers': [('create', [{
                                'type': 'iban',
                                'number': 'FR76 3000 6000 0112 3456 7890 189',
                                }])],
                }])
    journal, = PaymentJournal.create([{
                'name': "Virements SEPA",
                'company': company.id,
                'currency': company.currency.id,
                'process_method': 'sepa',
                'sepa_bank_account_number': account.numbers[0].id,
                'sepa_payable_flavor': 'pain.001.001.03',
                'sepa_receivable_flavor': 'pain.008.001.02',
                'sepa_charge_bearer': 'SLEV',
                }])
    # the scheduler pays the producers on their events' payout schedule
    configuration.payout_journal = journal
    configuration.save()
    if 'pos' in dict(Payment.get_providers()):
        Provider.create([{
                    'configuration': configuration.id,
                    'provider': 'pos',
                    'booking': 'elsewhere',
                    }])


def _create_statements(pool, company, today):
    Event = pool.get('ticket.event')
    Statement = pool.get('ticket.accounting.statement')
    Statement.create([{
                'company': company.id,
                'event': event.id,
                'start_date': today.replace(month=1, day=1),
                'end_date': today,
                } for event in Event.search([
                    ('company', '=', company.id)])])
