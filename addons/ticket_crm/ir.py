from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('ticket.crm.rfm|compute_all', "Compute RFM Scores"),
                ('ticket.crm.segment|refresh_counts',
                    "Count Segment Members"),
                ('ticket.crm.schedule|send_due',
                    "Send Scheduled Ticket Messages"),
                ('party.party|anonymize_inactive',
                    "Anonymize Inactive Buyers"),
                ])
