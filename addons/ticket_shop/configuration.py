"""Shop settings of the ticketing configuration, and the shop's secret."""
import datetime as dt
import secrets

from sql import Conflict
from sql.functions import CurrentTimestamp

from trytond.model import ModelSQL, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

DEFAULT_ONLINE_PAYMENT_DELAY = dt.timedelta(minutes=20)
DEFAULT_OFFER_DELAY = dt.timedelta(hours=24)
# The secret of each database, once read (it never changes)
_secrets = {}


class Configuration(metaclass=PoolMeta):
    __name__ = 'ticket.configuration'
    shop_url = fields.Char(
        "Public Shop URL",
        help="The address of the web shop as buyers reach it, e.g. "
        "https://tickets.example.com/db/ticket/shop; used in e-mails and "
        "in the embeddable widget.")
    online_payment_delay = fields.TimeDelta(
        "Online Payment Delay", required=True,
        help="How long an order placed in the shop waits for its online "
        "payment before its places return to sale.")
    waitlist_offer_delay = fields.TimeDelta(
        "Waiting List Offer Delay", required=True,
        help="How long places offered to a person on a waiting list stay "
        "held for them.")

    @classmethod
    def default_online_payment_delay(cls):
        return DEFAULT_ONLINE_PAYMENT_DELAY

    @classmethod
    def default_waitlist_offer_delay(cls):
        return DEFAULT_OFFER_DELAY

    @classmethod
    def get_shop_secret(cls):
        "The secret that signs the shop's forms and notifications"
        Secret = Pool().get('ticket.shop.secret')
        return Secret.get('shop')

    @classmethod
    def shop_base_url(cls):
        "The configured URL of the shop without its trailing slash"
        url = cls(1).shop_url
        return url.rstrip('/') if url else None


class Secret(ModelSQL):
    """A random secret of the database, drawn on first use (it signs the
    shop's forms and the test provider's notifications)"""
    __name__ = 'ticket.shop.secret'
    name = fields.Char("Name", required=True)
    value = fields.Char("Value", required=True, strip=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('name_unique', Unique(t, t.name),
                'ticket_shop.msg_secret_unique'),
            ]

    @classmethod
    def get(cls, name):
        """The secret of name, drawn and stored at once (autocommit) by the
        first process that needs it; the others read the same"""
        database = Transaction().database.name
        key = (database, name)
        if key not in _secrets:
            table = cls.__table__()
            with Transaction().new_transaction(autocommit=True) as (
                    transaction):
                cursor = transaction.connection.cursor()
                cursor.execute(*table.insert(
                        [table.create_uid, table.create_date, table.name,
                            table.value],
                        [[0, CurrentTimestamp(), name,
                                secrets.token_hex(32)]],
                        on_conflict=Conflict(
                            table, indexed_columns=[table.name])))
                cursor.execute(*table.select(
                        table.value, where=table.name == name))
                _secrets[key], = cursor.fetchone()
        return _secrets[key]
