"""The party of a buyer: found by e-mail, created with its e-mail if new.

A new buyer's party is created at each first checkout: by two plain INSERTs
(the party, its e-mail) when nothing but the modules known here acts on the
creation of a party or a contact mechanism, instead of the ORM's create
that reads the party configuration and its sequence, reads both records
back to validate them and the party's relations (9 statements); by the ORM
otherwise."""
from trytond.cache import Cache
from trytond.model import fields
from trytond.modules.party.contact_mechanism import (
    EmailNotValidError, validate_email)
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from guichet.ticket_event.common import clears_caches
from guichet.ticket_event.hold import AUDIT_FIELDS, insert_rows
from guichet.ticket_event.ir import sequence_get

# The id of the party sequence of the configuration (0 for none), kept per
# process (cleared in every process when it changes)
_party_sequence = Cache('ticket_pricing.party_sequence', context=False)
# The methods of the creation of a party and a contact mechanism that
# create_buyer does the work of, and the modules whose versions it knows:
# the ORM's create when another module overrides one of them
CREATE_METHODS = {
    'create', '_before_create', '_after_create', 'preprocess_values',
    'default_get', '_clean_defaults', '_validate', 'validate',
    'validate_fields', 'check_modification', 'on_modification',
    '_compute_fields', 'compute_fields', '_code_sequence',
    'check_valid_email', 'check_valid_phonenumber', 'format_value',
    'format_value_compact'}
KNOWN_MODULES = {
    'trytond.model.model', 'trytond.model.modelstorage',
    'trytond.model.modelsql', 'trytond.model.modelview',
    'trytond.model.descriptors', 'trytond.model.multivalue',
    'trytond.model.active', 'trytond.model.order',
    'trytond.modules.party.party', 'trytond.modules.party.contact_mechanism',
    # the code's derived fields created with it (under _ticket_buyer_party)
    'guichet.ticket_pricing.order',
    # the IBAN's format (a buyer gives none)
    'guichet.ticket_accounting.payout',
    }
# The types of the values create_buyer inserts (a party's and an e-mail's)
PLAIN_TYPES = {'char', 'integer', 'boolean', 'selection', 'many2one'}


def party_code():
    """The code of a new party from the configured sequence (as
    Party.preprocess_values), the sequence's id kept per process; None
    without a sequence"""
    pool = Pool()
    Party = pool.get('party.party')
    if {k.__module__ for k in Party.__mro__ if '_code_sequence' in vars(k)
            } != {'trytond.modules.party.party'}:
        # another module's choice of the sequence
        sequence = Party._code_sequence()
        return sequence.get() if sequence else None
    # (a module may make the configuration depend on the company)
    key = Transaction().context.get('company')
    sequence_id = _party_sequence.get(key)
    if sequence_id is None:
        sequence = Party._code_sequence()
        sequence_id = sequence.id if sequence else 0
        _party_sequence.set(key, sequence_id)
    return sequence_get(sequence_id) if sequence_id else None


def find_party(name, email):
    "The party of the buyer's e-mail, created if needed"
    pool = Pool()
    Party = pool.get('party.party')
    parties = Party.search([
            ('contact_mechanisms', 'where', [
                    ('type', '=', 'email'),
                    ('value', '=', email),
                    ]),
            ], order=[('id', 'ASC')], limit=1)
    if parties:
        return parties[0]
    with Transaction().set_context(_ticket_buyer_party=True):
        return create_buyer(name, email)


def create_buyer(name, email):
    """Create the party of a new buyer with its e-mail; return it.

    Under the context _ticket_buyer_party: by the plain INSERTs of
    insert_rows when the creation is plain (buyer_plain), by the ORM's
    Party.create otherwise (the same rows: the test compares them)"""
    pool = Pool()
    Party = pool.get('party.party')
    Mechanism = pool.get('party.contact_mechanism')
    # the address in the forms compute_fields would write after creation
    mechanism = Mechanism(type='email')
    mechanism_values = {
        'type': 'email',
        'value': mechanism.format_value(value=email, type_='email'),
        'value_compact': mechanism.format_value_compact(
            value=email, type_='email'),
        }
    # no empty postal address (a business buyer's invoice asks for one)
    orm_values = {
        'name': name,
        'addresses': [],
        'contact_mechanisms': [('create', [mechanism_values])],
        }
    plain = buyer_plain(mechanism_values)
    if plain:
        # the e-mail's defaults (none depends on its party)
        values = with_defaults(Mechanism, dict(mechanism_values, party=-1))
        plain = values is not None and plain_values(Mechanism, values)
    if not plain:
        party, = Party.create([orm_values])
        return party
    created = Party._before_create([{'name': name}])[0]
    party_values = with_defaults(Party, created)
    if party_values is None or not plain_values(Party, party_values):
        # with the code already taken from the sequence
        if created.get('code'):
            orm_values['code'] = created['code']
        party, = Party.create([orm_values])
        return party
    party_id, = insert_rows(Party, [party_values], cache=True)
    mechanism_values = with_defaults(Mechanism, Mechanism._before_create(
            [dict(mechanism_values, party=party_id)])[0])
    insert_rows(Mechanism, [mechanism_values], cache=True)
    return Party(party_id)


def buyer_plain(mechanism_values):
    """Whether create_buyer may insert the party and its e-mail: no other
    module's version of their creation's methods, no trigger, a valid
    e-mail (the ORM's error otherwise)"""
    pool = Pool()
    Trigger = pool.get('ir.trigger')
    for model in ['party.party', 'party.contact_mechanism']:
        Model = pool.get(model)
        modules = {k.__module__ for k in Model.__mro__
            if CREATE_METHODS & set(vars(k))}
        if (not modules <= KNOWN_MODULES or Model._history
                or Trigger.get_triggers(model, 'create')):
            return False
    try:
        validate_email(mechanism_values['value'])
    except EmailNotValidError:
        return False
    return True


def with_defaults(Model, values):
    """values with the defaults ModelSQL.create would store; None when a
    default or a value is one it would save by its field's set (relations
    to create, multi-values)"""
    names = [n for n, f in Model._fields.items()
        if n not in values and n not in AUDIT_FIELDS
        and not (isinstance(f, fields.Function) and not f.setter)]
    values = dict(values)
    values.update(Model._clean_defaults(
            Model.default_get(names, with_rec_name=False)))
    for name, value in list(values.items()):
        if hasattr(Model._fields[name], 'set'):
            if value:
                return None
            del values[name]
    return values


def plain_values(Model, values):
    """Whether values are what the ORM's validation would accept without
    reading: of simple types without domain, size nor digits, known
    selection values, every required field given"""
    for name, field in Model._fields.items():
        if name in AUDIT_FIELDS or hasattr(field, 'set'):
            continue
        if field.states.get('required') is not None:
            return False
        if field.required and values.get(name) is None:
            return False
        value = values.get(name)
        if value is None:
            continue
        if (field._type not in PLAIN_TYPES
                or getattr(field, 'domain', None)
                or getattr(field, 'size', None) is not None
                or getattr(field, 'translate', False)):
            return False
        if field._type == 'selection':
            if not isinstance(field.selection, (list, tuple)) or (
                    value not in {k for k, _ in field.selection}):
                return False
    return True


class ConfigurationSequence(
        clears_caches(_party_sequence), metaclass=PoolMeta):
    __name__ = 'party.configuration.party_sequence'


class Sequence(metaclass=PoolMeta):
    __name__ = 'ir.sequence'

    @classmethod
    def delete(cls, sequences):
        # the party sequence of the configuration may be one of them
        super().delete(sequences)
        _party_sequence.clear()
