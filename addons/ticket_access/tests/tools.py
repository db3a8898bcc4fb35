"""Call the check-in services from a proteus scenario, as the scanner API
does (the scan service is a Python call, not client RPC)."""
from proteus import Model
from proteus.config import get_config
from trytond.pool import Pool

from guichet.ticket_event.tests.tools import _run

__all__ = ['scan', 'signed_code', 'bundle']


def scan(checkin, code=None, ticket=None, direction=None, at=None,
        device=None, config=None):
    "Scan a code or a proteus ticket on a proteus list; return the result"
    config = config or get_config()

    def func():
        pool = Pool()
        Scan = pool.get('ticket.access.scan')
        CheckinList = pool.get('ticket.access.list')
        rules = CheckinList.rules([checkin.id])[checkin.id]
        outcome = Scan.scan(rules, code=code,
            ticket_id=ticket.id if ticket else None, direction=direction,
            at=at, device=device.id if device else None)
        return outcome.result, outcome.direction, outcome.scan
    result, direction, scan_id = _run(func, config)
    return result, direction, Model.get(
        'ticket.access.scan', config=config)(scan_id)


def signed_code(ticket, config=None):
    "The content of the QR code printed on a proteus ticket"
    config = config or get_config()

    def func():
        return Pool().get('ticket.ticket')(ticket.id).qr_data
    return _run(func, config)


def bundle(device_key, since=None, config=None):
    "The offline bundle of the device of a key (or its changes since)"
    config = config or get_config()

    def func():
        pool = Pool()
        Device = pool.get('ticket.access.device')
        CheckinList = pool.get('ticket.access.list')
        Bundle = pool.get('ticket.access.bundle')
        found = Device.authenticate(device_key)
        if not found:
            return None
        _, _, lists = found
        return Bundle.build(
            list(CheckinList.rules(lists).values()), since=since)
    return _run(func, config)
