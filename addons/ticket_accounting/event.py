"""Levies on box-office revenue and sales on behalf of a producer.

A levy (the French show tax of the CNM or the ASTP, authors' rights of the
SACEM) is a rate of an event's ticket revenue excluding VAT, owed to its
collector: a liability. An event sold for a producer (a mandate) credits
its ticket money to the producer's account; the company keeps its
commission (with VAT) and the levies, and owes the producer the rest."""
from decimal import Decimal

from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.pool import PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction


def _account(string, help):
    return fields.Many2One(
        'account.account', string, required=True, help=help,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '!=', None),
            ('closed', '!=', True),
            ])


class Levy(DeactivableMixin, ModelSQL, ModelView):
    "A levy on box-office revenue"
    __name__ = 'ticket.accounting.levy'
    company = fields.Many2One('company.company', "Company", required=True)
    name = fields.Char("Name", required=True, translate=True)
    rate = fields.Numeric(
        "Rate", digits=(16, 4), required=True,
        domain=[('rate', '>=', 0), ('rate', '<=', 1)],
        help="0.035 for 3.5 % of the ticket revenue excluding VAT.")
    collector = fields.Many2One(
        'party.party', "Collector", ondelete='RESTRICT',
        context={'company': Eval('company', -1)}, depends={'company'},
        help="Who the levy is paid to (CNM, ASTP, SACEM).")
    expense_account = _account("Expense Account",
        "The charge of the levy on the company's own events.")
    liability_account = _account("Liability Account",
        "What is owed to the collector until paid.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_rec_name(self, name):
        return f"{self.name} ({self.rate * 100:g} %)"


class EventLevy(ModelSQL):
    "The levies of an event"
    __name__ = 'ticket.event-ticket.accounting.levy'
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE')
    levy = fields.Many2One(
        'ticket.accounting.levy', "Levy", required=True, ondelete='RESTRICT')


class Event(metaclass=PoolMeta):
    __name__ = 'ticket.event'
    levies = fields.Many2Many(
        'ticket.event-ticket.accounting.levy', 'event', 'levy', "Levies",
        domain=[('company', '=', Eval('company', -1))],
        help="Levied on the ticket revenue excluding VAT of the sessions "
        "that took place.")
    producer = fields.Many2One(
        'party.party', "Producer", ondelete='RESTRICT',
        context={'company': Eval('company', -1)}, depends={'company'},
        help="Set when the company sells the event on behalf of a producer "
        "(a mandate): the ticket money is the producer's, less the "
        "commission and the levies.")
    commission_rate = fields.Numeric(
        "Commission Rate", digits=(16, 4),
        domain=['OR', ('commission_rate', '=', None),
            [('commission_rate', '>=', 0), ('commission_rate', '<=', 1)]],
        states={
            'invisible': ~Bool(Eval('producer')),
            'required': Bool(Eval('producer')),
            },
        help="0.08 for 8 % of the ticket revenue excluding VAT, excluding "
        "the VAT of the commission.")
    payout_schedule = fields.Selection([
            ('twice_monthly', "1st and 16th"),
            ('monthly', "Monthly"),
            ('after_event', "After the Event"),
            ], "Payout Schedule",
        states={
            'invisible': ~Bool(Eval('producer')),
            'required': Bool(Eval('producer')),
            })

    @classmethod
    def default_commission_rate(cls):
        return Decimal(0)

    @classmethod
    def default_payout_schedule(cls):
        return 'after_event'
