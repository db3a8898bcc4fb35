# Public routes register themselves on trytond's WSGI application on import.
from . import routes  # noqa: F401
from . import partner_routes  # noqa: F401
