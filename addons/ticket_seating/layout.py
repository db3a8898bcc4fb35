"""Seat map geometry without the database: the generator of sections, the
parser of imported maps (CSV or JSON) and the order of the seats of a row.

Coordinates are in seat widths, y growing away from the stage (as in SVG).
A seat's ``position`` is its place in its row's state string: seats side by
side have consecutive positions, an aisle leaves one position empty.
"""
import csv
import io
import json
import math
from dataclasses import dataclass

COLUMNS = ('section', 'row', 'seat', 'x', 'y', 'category')
FLAGS = ('wheelchair', 'restricted_view', 'companion')
TRUE = {'1', 'true', 'yes', 'y', 'x', 'oui', 'o', 'vrai'}
FALSE = {'', '0', 'false', 'no', 'n', 'non', 'faux'}
MAX_SEATS = 200_000
MAX_LABEL = 20
# Neighbours farther apart than this many times the usual gap of the row
# are separated by an aisle.
AISLE_FACTOR = 1.5


class LayoutError(ValueError):
    "An invalid generator setting or imported line: message and line"

    def __init__(self, code, line=None, **values):
        super().__init__(code)
        self.code = code
        self.line = line
        self.values = values


@dataclass
class SeatSpec:
    "A seat to create: labels, geometry, category name and flags"
    section: str
    row: str
    seat: str
    x: float
    y: float
    category: str = ''
    wheelchair: bool = False
    restricted_view: bool = False
    companion: bool = False
    position: int | None = None
    line: int | None = None


# Generator


def row_label(first, index):
    """The label of the index-th row from first: 'A' gives A..Z, AA, AB...,
    a number gives the following numbers"""
    first = (first or 'A').strip()
    if first.isdigit():
        return str(int(first) + index)
    if len(first) == 1 and first.isalpha():
        upper = first.isupper()
        value = ord(first.upper()) - ord('A') + index
        label = ''
        value += 1
        while value:
            value, rest = divmod(value - 1, 26)
            label = chr(ord('A') + rest) + label
        return label if upper else label.lower()
    return f'{first}{index + 1}' if index else first


def seat_numbers(count, numbering='left_right', first=1):
    """The seat labels of a row from left to right: left_right, right_left
    or odd_even (odd numbers from the centre to the left, even ones from
    the centre to the right, as in French theatres)"""
    if numbering == 'right_left':
        return [str(first + count - 1 - i) for i in range(count)]
    if numbering == 'odd_even':
        left = (count + 1) // 2
        odd = [first + 2 * i for i in range(left)]
        even = [first + 1 + 2 * i for i in range(count - left)]
        return [str(n) for n in list(reversed(odd)) + even]
    return [str(first + i) for i in range(count)]


def parse_aisles(text):
    "The seat counts after which an aisle runs: '8, 16' gives (8, 16)"
    aisles = []
    for part in (text or '').replace(';', ',').split(','):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise LayoutError('aisles', value=part)
        aisles.append(int(part))
    return tuple(sorted(set(aisles)))


@dataclass
class SectionSpec:
    "What the generator makes: a block of rows of seats"
    name: str
    rows: int
    seats: int
    increment: int = 0
    first_row: str = 'A'
    first_seat: int = 1
    numbering: str = 'left_right'
    shape: str = 'straight'
    radius: float = 20.0
    aisles: tuple = ()
    seat_spacing: float = 1.0
    row_spacing: float = 1.2
    x: float = 0.0
    y: float = 0.0
    rotation: float = 0.0
    category: str = ''

    def check(self):
        if not 0 < self.rows <= 500:
            raise LayoutError('rows')
        if not 0 < self.seats <= 500 or not (
                0 < self.seats + self.increment * (self.rows - 1) <= 500):
            raise LayoutError('seats')
        if self.seat_spacing <= 0 or self.row_spacing <= 0:
            raise LayoutError('spacing')
        if self.shape == 'curved' and self.radius <= 0:
            raise LayoutError('radius')
        if self.rows * (self.seats + max(self.increment, 0) * self.rows) > (
                MAX_SEATS):
            raise LayoutError('too_many', maximum=MAX_SEATS)


def generate(spec):
    """The seats of a generated section, row by row from the stage, each
    row from left to right, with positions"""
    spec.check()
    angle = math.radians(spec.rotation)
    cos, sin = math.cos(angle), math.sin(angle)
    seats = []
    for r in range(spec.rows):
        count = spec.seats + spec.increment * r
        aisles = [a for a in spec.aisles if a < count]
        offsets = []
        for i in range(count):
            offsets.append(i + sum(1 for a in aisles if a <= i))
        width = (offsets[-1] if offsets else 0) * spec.seat_spacing
        labels = seat_numbers(count, spec.numbering, spec.first_seat)
        row = row_label(spec.first_row, r)
        for i, offset in enumerate(offsets):
            along = offset * spec.seat_spacing - width / 2
            if spec.shape == 'curved':
                radius = spec.radius + r * spec.row_spacing
                theta = along / radius
                local_x = radius * math.sin(theta)
                local_y = radius * math.cos(theta) - spec.radius
            else:
                local_x = along
                local_y = r * spec.row_spacing
            x = spec.x + local_x * cos - local_y * sin
            y = spec.y + local_x * sin + local_y * cos
            seats.append(SeatSpec(
                    section=spec.name, row=row, seat=labels[i],
                    x=round(x, 3), y=round(y, 3), category=spec.category,
                    position=offset))
    return seats


# Import


def parse(content, filename=''):
    """The seats of an imported map: CSV (with a header naming at least
    section, row, seat, x, y, category) or JSON (a list of objects with
    these keys, or an object with a "seats" list); raise LayoutError"""
    if isinstance(content, bytes):
        try:
            content = content.decode('utf-8-sig')
        except UnicodeDecodeError:
            raise LayoutError('encoding')
    text = content.strip()
    if not text:
        raise LayoutError('empty')
    if filename.lower().endswith('.json') or text[0] in '[{':
        records = _json_records(text)
    else:
        records = _csv_records(text)
    seats = [_seat(values, line) for line, values in records]
    if not seats:
        raise LayoutError('empty')
    if len(seats) > MAX_SEATS:
        raise LayoutError('too_many', maximum=MAX_SEATS)
    seen = {}
    for seat in seats:
        key = (seat.section, seat.row, seat.seat)
        if key in seen:
            raise LayoutError('duplicate', seat.line, other=seen[key],
                seat=' '.join(key))
        seen[key] = seat.line
    return seats


def _json_records(text):
    try:
        data = json.loads(text)
    except ValueError:
        raise LayoutError('json')
    if isinstance(data, dict):
        data = data.get('seats')
    if not isinstance(data, list):
        raise LayoutError('json')
    records = []
    for index, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise LayoutError('json_item', index)
        records.append((index, {str(k).strip().lower(): v
                    for k, v in item.items()}))
    return records


def _csv_records(text):
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], ',;\t')
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise LayoutError('columns', 1, columns=', '.join(missing))
    records = []
    for line, values in enumerate(reader, 2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            raise LayoutError('line_length', line)
        records.append((line, dict(zip(header, values))))
    return records


def _text(values, name, line, required=True):
    value = values.get(name)
    value = '' if value is None else str(value).strip()
    if required and not value:
        raise LayoutError('required', line, column=name)
    if len(value) > MAX_LABEL * 5:
        raise LayoutError('too_long', line, column=name)
    return value


def _number(values, name, line):
    value = values.get(name)
    if isinstance(value, bool):
        raise LayoutError('number', line, column=name)
    try:
        number = float(str(value).strip().replace(',', '.'))
    except (TypeError, ValueError):
        raise LayoutError('number', line, column=name)
    if not math.isfinite(number) or abs(number) > 1e6:
        raise LayoutError('number', line, column=name)
    return number


def _flag(values, name, line):
    value = values.get(name)
    if isinstance(value, bool):
        return value
    text = '' if value is None else str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise LayoutError('flag', line, column=name)


def _seat(values, line):
    seat = SeatSpec(
        section=_text(values, 'section', line),
        row=_text(values, 'row', line),
        seat=_text(values, 'seat', line),
        x=_number(values, 'x', line),
        y=_number(values, 'y', line),
        category=_text(values, 'category', line, required=False),
        line=line,
        **{f: _flag(values, f, line) for f in FLAGS})
    for name in ['row', 'seat']:
        if len(getattr(seat, name)) > MAX_LABEL:
            raise LayoutError('too_long', line, column=name)
    return seat


# Positions


def order_row(points):
    """The order of the seats of a row and their positions: seats side by
    side get consecutive positions and an aisle (a gap wider than usual)
    leaves one position empty. points are (x, y); returns the positions in
    the order of points.

    The seats are chained from one end to the nearest next seat, so that
    curved rows are followed as well as straight ones; the chain runs from
    left to right."""
    count = len(points)
    if count == 0:
        return []
    if count == 1:
        return [0]
    cx = sum(p[0] for p in points) / count
    cy = sum(p[1] for p in points) / count
    start = max(range(count), key=lambda i: (
            (points[i][0] - cx) ** 2 + (points[i][1] - cy) ** 2,
            -points[i][0]))
    chain = [start]
    left = set(range(count)) - {start}
    while left:
        x, y = points[chain[-1]]
        nearest = min(left, key=lambda i: (
                (points[i][0] - x) ** 2 + (points[i][1] - y) ** 2, i))
        chain.append(nearest)
        left.discard(nearest)
    if points[chain[0]][0] > points[chain[-1]][0]:
        chain.reverse()
    gaps = [math.dist(points[a], points[b]) for a, b in zip(chain, chain[1:])]
    usual = sorted(gaps)[len(gaps) // 2] or 1
    positions = [0] * count
    position = 0
    for i, index in enumerate(chain):
        if i:
            position += 2 if gaps[i - 1] > AISLE_FACTOR * usual else 1
        positions[index] = position
    return positions


def with_positions(seats):
    "Set the position of the seats (SeatSpec) that have none, row by row"
    rows = {}
    for seat in seats:
        rows.setdefault((seat.section, seat.row), []).append(seat)
    for row_seats in rows.values():
        if all(s.position is not None for s in row_seats):
            continue
        positions = order_row([(s.x, s.y) for s in row_seats])
        for seat, position in zip(row_seats, positions):
            seat.position = position
    return seats


def stadium(tiers=3, rows=40, seats=28, sections=(7, 5),
        categories=('Catégorie 1', 'Catégorie 2', 'Catégorie 3')):
    """The sections of a stadium around a pitch of 210 x 136 seat widths
    whose centre is the focal point (0, 0): two sides of sections[0]
    sections and two ends of sections[1], each section tiers times a block
    of rows x seats, rows going away from the pitch. The default makes
    80,640 seats in 2,880 rows; the middle of the sides is the first
    category, the rest of the sides the second, the ends the last."""
    specs = []
    stands = [
        # name, direction from the centre (degrees), half pitch, sections
        ('Tribune Nord', -90, 68, sections[0]),
        ('Tribune Sud', 90, 68, sections[0]),
        ('Virage Ouest', 180, 105, sections[1]),
        ('Virage Est', 0, 105, sections[1]),
        ]
    depth = rows * 1.2 + 6
    for stand, direction, half, count in stands:
        phi = math.radians(direction)
        ux, uy = math.cos(phi), math.sin(phi)
        rotation = direction - 90
        vx, vy = math.cos(math.radians(rotation)), math.sin(
            math.radians(rotation))
        width = seats + 2
        for tier in range(tiers):
            out = half + 10 + tier * depth
            for index in range(count):
                along = (index - (count - 1) / 2) * width
                x = out * ux + along * vx
                y = out * uy + along * vy
                if count == sections[0]:
                    category = categories[0] if abs(along) <= width else (
                        categories[1])
                else:
                    category = categories[-1]
                specs.append(SectionSpec(
                        name=f'{stand} {tier + 1}{chr(65 + index)}',
                        rows=rows, seats=seats, first_row='1',
                        x=round(x, 2), y=round(y, 2), rotation=rotation,
                        category=category))
    return specs
