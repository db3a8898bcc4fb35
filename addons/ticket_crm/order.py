from trytond.model import Index
from trytond.pool import PoolMeta


class Order(metaclass=PoolMeta):
    __name__ = 'ticket.order'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.party, Index.Range()),
                    (t.state, Index.Equality(cardinality='low'))),
                })
