from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import DEFAULT_TIMEZONE, TIMEZONES


class Venue(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'ticket.venue'
    name = fields.Char("Name", required=True)
    company = fields.Many2One('company.company', "Company", required=True)
    party = fields.Many2One(
        'party.party', "Party",
        context={'company': Eval('company', -1)}, depends={'company'},
        help="The party that holds the address of the venue.")
    address = fields.Many2One(
        'party.address', "Address",
        domain=[('party', '=', Eval('party', -1))],
        states={'invisible': ~Eval('party')})
    timezone = fields.Selection(
        TIMEZONES, "Time Zone", required=True, translate=False,
        help="Dates of the events held here are shown in this time zone.")
    capacity = fields.Integer(
        "Capacity", help="Default capacity of the sessions held here.",
        domain=['OR', ('capacity', '=', None), ('capacity', '>=', 0)])
    notes = fields.Text("Notes")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_timezone(cls):
        return DEFAULT_TIMEZONE

    @fields.depends('party', 'address')
    def on_change_party(self):
        if self.party and (
                not self.address or self.address.party != self.party):
            self.address = self.party.address_get()
        elif not self.party:
            self.address = None
