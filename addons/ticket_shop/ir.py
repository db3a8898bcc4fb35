from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('ticket.shop.waitlist|process',
                    "Offer Freed Places to the Waiting Lists"),
                ('ticket.shop.rate_limit|clean',
                    "Clean Shop Rate Limits"),
                ])
