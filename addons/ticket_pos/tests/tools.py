"""Run the box office service from a proteus scenario, as the terminal's
routes do: in a committed transaction of the proteus configuration, as a
given user, with the company in the context."""
from proteus.config import get_config
from trytond.pool import Pool
from trytond.transaction import Transaction

from guichet.ticket_event.tests.tools import _run

__all__ = ['run']


def run(func, user=None, config=None):
    """Call func(pool) in a committed transaction as user (the proteus
    user by default) and return what it returns"""
    config = config or get_config()

    def call():
        pool = Pool()
        User = pool.get('res.user')
        transaction = Transaction()
        with transaction.set_user(user or config.user):
            context = User.get_preferences(context_only=True)
            with transaction.set_context(context):
                return func(pool)
    return _run(call, config)
