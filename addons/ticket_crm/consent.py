"""The consent register: what each customer agreed to, when and where.

A consent is never edited: giving or withdrawing it adds a record
(``Consent.record_consent``, the service the shop's checkout, the box
office and imports call). The latest record of a party for a purpose is
its current answer; marketing messages and mailing lists go only to the
parties whose current answer is yes. Transactional messages (tickets,
access instructions) need no consent."""
from sql import Literal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from guichet.ticket_event.common import now

PURPOSES = [
    ('marketing', "Marketing"),
    ('newsletter', "Newsletter"),
    ('partners', "Partners' Offers"),
    ]
SOURCES = [
    ('shop', "Web Shop"),
    ('box_office', "Box Office"),
    ('back_office', "Back Office"),
    ('import', "Import"),
    ('unsubscribe', "Unsubscribe Link"),
    ]


class ConsentError(AccessError):
    pass


class Consent(ModelSQL, ModelView):
    "A consent given or withdrawn by a customer"
    __name__ = 'ticket.crm.consent'
    _states = {'readonly': Eval('id', -1) >= 0}
    party = fields.Many2One(
        'party.party', "Customer", required=True, ondelete='CASCADE',
        states=_states, context={'company': Eval('company', -1)},
        depends={'company'})
    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    purpose = fields.Selection(PURPOSES, "Purpose", required=True,
        states=_states)
    given = fields.Boolean("Given", states=_states,
        help="Checked when the customer agreed, unchecked when withdrawn.")
    date = fields.DateTime("Date", required=True, states=_states)
    source = fields.Selection(SOURCES, "Source", required=True,
        states=_states)
    reference = fields.Char("Reference", states=_states,
        help="Where the answer was given, e.g. the order number.")
    user = fields.Many2One('res.user', "User", readonly=True)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(
                t, (t.party, Index.Equality()), (t.purpose, Index.Equality()),
                (t.date, Index.Range(order='DESC'))))
        # The latest answers of a company for a purpose (segments, lists)
        cls._sql_indexes.add(Index(
                t, (t.company, Index.Equality()),
                (t.purpose, Index.Equality()), (t.party, Index.Range()),
                (t.date, Index.Range(order='DESC')),
                (t.id, Index.Range(order='DESC')),
                include=[t.given]))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_date(cls):
        return now()

    @classmethod
    def default_source(cls):
        return 'back_office'

    @classmethod
    def default_given(cls):
        return True

    @classmethod
    def default_user(cls):
        return Transaction().user or None

    @classmethod
    def check_modification(cls, mode, consents, values=None, external=False):
        super().check_modification(
            mode, consents, values=values, external=external)
        if mode in {'write', 'delete'} and external:
            raise ConsentError(gettext('ticket_crm.msg_consent_readonly'))

    @classmethod
    def create(cls, vlist):
        consents = super().create(vlist)
        # A consent makes its party a customer of the company
        Pool().get('ticket.crm.party.stat').refresh(
            parties=[c.party for c in consents])
        return consents

    @classmethod
    def delete(cls, consents):
        parties = [c.party for c in consents]
        super().delete(consents)
        Pool().get('ticket.crm.party.stat').refresh(parties=parties)

    @classmethod
    def record_consent(cls, party, purpose, given, source, date=None,
            reference=None, company=None):
        """Record that party gave (given true) or withdrew its consent for
        purpose, from source; return the new record"""
        if purpose not in dict(PURPOSES):
            raise ConsentError(gettext(
                    'ticket_crm.msg_consent_purpose', purpose=purpose))
        if source not in dict(SOURCES):
            raise ConsentError(gettext(
                    'ticket_crm.msg_consent_source', source=source))
        if company is None:
            company = Transaction().context.get('company')
        if company is None:
            raise ConsentError(gettext('ticket_crm.msg_consent_company'))
        consent, = cls.create([{
                    'party': int(party),
                    'company': int(company),
                    'purpose': purpose,
                    'given': bool(given),
                    'source': source,
                    'date': date or now(),
                    'reference': reference,
                    'user': Transaction().user or None,
                    }])
        return consent

    @classmethod
    def current(cls, purpose, company=None):
        """The latest answer of each party for purpose: a query with
        columns party, given, date"""
        consent = cls.__table__()
        where = consent.purpose == purpose
        if company is not None:
            where &= consent.company == company
        return consent.select(
            consent.party, consent.given, consent.date,
            where=where, distinct_on=[consent.party],
            order_by=[consent.party, consent.date.desc, consent.id.desc])

    @classmethod
    def consenting(cls, purpose, company=None):
        "The parties whose latest answer for purpose is yes: column party"
        current = cls.current(purpose, company)
        return current.select(
            current.party, where=current.given == Literal(True))

    @classmethod
    def given_ids(cls, parties, purpose, company=None):
        "The ids of parties whose latest answer for purpose is yes"
        cursor = Transaction().connection.cursor()
        consenting = cls.consenting(purpose, company)
        ids = [int(p) for p in parties]
        result = set()
        for i in range(0, len(ids), 10000):
            cursor.execute(*consenting.select(
                    consenting.party,
                    where=consenting.party.in_(ids[i:i + 10000])))
            result.update(r[0] for r in cursor)
        return result
