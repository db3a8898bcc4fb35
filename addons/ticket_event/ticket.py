import secrets

from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval

from .common import company_currency
from .ir import sequence_get_many


def new_secret():
    "A ticket secret: 192 random bits, URL-safe (32 characters)"
    return secrets.token_urlsafe(24)


class Ticket(Workflow, ModelSQL, ModelView):
    "An admission"
    __name__ = 'ticket.ticket'
    _rec_name = 'number'
    number = fields.Char("Number", readonly=True, required=True)
    secret = fields.Char(
        "Secret", readonly=True, required=True, strip=False,
        help="Printed in the QR code; whoever knows it gets in.")
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    order = fields.Many2One(
        'ticket.order', "Order", required=True, readonly=True,
        ondelete='RESTRICT')
    line = fields.Many2One(
        'ticket.order.line', "Order Line", readonly=True,
        ondelete='RESTRICT')
    session = fields.Many2One(
        'ticket.session', "Session", readonly=True, ondelete='RESTRICT')
    event = fields.Function(
        fields.Many2One('ticket.event', "Event"),
        'on_change_with_event', searcher='search_event')
    holder_name = fields.Char(
        "Holder", states={'readonly': Eval('state') == 'cancelled'})
    holder_email = fields.Char(
        "Holder E-mail", states={'readonly': Eval('state') == 'cancelled'})
    type_label = fields.Char(
        "Type", readonly=True, help="The kind of admission, e.g. the tariff.")
    price = Monetary(
        "Price", currency='currency', digits='currency', readonly=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    state = fields.Selection([
            ('valid', "Valid"),
            ('used', "Used"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('secret_unique', Unique(t, t.secret),
                'ticket_event.msg_ticket_secret_unique'),
            ('number_unique', Unique(t, t.company, t.number),
                'ticket_event.msg_ticket_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.order, Index.Range())),
                Index(t, (t.session, Index.Range()),
                    (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('valid', 'used'),
            ('used', 'valid'),
            ('valid', 'cancelled'),
            ('used', 'cancelled'),
            }

    @classmethod
    def default_state(cls):
        return 'valid'

    @classmethod
    def default_secret(cls):
        return new_secret()

    @fields.depends('session', '_parent_session.event')
    def on_change_with_event(self, name=None):
        return self.session.event if self.session else None

    @classmethod
    def search_event(cls, name, clause):
        return [('session.event',) + tuple(clause[1:])]

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return company_currency(self.company) if self.company else None

    @classmethod
    def copy(cls, tickets, default=None):
        Configuration = Pool().get('ticket.configuration')
        default = default.copy() if default is not None else {}
        sequence = Configuration.sequence('ticket_sequence')
        default.setdefault('number', lambda data: sequence.get())
        default.setdefault('secret', lambda data: new_secret())
        return super().copy(tickets, default=default)

    @classmethod
    def issue(cls, lines):
        "Issue the tickets of order lines; return them"
        return cls._create_new(cls._new_tickets(lines))

    @classmethod
    def _new_tickets(cls, lines):
        """The tickets of order lines, not saved yet: the values a module
        gives them here are saved with them (one save)"""
        Configuration = Pool().get('ticket.configuration')
        counts = [(line, line.quantity * line.tickets_per_unit)
            for line in lines]
        # all the numbers by one statement
        numbers = iter(sequence_get_many(
                Configuration.setting('ticket_sequence'),
                sum(c for _, c in counts)))
        tickets = []
        holders = {}
        for line, count in counts:
            if not count:
                continue
            order = line.order
            if order.id not in holders:
                # the name (a party's rec_name when it has none) in one read
                holders[order.id] = (order.party.name or order.party.rec_name
                    ) if order.party else None
            holder = holders[order.id]
            price = line.ticket_price
            for _ in range(count):
                tickets.append(cls(
                        number=next(numbers),
                        secret=new_secret(),
                        company=order.company,
                        order=order,
                        line=line,
                        session=line.session,
                        holder_name=holder,
                        holder_email=order.email,
                        type_label=line.description,
                        price=price,
                        state='valid'))
        return tickets

    @classmethod
    def _create_new(cls, tickets):
        """Save the new tickets; return them, saved.

        By one plain INSERT (Order.insert_plain, the values kept in the
        transaction's cache) when the tickets are of one company and their
        values need no check but the table's, and _plain_issue allows it;
        by the ORM's save otherwise."""
        Order = Pool().get('ticket.order')
        if not tickets:
            return tickets
        companies = {t.company for t in tickets}
        vlist = [t._save_values() for t in tickets]
        if len(companies) != 1 or not cls._plain_issue(vlist):
            cls.save(tickets)
            return tickets
        company, = companies
        ids = Order.insert_plain(cls.__name__, vlist,
            company_currency(company), cache=True)
        return cls.browse(ids)

    @classmethod
    def _plain_issue(cls, vlist):
        """Whether the new tickets of vlist (their values to save) may be
        created by Order.insert_plain (which tests their values): a module
        whose create does more for some values says no for them"""
        return True

    @property
    def admission_labels(self):
        "The admissions printed under the type, e.g. the sessions of a pass"
        return []

    @property
    def qr_data(self):
        "What the QR code of the printed ticket carries"
        return self.secret

    @classmethod
    @Workflow.transition('used')
    def use(cls, tickets):
        pass

    @classmethod
    @Workflow.transition('valid')
    def unuse(cls, tickets):
        pass

    @classmethod
    @Workflow.transition('cancelled')
    def cancel(cls, tickets):
        pass
