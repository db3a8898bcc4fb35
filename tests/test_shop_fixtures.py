"""What the shop's HTTP and browser tests share (no test here): a real
trytond server whose e-mails go to an SMTP catcher, a demo-like shop
(tariffs, fees, promo codes, payment methods, questions, refund rules), and
a small HTTP client with cookies that fills the shop's forms."""
import datetime as dt
import http.client
import re
import secrets
import urllib.parse
from decimal import Decimal

from tests.server import HOST, ApiServer

import smtp_catcher  # noqa: E402  (tests.server puts tools/ on the path)

SHOP = '/ticket/shop'
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


class ShopServer(ApiServer):
    """An ApiServer with the shop catalogue, its e-mails caught.

    ids['shop'] holds the tariffs, codes and methods by name."""

    def __init__(self, database, **kwargs):
        super().__init__(database, **kwargs)
        self.catcher = smtp_catcher.SmtpCatcher(http_port=None)

    def start(self):
        from trytond.config import config
        self.catcher.start()
        super().start()
        # the e-mails queued by this process (cron tasks run here) too
        config.set('email', 'uri', self.catcher.uri)
        self.ids['shop'] = self.run(load_shop, self.ids)

    def run(self, func, *args):
        """Call func(pool, *args) in a committed transaction, started again
        with the locks Tryton asks for (as trytond's own runners do)"""
        from trytond.pool import Pool
        from trytond.transaction import Transaction, TransactionError
        from trytond.worker import run_task
        extras = {}
        while True:
            try:
                with Transaction().start(self.database, 0, **extras) as (
                        transaction):
                    pool = Pool(self.database)
                    result = func(pool, *args)
                    transaction.commit()
                while transaction.tasks:
                    run_task(pool, transaction.tasks.pop())
                return result
            except TransactionError as error:
                error.fix(extras)

    def start_trytond(self):
        import os
        os.environ['TRYTOND_EMAIL__URI'] = self.catcher.uri
        os.environ['TRYTOND_EMAIL__FROM'] = 'billetterie@example.org'
        try:
            super().start_trytond()
        finally:
            del os.environ['TRYTOND_EMAIL__URI']

    def stop(self):
        super().stop()
        self.catcher.stop()

    @property
    def shop_url(self):
        return f'http://{HOST}:{self.port}/{self.database}{SHOP}'

    def order_by_number(self, number):
        (row,) = self.sql(
            'SELECT id, state, shop_token FROM ticket_order '
            'WHERE number = %s', (number,))
        return row

    def payments(self, order_id):
        return self.sql(
            'SELECT provider, reference, amount, state, kind '
            'FROM ticket_order_payment WHERE "order" = %s ORDER BY id',
            (order_id,))


def load_shop(pool, ids):
    """Tariffs, fees, codes and shop settings on the catalogue of
    tests.server.load_catalogue, as a theatre sets them up:

    event "main" (5.5 % VAT): Plein tarif 20.00 and Réduit 15.00 in
    category Parterre, Balcon 12.00 in category Balcon (a pool of 30),
    a booking fee of 1.00 per ticket on the web capped at 3.00, promo code
    PROMO5 (5.00 off per ticket, 100 uses) and SINGLE (10 %, one use), a
    gift voucher of 30.00; refund rules, waiting list and an attendee
    question (optional, printed) on the event; event "concert": Entrée
    25.00 with a required postal code question per order; private event:
    Mécène 150.00; payment methods: test card and bank transfer."""
    from trytond.modules.company.tests import set_company
    from trytond.transaction import Transaction

    from guichet.ticket_pricing.tests.helpers import (
        create_accounts, create_product, create_tariff, create_tax)
    from guichet.ticket_shop.demo import setup_event, setup_organizer
    Company = pool.get('company.company')
    Event = pool.get('ticket.event')
    Category = pool.get('ticket.tariff.category')
    CapacityPool = pool.get('ticket.pool')
    Fee = pool.get('ticket.fee')
    FeeCap = pool.get('ticket.fee.cap')
    Campaign = pool.get('ticket.promo.campaign')
    PromoCode = pool.get('ticket.promo.code')
    Credit = pool.get('ticket.credit')
    load_french(pool)
    company_id = ids['companies']['Guichet']
    shop = {}
    with Transaction().set_context(company=company_id):
        company = Company(company_id)
        with set_company(company):
            accounts = create_accounts(company)
            vat = create_tax(company, '0.055', accounts)
            vat20 = create_tax(company, '0.20', accounts)
            show = create_product(company, "Show", [vat], accounts)
            fee_product = create_product(company, "Fee", [vat20], accounts)
            main = Event(ids['events']['main'])
            stalls = Category(event=main, name="Parterre")
            stalls.save()
            balcony_pool = CapacityPool(name="Balcon", event=main,
                capacity=30)
            balcony_pool.save()
            balcony = Category(event=main, name="Balcon", pool=balcony_pool)
            balcony.save()
            shop['full'] = create_tariff(main, "Plein tarif", '20.00', show,
                category=stalls).id
            shop['reduced'] = create_tariff(main, "Réduit", '15.00', show,
                category=stalls).id
            shop['balcony'] = create_tariff(main, "Balcon", '12.00', show,
                category=balcony).id
            concert = Event(ids['events']['concert'])
            shop['concert'] = create_tariff(concert, "Entrée", '25.00',
                show).id
            private = Event(ids['events']['private'])
            shop['patron'] = create_tariff(private, "Mécène", '150.00',
                show).id
            Fee(name="Frais de location", product=fee_product,
                level='ticket', computation='fixed', amount=Decimal('1.00'),
                channels=['web']).save()
            FeeCap(channel='web', amount=Decimal('3.00')).save()
            campaign = Campaign(company=company, name="Promo",
                computation='fixed', amount=Decimal('5.00'), per='ticket')
            campaign.save()
            single = Campaign(company=company, name="Single",
                computation='percentage', rate=Decimal('0.1'), per='order')
            single.save()
            PromoCode.create([
                    {'campaign': campaign.id, 'code': 'PROMO5',
                        'max_uses': 100},
                    {'campaign': single.id, 'code': 'SINGLE',
                        'max_uses': 1},
                    ])
            voucher, = Credit.issue(Decimal('30.00'), company=company)
            shop['voucher'] = voucher.code
            organizer = setup_organizer(company)
            shop['consent'] = organizer.consent_purposes[0].id
            methods = {m.provider: m.id for m in pool.get(
                    'ticket.shop.payment.method').search([])}
            shop['card'] = methods['test']
            shop['transfer'] = methods['offline']
            questions = setup_event(main, questions=[
                    {'name': ("Dietary requirements", "Régime alimentaire"),
                        'type': 'text', 'scope': 'attendee',
                        'print_on_ticket': True, 'editable': True},
                    ], holder_names='optional')
            shop['diet'] = questions[0].id
            questions = setup_event(concert, questions=[
                    {'name': ("Postal code", "Code postal"), 'type': 'text',
                        'scope': 'order', 'required': True,
                        'pattern': '[0-9]{5}', 'help': "5 digits"},
                    ])
            shop['postal'] = questions[0].id
            setup_event(private)
            try:
                pool.get('ticket.seat.service')
            except KeyError:
                pass
            else:
                shop.update(load_theatre(pool, company, show))
    return shop


def load_theatre(pool, company, product):
    """With ticket_seating: event "Le Misanthrope" on the theatre map of
    ticket_seating's tests (stalls "Orchestre" of 5 rows of 10 seats, a
    balcony "Balcon" of 3 rows of 8), one session on sale, tariffs Plein
    30.00 (Orchestre) and Balcon 15.00, refund rules and waiting list"""
    from guichet.ticket_pricing.tests.helpers import create_tariff
    from guichet.ticket_seating.tests.helpers import create_theatre
    from guichet.ticket_shop.demo import setup_event
    from tests.server import utc_at
    Event = pool.get('ticket.event')
    Session = pool.get('ticket.session')
    Category = pool.get('ticket.tariff.category')
    theatre = create_theatre(company)
    event = Event(name="Le Misanthrope", company=company,
        venue=theatre.venue, timezone='Europe/Paris',
        description="Molière, five acts.")
    event.save()
    start = utc_at(40, 20)
    session = Session(event=event, start=start,
        end=start + dt.timedelta(hours=2), capacity=theatre.seat_count,
        seat_map=theatre, visibility=['online', 'box_office'])
    session.save()
    zones = {c.name: c for c in theatre.categories}
    tariffs = {}
    for name, tariff_name, price in [
            ("Orchestre", "Plein", '30.00'), ("Balcon", "Balcon", '15.00')]:
        category = Category(event=event, name=name,
            seat_categories=[zones[name]])
        category.save()
        tariffs[name] = create_tariff(event, tariff_name, price, product,
            category=category).id
    Event.publish([event])
    Session.open_sale([session])
    setup_event(event)
    return {
        'theatre_event': event.id,
        'theatre_session': session.id,
        'theatre_tariffs': tariffs,
        'theatre_categories': {n: c.id for n, c in zones.items()},
        'theatre_seats': theatre.seat_count,
        }


def load_french(pool):
    "Load the French translations of the activated modules (as -l fr)"
    import os
    from trytond.modules import get_module_info
    Lang = pool.get('ir.lang')
    Module = pool.get('ir.module')
    Translation = pool.get('ir.translation')
    Lang.write(Lang.search([('code', '=', 'fr')]), {'translatable': True})
    for module in Module.search([('state', '=', 'activated')]):
        path = os.path.join(get_module_info(module.name)['directory'],
            'locale', 'fr.po')
        if os.path.exists(path):
            Translation.translation_import('fr', module.name, [path])


class Page:
    "An HTML answer of the shop"

    def __init__(self, status, headers, body, url):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url

    @property
    def text(self):
        return self.body.decode('utf-8', 'replace')

    @property
    def csrf(self):
        match = CSRF.search(self.text)
        return match.group(1) if match else None

    @property
    def location(self):
        return self.headers.get('location')

    def __repr__(self):
        return f'<Page {self.status} {self.url} {self.text[:200]!r}>'


class Browser:
    """A client of the shop with cookies: GET pages, POST forms with the
    CSRF token of the last page, follow redirects when asked"""

    def __init__(self, server, language='en', address=None):
        self.server = server
        self.cookies = {}
        self.language = language
        self.last = None
        self.headers = {}
        if address:
            self.headers['X-Forwarded-For'] = address

    @property
    def root(self):
        return f'/{self.server.database}{SHOP}'

    def request(self, method, path, data=None, headers=None, files=None,
            follow=False):
        url = path if path.startswith('/') and path.startswith(
            self.root) else self.root + path
        headers = dict(self.headers, **(headers or {}))
        headers['Accept-Language'] = self.language
        if self.cookies:
            headers['Cookie'] = '; '.join(
                f'{k}={v}' for k, v in self.cookies.items())
        body = None
        if files:
            body, content_type = multipart(data or {}, files)
            headers['Content-Type'] = content_type
        elif data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        connection = http.client.HTTPConnection(HOST, self.server.port,
            timeout=60)
        try:
            connection.request(method, url, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            answer_headers = {}
            for name, value in response.getheaders():
                name = name.lower()
                if name == 'set-cookie':
                    cookie = value.split(';', 1)[0]
                    key, _, val = cookie.partition('=')
                    if val and 'max-age=0' not in value.lower():
                        self.cookies[key] = val.strip('"')
                    else:
                        self.cookies.pop(key, None)
                else:
                    answer_headers[name] = value
        finally:
            connection.close()
        page = Page(response.status, answer_headers, raw, url)
        if follow and page.status in {301, 302, 303} and page.location:
            location = urllib.parse.urlsplit(page.location)
            target = location.path + (
                '?' + location.query if location.query else '')
            return self.request('GET', target, follow=True)
        if 'text/html' in answer_headers.get('content-type', ''):
            self.last = page
        return page

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf and 'csrf_token' not in data:
            if self.last is None or not self.last.csrf:
                self.get('/lookup')
            data['csrf_token'] = self.last.csrf
        return self.request('POST', path, data=data, **kwargs)

    # The buyer's steps

    def add(self, session, quantities, event=None, token=None, **extra):
        """Add places of session: quantities maps a tariff id to a
        quantity"""
        data = {'session': session, **extra}
        if token:
            data['event_token'] = token
        else:
            data['event'] = event
        for tariff, quantity in quantities.items():
            data[f'q-{tariff}'] = quantity
        return self.post('/cart', data)

    def checkout(self, **values):
        data = {'name': 'Camille Martin', 'email': 'camille@example.org',
            'terms': 'yes', 'action': 'order'}
        data.update(values)
        return self.post('/checkout', data)


def multipart(fields, files):
    "The body and content type of a multipart/form-data form"
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; '
            f'name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, kind) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; '
            f'name="{name}"; filename="{filename}"\r\nContent-Type: {kind}'
            '\r\n\r\n'.encode() + content + b'\r\n')
    parts.append(f'--{boundary}--\r\n'.encode())
    return b''.join(parts), f'multipart/form-data; boundary={boundary}'
