"""Gates and their scanner devices.

A device is a named scanner (a phone, a turnstile) limited to chosen
check-in lists. It authenticates with its own API key, a Tryton user
application (``res.user.application``, application "Ticket Scanner"):
``Authorization: Bearer <key>``. Revoking the device cancels the
application; the next request with that key is refused, as every request
looks the key up again.
"""
import urllib.parse

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.url import http_host

from guichet.ticket_event.api_key import ApiKeyMixin, ArrayAgg

APPLICATION = 'ticket_access'


class UserApplication(metaclass=PoolMeta):
    __name__ = 'res.user.application'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.application.selection.append((APPLICATION, "Ticket Scanner"))


class Device(ApiKeyMixin, Workflow, ModelSQL, ModelView):
    "A scanner device at the gates"
    __name__ = 'ticket.access.device'
    _application = APPLICATION
    name = fields.Char("Name", required=True)
    company = fields.Many2One('company.company', "Company", required=True)
    lists = fields.Many2Many(
        'ticket.access.device-ticket.access.list', 'device', 'list',
        "Check-in Lists",
        domain=[('company', '=', Eval('company', -1))],
        help="The only lists the device may scan for.")
    application = fields.Many2One(
        'res.user.application', "API Key", readonly=True,
        ondelete='RESTRICT')
    key = fields.Function(fields.Char(
            "Key", help="Give it to the device once; revoke the device "
            "if it leaks."), 'get_key')
    scanner_url = fields.Function(fields.Char(
            "Scanner Link", help="Opens the scanner app already connected "
            "with the key of the device: give it to the device once."),
        'get_scanner_url')
    last_seen = fields.DateTime("Last Seen", readonly=True)
    last_sync = fields.DateTime("Last Sync", readonly=True)

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_key(self, name):
        if self.state == 'active' and self.application:
            return self.application.key

    def get_scanner_url(self, name):
        "The scanner app's address, with the key in its fragment (which "
        "browsers never send to a server)"
        key = self.key
        if not key:
            return None
        database = urllib.parse.quote(Transaction().database.name)
        return (f'{http_host()}/{database}/ticket/scanner/'
            f'#key={urllib.parse.quote(key)}')

    @classmethod
    def copy(cls, devices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('last_seen', None)
        default.setdefault('last_sync', None)
        return super().copy(devices, default=default)

    @classmethod
    def authenticate(cls, key):
        """Return (device id, company id, [list ids]) of an active device
        with a validated key, or None"""
        DeviceList = Pool().get('ticket.access.device-ticket.access.list')
        device_list = DeviceList.__table__()
        row = cls.key_owner(key, lambda t: t.id, lambda t: t.company,
            lambda t: ArrayAgg(device_list.select(device_list.list,
                    where=device_list.device == t.id)))
        if not row:
            return None
        device_id, company, lists = row
        return device_id, company, sorted(lists)

    @classmethod
    def check_modification(cls, mode, devices, values=None, external=False):
        super().check_modification(
            mode, devices, values=values, external=external)
        if mode == 'delete':
            for device in devices:
                if device.state == 'active':
                    raise AccessError(gettext(
                            'ticket_access.msg_device_delete_active',
                            device=device.rec_name))


class DeviceList(ModelSQL):
    __name__ = 'ticket.access.device-ticket.access.list'
    device = fields.Many2One(
        'ticket.access.device', "Device", required=True, ondelete='CASCADE')
    list = fields.Many2One(
        'ticket.access.list', "List", required=True, ondelete='CASCADE')
