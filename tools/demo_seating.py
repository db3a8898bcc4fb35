"""Demo data of numbered seating: the hall of the Théâtre des Célestins
(stalls and a curved balcony, French odd/even numbering, wheelchair spaces)
used by every performance of "Le Misanthrope" and "Casse-Noisette", with an
agency's contingent and seats blocked for the technical team; and a
generated 80,640-seat stadium with a final on sale by category."""
import datetime as dt
from decimal import Decimal


def create_seating(database, events, products):
    "Seat maps and seated sessions; call before the demo orders"
    from proteus import Model, Wizard
    Venue = Model.get('ticket.venue')
    SeatMap = Model.get('ticket.seat.map')
    Seat = Model.get('ticket.seat')
    Session = Model.get('ticket.session')
    Category = Model.get('ticket.tariff.category')
    Contingent = Model.get('ticket.seat.contingent')
    Party = Model.get('party.party')
    Event = Model.get('ticket.event')

    celestins = Venue(events['misanthrope'].venue.id)
    hall = SeatMap(name='Grande salle', venue=celestins, focal_x=0.0,
        focal_y=-4.0, isolated_trigger=12)
    hall.save()
    for values in [
            dict(section='Parterre', category='Parterre', rows=14, seats=22,
                aisles='5, 17', numbering='odd_even', first_row='A'),
            dict(section='Balcon', category='Balcon', rows=6, seats=20,
                increment=2, aisles='10', numbering='odd_even',
                first_row='A', shape='curved', radius=22.0, y=20.0),
            ]:
        generate = Wizard('ticket.seat.map.generate', [hall])
        for name, value in values.items():
            setattr(generate.form, name, value)
        generate.execute('generate')
    hall.reload()

    # the last row of the stalls: two wheelchair spaces and their
    # companions at each end; the ends of the balcony's last row see
    # half the stage
    def seats(section, row, labels):
        return Seat.find([('map', '=', hall.id),
                ('row.section.name', '=', section), ('row.name', '=', row),
                ('label', 'in', labels)])
    for seat in seats('Parterre', 'N', ['21', '22']):
        seat.wheelchair = True
        seat.save()
    for seat in seats('Parterre', 'N', ['19', '20']):
        seat.companion = True
        seat.save()
    for seat in seats('Balcon', 'F', ['27', '28', '29', '30']):
        seat.restricted_view = True
        seat.save()

    SeatCategory = Model.get('ticket.seat.category')
    zones = {c.name: c.id for c in hall.categories}
    for event in [events['misanthrope'], events['nutcracker']]:
        for category in Category.find([('event', '=', event.id)]):
            if category.name in zones:
                category.seat_categories.append(
                    SeatCategory(zones[category.name]))
                category.save()
        for session in Session.find([('event', '=', event.id)]):
            session.seat_map = hall
            session.save()

    misanthrope = Event(events['misanthrope'].id)
    first, = Session.find([('event', '=', misanthrope.id)],
        order=[('start', 'ASC')], limit=1)
    agency = Party(name='Agence Célimène Voyages')
    agency.save()
    contingent = Contingent(name='Agence Célimène — balcon rang A',
        event=misanthrope, channel='partner', party=agency,
        release_at=first.start - dt.timedelta(days=2))
    contingent.sessions.append(Session(first.id))
    contingent.seats.extend(Seat(s.id) for s in seats('Balcon', 'A',
            [str(n) for n in range(1, 21)]))
    contingent.save()
    contingent.click('activate')
    block = Wizard('ticket.seat.block', [first])
    block.form.seats.extend(seats('Parterre', 'K', ['1', '2', '3', '4']))
    block.form.note = 'Régie son'
    block.execute('apply')

    create_stadium(database, products)


def create_stadium(database, products):
    """The stadium of bench/seating.py at the Groupama Stadium, and a final
    on sale in its three categories"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from guichet.ticket_event.common import to_utc
    from guichet.ticket_seating.layout import generate, stadium
    with Transaction().start(database, 1) as transaction:
        pool = Pool()
        Company = pool.get('company.company')
        Venue = pool.get('ticket.venue')
        SeatMap = pool.get('ticket.seat.map')
        Event = pool.get('ticket.event')
        Session = pool.get('ticket.session')
        Category = pool.get('ticket.tariff.category')
        Tariff = pool.get('ticket.tariff')
        Product = pool.get('product.product')
        company, = Company.search([])
        with transaction.set_context(company=company.id):
            venue = Venue(name='Groupama Stadium', company=company,
                timezone='Europe/Paris', capacity=80640)
            venue.save()
            seat_map = SeatMap(name='Stade (80 640 places)', venue=venue,
                focal_x=0.0, focal_y=0.0, isolated_trigger=50)
            seat_map.save()
            seat_map.add_seats(
                [s for spec in stadium() for s in generate(spec)])
            final = Event(name='Finale de la Coupe de France',
                company=company, venue=venue, timezone='Europe/Paris',
                description="La finale, au stade.")
            final.save()
            day = dt.date.today() + dt.timedelta(days=75)
            start = to_utc(dt.datetime.combine(day, dt.time(21)),
                'Europe/Paris')
            session, = Session.create([{
                        'event': final.id, 'start': start,
                        'end': start + dt.timedelta(hours=2),
                        'capacity': seat_map.seat_count,
                        'seat_map': seat_map.id,
                        }])
            product = Product(products['show'].id)
            for zone, price in zip(
                    sorted(seat_map.categories, key=lambda c: c.name),
                    ['95.00', '65.00', '35.00']):
                category = Category(event=final, name=zone.name,
                    seat_categories=[zone])
                category.save()
                Tariff(event=final, name='Plein tarif', category=category,
                    price=Decimal(price), product=product).save()
            Event.publish([final])
            Session.open_sale([session])
        transaction.commit()
