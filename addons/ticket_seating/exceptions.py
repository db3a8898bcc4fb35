from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class SeatingError(UserError):
    """A seat request refused.

    code names the reason for the API: seats_unavailable (not enough
    seats), seats_not_together, isolated_seat, seat_taken, seat_invalid,
    tariff_seat, mode (the channel's seating mode forbids it)."""

    def __init__(self, message, code='seat_invalid', description=''):
        super().__init__(message, description)
        self.code = code


class MapError(UserError):
    "A seat map cannot be changed, generated or imported so"


class MapValidationError(ValidationError):
    pass
