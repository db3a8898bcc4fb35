"""What check-in adds to a ticket: its signed QR code, the change log
that offline bundles sync from, its scans and "mark unused"."""
from trytond.model import ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .signing import sign_ticket

XID = "pg_current_xact_id()::text::bigint"


class BigInteger(fields.Integer):
    "A 64-bit integer column (transaction ids)"
    _sql_type = 'BIGINT'


def touch(table, ids):
    """Stamp rows of table with the current transaction id, so that the
    next sync of the devices sends them"""
    if not ids:
        return
    cursor = Transaction().connection.cursor()
    cursor.execute(
        f'UPDATE "{table}" SET access_xid = {XID} WHERE id = ANY(%s)',
        (list(ids),))


class Ticket(metaclass=PoolMeta):
    __name__ = 'ticket.ticket'
    access_xid = BigInteger(
        "Change", readonly=True,
        help="The transaction that last changed the ticket (offline sync).")
    access_entries = fields.One2Many(
        'ticket.access.entry', 'ticket', "Check-ins", readonly=True)
    access_scans = fields.One2Many(
        'ticket.access.scan', 'ticket', "Scans", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update(
            mark_unused={
                'invisible': Eval('state') != 'used',
                'icon': 'tryton-undo',
                'depends': ['state'],
                },
            )

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # a new ticket is stamped by its INSERT (no UPDATE after it)
        Transaction().connection.cursor().execute(
            f'ALTER TABLE "{cls._table}" '
            f'ALTER COLUMN access_xid SET DEFAULT {XID}')

    # The tickets of a new order inserted by plain SQL (Ticket._create_new)
    # get the column's default stamp: create stamps only those given one
    # (_plain_issue keeps them on the ORM's path)
    _plain_insert_skips_create = True

    @classmethod
    def _plain_issue(cls, vlist):
        return super()._plain_issue(vlist) and not any(
            'access_xid' in v for v in vlist)

    @classmethod
    def create(cls, vlist):
        given = [i for i, v in enumerate(vlist) if 'access_xid' in v]
        tickets = super().create(vlist)
        # the others have the column's default: their transaction's id
        touch(cls._table, [tickets[i].id for i in given])
        return tickets

    @classmethod
    def write(cls, *args):
        super().write(*args)
        touch(cls._table, [t.id for t in sum(args[::2], [])])

    @property
    def signing_event(self):
        "The event whose key signs the ticket's code"
        return self.session.event

    @property
    def signing_window(self):
        "The (start, end) of the sessions the ticket admits to"
        if not self.session:
            return []
        return [(self.session.start, self.session.end or self.session.start)]

    @classmethod
    def _access_search_event(cls, event_id):
        "Domains, or-ed, of the tickets without session admitted to event"
        return []

    @property
    def qr_data(self):
        return sign_ticket(self)

    @classmethod
    @ModelView.button
    def mark_unused(cls, tickets):
        "Undo every check-in of the tickets: they may enter again"
        Scan = Pool().get('ticket.access.scan')
        Scan.reset_tickets(tickets)

    @classmethod
    @Workflow.transition('valid')
    def unuse(cls, tickets):
        Scan = Pool().get('ticket.access.scan')
        super().unuse(tickets)
        Scan.reset_tickets(tickets, set_state=False)
