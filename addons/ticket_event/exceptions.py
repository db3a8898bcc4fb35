from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class SaleClosedError(UserError):
    "The session cannot be sold now on this channel"


class CapacityError(UserError):
    "Not enough places left in a capacity pool"


class HoldError(UserError):
    "The hold cannot be used (expired, released, unknown)"


class OrderError(UserError):
    "The order cannot go through this change"


class PoolValidationError(ValidationError):
    pass
