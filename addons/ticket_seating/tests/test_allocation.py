"""The best-available rules on crafted maps, without a database.

A crafted map is drawn as text, a row per line from the stage, a character
per position: '.' a free seat, 'x' a taken one, ' ' an aisle, 'w' a free
wheelchair space, 'c' a free companion seat, 'r' a free seat with a
restricted view, digits a free seat of that category. Seats are one unit
apart, rows two; the focal point is in front of the middle of the first
row unless given.
"""
import random
import unittest

from guichet.ticket_seating import allocation, layout
from guichet.ticket_seating.allocation import (
    FREE, GAP, Choice, MapLayout, NoSeatsError, Request, SeatInfo, choose)


def crafted(*rows, focal=None):
    """The layout and states of a map drawn as text, and a function naming
    a seat as (row index, position)"""
    seats, states, names = [], [], {}
    width = max(len(r) for r in rows)
    for r, text in enumerate(rows):
        state = []
        for p, char in enumerate(text):
            if char == ' ':
                state.append(GAP)
                continue
            seat_id = len(seats) + 1
            names[seat_id] = (r, p)
            seats.append(SeatInfo(
                    id=seat_id, row=r + 1, position=p, x=float(p),
                    y=2.0 * r,
                    category=int(char) if char.isdigit() else 1,
                    access={'w': allocation.WHEELCHAIR,
                        'c': allocation.COMPANION}.get(
                        char, allocation.NORMAL),
                    restricted=char == 'r'))
            state.append('S' if char == 'x' else FREE)
        states.append(''.join(state))
    focal = focal or ((width - 1) / 2, -2.0)
    map_layout = MapLayout([(r + 1, 1) for r in range(len(rows))], seats,
        focal)
    return map_layout, states, names


def where(names, choice):
    "The (row, position) of the seats chosen, by piece"
    return [[names[s] for s in piece] for piece in choice.pieces]


class AllocationTestCase(unittest.TestCase):

    def test_together_closest_to_focal(self):
        "A group sits together in one row, as close to the stage centre"
        map_layout, states, names = crafted(
            '..........',
            '..........')
        choice = choose(map_layout, states, Request(quantity=4))
        self.assertEqual(where(names, choice), [[(0, 3), (0, 4), (0, 5),
                    (0, 6)]])
        self.assertFalse(choice.split)

    def test_focal_point_moves_choice(self):
        "A focal point on the side pulls the group there"
        map_layout, states, names = crafted(
            '..........',
            focal=(9.0, -2.0))
        choice = choose(map_layout, states, Request(quantity=3))
        self.assertEqual(where(names, choice), [[(0, 7), (0, 8), (0, 9)]])

    def test_next_row_when_front_full(self):
        "The front row full, the group goes to the next row"
        map_layout, states, names = crafted(
            'xxxx..xxxx',
            '..........')
        choice = choose(map_layout, states, Request(quantity=3))
        # of two groups as close, the one on the left
        self.assertEqual(where(names, choice), [[(1, 3), (1, 4), (1, 5)]])

    def test_isolated_rule(self):
        "Never a single seat left between the group and a taken seat"
        map_layout, states, names = crafted(
            'xx....xxxx',
            'xxxxxxx...')
        # three in the four free of row 0 would leave one: row 1 instead
        choice = choose(map_layout, states, Request(quantity=3))
        self.assertEqual(where(names, choice), [[(1, 7), (1, 8), (1, 9)]])
        # the rule off: the front row, closest to the centre
        choice = choose(map_layout, states,
            Request(quantity=3, isolated_rule=False))
        self.assertEqual(where(names, choice), [[(0, 3), (0, 4), (0, 5)]])

    def test_isolated_rule_at_aisle_and_row_end(self):
        "An aisle or the end of a row bounds a seat as a taken seat does"
        map_layout, states, names = crafted(
            '... xxxxxx',
            'xxxxxx ...')
        # two of three free seats always leave one alone
        with self.assertRaises(NoSeatsError) as cm:
            choose(map_layout, states, Request(quantity=2, allow_split=False))
        self.assertEqual(cm.exception.reason, 'isolated')
        choice = choose(map_layout, states, Request(quantity=3))
        self.assertEqual(len(choice.pieces), 1)

    def test_isolated_trigger(self):
        "Below the trigger count of free seats, single seats may be left"
        map_layout, states, names = crafted(
            'xx....xxxx',
            'xxxxxxxxxx')
        request = Request(quantity=3, trigger=5, allow_split=False)
        # 4 free seats, fewer than 5: the rule is lifted
        choice = choose(map_layout, states, request)
        self.assertEqual(len(choice.seats), 3)
        self.assertTrue(choice.rule_lifted)
        request.trigger = 4
        with self.assertRaises(NoSeatsError) as cm:
            choose(map_layout, states, request)
        self.assertEqual(cm.exception.reason, 'isolated')

    def test_filling_an_isolated_seat(self):
        "A single buyer may take a seat already alone"
        map_layout, states, names = crafted(
            'xxxx.xxxxx',
            '..........')
        choice = choose(map_layout, states, Request(quantity=1))
        self.assertEqual(where(names, choice), [[(0, 4)]])

    def test_split_when_no_row_fits(self):
        "No row has 5 together: the best split, in few pieces, together"
        map_layout, states, names = crafted(
            'xxx...xxxx',
            'xxx..xxxxx',
            '..xxxxxx..')
        choice = choose(map_layout, states, Request(quantity=5))
        self.assertTrue(choice.split)
        self.assertEqual(where(names, choice),
            [[(0, 3), (0, 4), (0, 5)], [(1, 3), (1, 4)]])
        with self.assertRaises(NoSeatsError) as cm:
            choose(map_layout, states, Request(quantity=5, allow_split=False))
        self.assertEqual(cm.exception.reason, 'not_together')

    def test_split_respects_isolated_rule(self):
        "The pieces of a split leave no single seat either"
        map_layout, states, names = crafted(
            'x...x...x',
            'xxxxxxxxx')
        # 2 + 2 would leave two single seats: 3 + 1 at an end
        choice = choose(map_layout, states, Request(quantity=4))
        self.assertEqual([len(p) for p in choice.pieces], [3, 1])
        left = list(states[0])
        for seat in choice.seats:
            left[names[seat][1]] = 'H'
        self.assertEqual(allocation.isolated_positions(''.join(left), set()),
            [])
        self.assertNotIn('HFH', ''.join(left))
        # 2 of a run of 3 always leaves one
        map_layout, states, names = crafted('x...x')
        with self.assertRaises(NoSeatsError) as cm:
            choose(map_layout, states, Request(quantity=2))
        self.assertEqual(cm.exception.reason, 'isolated')

    def test_not_enough(self):
        map_layout, states, names = crafted('xx..xx')
        with self.assertRaises(NoSeatsError) as cm:
            choose(map_layout, states, Request(quantity=3))
        self.assertEqual((cm.exception.reason, cm.exception.available),
            ('not_enough', 2))

    def test_wheelchair_only_when_asked(self):
        "Wheelchair and companion seats are left out unless asked for"
        map_layout, states, names = crafted(
            'wc........cw',
            '............')
        choice = choose(map_layout, states, Request(quantity=2))
        self.assertEqual(where(names, choice), [[(0, 5), (0, 6)]])
        full = [s.replace(FREE, 'S') for s in states]
        for index, position in [(0, 0), (0, 1)]:
            full[index] = (full[index][:position] + FREE
                + full[index][position + 1:])
        with self.assertRaises(NoSeatsError):
            choose(map_layout, full, Request(quantity=2))
        choice = choose(map_layout, states,
            Request(quantity=2, wheelchair=True))
        self.assertEqual(sorted(where(names, choice)[0]), [(0, 0), (0, 1)])
        # a wheelchair group has a wheelchair space
        only_companions = crafted('cc....')[:2]
        with self.assertRaises(NoSeatsError):
            choose(*only_companions, Request(quantity=2, wheelchair=True))

    def test_category(self):
        "Only the seats of the categories asked"
        map_layout, states, names = crafted(
            '1111111111',
            '2222222222')
        choice = choose(map_layout, states,
            Request(quantity=2, categories=frozenset([2])))
        self.assertEqual({r for r, _ in where(names, choice)[0]}, {1})

    def test_category_boundary_is_not_isolation(self):
        "The rule counts a free seat of another category as a neighbour"
        map_layout, states, names = crafted('x1112222')
        # seat 3 stays next to a free seat of category 2: not alone
        choice = choose(map_layout, states, Request(
                quantity=2, categories=frozenset([1])))
        self.assertEqual(where(names, choice), [[(0, 1), (0, 2)]])

    def test_restricted_view_last(self):
        "Restricted-view seats are chosen only when nothing else fits"
        map_layout, states, names = crafted(
            'rrrrrrrrrr',
            '..........')
        choice = choose(map_layout, states, Request(quantity=4))
        self.assertEqual({r for r, _ in where(names, choice)[0]}, {1})

    def test_preferred(self):
        "Preferred seats (a renewal) are taken when they are all free"
        map_layout, states, names = crafted('..........')
        back = [s for s, (r, p) in names.items() if p in (8, 9)]
        choice = choose(map_layout, states,
            Request(quantity=2, preferred=tuple(back)))
        self.assertEqual(choice.seats, back)
        states = ['FFFFFFFFSF']
        choice = choose(map_layout, states,
            Request(quantity=2, preferred=tuple(back)))
        self.assertNotEqual(choice.seats, back)

    def test_combine_sessions(self):
        "A seat for several sessions is free in all of them"
        map_layout, _, names = crafted('......')
        first = ['..xx..'.replace('.', FREE).replace('x', 'S')]
        second = ['xx....'.replace('.', FREE).replace('x', 'S')]
        combined = allocation.combine(first, second)
        self.assertEqual(combined[0].count(FREE), 2)
        choice = choose(map_layout, combined, Request(quantity=2))
        self.assertEqual(where(names, choice), [[(0, 4), (0, 5)]])

    def test_isolated_positions_of_pick(self):
        self.assertEqual(
            allocation.isolated_positions('FFFFS', {1, 2}), [0, 3])
        self.assertEqual(allocation.isolated_positions('FFFFF', {0, 1}), [])
        self.assertEqual(allocation.isolated_positions('F|FFS', {2, 3}), [])

    def test_random_fill_never_overlaps(self):
        "Groups chosen one after the other never share a seat"
        rng = random.Random(7)
        specs = layout.generate(layout.SectionSpec(
                name='Parterre', rows=12, seats=20, aisles=(10,)))
        rows = {}
        seats = []
        for i, spec in enumerate(specs):
            rows.setdefault(spec.row, len(rows) + 1)
            seats.append(SeatInfo(id=i + 1, row=rows[spec.row],
                    position=spec.position, x=spec.x, y=spec.y))
        map_layout = MapLayout([(r, 1) for r in rows.values()], seats,
            (0.0, -3.0))
        states = map_layout.templates()
        taken = set()
        while True:
            size = rng.randint(1, 6)
            try:
                choice = choose(map_layout, states,
                    Request(quantity=size, trigger=8))
            except NoSeatsError:
                if sum(s.count(FREE) for s in states) < size:
                    break
                continue
            self.assertEqual(len(choice.seats), size)
            self.assertFalse(taken & set(choice.seats))
            taken.update(choice.seats)
            for seat in choice.seats:
                index, position = map_layout.position(seat)
                state = states[index]
                states[index] = state[:position] + 'H' + state[position + 1:]
        self.assertGreater(len(taken), 240 - 6)

    def test_choice_seats(self):
        self.assertEqual(Choice([[1, 2], [3]], split=True).seats, [1, 2, 3])


class LayoutTestCase(unittest.TestCase):

    def test_generate_straight_with_aisle(self):
        seats = layout.generate(layout.SectionSpec(
                name='Stalls', rows=2, seats=6, aisles=(3,)))
        first = [s for s in seats if s.row == 'A']
        self.assertEqual([s.position for s in first], [0, 1, 2, 4, 5, 6])
        self.assertEqual([s.seat for s in first],
            ['1', '2', '3', '4', '5', '6'])
        self.assertEqual({s.row for s in seats}, {'A', 'B'})

    def test_generate_curved_and_numbering(self):
        seats = layout.generate(layout.SectionSpec(
                name='Balcony', rows=3, seats=5, increment=2,
                shape='curved', radius=10, numbering='odd_even'))
        first = [s for s in seats if s.row == 'A']
        self.assertEqual([s.seat for s in first], ['5', '3', '1', '2', '4'])
        self.assertEqual(len([s for s in seats if s.row == 'C']), 9)
        # a curved row bends towards the stage at its ends
        self.assertLess(first[0].y, first[2].y)
        self.assertAlmostEqual(first[0].y, first[-1].y)

    def test_row_labels(self):
        self.assertEqual([layout.row_label('A', i) for i in [0, 25, 26, 27]],
            ['A', 'Z', 'AA', 'AB'])
        self.assertEqual(layout.row_label('1', 9), '10')

    def test_order_row_finds_aisles(self):
        points = [(5, 0), (0, 0), (1, 0), (6, 0), (2, 0)]
        self.assertEqual(layout.order_row(points), [4, 0, 1, 5, 2])

    def test_parse_csv_and_json(self):
        csv_text = ('section;row;seat;x;y;category;wheelchair\n'
            'Stalls;A;1;0;0;Cat 1;\n'
            'Stalls;A;2;1,0;0;Cat 1;oui\n')
        seats = layout.parse(csv_text)
        self.assertEqual([(s.seat, s.x, s.wheelchair) for s in seats],
            [('1', 0.0, False), ('2', 1.0, True)])
        seats = layout.parse('[{"section": "S", "row": "A", "seat": "1", '
            '"x": 0, "y": 0, "category": "C"}]')
        self.assertEqual(seats[0].category, 'C')

    def test_parse_errors(self):
        for content, code, line in [
                ('section,row,seat,x,y\nS,A,1,0,0\n', 'columns', 1),
                ('section,row,seat,x,y,category\nS,A,1,zero,0,C\n',
                    'number', 2),
                ('section,row,seat,x,y,category\nS,A,1,0,0,C\n'
                    'S,A,1,1,0,C\n', 'duplicate', 3),
                ('section,row,seat,x,y,category\n,A,1,0,0,C\n',
                    'required', 2),
                ('[1]', 'json_item', 1),
                ('', 'empty', None),
                ]:
            with self.subTest(code=code):
                with self.assertRaises(layout.LayoutError) as cm:
                    layout.parse(content)
                self.assertEqual((cm.exception.code, cm.exception.line),
                    (code, line))

    def test_stadium(self):
        specs = layout.stadium(tiers=1, rows=2, seats=4)
        self.assertEqual(len(specs), 24)
        seats = [s for spec in specs for s in layout.generate(spec)]
        self.assertEqual(len(seats), 24 * 8)
        # no two seats at the same place
        self.assertEqual(len({(s.x, s.y) for s in seats}), len(seats))


if __name__ == '__main__':
    unittest.main()
