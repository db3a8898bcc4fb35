"Tests of seat maps: generation, import, copy, frozen layouts"
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from ..exceptions import MapError
from .helpers import create_map, create_theatre, seat_of, seated_event

CSV = b"""section,row,seat,x,y,category,wheelchair,restricted_view
Parterre,A,1,0,0,Cat 1,,
Parterre,A,2,1,0,Cat 1,,
Parterre,A,3,3,0,Cat 1,,
Parterre,A,4,4,0,Cat 1,oui,
Parterre,B,1,0,1.2,Cat 2,,1
Parterre,B,2,1,1.2,Cat 2,,
"""


class MapTestMixin:

    @with_transaction()
    def test_generate_theatre(self):
        "The generator makes sections, rows, seats, categories, positions"
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            self.assertEqual(theatre.seat_count, 5 * 10 + 3 * 8)
            self.assertEqual([s.name for s in theatre.sections],
                ["Orchestre", "Balcon"])
            self.assertEqual([c.name for c in theatre.categories],
                ["Orchestre", "Balcon"])
            row_a = theatre.sections[0].rows[0]
            self.assertEqual(row_a.name, 'A')
            self.assertEqual(
                sorted(s.position for s in row_a.seats),
                [0, 1, 2, 3, 4, 6, 7, 8, 9, 10])
            seat = seat_of(theatre, "Orchestre", 'C', '7')
            self.assertEqual(seat.rec_name, "Orchestre, row C, seat 7")
            self.assertEqual(seat.category.name, "Orchestre")
            layout = theatre.get_layout()
            self.assertEqual(layout.seat_count, 74)
            self.assertEqual(layout.rows[0].template, 'FFFFF|FFFFF')
            self.assertIs(theatre.get_layout(), layout)

    @with_transaction()
    def test_import_csv(self):
        "An import makes the seats of a CSV file; aisles from the geometry"
        pool = Pool()
        Import = pool.get('ticket.seat.map.import', type='wizard')
        company = create_company()
        with set_company(company):
            venue = create_theatre(company).venue
            seat_map = create_map(venue, name="Club")
            session_id, _, _ = Import.create()
            with Transaction().set_context(
                    active_model='ticket.seat.map', active_id=seat_map.id):
                wizard = Import(session_id)
                wizard.record
            wizard.start.file = CSV
            wizard.start.file_name = 'club.csv'
            wizard.start.replace = False
            wizard.transition_import_()

            seat_map = seat_map.__class__(seat_map.id)
            self.assertEqual(seat_map.seat_count, 6)
            row_a = seat_of(seat_map, 'Parterre', 'A', '1').row
            self.assertEqual(sorted(s.position for s in row_a.seats),
                [0, 1, 3, 4])
            self.assertTrue(seat_of(seat_map, 'Parterre', 'A', '4').wheelchair)
            self.assertTrue(
                seat_of(seat_map, 'Parterre', 'B', '1').restricted_view)
            self.assertEqual(
                seat_of(seat_map, 'Parterre', 'B', '2').category.name,
                'Cat 2')

            # the same seats again: refused, nothing added
            with self.assertRaisesRegex(MapError, "Parterre A 1"):
                wizard.transition_import_()
            wizard.start.file = b'section,row,seat,x,y,category\nP,A,1,x,0,C'
            with self.assertRaisesRegex(MapError, "Line 2"):
                wizard.transition_import_()
            self.assertEqual(seat_map.__class__(seat_map.id).seat_count, 6)

            # replace the seats with a JSON file
            wizard.start.file = (b'{"seats": [{"section": "Fosse", '
                b'"row": "1", "seat": "1", "x": 0, "y": 0, '
                b'"category": "Debout"}]}')
            wizard.start.file_name = 'club.json'
            wizard.start.replace = True
            wizard.transition_import_()
            seat_map = seat_map.__class__(seat_map.id)
            self.assertEqual(seat_map.seat_count, 1)
            self.assertEqual([s.name for s in seat_map.sections], ['Fosse'])

    @with_transaction()
    def test_generate_wizard(self):
        pool = Pool()
        Generate = pool.get('ticket.seat.map.generate', type='wizard')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            seat_map = create_map(theatre.venue, name="Studio")
            session_id, _, _ = Generate.create()
            with Transaction().set_context(
                    active_model='ticket.seat.map', active_id=seat_map.id):
                wizard = Generate(session_id)
                wizard.record
            start = wizard.start
            for name, value in dict(section="Gradin", category="Unique",
                    rows=4, seats=6, increment=1, first_row='1',
                    first_seat=1, numbering='odd_even', shape='curved',
                    radius=8.0, aisles='3', seat_spacing=1.0,
                    row_spacing=1.2, x=0.0, y=0.0, rotation=0.0).items():
                setattr(start, name, value)
            wizard.transition_generate()
            seat_map = seat_map.__class__(seat_map.id)
            self.assertEqual(seat_map.seat_count, 6 + 7 + 8 + 9)
            self.assertEqual(
                [r.name for r in seat_map.sections[0].rows],
                ['1', '2', '3', '4'])
            start.aisles = 'three'
            with self.assertRaisesRegex(MapError, "three"):
                wizard.transition_generate()

    @with_transaction()
    def test_copy_to_venue(self):
        "A map copied to another venue keeps its seats and categories"
        pool = Pool()
        Venue = pool.get('ticket.venue')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            other = Venue(name="Tournée", company=company)
            other.save()
            copy = theatre.copy_to(other, "Salle en tournée")
            self.assertEqual(copy.venue, other)
            self.assertEqual(copy.seat_count, theatre.seat_count)
            self.assertEqual([c.name for c in copy.categories],
                ["Orchestre", "Balcon"])
            seat = seat_of(copy, "Balcon", 'B', '3')
            self.assertEqual(seat.category.map, copy)
            self.assertEqual(copy.get_layout().rows[0].template,
                theatre.get_layout().rows[0].template)
            duplicate, = theatre.__class__.copy([theatre])
            self.assertEqual(duplicate.seat_count, theatre.seat_count)

    @with_transaction()
    def test_layout_frozen_once_used(self):
        "A map used by a session keeps its layout; labels may change"
        pool = Pool()
        Seat = pool.get('ticket.seat')
        company = create_company()
        with set_company(company):
            theatre = create_theatre(company)
            seat = seat_of(theatre, "Orchestre", 'A', '1')
            Seat.write([seat], {'x': -1.0})
            seated_event(company, theatre)
            self.assertTrue(theatre.__class__(theatre.id).used)
            with self.assertRaises(MapError):
                Seat.write([seat], {'x': -2.0})
            with self.assertRaises(MapError):
                Seat.delete([seat])
            version = theatre.__class__(theatre.id).version
            Seat.write([seat], {'label': '1 bis', 'wheelchair': True})
            self.assertGreater(theatre.__class__(theatre.id).version, version)

    @with_transaction()
    def test_positions_from_geometry(self):
        "Seats created by hand get positions from their place in the row"
        pool = Pool()
        Seat = pool.get('ticket.seat')
        Section = pool.get('ticket.seat.section')
        Row = pool.get('ticket.seat.row')
        company = create_company()
        with set_company(company):
            seat_map = create_map(create_theatre(company).venue, "Petite")
            section = Section(map=seat_map, name="S")
            section.save()
            row = Row(section=section, name="A")
            row.save()
            seats = Seat.create([{'row': row.id, 'label': str(i), 'x': x,
                        'y': 0.0} for i, x in enumerate([4, 0, 1, 5, 2])])
            self.assertEqual([s.position for s in Seat.browse(seats)],
                [4, 0, 1, 5, 2])
            self.assertEqual({s.map for s in seats}, {seat_map})
