"""Remittance statements ("reddition de compte"): what the company owes a
producer, or what an event brought in, over a period.

A statement is computed from the ticketing entries of its period: per
session and tariff the tickets sold, gross receipts, refunds, VAT and
receipts excluding VAT; then the commission and its VAT, the levies and
the payouts already made. Its net due is the sum of its lines (invariant
2). The booking fees charged on the orders of its tickets are shown per fee
(net of refunded fees) for information: the postings book them to the
company's revenue, never to a producer, so they add nothing to the net
due. A draft statement is computed again on demand; a final one never
changes: a later correction is a new statement. The statements of an event
become final when the event closes."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from num2words import num2words
from sql import Literal, Null
from sql.aggregate import Sum
from sql.conditionals import Case, Coalesce

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import AccountingError

ZERO = Decimal(0)
SALE_POSTINGS = {'payment', 'refund', 'credit', 'credit_back',
    'refund_credit'}
TICKET_KINDS = {'deferred', 'revenue', 'mandate'}
VAT_KINDS = {'tax', 'mandate_tax'}
LINE_KINDS = [
    ('sales', "Tickets"),
    ('commission', "Commission"),
    ('commission_tax', "Commission VAT"),
    ('levy', "Levy"),
    ('payout', "Payout"),
    ('fee', "Booking Fee"),
    ]


class Statement(Workflow, ModelSQL, ModelView):
    "Remittance statement"
    __name__ = 'ticket.accounting.statement'
    _states = {'readonly': Eval('state') != 'draft'}
    number = fields.Char(
        "Number", readonly=True,
        help="Given when the statement is made final or paid; the "
        "end-to-end reference of its SEPA payout.")
    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    producer = fields.Many2One(
        'party.party', "Producer",
        context={'company': Eval('company', -1)}, depends={'company'},
        states={
            'readonly': _states['readonly'],
            'required': ~Eval('event'),
            },
        help="The statement of the events sold for this producer.")
    event = fields.Many2One(
        'ticket.event', "Event", states={
            'readonly': _states['readonly'],
            'required': ~Eval('producer'),
            },
        domain=[('company', '=', Eval('company', -1))])
    start_date = fields.Date("Start Date", required=True, states=_states)
    end_date = fields.Date(
        "End Date", required=True, states=_states,
        domain=[('end_date', '>=', Eval('start_date'))])
    lines = fields.One2Many(
        'ticket.accounting.statement.line', 'statement', "Lines",
        readonly=True)
    gross = Monetary(
        "Gross Receipts", currency='currency', digits='currency',
        readonly=True, help="Tickets sold, VAT included.")
    refunds = Monetary(
        "Refunds", currency='currency', digits='currency', readonly=True)
    vat = Monetary(
        "Ticket VAT", currency='currency', digits='currency', readonly=True)
    commission = Monetary(
        "Commission", currency='currency', digits='currency',
        readonly=True, help="Commission and its VAT.")
    levies = Monetary(
        "Levies", currency='currency', digits='currency', readonly=True)
    paid_out = Monetary(
        "Paid Out", currency='currency', digits='currency', readonly=True)
    fees = Monetary(
        "Booking Fees", currency='currency', digits='currency',
        readonly=True,
        help="The booking fees charged on the orders of the statement's "
        "tickets, VAT included, net of refunded fees: the company's "
        "revenue, shown for information (not in the net due).")
    net_due = Monetary(
        "Net Due", currency='currency', digits='currency', readonly=True,
        help="The sum of the lines: what the company owes for the period.")
    amount_in_words = fields.Function(
        fields.Char("Amount in Words"), 'get_amount_in_words')
    scheduled = fields.Boolean(
        "Scheduled", readonly=True,
        help="Made by the scheduler on the event's payout schedule: from "
        "the event's first entry to the end of the period, less what was "
        "paid out.")
    corrects = fields.Many2One(
        'ticket.accounting.statement', "Corrects", readonly=True,
        help="The final statement of the same producer or event and period "
        "that this one corrects.")
    state = fields.Selection([
            ('draft', "Draft"),
            ('final', "Final"),
            ], "State", required=True, readonly=True, sort=False)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.event, Index.Range())))
        cls._order = [('end_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'final')}
        cls._buttons.update(
            compute={
                'invisible': Eval('state') != 'draft',
                'icon': 'tryton-refresh',
                'depends': ['state'],
                },
            finalize={
                'invisible': Eval('state') != 'draft',
                'icon': 'tryton-ok',
                'depends': ['state'],
                },
            correct={
                'invisible': Eval('state') != 'final',
                'icon': 'tryton-copy',
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
    def default_scheduled(cls):
        return False

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_rec_name(self, name):
        who = self.producer or self.event
        return ' '.join(filter(None, [self.number,
                    who.rec_name if who else None,
                    f"{self.start_date} - {self.end_date}"]))

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith('!') or operator.startswith(
            'not ') else 'OR'
        return [bool_op,
            ('number', operator, operand, *extra),
            ('producer.rec_name', operator, operand, *extra),
            ('event.rec_name', operator, operand, *extra),
            ]

    @classmethod
    def set_number(cls, statements):
        """Number the statements that have none, from the statement
        sequence, in order"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Sequence = pool.get('ir.sequence')
        to_number = sorted(
            (s for s in statements if not s.number), key=lambda s: s.id)
        if not to_number:
            return
        sequence = Sequence(ModelData.get_id(
                'ticket_accounting', 'sequence_statement'))
        for statement in to_number:
            statement.number = sequence.get()
        cls.save(to_number)

    def get_amount_in_words(self, name):
        return self.in_words(Transaction().language)

    def in_words(self, language):
        "The net due in words in language (fr or en)"
        if self.net_due is None:
            return ''
        lang = 'fr' if (language or '').startswith('fr') else 'en'
        try:
            return num2words(self.net_due, lang=lang, to='currency',
                currency=(self.company.currency.code or '').upper())
        except NotImplementedError:
            return num2words(self.net_due, lang=lang)

    @classmethod
    def check_modification(cls, mode, statements, values=None,
            external=False):
        super().check_modification(
            mode, statements, values=values, external=external)
        if mode in {'write', 'delete'}:
            for statement in statements:
                if statement.state == 'final' and (
                        mode == 'delete' or set(values or {}) - {
                            'state'}):
                    raise AccountingError(gettext(
                            'ticket_accounting.msg_statement_final',
                            statement=statement.rec_name))

    @classmethod
    def create(cls, vlist):
        statements = super().create(vlist)
        cls.compute(statements)
        return statements

    @classmethod
    def copy(cls, statements, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('lines', None)
        default.setdefault('number', None)
        default.setdefault('corrects', None)
        default.setdefault('scheduled', False)
        return super().copy(statements, default=default)

    @classmethod
    @ModelView.button
    def compute(cls, statements):
        "Compute the lines of the draft statements from the entries"
        pool = Pool()
        Line = pool.get('ticket.accounting.statement.line')
        drafts = [s for s in statements if s.state == 'draft']
        Line.delete([l for s in drafts for l in s.lines])
        to_create, to_write = [], []
        for statement in drafts:
            lines = statement.compute_lines()
            to_create.extend(dict(l, statement=statement.id) for l in lines)
            to_write.extend([[statement], statement.totals(lines)])
        if to_create:
            Line.create(to_create)
        if to_write:
            cls.write(*to_write)

    @classmethod
    @ModelView.button
    @Workflow.transition('final')
    def finalize(cls, statements):
        cls.compute(statements)
        cls.set_number(statements)

    @classmethod
    @ModelView.button_action(
        'ticket_accounting.act_statement_form')
    def correct(cls, statements):
        "Make a draft statement correcting each final one"
        new = cls.copy(statements, default={'state': 'draft'})
        for statement, correction in zip(statements, new):
            correction.corrects = statement
        cls.save(new)
        cls.compute(new)
        return {'res_id': [s.id for s in new]} if len(new) == 1 else None

    def posting_sums(self):
        """The sums of the ticketing entry lines of the statement's producer
        or event and period, in SQL: rows of (posting kind, line kind,
        session, tariff, tax, levy, credits, debits, quantity)"""
        pool = Pool()
        Line = pool.get('ticket.accounting.posting.line')
        Posting = pool.get('ticket.accounting.posting')
        Session = pool.get('ticket.session')
        Event = pool.get('ticket.event')
        Payout = pool.get('ticket.accounting.payout')
        line = Line.__table__()
        posting = Posting.__table__()
        session = Session.__table__()
        event = Event.__table__()
        payout = Payout.__table__()
        where = ((posting.company == self.company.id)
            & (posting.date >= self.start_date)
            & (posting.date <= self.end_date))
        if self.event:
            where &= ((session.event == self.event.id)
                | (payout.event == self.event.id))
        if self.producer:
            where &= ((event.producer == self.producer.id)
                | (payout.producer == self.producer.id))
        query = (line
            .join(posting, condition=line.posting == posting.id)
            .join(session, 'LEFT', condition=line.session == session.id)
            .join(event, 'LEFT', condition=session.event == event.id)
            .join(payout, 'LEFT', condition=posting.payout == payout.id)
            .select(posting.kind, line.kind, line.session, line.tariff,
                line.tax, line.levy,
                Sum(Case((line.amount < 0, -line.amount), else_=0)),
                Sum(Case((line.amount > 0, line.amount), else_=0)),
                Sum(Coalesce(line.quantity, 0)),
                where=where & line.kind.in_(list(
                        TICKET_KINDS | VAT_KINDS | {'commission',
                            'commission_tax', 'levy_charge', 'producer'})),
                group_by=[posting.kind, line.kind, line.session,
                    line.tariff, line.tax, line.levy]))
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return cursor.fetchall()

    def compute_lines(self):
        "The values of the statement's lines, tickets first"
        pool = Pool()
        Session = pool.get('ticket.session')
        Tariff = pool.get('ticket.tariff')
        Levy = pool.get('ticket.accounting.levy')
        sales = defaultdict(lambda: defaultdict(lambda: ZERO))
        totals = defaultdict(lambda: ZERO)
        levies = defaultdict(lambda: ZERO)
        for (posting_kind, kind, session, tariff, tax, levy, credits,
                debits, quantity) in self.posting_sums():
            credits, debits = Decimal(credits or 0), Decimal(debits or 0)
            if posting_kind in SALE_POSTINGS and tariff and (
                    kind in TICKET_KINDS | VAT_KINDS):
                values = sales[session, tariff]
                values['gross'] += credits
                values['refunds'] += debits
                if kind in VAT_KINDS:
                    values['vat'] += credits - debits
                    if tax:
                        values.setdefault('tax', tax)
                else:
                    values['quantity'] += quantity or 0
            elif kind in {'commission', 'commission_tax'}:
                totals[kind] += debits - credits
            elif kind == 'levy_charge':
                levies[levy] += credits - debits
            elif posting_kind == 'payout' and kind == 'producer':
                totals['payout'] += credits - debits
        sessions = {s.id: s for s in Session.browse(
                {k[0] for k in sales if k[0]})}
        tariffs = {t.id: t for t in Tariff.browse({k[1] for k in sales})}
        lines = []
        for (session, tariff), values in sorted(sales.items(),
                key=lambda i: (
                    sessions[i[0][0]].start if i[0][0] else dt.datetime.min,
                    i[0][0] or 0, tariffs[i[0][1]].name, i[0][1])):
            net = values['gross'] - values['refunds']
            lines.append({
                    'kind': 'sales',
                    'session': session,
                    'tariff': tariff,
                    'tax': values.get('tax'),
                    'quantity': int(values['quantity']),
                    'gross': values['gross'],
                    'refunds': values['refunds'],
                    'vat': values['vat'],
                    'untaxed': net - values['vat'],
                    'amount': net,
                    })
        for kind in ['commission', 'commission_tax']:
            if totals[kind]:
                lines.append({'kind': kind, 'amount': totals[kind]})
        for levy in Levy.browse(sorted(l for l in levies if l)):
            if levies[levy.id]:
                lines.append({'kind': 'levy', 'levy': levy.id,
                        'amount': levies[levy.id]})
        if totals['payout']:
            lines.append({'kind': 'payout', 'amount': totals['payout']})
        return lines + self.compute_fee_lines()

    def fee_sums(self):
        """The sums of the fee lines and of their VAT of the orders that
        hold tickets of the statement's producer or event, over its period,
        in SQL: rows of (order, line kind, product, tax, credits, debits)"""
        pool = Pool()
        Line = pool.get('ticket.accounting.posting.line')
        Posting = pool.get('ticket.accounting.posting')
        OrderLine = pool.get('ticket.order.line')
        Session = pool.get('ticket.session')
        Event = pool.get('ticket.event')
        line = Line.__table__()
        posting = Posting.__table__()
        order_line = OrderLine.__table__()
        session = Session.__table__()
        event = Event.__table__()
        scope = Literal(True)
        if self.event:
            scope &= session.event == self.event.id
        if self.producer:
            scope &= event.producer == self.producer.id
        orders = (order_line
            .join(session, condition=order_line.session == session.id)
            .join(event, condition=session.event == event.id)
            .select(order_line.order, where=scope))
        query = (line
            .join(posting, condition=line.posting == posting.id)
            .select(posting.order, line.kind, line.product, line.tax,
                Sum(Case((line.amount < 0, -line.amount), else_=0)),
                Sum(Case((line.amount > 0, line.amount), else_=0)),
                where=(posting.company == self.company.id)
                & (posting.date >= self.start_date)
                & (posting.date <= self.end_date)
                & posting.kind.in_(list(SALE_POSTINGS))
                & line.kind.in_(['fee', 'tax'])
                & (line.product != Null) & (line.session == Null)
                & posting.order.in_(orders),
                group_by=[posting.order, line.kind, line.product,
                    line.tax]))
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return cursor.fetchall()

    def compute_fee_lines(self):
        """The values of the statement's booking fee lines, per fee
        product: the fees charged (gross), refunded, their VAT and the
        orders still charged; amount zero, the fees being the company's
        revenue (order.py books them so, mandate or not)"""
        Product = Pool().get('product.product')
        rows = self.fee_sums()
        fee_products = {p for _, k, p, _, _, _ in rows if k == 'fee'}
        fees = defaultdict(lambda: defaultdict(lambda: ZERO))
        by_order = defaultdict(lambda: ZERO)
        for order, kind, product, tax, credits, debits in rows:
            if product not in fee_products:
                continue
            credits, debits = Decimal(credits or 0), Decimal(debits or 0)
            values = fees[product]
            values['gross'] += credits
            values['refunds'] += debits
            if kind == 'tax':
                values['vat'] += credits - debits
                if tax:
                    values.setdefault('tax', tax)
            else:
                by_order[order, product] += credits - debits
        for (_, product), net in by_order.items():
            if net > 0:
                fees[product]['quantity'] += 1
        lines = []
        for product in sorted(Product.browse(list(fees)),
                key=lambda p: (p.rec_name, p.id)):
            values = fees[product.id]
            net = values['gross'] - values['refunds']
            lines.append({
                    'kind': 'fee',
                    'product': product.id,
                    'tax': values.get('tax'),
                    'quantity': int(values['quantity']),
                    'gross': values['gross'],
                    'refunds': values['refunds'],
                    'vat': values['vat'],
                    'untaxed': net - values['vat'],
                    'amount': ZERO,
                    })
        return lines

    def totals(self, lines):
        def total(kinds, field='amount'):
            return sum((l.get(field) or ZERO for l in lines
                    if l['kind'] in kinds), ZERO)
        return {
            'gross': total({'sales'}, 'gross'),
            'refunds': total({'sales'}, 'refunds'),
            'vat': total({'sales'}, 'vat'),
            'commission': -total({'commission', 'commission_tax'}),
            'levies': -total({'levy'}),
            'paid_out': -total({'payout'}),
            'fees': total({'fee'}, 'gross') - total({'fee'}, 'refunds'),
            'net_due': total({l['kind'] for l in lines}),
            }

    def vat_by_rate(self):
        "[(tax, base, VAT)] of the statement's ticket lines"
        result = defaultdict(lambda: [ZERO, ZERO])
        for line in self.lines:
            if line.kind == 'sales':
                result[line.tax][0] += line.untaxed
                result[line.tax][1] += line.vat
        return [(t, b, v) for t, (b, v) in sorted(result.items(),
                key=lambda i: i[0].rate if i[0] else 0)]

    @classmethod
    def close_events(cls, events):
        "Make the draft statements of events final (the events closed)"
        statements = cls.search([
                ('event', 'in', [e.id for e in events]),
                ('state', '=', 'draft'),
                ])
        if statements:
            cls.finalize(statements)


class StatementLine(ModelSQL, ModelView):
    "Remittance statement line"
    __name__ = 'ticket.accounting.statement.line'
    statement = fields.Many2One(
        'ticket.accounting.statement', "Statement", required=True,
        ondelete='CASCADE')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    kind = fields.Selection(LINE_KINDS, "Kind", required=True)
    session = fields.Many2One('ticket.session', "Session")
    tariff = fields.Many2One('ticket.tariff', "Tariff")
    tax = fields.Many2One('account.tax', "VAT")
    levy = fields.Many2One('ticket.accounting.levy', "Levy")
    product = fields.Many2One(
        'product.product', "Product", help="The booking fee's product.")
    quantity = fields.Integer(
        "Quantity", help="The tickets, or the orders charged a fee.")
    gross = Monetary("Gross", currency='currency', digits='currency')
    refunds = Monetary("Refunds", currency='currency', digits='currency')
    vat = Monetary("VAT", currency='currency', digits='currency')
    untaxed = Monetary(
        "Excl. VAT", currency='currency', digits='currency')
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        help="What the line adds to the net due.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('statement')
        cls._order = [('statement', 'ASC'), ('id', 'ASC')]

    @fields.depends('statement', '_parent_statement.company')
    def on_change_with_currency(self, name=None):
        if self.statement and self.statement.company:
            return self.statement.company.currency

    def get_rec_name(self, name):
        if self.kind == 'sales':
            return ' '.join(filter(None, [
                        self.session.rec_name if self.session else None,
                        self.tariff.rec_name]))
        if self.kind == 'levy':
            return self.levy.rec_name
        if self.kind == 'fee':
            return self.product.rec_name
        kinds = dict(self.fields_get(['kind'])['kind']['selection'])
        return kinds[self.kind]


class Event(metaclass=PoolMeta):
    __name__ = 'ticket.event'

    @classmethod
    def close(cls, events):
        super().close(events)
        Pool().get('ticket.accounting.statement').close_events(events)
