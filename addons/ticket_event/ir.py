from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('ticket.hold|expire_stale', "Expire Ticket Holds"),
                ('ticket.order|expire_stale', "Expire Unpaid Ticket Orders"),
                ('ticket.session|update_sale_states',
                    "Update Session Sale States"),
                ])
