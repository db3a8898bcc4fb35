"""Demo data of the pricing module beyond plain tariffs: a festival pass,
a theatre season with its subscription, promo codes, a package deal, an
access list and gift vouchers — one example of each case an organizer sets
up in the back office (Ticketing ▸ Tariffs, Promotions, Credits)."""
import datetime as dt
from decimal import Decimal


def create_promotions(events, products):
    from proteus import Model, Wizard
    Event = Model.get('ticket.event')
    Session = Model.get('ticket.session')
    Tariff = Model.get('ticket.tariff')
    Season = Model.get('ticket.season')
    Campaign = Model.get('ticket.promo.campaign')
    Deal = Model.get('ticket.package.deal')
    AccessList = Model.get('ticket.sale.list')
    show = products['show']

    # The jazz festival's 3-day pass: one ticket, one admission per evening,
    # each counted in its evening's pools
    jazz = Event(events['jazz'].id)
    evenings = Session.find([('event', '=', jazz.id)],
        order=[('start', 'ASC')])
    evening_tariffs = {t.sessions[0].id: t for t in Tariff.find([
                ('event', '=', jazz.id), ('name', '=', 'Soirée')])
        if len(t.sessions) == 1}
    Pool = Model.get('ticket.pool')
    pass_pool, = Pool.find([('event', '=', jazz.id),
            ('name', '=', 'Pass 3 jours')])
    pass_3 = Tariff(event=jazz, name='Pass 3 soirs', price=Decimal('110.00'),
        product=show, pass_kind='multipass', pool=pass_pool)
    for evening in evenings:
        pass_3.components.new(session=evening,
            tariff=evening_tariffs.get(evening.id))
    pass_3.save()
    # ... and a 2-evening pass, chosen among the three
    pass_2 = Tariff(event=jazz, name='Pass 2 soirs au choix',
        price=Decimal('80.00'), product=show, pass_kind='multipass',
        min_choices=2, max_choices=2)
    for evening in evenings:
        pass_2.components.new(session=evening,
            tariff=evening_tariffs.get(evening.id), mandatory=False)
    pass_2.save()

    # Two tickets of the same evening give 5 € off, whatever the evening
    deal = Deal(event=jazz, name='Duo jazz', amount=Decimal('5.00'))
    for tariff in evening_tariffs.values():
        deal.components.new(tariff=tariff, quantity=2)
        break
    deal.save()

    # The theatre season: a subscription to the Misanthrope and the
    # Nutcracker, with its pass code, renewable next season
    misanthrope = Event(events['misanthrope'].id)
    nutcracker = Event(events['nutcracker'].id)
    season = Season(name='Saison 2026-2027')
    season.save()
    subscription = Tariff(event=misanthrope, name='Abonnement 2 spectacles',
        price=Decimal('48.00'), product=show, pass_kind='season',
        season=season)
    for event in [misanthrope, nutcracker]:
        first, = Session.find([('event', '=', event.id)],
            order=[('start', 'ASC')], limit=1)
        subscription.components.new(session=first)
    subscription.save()

    # Promo codes: a shared code for the newsletter, 20 single-use codes
    # for a partner, and a pasted list
    plein, = Tariff.find([('event', '=', misanthrope.id),
            ('name', '=', 'Plein tarif'), ('category.name', '=', 'Parterre')])
    newsletter = Campaign(name='Newsletter de novembre',
        computation='percentage', rate=Decimal('0.10'), per='order')
    newsletter.events.append(Event(misanthrope.id))
    newsletter.codes.new(code='BIENVENUE', max_uses=500)
    newsletter.save()
    partner = Campaign(name='Comité d\'entreprise Arsenal',
        computation='fixed', amount=Decimal('6.00'), per='ticket',
        uses_per_order=2)
    partner.end = dt.datetime.now() + dt.timedelta(days=60)
    partner.tariffs.append(Tariff(plein.id))
    partner.save()
    generate = Wizard('ticket.promo.code.generate', [partner])
    generate.form.count = 20
    generate.form.prefix = 'CE-'
    generate.execute('generate')
    paste = Wizard('ticket.promo.code.import', [partner])
    paste.form.text = "ARSENAL-001\nARSENAL-002\nARSENAL-003\n"
    paste.execute('import_')

    # PyCon's company tariff is for the members' e-mail domain only
    company_tariff, = Tariff.find([('event', '=', events['pycon'].id),
            ('name', '=', 'Entreprise')])
    members = AccessList(name='Membres AFPy', kind='domain')
    members.tariffs.append(Tariff(company_tariff.id))
    members.entries.new(value='afpy.org', quantity=10)
    members.save()
    invited = AccessList(name='Répétition générale (mots de passe)',
        kind='password')
    invite = Tariff(event=misanthrope, name='Invitation répétition',
        price=Decimal('0'), product=show, channels=['online'])
    invite.save()
    invited.tariffs.append(Tariff(invite.id))
    invited.entries.new(value='MOLIERE1622', quantity=2)
    invited.entries.new(value='ALCESTE', quantity=2)
    invited.save()

    # Gift vouchers of 50 € sold at Christmas, valid one year
    issue = Wizard('ticket.credit.issue')
    issue.form.count = 5
    issue.form.amount = Decimal('50.00')
    issue.form.valid_until = dt.datetime.now() + dt.timedelta(days=365)
    issue.execute('issue')
