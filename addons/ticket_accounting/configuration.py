"""The accounts a company books its ticketing on.

One configuration per company; a company without one books nothing (its
ticketing stays out of the ledger). ``set_french_defaults`` fills the
accounts from the French chart (account_fr) where it is installed."""

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from guichet.ticket_event.payment import METHODS

from .exceptions import AccountingError


def _account(string, help=None, required=False, states=None):
    return fields.Many2One(
        'account.account', string, required=required, help=help or '',
        states=states or {},
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '!=', None),
            ('closed', '!=', True),
            ('party_required', '!=', True),
            ])


# The clearing account of each payment method: where the money waits until
# the provider, the bank or the cash count confirms it
CLEARING_FIELDS = {method: 'clearing_%s' % method for method, _ in METHODS}

# Account codes of the French chart (account_fr), most specific first
FRENCH_DEFAULTS = {
    'clearing_card': ['517'],
    'clearing_transfer': ['5121'],
    'clearing_cheque': ['5112'],
    'clearing_cash': ['5311'],
    'clearing_voucher': ['471'],
    'clearing_other': ['472'],
    'deferred_revenue': ['487'],
    'credit_liability': ['4191'],
    'advance': ['4191'],
    'voucher_expense': ['6234'],
    'producer_account': ['4671'],
    'bank': ['5121'],
    'bank_charges': ['6278'],
    }
# Sub-accounts the French chart lacks, created under their parent:
# code: (parent, name, party required)
FRENCH_SUBACCOUNTS = {
    '4671': ('467', "Producteurs - Mandats de billetterie", True),
    }


# company id -> configuration id or None (for_company), kept per process
# and cleared in every process by any change of a configuration
_for_company = Cache(
    'ticket.accounting.configuration.for_company', context=False)


class Configuration(ModelSQL, ModelView):
    "The ticketing accounts of a company"
    __name__ = 'ticket.accounting.configuration'
    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='CASCADE')
    journal = fields.Many2One(
        'account.journal', "Journal", required=True,
        help="The journal of the moves of ticket sales.")
    posting = fields.Selection([
            ('payment', "Per Payment"),
            ('day', "Per Day and Channel"),
            ], "Posting", required=True,
        help="Per payment: a move for every payment and refund.\n"
        "Per day and channel: the entries of a day and a sale channel make "
        "one move, posted by the scheduler once the day is over.")
    clearing_card = _account("Card Clearing", required=True,
        help="Card payments until the provider pays them out.")
    clearing_transfer = _account("Transfer Clearing", required=True)
    clearing_cheque = _account("Cheque Clearing", required=True,
        help="Cheques received until they are cashed.")
    clearing_cash = _account("Cash", required=True)
    clearing_voucher = _account("Voucher Clearing", required=True,
        help="Third-party vouchers (holiday or culture vouchers) until "
        "their issuer pays them.")
    clearing_other = _account("Other Clearing", required=True)
    deferred_revenue = _account("Deferred Revenue", required=True,
        help="Ticket revenue of sessions that have not taken place yet.")
    credit_liability = _account("Credits and Vouchers", required=True,
        help="What the company owes the holders of credits and gift "
        "vouchers until they spend them.")
    advance = _account("Customer Advances", required=True,
        help="Money received that no order can take (to be refunded) and "
        "payments beyond what an order costs.")
    voucher_expense = _account("Free Vouchers", required=True,
        help="The expense of gift vouchers given without payment.")
    producer_account = fields.Many2One(
        'account.account', "Producers",
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '!=', None),
            ('closed', '!=', True),
            ],
        help="What the company owes the producers it sells for (mandates): "
        "their ticket receipts less commission and levies.")
    commission_product = fields.Many2One(
        'product.product', "Commission", ondelete='RESTRICT',
        domain=[('type', '=', 'service')],
        context={'company': Eval('company', -1)}, depends={'company'},
        help="The service of selling on behalf of a producer: its revenue "
        "account and VAT book the commission of mandates.")
    bank = _account("Bank", required=True,
        help="The bank account that payouts leave from and provider "
        "payouts arrive on.")
    payout_journal = fields.Many2One(
        'account.payment.journal', "Payout Journal",
        domain=[('company', '=', Eval('company', -1))],
        help="The payment journal of the payouts the scheduler makes on "
        "the events' payout schedules; without it the scheduler pays "
        "nobody.")
    bank_charges = _account("Bank Charges", required=True,
        help="The commissions payment providers keep on their payouts.")
    providers = fields.One2Many(
        'ticket.accounting.configuration.provider', 'configuration',
        "Payment Providers",
        help="How the payments of a provider are booked; a provider not "
        "listed is booked on the clearing account of the payment method.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('company_unique', Unique(t, t.company),
                'ticket_accounting.msg_configuration_company_unique'),
            ]
        cls._buttons.update(
            french_defaults={
                'icon': 'tryton-refresh',
                },
            )

    def get_rec_name(self, name):
        return self.company.rec_name

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @fields.depends('company', *FRENCH_DEFAULTS, 'journal')
    def on_change_company(self):
        "Propose the accounts of the French chart"
        pool = Pool()
        Account = pool.get('account.account')
        Journal = pool.get('account.journal')
        if not self.company or self.company.id is None or self.company.id < 0:
            return
        try:
            values = self.french_values(self.company, create=False)
        except AccountingError:
            return
        for name in FRENCH_DEFAULTS:
            if not getattr(self, name, None) and values.get(name):
                setattr(self, name, Account(values[name]))
        if not self.journal and values.get('journal'):
            self.journal = Journal(values['journal'])

    @classmethod
    def default_posting(cls):
        return 'payment'

    @classmethod
    def for_company(cls, company):
        """The configuration of company, or None if it books nothing.

        Without access checks (the booking services), the answer is kept
        per process: every payment asks it; creating, changing or deleting
        a configuration forgets it in every process."""
        transaction = Transaction()
        if transaction.check_access:
            configurations = cls.search(
                [('company', '=', company.id)], limit=1)
            return configurations[0] if configurations else None
        configuration_id = _for_company.get(company.id, -1)
        if configuration_id == -1:
            configurations = cls.search(
                [('company', '=', company.id)], limit=1)
            configuration_id = (
                configurations[0].id if configurations else None)
            _for_company.set(company.id, configuration_id)
        return cls(configuration_id) if configuration_id is not None else None

    @classmethod
    def _forget_for_company(cls):
        _for_company.clear()

    @classmethod
    def create(cls, vlist):
        cls._forget_for_company()
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        cls._forget_for_company()
        super().write(*args)

    @classmethod
    def delete(cls, configurations):
        cls._forget_for_company()
        super().delete(configurations)

    def clearing_account(self, method, provider=None):
        "The clearing account of method, or of provider if it has its own"
        rule = self.provider_rule(provider)
        if rule and rule.clearing:
            return rule.clearing
        return getattr(self, CLEARING_FIELDS[method])

    def fees_account(self, provider=None):
        "The account of the commission provider keeps on its payouts"
        rule = self.provider_rule(provider)
        if rule and rule.fees:
            return rule.fees
        return self.bank_charges

    @property
    def producers_account(self):
        "The producers' account; AccountingError if not configured"
        if not self.producer_account:
            raise AccountingError(gettext(
                    'ticket_accounting.msg_producer_account_missing',
                    company=self.company.rec_name))
        return self.producer_account

    def provider_rule(self, provider):
        for rule in self.providers:
            if rule.provider == provider:
                return rule

    def books_provider(self, provider):
        "Whether the payments of provider are booked here"
        rule = self.provider_rule(provider)
        return not rule or rule.booking == 'book'

    @classmethod
    def french_values(cls, company, create=True):
        """The values of a configuration of company from its French chart,
        creating the sub-accounts it lacks if create; AccountingError if
        an account is missing"""
        pool = Pool()
        Account = pool.get('account.account')
        Journal = pool.get('account.journal')
        values = {'company': company.id}
        if create:
            cls.create_french_subaccounts(company)
        for name, codes in FRENCH_DEFAULTS.items():
            accounts = Account.search([
                    ('company', '=', company.id),
                    ('code', 'in', codes),
                    ('type', '!=', None),
                    ('closed', '!=', True),
                    ])
            by_code = {a.code: a for a in accounts}
            for code in codes:
                if code in by_code:
                    values[name] = by_code[code].id
                    break
            else:
                if set(codes) <= set(FRENCH_SUBACCOUNTS) and not create:
                    continue
                raise AccountingError(gettext(
                        'ticket_accounting.msg_french_account_missing',
                        code=codes[-1], company=company.rec_name))
        journals = Journal.search([('type', '=', 'revenue')], limit=1)
        if journals:
            values['journal'] = journals[0].id
        return values

    @classmethod
    def create_french_subaccounts(cls, company):
        "Create the sub-accounts of FRENCH_SUBACCOUNTS the chart lacks"
        Account = Pool().get('account.account')
        existing = {a.code for a in Account.search([
                    ('company', '=', company.id),
                    ('code', 'in', list(FRENCH_SUBACCOUNTS)),
                    ])}
        to_create = []
        for code, (parent_code, name, party) in FRENCH_SUBACCOUNTS.items():
            if code in existing:
                continue
            parents = Account.search([
                    ('company', '=', company.id),
                    ('code', '=', parent_code),
                    ], limit=1)
            if not parents:
                continue
            parent, = parents
            to_create.append({
                    'company': company.id,
                    'parent': parent.id,
                    'code': code,
                    'name': name,
                    'type': parent.type.id if parent.type else None,
                    'debit_type': (parent.debit_type.id
                        if parent.debit_type else None),
                    'party_required': party,
                    })
        if to_create:
            Account.create(to_create)

    @classmethod
    def set_french_defaults(cls, company):
        """Configure company on its French chart (create or update its
        configuration); return it"""
        values = cls.french_values(company)
        configuration = cls.for_company(company)
        if configuration:
            values.pop('company')
            if configuration.journal:
                values.pop('journal', None)
            cls.write([configuration], values)
            return configuration
        configuration, = cls.create([values])
        return configuration

    @classmethod
    @ModelView.button
    def french_defaults(cls, configurations):
        "Fill the accounts from the French chart"
        for configuration in configurations:
            cls.set_french_defaults(configuration.company)


class ConfigurationProvider(ModelSQL, ModelView):
    "How the payments of a provider are booked"
    __name__ = 'ticket.accounting.configuration.provider'
    configuration = fields.Many2One(
        'ticket.accounting.configuration', "Configuration", required=True,
        ondelete='CASCADE')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company')
    provider = fields.Selection('get_providers', "Provider", required=True)
    booking = fields.Selection([
            ('book', "Booked Here"),
            ('elsewhere', "Posted Elsewhere"),
            ], "Booking", required=True,
        help="Posted elsewhere: another module books this provider's "
        "money (a box-office terminal's cash session), so its payments "
        "and refunds make no ticketing entry.")
    clearing = _account("Clearing Account",
        states={'invisible': Eval('booking') != 'book'},
        help="The provider's own clearing account, instead of the payment "
        "method's.")
    fees = _account("Commission Account",
        states={'invisible': Eval('booking') != 'book'},
        help="Where the commission the provider keeps on its payouts is "
        "booked (e.g. the partners' commission on their sales), instead of "
        "the bank charges.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('configuration')
        t = cls.__table__()
        cls._sql_constraints += [
            ('provider_unique', Unique(t, t.configuration, t.provider),
                'ticket_accounting.msg_configuration_provider_unique'),
            ]

    @classmethod
    def get_providers(cls):
        return Pool().get('ticket.order.payment').get_providers()

    @classmethod
    def default_booking(cls):
        return 'book'

    @fields.depends('configuration', '_parent_configuration.company')
    def on_change_with_company(self, name=None):
        return self.configuration.company if self.configuration else None
