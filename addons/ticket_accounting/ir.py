from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('ticket.accounting.posting|post_pending',
                    "Post Ticketing Entries of Past Days"),
                ('ticket.session|recognize_revenue',
                    "Recognize Revenue of Sessions Taken Place"),
                ('ticket.accounting.payout|pay_scheduled',
                    "Pay Producers on their Payout Schedule"),
                ])
