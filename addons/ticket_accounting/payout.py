"""Payouts: money leaving to a producer, money arriving from a provider.

A producer payout ("reversement") pays what a mandate owes the producer:
its entry debits the producer's account and credits the bank, and it
creates the payment to the producer (``account.payment``, payable, to the
producer's IBAN validated with python-stdnum) for the treasurer to send.
On a payment journal processed by SEPA (account_payment_sepa) the payment
goes to the producer's bank account of that IBAN (made if the producer has
none), with the statement number as end-to-end reference: the treasurer
approves the payments and processes them into a SEPA credit transfer
(pain.001) as any other payable payment. Any other journal (no SEPA
configuration) gets the same payment without bank account.

A provider payout is a payment provider (a card acquirer, Stripe...)
paying out the payments it took, less its commission: the entry credits
the clearing account with the gross, debits the bank with what arrived and
bank charges with the commission. The payments it covers are matched to
it; the payments no payout matched are the clearing account's open
items."""
import datetime as dt
from decimal import Decimal

from sql.aggregate import Min
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

from guichet.ticket_event.payment import METHODS
from guichet.ticket_pricing.partner import PROVIDER as PARTNER

from .exceptions import AccountingError

ZERO = Decimal(0)


def validate_iban(number):
    "The IBAN number in its printed form; AccountingError if invalid"
    try:
        return stdnum_iban.format(stdnum_iban.validate(number or ''))
    except ValidationError:
        raise AccountingError(gettext(
                'ticket_accounting.msg_iban_invalid', iban=number or ''))


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'
    payout_iban = fields.Char(
        "Payout IBAN", help="The bank account producer payouts go to.")

    @classmethod
    def validate_fields(cls, parties, field_names):
        super().validate_fields(parties, field_names)
        if field_names is None or 'payout_iban' in field_names:
            for party in parties:
                if party.payout_iban:
                    validate_iban(party.payout_iban)

    @classmethod
    def create(cls, vlist):
        vlist = [cls._format_iban(v) for v in vlist]
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        args = list(args)
        for i in range(1, len(args), 2):
            args[i] = cls._format_iban(args[i])
        super().write(*args)

    @classmethod
    def _format_iban(cls, values):
        if values.get('payout_iban'):
            values = values.copy()
            values['payout_iban'] = validate_iban(values['payout_iban'])
        return values


class Payout(Workflow, ModelSQL, ModelView):
    "Producer payout"
    __name__ = 'ticket.accounting.payout'
    _states = {'readonly': Eval('state') != 'draft'}
    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    producer = fields.Many2One(
        'party.party', "Producer", required=True, states=_states,
        context={'company': Eval('company', -1)}, depends={'company'})
    event = fields.Many2One(
        'ticket.event', "Event", states=_states,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('producer', '=', Eval('producer', -1)),
            ])
    statement = fields.Many2One(
        'ticket.accounting.statement', "Statement", states=_states,
        domain=[('producer', '=', Eval('producer', -1))],
        help="The statement whose net due the payout pays.")
    date = fields.Date("Date", required=True, states=_states)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        states=_states, domain=[('amount', '>', 0)])
    iban = fields.Char("IBAN", states=_states)
    journal = fields.Many2One(
        'account.payment.journal', "Payment Journal", required=True,
        states=_states,
        domain=[('company', '=', Eval('company', -1))])
    payment = fields.Many2One(
        'account.payment', "Payment", readonly=True)
    posting = fields.Many2One(
        'ticket.accounting.posting', "Entry", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('done', "Done"),
            ], "State", required=True, readonly=True, sort=False)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'done')}
        cls._buttons.update(
            pay={
                'invisible': Eval('state') != 'draft',
                'icon': 'tryton-ok',
                'depends': ['state'],
                },
            )

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @fields.depends('producer', 'iban')
    def on_change_producer(self):
        if self.producer and self.producer.payout_iban:
            self.iban = self.producer.payout_iban

    @fields.depends('statement', 'amount')
    def on_change_statement(self):
        if self.statement and not self.amount:
            self.amount = self.statement.net_due

    @classmethod
    def validate_fields(cls, payouts, field_names):
        super().validate_fields(payouts, field_names)
        if field_names is None or 'iban' in field_names:
            for payout in payouts:
                if payout.iban:
                    validate_iban(payout.iban)

    @classmethod
    def check_modification(cls, mode, payouts, values=None, external=False):
        super().check_modification(
            mode, payouts, values=values, external=external)
        if mode == 'delete':
            for payout in payouts:
                if payout.state != 'draft':
                    raise AccountingError(gettext(
                            'ticket_accounting.msg_payout_delete'))

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    @without_check_access
    def pay(cls, payouts):
        """Book each payout (debit the producer, credit the bank) and create
        its payment to the producer's IBAN"""
        pool = Pool()
        Configuration = pool.get('ticket.accounting.configuration')
        Payment = pool.get('account.payment')
        Posting = pool.get('ticket.accounting.posting')
        Statement = pool.get('ticket.accounting.statement')
        for payout in payouts:
            iban = validate_iban(payout.iban or payout.producer.payout_iban)
            configuration = Configuration.for_company(payout.company)
            if configuration is None:
                raise AccountingError(gettext(
                        'ticket_accounting.msg_no_configuration',
                        company=payout.company.rec_name))
            number = None
            if payout.journal.process_method == 'sepa':
                number = payout.bank_account_number(iban)
            posting = Posting.book(configuration, 'payout', [
                    (configuration.producers_account, payout.amount, {
                            'kind': 'producer',
                            'party': payout.producer.id}),
                    (configuration.bank, -payout.amount, {'kind': 'bank'}),
                    ], payout.date, payout=payout.id,
                description=payout.producer.rec_name)
            if payout.statement:
                Statement.set_number([payout.statement])
            payment = Payment(company=payout.company, journal=payout.journal,
                kind='payable', party=payout.producer, date=payout.date,
                amount=payout.amount, origin=payout,
                reference=payout.reference)
            payment.sepa_payable_bank_account_number = number
            payment.save()
            Payment.submit([payment])
            payout.iban = iban
            payout.posting = posting
            payout.payment = payment
        cls.save(payouts)

    @property
    def reference(self):
        """The reference of the payout's payment: its statement number, or
        the event or producer it pays"""
        if self.statement and self.statement.number:
            return self.statement.number
        return (self.event or self.producer).rec_name[:35]

    def bank_account_number(self, iban):
        """The producer's bank account number (bank.account.number) of
        iban, made with its bank account if the producer has none; a bank
        without BIC is made for it if the bank module cannot tell it (an
        IBAN alone is enough for a SEPA credit transfer)"""
        pool = Pool()
        Account = pool.get('bank.account')
        Bank = pool.get('bank')
        Number = pool.get('bank.account.number')
        Party = pool.get('party.party')
        compact = stdnum_iban.compact(iban)
        numbers = Number.search([
                ('type', '=', 'iban'),
                ('number_compact', '=', compact),
                ], limit=1)
        if numbers:
            number, = numbers
            if self.producer not in number.account.owners:
                raise AccountingError(gettext(
                        'ticket_accounting.msg_iban_other_owner',
                        iban=iban, producer=self.producer.rec_name))
        else:
            account = Account(owners=[self.producer], numbers=[
                    Number(type='iban', number=iban)])
            account.save()
            number, = account.numbers
        if not number.account.bank:
            name = f"IBAN {compact[:2]} {compact[4:9]}"
            banks = Bank.search([('party.name', '=', name)], limit=1)
            if banks:
                bank, = banks
            else:
                bank = Bank(party=Party(name=name))
                bank.party.save()
                bank.save()
            account = number.account
            account.bank = bank
            account.save()
        return number

    @classmethod
    def schedule_end(cls, event, today):
        """The last day the payout of event due on today covers, or None if
        no payout is due: on the 1st and 16th the days before, monthly on
        the 1st the past month, after the event once its sessions all took
        place or were cancelled (and one took place) the days before"""
        if event.payout_schedule == 'twice_monthly':
            boundary = today.replace(day=16 if today.day >= 16 else 1)
            return boundary - dt.timedelta(days=1)
        elif event.payout_schedule == 'monthly':
            return today.replace(day=1) - dt.timedelta(days=1)
        elif event.payout_schedule == 'after_event':
            sessions = [s for s in event.sessions if s.state != 'cancelled']
            if sessions and all(s.revenue_recognized for s in sessions):
                return today - dt.timedelta(days=1)
        return None

    @classmethod
    def first_date(cls, event):
        "The date of the first ticketing entry of event, or None"
        pool = Pool()
        Line = pool.get('ticket.accounting.posting.line')
        Posting = pool.get('ticket.accounting.posting')
        Session = pool.get('ticket.session')
        line = Line.__table__()
        posting = Posting.__table__()
        session = Session.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*line
            .join(posting, condition=line.posting == posting.id)
            .join(session, condition=line.session == session.id)
            .select(Min(posting.date), where=session.event == event.id))
        date, = cursor.fetchone()
        return date

    @classmethod
    @without_check_access
    def pay_scheduled(cls, date=None):
        """Pay the producers on their events' payout schedules (cron): for
        each event due, a statement from the event's first entry to the end
        of the schedule's period, whose net due (what is owed less what was
        paid out) a payout pays to the producer's IBAN, once per period; a
        producer without IBAN gets a draft payout. Return the payouts
        made."""
        pool = Pool()
        Configuration = pool.get('ticket.accounting.configuration')
        Event = pool.get('ticket.event')
        Statement = pool.get('ticket.accounting.statement')
        today = date or Pool().get('ir.date').today()
        payouts, to_pay, statements = [], [], []
        for event in Event.search([('producer', '!=', None)],
                order=[('id', 'ASC')]):
            configuration = Configuration.for_company(event.company)
            if not configuration or not configuration.payout_journal:
                continue
            end = cls.schedule_end(event, today)
            start = cls.first_date(event)
            if end is None or start is None or start > end:
                continue
            last = Statement.search([
                    ('event', '=', event.id),
                    ('scheduled', '=', True),
                    ], order=[('end_date', 'DESC'), ('id', 'DESC')], limit=1)
            if last and last[0].end_date >= end:
                continue
            if cls.search([
                        ('event', '=', event.id),
                        ('state', '=', 'draft'),
                        ], limit=1):
                # a payout waits for its IBAN
                continue
            statement, = Statement.create([{
                        'company': event.company.id,
                        'event': event.id,
                        'producer': event.producer.id,
                        'start_date': start,
                        'end_date': end,
                        'scheduled': True,
                        }])
            if statement.net_due <= 0:
                # nothing due: keep only news of what the producer owes
                if not statement.net_due or (
                        last and last[0].net_due == statement.net_due):
                    Statement.delete([statement])
                continue
            payout = cls(company=event.company, producer=event.producer,
                event=event, statement=statement, date=today,
                amount=statement.net_due, iban=event.producer.payout_iban,
                journal=configuration.payout_journal)
            payout.save()
            payouts.append(payout)
            if payout.iban:
                to_pay.append(payout)
                statements.append(statement)
        if to_pay:
            cls.pay(to_pay)
            Statement.finalize(statements)
        return payouts


class AccountPayment(metaclass=PoolMeta):
    __name__ = 'account.payment'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['ticket.accounting.payout']

    def get_sepa_end_to_end_id(self, name):
        "A producer payout's end-to-end reference is its statement number"
        Payout = Pool().get('ticket.accounting.payout')
        if (isinstance(self.origin, Payout) and self.origin.statement
                and self.origin.statement.number):
            return self.origin.statement.number[:35]
        return super().get_sepa_end_to_end_id(name)

    @classmethod
    def search_end_to_end_id(cls, name, domain):
        _, operator, value = domain
        return ['OR',
            super().search_end_to_end_id(name, domain),
            ('origin.statement.number', operator, value,
                'ticket.accounting.payout'),
            ]


class ProviderPayout(Workflow, ModelSQL, ModelView):
    "Payment provider payout"
    __name__ = 'ticket.accounting.provider_payout'
    _states = {'readonly': Eval('state') != 'draft'}
    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    provider = fields.Selection(
        'get_providers', "Provider", required=True, states=_states)
    method = fields.Selection(
        METHODS, "Method", required=True, states=_states,
        help="The method of the payments the payout covers.")
    reference = fields.Char("Reference", states=_states)
    date = fields.Date("Date", required=True, states=_states)
    partner = fields.Many2One(
        'ticket.partner', "Partner",
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': Eval('provider') != PARTNER,
            'required': Eval('provider') == PARTNER,
            },
        help="The reseller whose sales the payout settles: the money it "
        "collected from its buyers, less its commission.")
    payments = fields.One2Many(
        'ticket.order.payment', 'provider_payout', "Payments",
        states=_states,
        add_remove=[
            ('provider_payout', '=', None),
            ('company', '=', Eval('company', -1)),
            ('provider', '=', Eval('provider')),
            ('method', '=', Eval('method')),
            ('state', '=', 'succeeded'),
            If(Eval('provider') == PARTNER,
                ('order.partner', '=', Eval('partner', -1)),
                ()),
            ],
        help="The payments and refunds the provider pays out.")
    gross = fields.Function(Monetary(
            "Gross", currency='currency', digits='currency'),
        'on_change_with_gross')
    fees = Monetary(
        "Fees", currency='currency', digits='currency', required=True,
        states=_states, domain=[('fees', '>=', 0)],
        help="The provider's commission, kept on the payout.")
    net = fields.Function(Monetary(
            "Net", currency='currency', digits='currency'),
        'on_change_with_net')
    posting = fields.Many2One(
        'ticket.accounting.posting', "Entry", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('done', "Done"),
            ], "State", required=True, readonly=True, sort=False)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'done')}
        cls._buttons.update(
            book={
                'invisible': Eval('state') != 'draft',
                'icon': 'tryton-ok',
                'depends': ['state'],
                },
            add_open={
                'invisible': Eval('state') != 'draft',
                'readonly': (Eval('provider') == PARTNER)
                & ~Eval('partner'),
                'icon': 'tryton-add',
                'depends': ['state', 'provider', 'partner'],
                },
            )

    @classmethod
    def get_providers(cls):
        return Pool().get('ticket.order.payment').get_providers()

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_method(cls):
        return 'card'

    @classmethod
    def default_fees(cls):
        return ZERO

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @fields.depends('payments')
    def on_change_with_gross(self, name=None):
        return sum((
                (p.amount or ZERO) * (-1 if p.kind == 'refund' else 1)
                for p in self.payments), ZERO)

    @fields.depends('payments', 'fees', methods=['on_change_with_gross'])
    def on_change_with_net(self, name=None):
        return self.on_change_with_gross() - (self.fees or ZERO)

    @classmethod
    @ModelView.button
    @without_check_access
    def add_open(cls, payouts):
        """Add the payments and refunds of the provider, the method (and
        the partner) that no payout covers yet, made until the end of the
        payout's date in the company's time zone; a partner's payout gets
        the partner's commission on them as its fees"""
        Payment = Pool().get('ticket.order.payment')
        for payout in payouts:
            if payout.state != 'draft':
                continue
            domain = [
                ('company', '=', payout.company.id),
                ('provider', '=', payout.provider),
                ('method', '=', payout.method),
                ('state', '=', 'succeeded'),
                ('provider_payout', '=', None),
                ('date', '<', day_end(payout.company, payout.date)),
                ]
            if payout.provider == PARTNER:
                if not payout.partner:
                    raise AccountingError(gettext(
                            'ticket_accounting.msg_partner_payout_partner',
                            payout=payout.rec_name))
                domain.append(('order.partner', '=', payout.partner.id))
            payments = Payment.search(domain)
            if payments:
                Payment.write(payments, {'provider_payout': payout.id})
            if payout.partner:
                payout = cls(payout.id)
                payout.fees = payout.currency.round(
                    payout.gross * (payout.partner.commission or ZERO))
                payout.save()

    @classmethod
    def validate(cls, payouts):
        super().validate(payouts)
        for payout in payouts:
            payout.check_partner()

    def check_partner(self):
        "A partner's payout covers that partner's payments only"
        if self.provider != PARTNER:
            return
        for payment in self.payments:
            if payment.order.partner != self.partner:
                raise AccountingError(gettext(
                        'ticket_accounting.msg_partner_payout_foreign',
                        payout=self.rec_name,
                        payment=payment.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    @without_check_access
    def book(cls, payouts):
        """Book each payout: credit the clearing account with the gross,
        debit the bank with the net and bank charges with the fees"""
        pool = Pool()
        Configuration = pool.get('ticket.accounting.configuration')
        Posting = pool.get('ticket.accounting.posting')
        for payout in payouts:
            configuration = Configuration.for_company(payout.company)
            if configuration is None:
                raise AccountingError(gettext(
                        'ticket_accounting.msg_no_configuration',
                        company=payout.company.rec_name))
            if not payout.payments:
                raise AccountingError(gettext(
                        'ticket_accounting.msg_provider_payout_empty',
                        payout=payout.rec_name))
            gross = payout.gross
            clearing = configuration.clearing_account(
                payout.method, payout.provider)
            payout.check_partner()
            payout.posting = Posting.book(configuration, 'provider_payout', [
                    (clearing, -gross, {'kind': 'clearing'}),
                    (configuration.bank, gross - payout.fees,
                        {'kind': 'bank'}),
                    (configuration.fees_account(payout.provider),
                        payout.fees, {'kind': 'bank_charges'}),
                    ], payout.date, method=payout.method,
                description=payout.reference)
        cls.save(payouts)

    def get_rec_name(self, name):
        return ' '.join(filter(None, [
                    self.provider,
                    self.partner.rec_name if self.partner else None,
                    self.reference, str(self.date)]))


def day_end(company, date):
    """The naive UTC datetime at which date ends in the time zone of
    company"""
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time())
    timezone = getattr(company, 'timezone', None)
    if timezone:
        from zoneinfo import ZoneInfo
        end = end.replace(tzinfo=ZoneInfo(timezone)).astimezone(
            dt.timezone.utc).replace(tzinfo=None)
    return end


class Partner(metaclass=PoolMeta):
    __name__ = 'ticket.partner'
    commission = fields.Numeric(
        "Commission", digits=(1, 4), required=True,
        domain=[('commission', '>=', 0), ('commission', '<=', 1)],
        help="The share of its sales the partner keeps: proposed as the "
        "fees of its payouts.")

    @classmethod
    def default_commission(cls):
        return ZERO


class OrderPayment(metaclass=PoolMeta):
    __name__ = 'ticket.order.payment'
    provider_payout = fields.Many2One(
        'ticket.accounting.provider_payout', "Provider Payout",
        readonly=True, ondelete='RESTRICT',
        help="The provider payout that brought the money to the bank; "
        "empty while the money waits on the clearing account.")

    @classmethod
    def copy(cls, payments, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('provider_payout', None)
        return super().copy(payments, default=default)
