from trytond.exceptions import UserError


class PosError(UserError):
    "The box office refuses the operation"

    def __init__(self, message, code='invalid', **kwargs):
        super().__init__(message, **kwargs)
        self.code = code
