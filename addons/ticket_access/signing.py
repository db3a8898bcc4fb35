"""Signed ticket codes: what the QR code of a ticket carries.

A signed code is ``G1`` followed by the URL-safe base64 (no padding) of a
payload and its Ed25519 signature by the key of the ticket's event::

    payload = version (1 byte, 1)
              event id, ticket id, session id (0 for a pass),
              valid from, valid until (UTC seconds since 1970, 0 = open)
                                              (5 unsigned 32-bit big-endian)
              secret length (1 byte) + secret (UTF-8)
    code    = "G1" + base64url(payload + signature(64 bytes))

The signature covers ``DOMAIN + payload``. Anybody holding the event's
public key verifies a code without the network (``verify``); the private key
never leaves the server. A code that does not decode, is cut short, was
altered or signed by another key is refused as ``invalid_signature``. The
secret inside is the ticket's own, so the server finds the ticket by it and
an offline device by its hash (``secret_hash``).

The functions at the top need no database: a scanner, a test or the bench
use them as they are.
"""
import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import struct

from cryptography.exceptions import InvalidSignature as _CryptoInvalid
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)

from sql import Null
from sql.functions import CurrentTimestamp

from trytond.model import ModelSQL, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

PREFIX = 'G1'
VERSION = 1
DOMAIN = b'guichet-ticket-v1\x00'
HEADER = struct.Struct('>BIIIII')
SIGNATURE_SIZE = 64
MAX_SECRET = 64
MAX_CODE = 2 + 4 * ((HEADER.size + 1 + MAX_SECRET + SIGNATURE_SIZE + 2) // 3)
EPOCH = dt.datetime(1970, 1, 1)


class InvalidCode(ValueError):
    "The code is not a well-formed signed code or its signature is wrong"


@dataclasses.dataclass(frozen=True)
class SignedTicket:
    "The content of a signed code"
    event: int
    ticket: int
    session: int
    valid_from: int
    valid_until: int
    secret: str


def b64encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def b64decode(text):
    if not isinstance(text, str) or not text.isascii():
        raise InvalidCode("not base64url")
    try:
        return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCode("not base64url")


def timestamp(value):
    "Seconds since 1970 of a naive UTC datetime (0 for None)"
    if value is None:
        return 0
    return max(int((value - EPOCH).total_seconds()), 0)


def secret_hash(secret):
    "The hash of a secret that offline bundles carry instead of the secret"
    return b64encode(hashlib.sha256(secret.encode('utf-8')).digest()[:16])


def generate_key_pair():
    "A new Ed25519 key pair as (private, public), raw bytes in base64url"
    private = Ed25519PrivateKey.generate()
    return (
        b64encode(private.private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                serialization.NoEncryption())),
        b64encode(private.public_key().public_bytes(
                serialization.Encoding.Raw,
                serialization.PublicFormat.Raw)))


def is_signed(code):
    return isinstance(code, str) and code.startswith(PREFIX)


def sign(private_key, ticket):
    "The signed code of ticket (a SignedTicket) with a base64url private key"
    secret = ticket.secret.encode('utf-8')
    if not 0 < len(secret) <= MAX_SECRET:
        raise ValueError("secret too long")
    payload = HEADER.pack(VERSION, ticket.event, ticket.ticket,
        ticket.session, ticket.valid_from, ticket.valid_until) + bytes(
        [len(secret)]) + secret
    key = Ed25519PrivateKey.from_private_bytes(b64decode(private_key))
    return PREFIX + b64encode(payload + key.sign(DOMAIN + payload))


def decode(code):
    """Split a signed code into its ticket, payload and signature, unchecked;
    raise InvalidCode when it is not well formed"""
    if not is_signed(code) or len(code) > MAX_CODE:
        raise InvalidCode("not a signed code")
    data = b64decode(code[len(PREFIX):])
    if len(data) < HEADER.size + 1 + SIGNATURE_SIZE:
        raise InvalidCode("too short")
    payload, signature = data[:-SIGNATURE_SIZE], data[-SIGNATURE_SIZE:]
    version, event, ticket, session, valid_from, valid_until = (
        HEADER.unpack_from(payload))
    size = payload[HEADER.size]
    secret = payload[HEADER.size + 1:]
    if version != VERSION or len(secret) != size or not size:
        raise InvalidCode("bad payload")
    try:
        secret = secret.decode('utf-8')
    except UnicodeDecodeError:
        raise InvalidCode("bad secret")
    return SignedTicket(event, ticket, session, valid_from, valid_until,
        secret), payload, signature


def verify(code, public_key):
    """Return the SignedTicket of code if public_key signed it.

    public_key is the base64url raw public key, or a function of the event
    id returning it (None when unknown). Raise InvalidCode otherwise."""
    ticket, payload, signature = decode(code)
    if callable(public_key):
        public_key = public_key(ticket.event)
    if not public_key:
        raise InvalidCode("unknown key")
    try:
        key = Ed25519PublicKey.from_public_bytes(b64decode(public_key))
        key.verify(signature, DOMAIN + payload)
    except (_CryptoInvalid, ValueError):
        raise InvalidCode("bad signature")
    return ticket


class SigningKey(ModelSQL):
    """The private key of an event: no user may read it (no access right);
    only the server's own code signs with it"""
    __name__ = 'ticket.access.signing_key'
    event = fields.Many2One(
        'ticket.event', "Event", required=True, ondelete='CASCADE')
    private_key = fields.Char("Private Key", required=True, strip=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('event_unique', Unique(t, t.event),
                'ticket_access.msg_signing_key_unique'),
            ]


class Event(metaclass=PoolMeta):
    __name__ = 'ticket.event'
    access_public_key = fields.Char(
        "Public Key", readonly=True, strip=False,
        help="Verifies the signed QR codes of the tickets without network "
        "(Ed25519, base64url). The private key never leaves the server.")

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        cls.ensure_keys(cls.search([]))

    @classmethod
    def create(cls, vlist):
        events = super().create(vlist)
        cls.ensure_keys(events)
        return events

    @classmethod
    def copy(cls, events, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('access_public_key', None)
        return super().copy(events, default=default)

    @classmethod
    def ensure_keys(cls, events):
        "Give a key pair to the events that have none"
        from guichet.ticket_event.common import forget_records
        SigningKey = Pool().get('ticket.access.signing_key')
        table = cls.__table__()
        key = SigningKey.__table__()
        cursor = Transaction().connection.cursor()
        forget_records(cls, [e.id for e in events])
        for event in events:
            private, public = generate_key_pair()
            cursor.execute(*table.update(
                    [table.access_public_key], [public],
                    where=(table.id == event.id)
                    & (table.access_public_key == Null),
                    returning=[table.id]))
            if cursor.fetchone():
                cursor.execute(*key.delete(where=key.event == event.id))
                cursor.execute(*key.insert(
                        [key.event, key.private_key, key.create_uid,
                            key.create_date],
                        [[event.id, private, Transaction().user,
                                CurrentTimestamp()]]))

    @classmethod
    def public_keys(cls, event_ids):
        "Return {event id: base64url public key}"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id, table.access_public_key,
                where=table.id.in_(list(event_ids) or [-1])))
        return {i: k for i, k in cursor if k}

    @classmethod
    def _private_key(cls, event_id):
        SigningKey = Pool().get('ticket.access.signing_key')
        key = SigningKey.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*key.select(key.private_key,
                where=key.event == event_id))
        row = cursor.fetchone()
        return row[0] if row else None


def sign_ticket(ticket):
    "The signed code of a ticket.ticket record (its event signs)"
    Event = Pool().get('ticket.event')
    event = ticket.signing_event
    private_key = Event._private_key(event.id)
    if not private_key:
        Event.ensure_keys([event])
        private_key = Event._private_key(event.id)
    starts, ends = zip(*ticket.signing_window) if ticket.signing_window else (
        [None], [None])
    return sign(private_key, SignedTicket(
            event=event.id, ticket=ticket.id,
            session=ticket.session.id if ticket.session else 0,
            valid_from=timestamp(min(filter(None, starts), default=None)),
            valid_until=timestamp(max(filter(None, ends), default=None)),
            secret=ticket.secret))
