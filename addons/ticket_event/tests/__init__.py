from .helpers import counts, create_event, reserve, sell

__all__ = ['create_event', 'counts', 'reserve', 'sell']
