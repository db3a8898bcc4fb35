# The terminal and its JSON routes register themselves on trytond's WSGI
# application on import.
from . import routes  # noqa: F401
from . import terminal  # noqa: F401
