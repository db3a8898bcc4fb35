from trytond.exceptions import UserError


class ShopError(UserError):
    """A refusal of the shop, shown to the buyer.

    field names the form field the message belongs to (None for the page)."""

    def __init__(self, message, field=None, status=400):
        super().__init__(message)
        self.field = field
        self.status = status


class AnswerError(ShopError):
    "An answer to an organizer's question is not valid"
