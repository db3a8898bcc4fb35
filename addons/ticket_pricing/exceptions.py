from trytond.exceptions import UserError


class PricingError(UserError):
    """The price engine refuses a candidate order.

    code names the reason for the API: invalid, not_for_session,
    not_for_channel, window_closed, sale_closed, quantity, amount, restricted,
    code_invalid, code_exhausted, capacity, credit_invalid."""

    def __init__(self, message, code='invalid', description=''):
        super().__init__(message, description)
        self.code = code
