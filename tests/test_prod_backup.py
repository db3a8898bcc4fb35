"""``make backup`` / ``make restore`` (tools/backup.py): a database with
orders (paid, reserved, cancelled), tickets, payments, holds and a stored
file round-trips identically — same tables, same row counts, same md5 of
every table's rows in order, same sequences, same files in the file store.
A corrupt backup and an existing target are refused."""
import hashlib
import pathlib
import shutil
import tempfile
import unittest
from decimal import Decimal

from tests.checkin import sell_tickets
from tests.server import (
    configure_trytond, create_database, drop_database, load_catalogue,
    pgctl)

import backup  # noqa: E402 (tools/, on the path of tests.server)

DATABASE = 'test_prod_backup'
RESTORED = 'test_prod_backup_restored'


def fingerprint(database):
    "Every table's row count and md5 of its rows in order; the sequences"
    import psycopg
    with psycopg.connect(pgctl.uri(database)) as conn:
        tables = [r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
                "ORDER BY table_name")]
        result = {}
        for table in tables:
            result[table] = conn.execute(
                f'SELECT count(*), md5(coalesce(string_agg(t::text, '
                f"'\n' ORDER BY t::text), '')) FROM \"{table}\" t"
                ).fetchone()
        result['<sequences>'] = conn.execute(
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = 'public' ORDER BY sequencename").fetchall()
    return result


def files(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes())
        .hexdigest() for p in sorted(root.rglob('*')) if p.is_file()}


class BackupTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        create_database(DATABASE)
        cls.addClassCleanup(drop_database, DATABASE)
        cls.addClassCleanup(drop_database, RESTORED)
        configure_trytond()
        cls.dest = pathlib.Path(tempfile.mkdtemp(prefix='guichet-backup-'))
        cls.addClassCleanup(shutil.rmtree, cls.dest, True)
        cls.counts = cls.fill()

    @classmethod
    def fill(cls):
        "Orders in every state, tickets, payments, a hold, a stored file"
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        with Transaction().start(DATABASE, 0, readonly=True):
            Pool(DATABASE).init()
        with Transaction().start(DATABASE, 0) as transaction:
            pool = Pool(DATABASE)
            Hold = pool.get('ticket.hold')
            Order = pool.get('ticket.order')
            Payment = pool.get('ticket.order.payment')
            Session = pool.get('ticket.session')
            Attachment = pool.get('ir.attachment')
            ids = load_catalogue(pool)
            session = Session(ids['sessions']['open'])
            company = session.event.company.id
            tickets = sell_tickets(pool, session.id, 30, per_order=3)
            with transaction.set_context(company=company):
                paid = []
                for index in range(5):
                    order = Order.create_from_holds([Hold.reserve(
                                [{'session': session, 'quantity': 2}])],
                        email=f'buyer{index}@example.org')
                    Payment.record(order, 'manual', f'REF-{index}',
                        Decimal('12.50'))
                    paid.append(order)
                reserved = Order.create_from_holds([Hold.reserve(
                            [{'session': session, 'quantity': 4}])],
                    email='later@example.org')
                cancelled = Order.create_from_holds([Hold.reserve(
                            [{'session': session, 'quantity': 1}])],
                    email='gone@example.org')
                Order.cancel([cancelled])
                Hold.reserve([{'session': session, 'quantity': 3}])
                Attachment.create([{
                            'name': 'contract.pdf',
                            'resource': str(reserved),
                            'data': b'%PDF-1.4 ' + bytes(range(256)) * 40,
                            }])
            transaction.commit()
        return {'tickets': len(tickets) + 10, 'payments': 5}

    def test_round_trip(self):
        before = fingerprint(DATABASE)
        self.assertEqual(before['ticket_ticket'][0], self.counts['tickets'])
        self.assertEqual(before['ticket_order_payment'][0], 5)
        self.assertEqual(before['ticket_order'][0], 17)
        self.assertEqual(before['ticket_hold'][0], 18)
        store = backup.filestore_root() / DATABASE
        stored = files(store)
        self.assertTrue(stored, "the attachment is in the file store")

        directory = backup.backup(DATABASE, dest=self.dest)
        self.assertTrue(directory.name.startswith(f'{DATABASE}-'))
        manifest = backup.read_manifest(directory)
        self.assertEqual(manifest['database'], DATABASE)
        self.assertEqual(backup.backups(self.dest), [directory])

        self.assertEqual(backup.restore(directory, RESTORED), RESTORED)
        after = fingerprint(RESTORED)
        self.assertEqual(sorted(after), sorted(before))
        for table in before:
            with self.subTest(table=table):
                self.assertEqual(after[table], before[table])
        self.assertEqual(files(backup.filestore_root() / RESTORED), stored)

        # the comparison sees a difference
        import psycopg
        with psycopg.connect(pgctl.uri(RESTORED)) as conn:
            conn.execute("UPDATE ticket_ticket SET holder_name = 'X' "
                "WHERE id = (SELECT min(id) FROM ticket_ticket)")
        self.assertNotEqual(fingerprint(RESTORED)['ticket_ticket'],
            before['ticket_ticket'])

        # an existing database is kept unless --force
        with self.assertRaises(backup.BackupError):
            backup.restore(directory, RESTORED)
        self.assertEqual(backup.main(['restore', str(directory), RESTORED,
                    '--force']), 0)
        self.assertEqual(fingerprint(RESTORED), before)

    def test_corrupt_backup_refused(self):
        directory = backup.backup(DATABASE, dest=self.dest)
        dump = directory / backup.DUMP
        data = bytearray(dump.read_bytes())
        data[len(data) // 2] ^= 0xFF
        dump.write_bytes(bytes(data))
        target = 'test_prod_backup_corrupt'
        with self.assertRaises(backup.BackupError):
            backup.restore(directory, target)
        self.assertFalse(backup.exists(target))
        shutil.rmtree(directory)
        with self.assertRaises(backup.BackupError):
            backup.backup('test_prod_no_such_database', dest=self.dest)


if __name__ == '__main__':
    unittest.main()
