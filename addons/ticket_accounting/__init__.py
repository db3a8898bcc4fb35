# Public routes register themselves on trytond's WSGI application on import.
from . import routes  # noqa: F401
