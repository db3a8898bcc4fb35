"""The money of orders in the ledger.

``Order.book_money`` is the one service that books money an order received
or gave back, whatever brought it (a payment, a refund, a credit spent or
given back, a refund as credit). The money covers the order's lines in
proportion: a cumulative share of what the order's money covers so far is
allocated over its components (each line's amount excluding VAT and each
of its taxes) by largest remainder, and a posting books the difference
between the shares after and before. Once the money covers the order, every
component is booked to the cent; a refund of everything reverses exactly
what was booked. Ticket revenue goes to deferred revenue until its session
is recognized; fees and products are revenue at once; VAT is collected at
payment. The tickets of an event sold for a producer (a mandate) credit the
producer's account, VAT included: that money and its VAT are the
producer's."""
from collections import namedtuple
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from trytond.model import fields
from trytond.transaction import without_check_access
from trytond.pool import Pool, PoolMeta

from .posting import ZERO, local_date

Component = namedtuple('Component', ['line', 'tax', 'weight'])


def largest_remainder(weights, amount, unit):
    """Split amount over weights in proportion, in multiples of unit, the
    parts adding up to amount exactly"""
    total = sum(weights, ZERO)
    if not total or not amount:
        return [ZERO] * len(weights)
    exact = [w * amount / total for w in weights]
    floors = [(e / unit).to_integral_value(ROUND_FLOOR) * unit
        for e in exact]
    left = int(((amount - sum(floors, ZERO)) / unit).to_integral_value())
    order = sorted(range(len(weights)),
        key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += unit
    return floors


def ticket_share(tickets, share, weight):
    "The tickets that share of a line's weight covers, rounded half up"
    return int((tickets * share / weight).quantize(
            Decimal(1), rounding=ROUND_HALF_UP))


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'
    accounting_postings = fields.One2Many(
        'ticket.accounting.posting', 'order', "Accounting Entries",
        readonly=True)

    @classmethod
    def copy(cls, orders, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('accounting_postings', None)
        return super().copy(orders, default=default)

    @property
    def payable_amount(self):
        """What payments must cover: the total less what credits paid (as
        the shop has it), so that a payment of the rest pays the order and
        books the credits spent"""
        amount = getattr(self, 'amount_to_pay', None)
        return super().payable_amount if amount is None else amount

    def accounting_components(self):
        """The parts of the order's total to book: per line, its amount
        excluding VAT then each of its taxes"""
        components = []
        for line in sorted(self.lines, key=lambda l: l.id):
            taxes = sorted(getattr(line, 'taxes', None) or [],
                key=lambda t: t.id)
            tax_amount = sum((t.amount for t in taxes), ZERO)
            components.append(Component(line, None, line.amount - tax_amount))
            for tax in taxes:
                components.append(Component(line, tax, tax.amount))
        return components

    def money_booked(self):
        "What the order's booked money covers so far"
        Posting = Pool().get('ticket.accounting.posting')
        return sum((p.order_amount or ZERO for p in Posting.search([
                        ('order', '=', self.id),
                        ('order_amount', '!=', None),
                        ])), ZERO)

    def component_line(self, configuration, component, amount):
        """The (account, amount, values) posting line of amount (negative
        for a credit) of component"""
        line, tax, _ = component
        values = {
            'session': line.session.id if line.session else None,
            'tariff': line.tariff.id if getattr(line, 'tariff', None)
            else None,
            'product': line.product.id if getattr(line, 'product', None)
            else None,
            }
        kind = getattr(line, 'kind', 'ticket')
        event = line.session.event if line.session else (
            line.tariff.event if getattr(line, 'tariff', None) else None)
        producer = event.producer if event and kind == 'ticket' else None
        if tax:
            base = (self.currency.round(tax.base * amount / tax.amount)
                if tax.amount else ZERO)
            if producer:
                # the producer's VAT: the company only holds it
                return (configuration.producers_account, amount, dict(
                        values,
                        kind='mandate_tax', tax=tax.tax.id, base=-base,
                        party=producer.id))
            return (tax.tax.invoice_account, amount, dict(values,
                    kind='tax', tax=tax.tax.id, base=-base))
        if producer:
            return (configuration.producers_account, amount, dict(values,
                    kind='mandate', party=producer.id))
        if kind == 'ticket' and line.session and not (
                line.session.revenue_recognized):
            return (configuration.deferred_revenue, amount,
                dict(values, kind='deferred'))
        if not getattr(line, 'product', None):
            return (configuration.deferred_revenue, amount,
                dict(values, kind='deferred'))
        return (line.product.account_revenue_used, amount,
            dict(values, kind='fee' if kind == 'fee' else 'revenue'))

    @classmethod
    @without_check_access
    def book_money(cls, order, kind, amount, account, line_kind, at=None,
            **values):
        """Book amount (negative when given back) of order's money against
        account; return the posting, or None if the company books nothing.

        The caller holds the lock of the order."""
        pool = Pool()
        Configuration = pool.get('ticket.accounting.configuration')
        Posting = pool.get('ticket.accounting.posting')
        configuration = Configuration.for_company(order.company)
        if configuration is None or not amount:
            return None
        currency = order.currency
        unit = Decimal(1).scaleb(-currency.digits)
        total = order.total
        before = order.money_booked()
        after = before + amount
        covered_before = min(max(before, ZERO), total)
        covered_after = min(max(after, ZERO), total)
        excess = (after - covered_after) - (before - covered_before)
        components = order.accounting_components()
        weights = [c.weight for c in components]
        shares_before = largest_remainder(weights, covered_before, unit)
        shares_after = largest_remainder(weights, covered_after, unit)
        lines = [(account, amount, {'kind': line_kind})]
        for component, old, new in zip(
                components, shares_before, shares_after):
            if new != old:
                account, line_amount, line_values = order.component_line(
                    configuration, component, old - new)
                tickets = component.line.quantity * (
                    component.line.tickets_per_unit or 0)
                if component.tax is None and tickets and component.weight:
                    line_values['quantity'] = (
                        ticket_share(tickets, new, component.weight)
                        - ticket_share(tickets, old, component.weight))
                lines.append((account, line_amount, line_values))
        if excess:
            lines.append((configuration.advance, -excess,
                    {'kind': 'advance'}))
        posting = Posting.book(configuration, kind, lines,
            local_date(order.company, at), order=order.id,
            order_amount=amount, channel=order.channel, **values)
        if posting:
            posting.settle_sessions()
        return posting

    @classmethod
    def _pay(cls, orders):
        super()._pay(orders)
        for order in cls.browse([o.id for o in orders]):
            cls.book_credits(order)

    @classmethod
    def give_back_credits(cls, orders):
        super().give_back_credits(orders)
        for order in orders:
            cls.book_credits(cls(order.id))

    @classmethod
    @without_check_access
    def book_credits(cls, order):
        """Book the credits the order spends or gave back since last
        booked (debit or credit of the credits' liability)"""
        pool = Pool()
        Configuration = pool.get('ticket.accounting.configuration')
        Posting = pool.get('ticket.accounting.posting')
        configuration = Configuration.for_company(order.company)
        if configuration is None or not hasattr(order, 'credit_amount'):
            return
        booked = sum((p.order_amount for p in Posting.search([
                        ('order', '=', order.id),
                        ('kind', 'in', ['credit', 'credit_back']),
                        ])), ZERO)
        spent = order.credit_amount if order.state == 'paid' else (
            order.credit_amount if booked else ZERO)
        if spent != booked:
            cls.book_money(order,
                'credit' if spent > booked else 'credit_back',
                spent - booked, configuration.credit_liability, 'credit')
