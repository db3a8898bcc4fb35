"""Records that authenticate API requests with their own key.

A scanner device (ticket_access) and a partner (ticket_pricing) each own a
Tryton user application (``res.user.application``) of their module's
application name: ``Authorization: Bearer <key>``. ``ApiKeyMixin`` gives
such a model a key at its creation, a new one on demand (the previous one
cancelled), the revocation of its key, and the query that finds the active
owner of a validated key.
"""
from sql.functions import Function

from trytond.model import ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction


class ArrayAgg(Function):
    "ARRAY(subquery)"
    __slots__ = ()
    _function = 'ARRAY'


class ApiKeyMixin:
    """A Workflow model with an ``application`` Many2One to
    res.user.application; the mixin gives it its state 'active' /
    'revoked' and the buttons New Key and Revoke. _application is the name
    of its user applications"""
    __slots__ = ()
    _application = None
    state = fields.Selection([
            ('active', "Active"),
            ('revoked', "Revoked"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._transitions |= {('active', 'revoked')}
        cls._buttons.update(
            revoke={
                'invisible': Eval('state') != 'active',
                'icon': 'tryton-cancel',
                'depends': ['state'],
                },
            new_key={
                'invisible': Eval('state') != 'active',
                'icon': 'tryton-refresh',
                'depends': ['state'],
                },
            )

    @classmethod
    def default_state(cls):
        return 'active'

    @classmethod
    def create(cls, vlist):
        records = super().create(vlist)
        cls._give_keys([r for r in records if not r.application])
        return records

    @classmethod
    def copy(cls, records, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('application', None)
        return super().copy(records, default=default)

    @classmethod
    def _give_keys(cls, records):
        "Give each record a new key, cancelling its previous one"
        UserApplication = Pool().get('res.user.application')
        old = [r.application for r in records if r.application]
        if old:
            UserApplication.cancel(old)
        user = Transaction().user or None
        applications = UserApplication.create([{
                    'application': cls._application,
                    'user': user,
                    'state': 'validated',
                    } for _ in records])
        for record, application in zip(records, applications):
            record.application = application
        cls.save(records)

    @classmethod
    @ModelView.button
    def new_key(cls, records):
        cls._give_keys(records)

    @classmethod
    @ModelView.button
    @Workflow.transition('revoked')
    def revoke(cls, records):
        "Refuse the record's key from now on"
        UserApplication = Pool().get('res.user.application')
        UserApplication.cancel([r.application for r in records
                if r.application and r.application.state != 'cancelled'])

    @classmethod
    def key_owner(cls, key, *columns):
        """The row of columns (of cls.__table__() given as argument, e.g.
        lambda table: table.id) of the active record with the validated
        key, or None"""
        UserApplication = Pool().get('res.user.application')
        if not key or len(key) > 256:
            return None
        table = cls.__table__()
        application = UserApplication.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.join(application,
                condition=application.id == table.application
                ).select(*[c(table) for c in columns],
                where=(application.key == key)
                & (application.application == cls._application)
                & (application.state == 'validated')
                & (table.state == 'active')))
        return cursor.fetchone()
