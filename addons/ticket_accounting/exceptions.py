from trytond.exceptions import UserError


class AccountingError(UserError):
    "Ticketing cannot be booked"
