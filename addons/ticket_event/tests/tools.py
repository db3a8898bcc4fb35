"""Call the ticketing services from a proteus scenario.

The services (``Hold.reserve``, ``Order.create_from_holds``) are Python
calls made by the shop, the box office and the API, not client RPC; these
helpers run them in a transaction of the proteus configuration, as those
edges do, and return proteus records."""
from proteus import Model
from proteus.config import get_config
from trytond.pool import Pool
from trytond.transaction import Transaction, TransactionError

__all__ = ['reserve', 'create_order']


def _run(func, config):
    "Run func() in a committed transaction, restarted when it asks a lock"
    extras = {}
    while True:
        with Transaction().start(
                config.database_name, config.user,
                context=config.context, **extras) as transaction:
            try:
                return func()
            except TransactionError as error:
                transaction.rollback()
                error.fix(extras)


def reserve(items, channel='web', delay=None, config=None):
    """Hold places with Hold.reserve and return the proteus hold.

    items is a list of (session, quantity) or of dict as Hold.reserve takes
    them, with proteus sessions."""
    config = config or get_config()

    def func():
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Session = pool.get('ticket.session')
        values = []
        for item in items:
            if not isinstance(item, dict):
                session, quantity = item
                item = {'session': session, 'quantity': quantity}
            item = item.copy()
            item['session'] = Session(item['session'].id)
            values.append(item)
        return Hold.reserve(values, channel=channel, delay=delay).id
    return Model.get('ticket.hold', config=config)(_run(func, config))


def create_order(holds, party=None, email=None, payment_delay=None,
        config=None):
    "Create an order from proteus holds and return the proteus order"
    config = config or get_config()

    def func():
        pool = Pool()
        Hold = pool.get('ticket.hold')
        Order = pool.get('ticket.order')
        Party = pool.get('party.party')
        order = Order.create_from_holds(
            Hold.browse([h.id for h in holds]),
            party=Party(party.id) if party else None, email=email,
            payment_delay=payment_delay)
        return order.id
    return Model.get('ticket.order', config=config)(_run(func, config))
