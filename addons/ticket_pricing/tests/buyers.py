"Tests of the buyer's party: the plain creation equals the ORM's"
import re
from unittest import mock

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.party.exceptions import InvalidEMail
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .. import buyer as buyer_module
from .helpers import create_accounts

# the columns that differ between two parties created one after the other
VARYING = {'id', 'code', 'code_alnum', 'code_digit', 'party',
    'create_date', 'write_date'}


def rows(Model, ids):
    "The rows of ids of Model's table, by column name, without VARYING"
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(where=table.id.in_(ids), order_by=table.id))
    names = [d[0] for d in cursor.description]
    return [{n: v for n, v in zip(names, row) if n not in VARYING}
        for row in cursor]


def create(name, email):
    "The party created by create_buyer, and whether by insert_rows"
    with mock.patch.object(buyer_module, 'insert_rows',
            wraps=buyer_module.insert_rows) as insert_rows, \
            Transaction().set_context(_ticket_buyer_party=True):
        party = buyer_module.create_buyer(name, email)
    return party, insert_rows.call_count == 2


class BuyerTestMixin:

    def assert_as_orm(self, plain, orm):
        pool = Pool()
        Party = pool.get('party.party')
        Mechanism = pool.get('party.contact_mechanism')
        Sequence = pool.get('ir.sequence')
        self.assertEqual(rows(Party, [plain.id]), rows(Party, [orm.id]))
        mechanisms = [Mechanism.search([('party', '=', p.id)])
            for p in [plain, orm]]
        self.assertEqual(*[len(m) for m in mechanisms])
        self.assertEqual(*[rows(Mechanism, [m.id for m in ms])
                for ms in mechanisms])
        # the codes one after the other from the configured sequence
        sequence = Party._code_sequence()
        self.assertEqual(len({plain.code, orm.code}), 2)
        for party in [plain, orm]:
            party = Party(party.id)
            self.assertEqual(party.code_alnum,
                re.sub(r'[\W_]', '', party.code))
            self.assertEqual(party.code_digit, int(party.code))
        self.assertEqual(int(Sequence(sequence.id).number_next),
            max(int(plain.code), int(orm.code)) + 1)

    @with_transaction()
    def test_buyer_party_plain_as_orm(self):
        "A new buyer's party and e-mail inserted are the rows of the ORM's"
        company = create_company()
        with set_company(company):
            create_accounts(company)
            plain, inserted = create("Ann Buyer", 'Ann@Example.org')
            self.assertTrue(inserted)
            with mock.patch.object(
                    buyer_module, 'buyer_plain', return_value=False):
                orm, inserted = create("Ann Buyer", 'Ann@Example.org')
            self.assertFalse(inserted)
            self.assert_as_orm(plain, orm)
            self.assertEqual(plain.email, orm.email)
            # the e-mail finds the party
            self.assertEqual(buyer_module.find_party(
                    "Someone", plain.email), plain)

    @with_transaction()
    def test_buyer_party_fallback(self):
        """The ORM creates the party of a new buyer when a trigger or an
        unknown module's method acts on its creation, or its e-mail is
        refused"""
        pool = Pool()
        Trigger = pool.get('ir.trigger')
        company = create_company()
        with set_company(company):
            create_accounts(company)
            get_triggers = Trigger.get_triggers

            def triggers(model, mode):
                if model == 'party.contact_mechanism':
                    return [mock.Mock()]
                return get_triggers(model, mode)
            with mock.patch.object(Trigger, 'get_triggers', triggers):
                party, inserted = create("Ann", 'ann@example.org')
            self.assertFalse(inserted)
            self.assertEqual(party.email, 'ann@example.org')
            with mock.patch.object(buyer_module, 'KNOWN_MODULES',
                    buyer_module.KNOWN_MODULES - {
                        'guichet.ticket_pricing.order'}):
                party, inserted = create("Bob", 'bob@example.org')
            self.assertFalse(inserted)
            self.assertEqual(party.email, 'bob@example.org')
            party, inserted = create("Carl", 'carl@example.org')
            self.assertTrue(inserted)
            # an address the ORM refuses: its error
            refused = buyer_module.EmailNotValidError("refused")
            with mock.patch.object(buyer_module, 'validate_email',
                    side_effect=refused), \
                    mock.patch('trytond.modules.party.contact_mechanism'
                        '.validate_email', side_effect=refused), \
                    self.assertRaises(InvalidEMail) as raised:
                create("Dan", 'dan@example.org')
            self.assertIn('dan@example.org', raised.exception.message)
