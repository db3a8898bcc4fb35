"""Box office data for the HTTP and browser tests and the bench: a box
office of the catalogue's company "Guichet", its operator, tariffs for the
event "main" and a seated play, made in a transaction of an ``ApiServer``."""
import base64

POS = '/ticket/api/v1/pos'
PASSWORD = 'counter-42-guichet'


def setup_pos(server, login='guichet', password=PASSWORD):
    """Create the box office and return its ids: point, methods by key,
    operator, sessions and tariffs by name"""
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        try:
            with Transaction().start(server.database, 0, **extras):
                ids = _setup_pos(server, login, password)
                Transaction().commit()
                return ids
        except TransactionError as error:
            # Tryton asks to start again with the locks it needs
            error.fix(extras)


def _setup_pos(server, login, password):
    from trytond.modules.company.tests import set_company
    from trytond.transaction import Transaction

    from guichet.ticket_pos.tests.box_office import (
        create_operator, make_salable, setup_box_office)
    from guichet.ticket_pricing.tests.helpers import create_tariff
    from guichet.ticket_seating.tests.helpers import (
        create_theatre, seated_event)
    from trytond.pool import Pool
    pool = Pool(server.database)
    if True:
        Company = pool.get('company.company')
        Session = pool.get('ticket.session')
        company_id = server.ids['companies']['Guichet']
        with Transaction().set_context(company=company_id):
            company = Company(company_id)
            with set_company(company):
                theatre = create_theatre(company)
                play, play_sessions, seated = seated_event(
                    company, theatre, sessions=2)
                product = seated["Orchestre Plein"].product
                make_salable([product])
                main = Session(server.ids['sessions']['open']).event
                tariffs = {
                    'adult': create_tariff(main, "Adult", '20.00', product),
                    'child': create_tariff(main, "Child", '12.50', product),
                    'counter': create_tariff(main, "Counter", '5.00',
                        product, channels=['box_office']),
                    }
                office = setup_box_office(company)
                operator = create_operator(company, login, password,
                    name="Camille Guichet")
                return {
                    'point': office['point'].id,
                    'methods': {k: m.id
                        for k, m in office['methods'].items()},
                    'operator': operator.id,
                    'play': play.id,
                    'play_sessions': [s.id for s in play_sessions],
                    'tariffs': {k: t.id for k, t in tariffs.items()},
                    'seated': {k: t.id for k, t in seated.items()},
                    'seats': sorted(s.id for s in theatre.seats)
                    if hasattr(theatre, 'seats') else [],
                    }


def session_header(login, user_id, key):
    token = base64.b64encode(f'{login}:{user_id}:{key}'.encode()).decode()
    return {'Authorization': f'Session {token}'}


def log_in(client, login='guichet', password=PASSWORD):
    "Log in through the API; return the Authorization header"
    reply = client.post(f'{POS}/login', {'login': login,
            'password': password})
    assert reply.status == 200, reply
    return {'Authorization': f'Session {reply.json["token"]}'}
