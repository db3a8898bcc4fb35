"""Invoices of paid orders for business buyers.

A business buyer may ask an invoice of a paid order, once: its company
name, address, VAT number (EU, validated with python-stdnum) and optional
SIRET make the invoiced party. ``Order.invoice_order`` is the one service
that the back office wizard and the public route call.

The revenue and VAT of an order were booked when it was paid (the payment's
posting), so the invoice is a document of a sale already in the books:
its lines are the tickets (tariff product, session, price excluding VAT,
the ticket's tax), the fees and products, its total the order's, and its
move is posted as any invoice's. A second move, the invoice's settlement
"already booked at payment", mirrors that move line by line (debit and
credit exchanged, VAT base and tax negated) and is reconciled with it on
the buyer's receivable: the invoice is paid, and the ledger, the tax report
and the ticketing reports count the sale once."""
from decimal import Decimal

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.fr import siret as fr_siret

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateAction, StateView, Wizard

from .exceptions import AccountingError
from .order import largest_remainder

ZERO = Decimal(0)


class InvoiceError(AccountingError):
    """An invoice cannot be made; code 'invalid' for bad buyer data,
    'state' for what the order's state forbids"""

    def __init__(self, message, code='invalid'):
        super().__init__(message)
        self.code = code


def validate_vat(number):
    "The compact EU VAT number; InvoiceError if invalid"
    try:
        return eu_vat.validate(number or '')
    except ValidationError:
        raise InvoiceError(gettext(
                'ticket_accounting.msg_invoice_vat_invalid',
                number=number or ''))


def validate_siret(number):
    "The compact SIRET number, None if empty; InvoiceError if invalid"
    if not number:
        return None
    try:
        return fr_siret.validate(number)
    except ValidationError:
        raise InvoiceError(gettext(
                'ticket_accounting.msg_invoice_siret_invalid',
                number=number))


def root_tax(tax):
    "The tax of the top of tax's parents"
    while tax.parent:
        tax = tax.parent
    return tax


class Buyer:
    "The business buyer an invoice is made out to"
    FIELDS = ['name', 'street', 'postal_code', 'city', 'country',
        'vat_number', 'siret']

    def __init__(self, name, street, postal_code, city, country, vat_number,
            siret=None):
        "country is a country.country or its ISO code"
        self.name = (name or '').strip()
        self.street = (street or '').strip()
        self.postal_code = (postal_code or '').strip()
        self.city = (city or '').strip()
        self.country = country
        self.vat_number = vat_number
        self.siret = siret

    def validate(self):
        "Check and normalize the buyer; InvoiceError with a message if wrong"
        Country = Pool().get('country.country')
        for name in ['name', 'street', 'postal_code', 'city']:
            if not getattr(self, name):
                raise InvoiceError(gettext(
                        'ticket_accounting.msg_invoice_buyer_missing',
                        field=name))
        if isinstance(self.country, str):
            countries = Country.search(
                [('code', '=', self.country.upper())], limit=1)
            if not countries:
                raise InvoiceError(gettext(
                        'ticket_accounting.msg_invoice_country_unknown',
                        country=self.country))
            self.country, = countries
        if not self.country:
            raise InvoiceError(gettext(
                    'ticket_accounting.msg_invoice_buyer_missing',
                    field='country'))
        self.vat_number = validate_vat(self.vat_number)
        self.siret = validate_siret(self.siret)
        return self

    def party(self):
        """The party of the buyer: the one with its VAT number (its address
        added if new), else a new party"""
        pool = Pool()
        Address = pool.get('party.address')
        Identifier = pool.get('party.identifier')
        Party = pool.get('party.party')
        address = {
            'party_name': self.name,
            'street_unstructured': self.street,
            'postal_code': self.postal_code,
            'city': self.city,
            'country': self.country.id,
            'invoice': True,
            }
        identifiers = Identifier.search([
                ('type', '=', 'eu_vat'),
                ('code', '=', self.vat_number),
                ], limit=1)
        if identifiers:
            party = identifiers[0].party
            same = [a for a in party.addresses if (a.street_unstructured,
                    a.postal_code, a.city, a.country) == (self.street,
                    self.postal_code, self.city, self.country)]
            if same:
                return party, same[0]
            new, = Address.create([dict(address, party=party.id)])
            return party, new
        party, = Party.create([{
                    'name': self.name,
                    'identifiers': [('create', [{
                                    'type': 'eu_vat',
                                    'code': self.vat_number,
                                    }])],
                    'addresses': [('create', [address])],
                    }])
        address, = party.addresses
        if self.siret:
            # a SIRET identifies an establishment: its address
            Identifier.create([{
                        'party': party.id,
                        'address': address.id,
                        'type': 'fr_siret',
                        'code': self.siret,
                        }])
        return Party(party.id), address


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'
    invoice = fields.Many2One(
        'account.invoice', "Invoice", readonly=True, ondelete='RESTRICT',
        help="The invoice the business buyer asked for.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update(
            request_invoice={
                'invisible': (Eval('state') != 'paid') | Eval('invoice'),
                'icon': 'tryton-print',
                'depends': ['state', 'invoice'],
                },
            )

    @classmethod
    def copy(cls, orders, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('invoice', None)
        return super().copy(orders, default=default)

    @classmethod
    @ModelView.button_action('ticket_accounting.wizard_invoice_request')
    def request_invoice(cls, orders):
        pass

    @classmethod
    @without_check_access
    def invoice_order(cls, order, buyer):
        """Make out, post and settle the invoice of the paid order to buyer
        (a Buyer); return the invoice. InvoiceError if the buyer is invalid,
        the order is not paid or already invoiced."""
        pool = Pool()
        Configuration = pool.get('ticket.accounting.configuration')
        Invoice = pool.get('account.invoice')
        cls.lock([order])
        order = cls(order.id)
        if order.invoice:
            raise InvoiceError(gettext(
                    'ticket_accounting.msg_invoice_already',
                    order=order.rec_name,
                    invoice=order.invoice.rec_name), 'state')
        if order.state != 'paid':
            raise InvoiceError(gettext(
                    'ticket_accounting.msg_invoice_not_paid',
                    order=order.rec_name), 'state')
        configuration = Configuration.for_company(order.company)
        if configuration is None:
            raise AccountingError(gettext(
                    'ticket_accounting.msg_no_configuration',
                    company=order.company.rec_name))
        buyer.validate()
        with Transaction().set_context(company=order.company.id):
            party, address = buyer.party()
            invoice = order._invoice(configuration, party, address)
            invoice.save()
            Invoice.update_taxes([invoice])
            order._set_invoice_taxes(invoice)
            Invoice.post([invoice])
            invoice = Invoice(invoice.id)
            order._settle_invoice(configuration, invoice)
        cls.write([order], {'invoice': invoice.id})
        return Invoice(invoice.id)

    def _invoice(self, configuration, party, address):
        "The draft invoice of the order to party at address"
        pool = Pool()
        Date = pool.get('ir.date')
        Invoice = pool.get('account.invoice')
        invoice = Invoice(company=self.company, type='out', party=party,
            invoice_date=Date.today(), currency=self.currency,
            reference=self.number, description=self.number)
        invoice.on_change_type()
        invoice.invoice_address = address
        invoice.payment_term = None
        if invoice.account is None:
            raise AccountingError(gettext(
                    'ticket_accounting.msg_invoice_no_receivable',
                    company=self.company.rec_name))
        invoice.lines = self._invoice_lines(configuration)
        return invoice

    def _invoice_lines(self, configuration):
        """The invoice lines of the order: one per ticket (one per unit
        for what is not a ticket), at its share of its order line's
        amount excluding VAT, on the revenue account of its product (the
        settlement takes it back: the revenue stays where the payment
        booked it, deferred until the session)"""
        pool = Pool()
        InvoiceLine = pool.get('account.invoice.line')
        unit = Decimal(1).scaleb(-self.currency.digits)
        lines = []
        by_line = {}
        for ticket in sorted(self.tickets, key=lambda t: t.id):
            if ticket.line:
                by_line.setdefault(ticket.line.id, []).append(ticket)
        components = {c.line.id: c
            for c in self.accounting_components() if c.tax is None}
        for line in sorted(self.lines, key=lambda l: l.id):
            component = components[line.id]
            product = getattr(line, 'product', None)
            account = (product.account_revenue_used if product
                else configuration.deferred_revenue)
            tickets = by_line.get(line.id) if getattr(
                line, 'kind', 'ticket') == 'ticket' else None
            count = len(tickets) if tickets else line.quantity
            prices = largest_remainder(
                [1] * count, component.weight, unit)
            # an invoice line takes root taxes (the French chart's rate
            # of the day is a child of its "Taux Normal" parent, which
            # picks the child valid at the invoice date)
            taxes = list(dict.fromkeys(root_tax(t.tax)
                    for t in getattr(line, 'taxes', None) or []))
            for i, price in enumerate(prices):
                description = self._invoice_description(
                    line, tickets[i] if tickets else None)
                lines.append(InvoiceLine(type='line', product=product,
                        unit=product.default_uom if product else None,
                        description=description, quantity=1,
                        unit_price=price, account=account, taxes=taxes,
                        company=self.company, currency=self.currency,
                        invoice_type='out'))
        return lines

    def _invoice_description(self, line, ticket):
        parts = [line.description or (
                line.product.rec_name if getattr(line, 'product', None)
                else '')]
        if line.session:
            parts.append(line.session.rec_name)
        if ticket:
            parts.append(ticket.number)
        return ' – '.join(filter(None, parts))

    def _set_invoice_taxes(self, invoice):
        """Make the VAT of each rate of the invoice the VAT the order
        collected (computed again on the invoice's bases it may differ by
        a cent), so that the invoice's total is the order's"""
        InvoiceTax = Pool().get('account.invoice.tax')
        collected = {}
        for line in self.lines:
            for tax in getattr(line, 'taxes', None) or []:
                collected[tax.tax] = collected.get(tax.tax, ZERO) + tax.amount
        to_write = []
        for tax in invoice.taxes:
            if tax.tax in collected and tax.amount != collected[tax.tax]:
                to_write.extend(([tax], {'amount': collected[tax.tax]}))
        if to_write:
            InvoiceTax.write(*to_write)

    def _settle_invoice(self, configuration, invoice):
        """Post the mirror of the invoice's move (its revenue and VAT were
        booked at payment) and reconcile it with the invoice's receivable:
        the invoice is paid"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        lines = []
        for line in invoice.move.lines:
            lines.append({
                    'account': line.account.id,
                    'party': line.party.id if line.party else None,
                    'debit': line.credit,
                    'credit': line.debit,
                    'tax_lines': [('create', [{
                                    'tax': t.tax.id,
                                    'type': t.type,
                                    'amount': -t.amount,
                                    } for t in line.tax_lines])],
                    })
        move, = Move.create([{
                    'company': invoice.company.id,
                    'journal': invoice.move.journal.id,
                    'period': invoice.move.period.id,
                    'date': invoice.move.date,
                    'origin': str(invoice),
                    'description': gettext(
                        'ticket_accounting.msg_invoice_settlement',
                        invoice=invoice.number, order=self.number),
                    'lines': [('create', lines)],
                    }])
        Move.post([move])
        receivable = [l for l in move.lines if l.account == invoice.account]
        Invoice.add_payment_lines({invoice: receivable})
        MoveLine.reconcile(list(invoice.lines_to_pay) + receivable)
        Invoice.process([invoice])


class InvoiceRequestStart(ModelView):
    "The business buyer of an invoice"
    __name__ = 'ticket.accounting.invoice.request.start'
    name = fields.Char("Company Name", required=True)
    street = fields.Text("Street", required=True)
    postal_code = fields.Char("Postal Code", required=True)
    city = fields.Char("City", required=True)
    country = fields.Many2One('country.country', "Country", required=True)
    vat_number = fields.Char("VAT Number", required=True,
        help="The buyer's intra-community VAT number (e.g. FR40303265045).")
    siret = fields.Char("SIRET",
        help="The 14 digits of the buyer's establishment (optional).")


class InvoiceRequest(Wizard):
    "Invoice an order"
    __name__ = 'ticket.accounting.invoice.request'
    start = StateView('ticket.accounting.invoice.request.start',
        'ticket_accounting.invoice_request_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Invoice", 'invoice', 'tryton-ok', default=True),
            ])
    invoice = StateAction('account_invoice.act_invoice_out_form')

    def default_start(self, fields):
        party = self.record.party if self.record else None
        values = {}
        if party:
            values['name'] = party.name
            address = party.address_get(type='invoice')
            if address:
                values.update({
                        'street': address.street_unstructured,
                        'postal_code': address.postal_code,
                        'city': address.city,
                        'country': address.country.id
                        if address.country else None,
                        })
            for identifier in party.identifiers:
                if identifier.type == 'eu_vat':
                    values['vat_number'] = identifier.code
                elif identifier.type == 'fr_siret':
                    values['siret'] = identifier.code
        return values

    def do_invoice(self, action):
        Order = Pool().get('ticket.order')
        start = self.start
        invoice = Order.invoice_order(self.record, Buyer(start.name,
                start.street, start.postal_code, start.city, start.country,
                start.vat_number, start.siret))
        action['res_id'] = [invoice.id]
        action['views'].reverse()
        return action, {}
