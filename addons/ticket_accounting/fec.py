"""The FEC export of account_fr on the ticketing moves.

A move of one ticketing entry has the entry as origin, which the FEC
prints as the piece reference ("PieceRef"). A move batching the entries of
a day and a channel has no single origin: its piece reference is its
description (day, channel and number of entries), which names the day's
sales journal of that channel, the document that justifies it."""
from trytond.pool import Pool, PoolMeta


class FrFEC(metaclass=PoolMeta):
    __name__ = 'account.fr.fec'

    def get_reference(self, line):
        reference = super().get_reference(line)
        if not reference and line.move.description and (
                self._ticketing_move(line.move)):
            reference = line.move.description
        return reference

    def _ticketing_move(self, move):
        "Whether move books ticketing entries"
        Posting = Pool().get('ticket.accounting.posting')
        cache = self.__dict__.setdefault('_ticketing_moves', {})
        if move.id not in cache:
            cache[move.id] = bool(Posting.search(
                    [('move', '=', move.id)], limit=1))
        return cache[move.id]
