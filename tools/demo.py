"""Create the demo database with every Guichet addon and realistic data.

Usage: python tools/demo.py [--reset] [--banner] [DATABASE]

Re-running it is safe: an existing demo database is reused as it is.
"""
import argparse
import datetime as dt
import os
import pathlib
import random
import subprocess
import sys
import tempfile
from decimal import Decimal

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
import pgctl  # noqa: E402
import demo_pricing  # noqa: E402
import demo_accounting  # noqa: E402
import demo_crm  # noqa: E402
import demo_seating  # noqa: E402

CONFIG = ROOT / 'etc' / 'trytond.conf'
PORT = int(os.environ.get('GUICHET_PORT', '8000'))
MAIL_PORT = int(os.environ.get('GUICHET_MAIL_PORT', '8026'))
ADMIN_PASSWORD = 'admin'
TZ = 'Europe/Paris'

FIRST_NAMES = [
    'Camille', 'Léa', 'Manon', 'Chloé', 'Inès', 'Louise', 'Jade', 'Emma',
    'Lucas', 'Hugo', 'Louis', 'Gabriel', 'Arthur', 'Jules', 'Nathan',
    'Théo', 'Sophie', 'Julien', 'Claire', 'Antoine', 'Margaux', 'Thomas']
LAST_NAMES = [
    'Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit',
    'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefèbvre', 'Michel',
    'Garcia', 'David', 'Bertrand', 'Roux', 'Vincent', 'Fournier', 'Morel']


def addons():
    return sorted(
        p.parent.name for p in (ROOT / 'addons').glob('*/tryton.cfg'))


def database_exists(name):
    import psycopg
    with psycopg.connect(pgctl.uri('postgres'), autocommit=True) as conn:
        return bool(conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s",
                (name,)).fetchone())


def drop_database(name):
    import psycopg
    with psycopg.connect(pgctl.uri('postgres'), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(name):
    """Create the database and activate every addon with the French chart.

    The freshly activated database is kept as a template ({name}__base) so
    that a reset takes seconds; it is rebuilt when the addons change."""
    import psycopg
    import psycopg.sql
    base = f'{name}__base'
    stamp = modules_stamp()
    with psycopg.connect(pgctl.uri('postgres'), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = %s", (base,)).fetchone()
        if row and row[0] == stamp:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{base}"')
            return
        conn.execute(f'DROP DATABASE IF EXISTS "{base}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{base}" TEMPLATE template0 '
            "ENCODING 'UTF8'")
    activate(base)
    with psycopg.connect(pgctl.uri('postgres'), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL('COMMENT ON DATABASE {} IS {}').format(
                psycopg.sql.Identifier(base), psycopg.sql.Literal(stamp)))
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{base}"')


def modules_stamp():
    "A digest of the addons' sources: a change rebuilds the base template"
    import hashlib
    digest = hashlib.sha256()
    for path in sorted((ROOT / 'addons').rglob('*')):
        if path.suffix in {'.py', '.xml', '.cfg', '.po'} and (
                'tests' not in path.parts):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def activate(name):
    env = os.environ.copy()
    env['TRYTOND_DATABASE__URI'] = pgctl.uri()
    with tempfile.NamedTemporaryFile('w', delete=False) as passfile:
        passfile.write(ADMIN_PASSWORD)
    env['TRYTONPASSFILE'] = passfile.name
    admin = [str(pathlib.Path(sys.executable).parent / 'trytond-admin'),
        '-c', str(CONFIG), '-d', name]
    try:
        subprocess.run(admin + ['--all', '--email', 'admin@guichet.localhost',
                '-l', 'fr'], check=True, env=env)
        subprocess.run(admin + ['-u', *addons(), 'account_fr',
                '--activate-dependencies'], check=True, env=env)
        subprocess.run(admin + ['--all', '-l', 'fr'], check=True, env=env)
    finally:
        os.unlink(passfile.name)


def connect(name):
    os.environ['TRYTOND_DATABASE__URI'] = pgctl.uri()
    from proteus import config
    return config.set_trytond(name, config_file=str(CONFIG))


def has_demo_data(config):
    from proteus import Model
    return bool(Model.get('company.company', config=config).find([]))


def setup_company(config):
    "A theatre company in Lyon with euros and the French chart of accounts"
    from proteus import Model, Wizard
    Currency = Model.get('currency.currency')
    Party = Model.get('party.party')
    User = Model.get('res.user')
    Lang = Model.get('ir.lang')

    eur = Currency(name='Euro', code='EUR', symbol='€',
        rounding=Decimal('0.01'), digits=2)
    eur.save()
    party = Party(name='Théâtre du Guichet')
    address, = party.addresses
    address.street = '8 place des Célestins'
    address.postal_code = '69002'
    address.city = 'Lyon'
    party.save()
    wizard = Wizard('company.company.config')
    wizard.execute('company')
    wizard.form.party = party
    wizard.form.currency = eur
    wizard.form.timezone = TZ
    wizard.execute('add')

    admin = User(config.user)
    french, = Lang.find([('code', '=', 'fr')])
    admin.language = french
    admin.save()
    config._context = User.get_preferences(True, {})

    from trytond.modules.account_fr.tests.tools import create_chart
    create_chart(config=config)

    # The configuration steps are done: no wizard at the first login
    Item = Model.get('ir.module.config_wizard.item')
    for item in Item.find([('state', '!=', 'done')]):
        item.state = 'done'
        item.save()


def create_venues():
    from proteus import Model
    Party = Model.get('party.party')
    Venue = Model.get('ticket.venue')
    venues = {}
    for key, name, street, postal, city, capacity in [
            ('celestins', 'Théâtre des Célestins', '4 rue Charles Dullin',
                '69002', 'Lyon', 450),
            ('pinede', 'Pinède Gould', 'Boulevard Édouard Baudoin',
                '06160', 'Juan-les-Pins', 1200),
            ('congres', 'Centre de Congrès de Lyon',
                '50 quai Charles de Gaulle', '69006', 'Lyon', 800),
            ('auditorium', 'Auditorium Maurice Ravel',
                '149 rue Garibaldi', '69003', 'Lyon', 300),
            ('confluences', 'Musée des Confluences',
                '86 quai Perrache', '69002', 'Lyon', 200),
            ]:
        party = Party(name=name)
        address, = party.addresses
        address.street, address.postal_code, address.city = (
            street, postal, city)
        party.save()
        venue = Venue(name=name, party=party, timezone=TZ, capacity=capacity)
        venue.address, = party.addresses
        venue.save()
        venues[key] = venue
    return venues


def create_tags():
    from proteus import Model
    Tag = Model.get('ticket.event.tag')
    tags = {}
    for key, name in [('theatre', 'Théâtre'), ('jazz', 'Jazz'),
            ('festival', 'Festival'), ('conference', 'Conférence'),
            ('exhibition', 'Exposition'), ('family', 'Famille'),
            ('classical', 'Musique classique')]:
        tags[key] = Tag(name=name)
        tags[key].save()
    return tags


def local(day, hour, minute=0):
    "A naive UTC datetime for the local time in Paris on day"
    from guichet.ticket_event.common import to_utc
    return to_utc(dt.datetime.combine(day, dt.time(hour, minute)), TZ)


def create_event(name, venue, tags, description, sessions, state='published',
        visibility='public', hide_dates=False):
    from proteus import Model
    Event = Model.get('ticket.event')
    Session = Model.get('ticket.session')
    event = Event(name=name, venue=venue, description=description,
        visibility=visibility)
    Tag = Model.get('ticket.event.tag')
    event.tags.extend([Tag(t.id) for t in tags])
    event.save()
    for values in sessions:
        session = Session(event=event, **values)
        if not session.end:
            session.end = session.start + dt.timedelta(hours=2)
        session.save()
    if hide_dates:
        event.hide_dates = True
        event.save()
    if state == 'published':
        event.click('publish')
    return event


def create_events(venues, tags):
    from proteus import Model, Wizard
    Session = Model.get('ticket.session')
    Pool = Model.get('ticket.pool')
    today = dt.date.today()
    # Start the season on the next Thursday two weeks ahead
    start = today + dt.timedelta(days=14 + (3 - today.weekday()) % 7)
    events = {}

    events['misanthrope'] = create_event(
        'Le Misanthrope — Molière', venues['celestins'], [tags['theatre']],
        "Alceste hait la flatterie et les conventions. Une mise en scène "
        "au cordeau de la plus grinçante des comédies de Molière.", [])
    wizard = Wizard('ticket.session.create', [events['misanthrope']])
    wizard.form.mode = 'weekly'
    wizard.form.from_date = start
    wizard.form.to_date = start + dt.timedelta(weeks=6)
    wizard.form.weekdays = ['3', '4', '5']
    wizard.form.time = dt.time(20, 30)
    wizard.form.duration = dt.timedelta(hours=2, minutes=15)
    wizard.form.capacity = 450
    wizard.execute('create_')

    festival_day = start + dt.timedelta(days=30)
    events['jazz'] = create_event(
        'Jazz sous les Pins', venues['pinede'],
        [tags['jazz'], tags['festival']],
        "Trois soirs de jazz sous les pins, face à la mer.",
        [{'start': local(festival_day + dt.timedelta(days=i), 20),
                'end': local(festival_day + dt.timedelta(days=i), 23, 59),
                'capacity': 1200, 'name': name}
            for i, name in enumerate(
                ['Soirée d’ouverture', 'Nuit du swing', 'Grande finale'])])
    pass_pool = Pool(name='Pass 3 jours', event=events['jazz'], capacity=300)
    pass_pool.sessions.extend(
        Session.find([('event', '=', events['jazz'].id)]))
    pass_pool.save()

    conf_day = start + dt.timedelta(days=45)
    events['pycon'] = create_event(
        'PyCon FR', venues['congres'], [tags['conference']],
        "Deux jours de conférences sur Python, en français.",
        [{'start': local(conf_day + dt.timedelta(days=i), 9),
                'end': local(conf_day + dt.timedelta(days=i), 18),
                'capacity': 800, 'name': f'Jour {i + 1}'}
            for i in range(2)])

    events['symphony'] = create_event(
        'Beethoven — Symphonie n° 9', venues['auditorium'],
        [tags['classical']],
        "L'Orchestre national de Lyon et son chœur.",
        [{'start': local(start + dt.timedelta(days=9), 20), 'capacity': 40}])

    events['lumiere'] = create_event(
        'Exposition « Lumière ! »', venues['confluences'],
        [tags['exhibition'], tags['family']],
        "Les frères Lumière et l'invention du cinéma.",
        [{'start': local(today, 10), 'end': local(
                    today + dt.timedelta(days=90), 18),
                'capacity': 5000, 'sale_end': local(
                    today + dt.timedelta(days=90), 17)}],
        hide_dates=True)

    events['nutcracker'] = create_event(
        'Casse-Noisette', venues['celestins'], [tags['family']],
        "Le ballet de Noël, en préparation.",
        [{'start': local(start + dt.timedelta(days=60), 15),
                'capacity': 450}], state='draft')

    events['gala'] = create_event(
        'Gala des mécènes', venues['celestins'], [],
        "Soirée privée réservée aux mécènes du théâtre.",
        [{'start': local(start + dt.timedelta(days=20), 19),
                'capacity': 120}], visibility='private')

    sessions = Session.find([('event.state', '=', 'published')])
    Session.click(sessions, 'open_sale')
    return events


def create_products():
    """Service products that carry the revenue account and the VAT of the
    tariffs and fees (French rates: 5.5 % for live shows and exhibitions,
    20 % for conferences and booking fees)"""
    from proteus import Model
    Account = Model.get('account.account')
    Tax = Model.get('account.tax')
    Category = Model.get('product.category')
    Template = Model.get('product.template')
    Uom = Model.get('product.uom')
    ModelData = Model.get('ir.model.data')
    unit = Uom(ModelData.get_id('product', 'uom_unit', {}))
    revenue, = Account.find([('code', '=', '706')])
    products = {}
    for key, name, tax_name in [
            ('show', 'Billetterie spectacle vivant',
                'T.V.A. Vente de services 5,5%'),
            ('exhibition', 'Billetterie exposition',
                'T.V.A. Vente de services 5,5%'),
            ('conference', 'Billetterie conférence',
                'T.V.A. Vente de services Taux Normal'),
            ('fee', 'Frais de location', 'T.V.A. Vente de services Taux Normal'),
            ('donation', 'Dons', None),
            ]:
        category = Category(name=name, accounting=True)
        category.account_revenue = revenue
        if tax_name:
            tax, = Tax.find([('name', '=', tax_name)])
            category.customer_taxes.append(tax)
        category.save()
        template = Template(name=name, type='service', default_uom=unit,
            account_category=category)
        template.save()
        products[key], = template.products
    return products


def create_tariffs(events, products):
    "Tariffs, categories and fees as a theatre and a festival set them up"
    from proteus import Model
    Tariff = Model.get('ticket.tariff')
    Category = Model.get('ticket.tariff.category')
    Fee = Model.get('ticket.fee')
    FeeCap = Model.get('ticket.fee.cap')
    Pool = Model.get('ticket.pool')

    Session = Model.get('ticket.session')

    def tariff(event, name, price, product, sessions=(), pool=None,
            **values):
        record = Tariff(event=event, name=name, price=Decimal(price),
            product=product, **values)
        if pool is not None:
            pool.save()
            record.pool = pool
        record.sessions.extend(Session(s.id) for s in sessions)
        record.save()
        return record

    show = products['show']
    misanthrope = events['misanthrope']
    stalls = Category(event=misanthrope, name='Parterre')
    stalls.save()
    balcony = Category(event=misanthrope, name='Balcon')
    balcony.save()
    tariff(misanthrope, 'Plein tarif', '32.00', show, category=stalls)
    tariff(misanthrope, 'Tarif réduit', '24.00', show, category=stalls,
        description="Étudiants, demandeurs d'emploi, -26 ans (justificatif).")
    tariff(misanthrope, 'Plein tarif', '22.00', show, category=balcony)
    tariff(misanthrope, 'Groupe (10 et plus)', '18.00', show,
        category=balcony, min_quantity=10)
    tariff(misanthrope, 'Duo', '40.00', show, category=balcony,
        tickets_per_unit=2)
    tariff(misanthrope, 'Invitation presse', '0', show,
        channels=['box_office'], excluded_from_capacity=True,
        pool=Pool(name='Presse', event=misanthrope, capacity=10))
    tariff(misanthrope, 'Don au théâtre', '10.00', products['donation'],
        issues_ticket=False, pay_what_you_want=True,
        minimum_price=Decimal('1'), maximum_price=Decimal('1000'))

    jazz = events['jazz']
    for session in Session.find([('event', '=', jazz.id)]):
        day = Category(event=jazz, name=session.name)
        day.save()
        tariff(jazz, 'Soirée', '45.00', show, category=day,
            sessions=[session])
    tariff(jazz, 'Early bird', '35.00', show,
        pool=Pool(name='Early bird', event=jazz, capacity=100))

    pycon = events['pycon']
    tariff(pycon, 'Entreprise', '250.00', products['conference'],
        channels=['online', 'partner'])
    tariff(pycon, 'Individuel', '90.00', products['conference'])
    tariff(pycon, 'Étudiant', '0', products['conference'])
    pycon.price_display = 'tax_excluded'
    pycon.save()

    tariff(events['symphony'], 'Catégorie unique', '58.00', show)
    tariff(events['lumiere'], 'Entrée', '12.50', products['exhibition'])
    tariff(events['lumiere'], 'Famille (2 adultes + 2 enfants)', '35.00',
        products['exhibition'], tickets_per_unit=4)
    tariff(events['gala'], 'Mécène', '150.00', show)
    tariff(events['nutcracker'], 'Plein tarif', '28.00', show)

    Fee(name='Frais de location', product=products['fee'], level='ticket',
        computation='fixed', amount=Decimal('1.50'),
        channels=['web']).save()
    Fee(name='Frais de dossier', product=products['fee'], level='order',
        computation='fixed', amount=Decimal('2.00'),
        channels=['web', 'phone']).save()
    FeeCap(channel='web', amount=Decimal('8.00')).save()


def create_orders(database, seed=20261123):
    """Buyers, orders and tickets made through the core services, as the
    shop and the box office will"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    rng = random.Random(seed)
    with Transaction().start(database, 1) as transaction:
        pool = Pool()
        Company = pool.get('company.company')
        company, = Company.search([])
        with transaction.set_context(company=company.id):
            _create_orders(pool, rng)
        transaction.commit()


def _create_orders(pool, rng):
    from guichet.ticket_pricing.engine import LineRequest, QuoteRequest
    from guichet.ticket_pricing.exceptions import PricingError
    Party = pool.get('party.party')
    Session = pool.get('ticket.session')
    Hold = pool.get('ticket.hold')
    Order = pool.get('ticket.order')
    Engine = pool.get('ticket.price_engine')
    buyers = Party.create([{
                'name': f'{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}',
                'contact_mechanisms': [('create', [{
                                'type': 'email',
                                'value': f'spectateur{i}@example.org'}])],
                } for i in range(60)])
    sessions = Session.search([('state', '=', 'on_sale')])
    symphony = [s for s in sessions
        if s.event.name.startswith('Beethoven')]
    others = [s for s in sessions if s not in symphony]

    def sell(session, quantity, channel, state):
        tariffs = [t for t in session.event.tariffs
            if t.issues_ticket and t.min_quantity <= quantity
            and t.is_for_session(session)]
        rng.shuffle(tariffs)
        for tariff in tariffs:
            request = QuoteRequest(lines=[LineRequest(
                        tariff=tariff, session=session, quantity=quantity)],
                channel=channel)
            try:
                quote = Engine.quote(request)
            except PricingError:
                continue
            break
        else:
            return
        hold = Hold.reserve(quote.hold_items(), channel=channel)
        if state == 'hold':
            return
        buyer = rng.choice(buyers)
        order = Order.create_from_quote(quote, [hold], party=buyer)
        if state in {'paid', 'cancelled'}:
            Order.pay([order])
        if state == 'cancelled':
            Order.cancel([order])

    # The symphony sells out
    while Session(symphony[0].id).available:
        sell(symphony[0], min(4, Session(symphony[0].id).available),
            rng.choice(['web', 'box_office']), 'paid')
    for _ in range(70):
        session = rng.choice(others)
        state = rng.choices(
            ['paid', 'reserved', 'cancelled', 'hold'], [80, 8, 6, 6])[0]
        sell(session, rng.randint(1, 4),
            rng.choice(['web', 'web', 'box_office']), state)


def create_box_office(database):
    "A box office terminal, its operator guichet/guichet, cash closed"
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        try:
            _create_box_office(database, extras)
            return
        except TransactionError as error:
            error.fix(extras)


def _create_box_office(database, extras):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from guichet.ticket_pos.tests.box_office import (
        create_operator, make_salable, setup_box_office)
    with Transaction().start(database, 0, **extras) as transaction:
        pool = Pool()
        company, = pool.get('company.company').search([])
        with transaction.set_context(company=company.id):
            make_salable([t.product for t in pool.get('ticket.tariff').search(
                        [])])
            setup_box_office(company, name="Guichet principal")
            operator = create_operator(company, 'guichet', name="Guichetier")
            # The demo's password is the login, which Tryton's rules refuse
            User = pool.get('res.user')
            User.write([operator], {
                    'password_hash': User.hash_password('guichet')})
        transaction.commit()


def create_partner(database):
    """A reseller with its API key: the tourist office sells the first
    event's online tariffs and sessions through the partner API"""
    from trytond.transaction import TransactionError
    extras = {}
    while True:
        try:
            _create_partner(database, extras)
            return
        except TransactionError as error:
            error.fix(extras)


def _create_partner(database, extras):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(database, 0, **extras) as transaction:
        pool = Pool()
        Tariff = pool.get('ticket.tariff')
        Session = pool.get('ticket.session')
        Party = pool.get('party.party')
        Partner = pool.get('ticket.partner')
        company, = pool.get('company.company').search(
            [], order=[('id', 'ASC')], limit=1)
        with transaction.set_context(company=company.id):
            tariffs = Tariff.search([('channels', 'in', ['online'])],
                order=[('event', 'ASC'), ('id', 'ASC')])
            if not tariffs:
                return
            event = tariffs[0].event
            tariffs = [t for t in tariffs if t.event == event]
            for tariff in tariffs:
                tariff.channels = list(tariff.channels) + ['partner']
            Tariff.save(tariffs)
            sessions = Session.search([('event', '=', event.id)])
            for session in sessions:
                session.visibility = list(session.visibility or []) + [
                    'partner']
            Session.save(sessions)
            party, = Party.create([{'name': "Office de tourisme"}])
            # it keeps 5 % of its sales (ticket_accounting): proposed as the
            # fees of its payouts (Accounting > Provider Payouts)
            Partner.create([{'name': "Office de tourisme",
                        'company': company.id, 'party': party.id,
                        'commission': Decimal('0.05')}])
        transaction.commit()


def banner(database):
    base = f'http://127.0.0.1:{PORT}'
    print(f"""
Guichet demo is running.
  Back office (Tryton web client): {base}/
      database: {database}   login: admin   password: {ADMIN_PASSWORD}
  Box office terminal:             {base}/{database}/ticket/pos/
      login: guichet   password: guichet
  Public JSON API:                 {base}/{database}/ticket/api/v1/events
  OpenAPI document:                {base}/{database}/ticket/api/v1/openapi.json
  Partner API (resellers):         {base}/{database}/ticket/api/v1/partner/orders
      key of "Office de tourisme": back office, Ticketing > Partners
  Web shop:                        {base}/{database}/ticket/shop/
  E-mails sent (SMTP catcher):     http://127.0.0.1:{MAIL_PORT}/
  PostgreSQL:                      {pgctl.uri(database)}
Stop everything with `make stop`; start over with `make demo-reset`.""")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('database', nargs='?', default='guichet_demo')
    parser.add_argument('--reset', action='store_true')
    parser.add_argument('--banner', action='store_true')
    args = parser.parse_args()
    if args.banner:
        banner(args.database)
        return 0
    pgctl.start()
    if args.reset:
        drop_database(args.database)
    if not database_exists(args.database):
        print(f"Creating database {args.database} (a few minutes)...")
        create_database(args.database)
    config = connect(args.database)
    if has_demo_data(config):
        print(f"Reusing database {args.database}.")
        return 0
    print("Loading demo data...")
    setup_company(config)
    venues = create_venues()
    tags = create_tags()
    events = create_events(venues, tags)
    products = create_products()
    create_tariffs(events, products)
    demo_pricing.create_promotions(events, products)
    demo_seating.create_seating(args.database, events, products)
    create_orders(args.database)
    from guichet.ticket_shop.demo import setup_demo
    setup_demo(args.database)
    demo_crm.create_crm(args.database)
    create_box_office(args.database)
    create_partner(args.database)
    demo_accounting.create_accounting(args.database)
    print("Demo data loaded.")
    return 0


if __name__ == '__main__':
    sys.exit(main())
