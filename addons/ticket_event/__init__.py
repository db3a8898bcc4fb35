# Public routes register themselves on trytond's WSGI application on import.
from . import routes  # noqa: F401
from .common import cache_getter_signatures

cache_getter_signatures()
