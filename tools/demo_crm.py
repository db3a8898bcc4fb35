"""Demo data of ticket_crm: consents of the demo buyers, a few segments,
their RFM scores and two scheduled messages (access instructions the day
before, thanks two hours after). Called by tools/demo.py."""
import datetime as dt
import random


def create_crm(database, seed=20261124):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    rng = random.Random(seed)
    with Transaction().start(database, 1) as transaction:
        pool = Pool()
        try:
            Segment = pool.get('ticket.crm.segment')
        except KeyError:
            return
        Company = pool.get('company.company')
        company, = Company.search([])
        with transaction.set_context(company=company.id):
            _create_crm(pool, company, rng, Segment)
        transaction.commit()


def _create_crm(pool, company, rng, Segment):
    Consent = pool.get('ticket.crm.consent')
    Order = pool.get('ticket.order')
    Tag = pool.get('ticket.event.tag')
    Schedule = pool.get('ticket.crm.schedule')
    Score = pool.get('ticket.crm.rfm')
    buyers = sorted({o.party for o in Order.search([('party', '!=', None)])},
        key=lambda p: p.id)
    for party in buyers:
        if rng.random() < 0.6:
            Consent.record_consent(party, 'marketing', True,
                rng.choice(['shop', 'shop', 'box_office']))
        if rng.random() < 0.3:
            Consent.record_consent(party, 'newsletter', True, 'shop')
    Score.compute([company])
    try:
        Purpose = pool.get('ticket.shop.consent.purpose')
    except KeyError:
        pass
    else:
        # The shop's newsletter checkbox goes to the consent register
        purposes = Purpose.search([('name', 'ilike', '%lettre%')])
        Purpose.write(purposes, {'crm_purpose': 'newsletter'})
    jazz, = Tag.search([('name', '=', 'Jazz')])
    theatre, = Tag.search([('name', '=', 'Théâtre')])
    Segment.create([{
                'name': 'Amateurs de jazz (consentement marketing)',
                'lines': [('create', [
                            {'kind': 'purchase', 'tag': jazz.id},
                            {'kind': 'consent', 'purpose': 'marketing'}])],
                }, {
                'name': 'Meilleurs clients (RFM ≥ 4)',
                'lines': [('create', [{'kind': 'rfm', 'r_min': 4,
                                'f_min': 4}])],
                }, {
                'name': 'Théâtre mais pas jazz',
                'lines': [('create', [
                            {'kind': 'purchase', 'tag': theatre.id},
                            {'kind': 'purchase', 'tag': jazz.id,
                                'negate': True}])],
                }, {
                'name': 'Deux commandes ou plus',
                'lines': [('create', [{'kind': 'orders', 'minimum': 2}])],
                }])
    Segment.refresh_counts()
    Schedule.create([{
                'name': 'Informations d’accès (la veille)',
                'offset': dt.timedelta(hours=-24), 'kind': 'transactional',
                'subject': 'Demain : {{ event }}',
                'body': 'Bonjour {{ party }},\n\nvotre commande {{ order }} '
                'pour {{ session }} ({{ start }}) : les portes ouvrent '
                '30 minutes avant le début. Présentez votre billet à '
                'l’entrée.\n\nÀ demain !',
                }, {
                'name': 'Merci (2 heures après)',
                'offset': dt.timedelta(hours=2), 'kind': 'marketing',
                'subject': 'Merci d’être venu·e à {{ event }}',
                'body': 'Bonjour {{ party }},\n\nmerci pour votre venue. '
                'Donnez-nous votre avis en deux minutes : '
                'https://example.org/avis',
                }])
