"""Best available: the choice of seats for a group, in memory.

Pure Python, no database: ``MapLayout`` is the geometry of a seat map
(built once per process and map version, see ``inventory.layout``) and a
session's seat states are one string per row, a character per position
(``FREE``, ``HELD``, ``SOLD``, ``BLOCKED``, ``CONTINGENT``, ``GAP`` for an
aisle). ``choose`` returns the seats to claim; the caller claims them with a
conditional UPDATE in the hold's transaction.

The rules, in order:

1. together in one row when possible, the group whose seats are on average
   closest to the map's focal point (restricted-view seats count as far);
2. never leaving a single free seat between the group and a taken seat, an
   aisle or the end of the row, unless the map allows it or fewer free seats
   remain (for the request) than the map's trigger;
3. when no row fits, the best split: as few pieces as possible, each piece
   as close as possible to the seats already chosen;
4. wheelchair and companion seats only when asked, and then a group has at
   least one wheelchair seat.

Speed: rows are visited by increasing distance of their closest seat and the
search stops when no remaining row can beat the best group found; string
searches (``str.find``, ``re``) and integer masks do the per-seat work in C.
"""
import bisect
import math
import re
from dataclasses import dataclass

FREE = 'F'
HELD = 'H'
SOLD = 'S'
BLOCKED = 'B'
CONTINGENT = 'C'
GAP = '|'
STATES = {
    FREE: 'free', HELD: 'held', SOLD: 'sold', BLOCKED: 'blocked',
    CONTINGENT: 'contingent',
    }
RUNS = re.compile(FREE + '+')
# Marks a position unavailable when or-ed into a state string's bytes.
OFF = 0x80
# Maps a state to 0 when free, OFF otherwise: or-ing these masks of
# several sessions marks what is not free in all of them.
_BLOCKS = bytes.maketrans(
    bytes(range(256)), bytes(0 if c == ord(FREE) else OFF
        for c in range(256)))

NORMAL, WHEELCHAIR, COMPANION = 'n', 'w', 'c'
EPSILON = 1e-9


class NoSeatsError(Exception):
    """No seats for the request: reason is 'not_enough' (fewer free seats
    than asked), 'not_together' (no row fits and splitting is not allowed)
    or 'isolated' (only choices leaving a single seat)."""

    def __init__(self, reason, available=0):
        super().__init__(reason)
        self.reason = reason
        self.available = available


@dataclass
class Request:
    "What a buyer asks for"
    quantity: int
    categories: frozenset | None = None     # seat category ids; None: all
    wheelchair: bool = False
    isolated_rule: bool = True              # False: single seats allowed
    trigger: int = 0                        # rule lifted below this count
    allow_split: bool = True
    preferred: tuple = ()                   # seat ids taken if all free


@dataclass
class Choice:
    "The seats chosen, by piece (one piece unless split)"
    pieces: list
    split: bool = False
    rule_lifted: bool = False

    @property
    def seats(self):
        return [s for p in self.pieces for s in p]


@dataclass
class SeatInfo:
    "A seat of a map as the layout needs it"
    id: int
    row: int
    position: int
    x: float
    y: float
    category: int | None = None
    access: str = NORMAL
    restricted: bool = False


class RowLayout:
    "The static geometry of a row: positions, costs, categories"
    __slots__ = (
        'id', 'index', 'section', 'length', 'seat_ids', 'template', 'xs',
        'ys', 'categories', 'access', 'extra', 'costs', 'prefix',
        'wheel_prefix', 'min_cost', 'box')

    def __init__(self, id_, index, section, seats, focal, penalty):
        self.id = id_
        self.index = index
        self.section = section
        self.length = length = (max(s.position for s in seats) + 1
            if seats else 0)
        by_position = {s.position: s for s in seats}
        self.seat_ids = [None] * length
        self.xs = [0.0] * length
        self.ys = [0.0] * length
        self.categories = [None] * length
        self.access = [None] * length
        self.extra = [0.0] * length
        self.costs = [0.0] * length
        template = []
        fx, fy = focal
        for position in range(length):
            seat = by_position.get(position)
            if seat is None:
                template.append(GAP)
                continue
            template.append(FREE)
            self.seat_ids[position] = seat.id
            self.xs[position] = seat.x
            self.ys[position] = seat.y
            self.categories[position] = seat.category
            self.access[position] = seat.access
            self.extra[position] = penalty if seat.restricted else 0.0
            self.costs[position] = (
                math.hypot(seat.x - fx, seat.y - fy) + self.extra[position])
        self.template = ''.join(template)
        self.prefix = _prefix(self.costs)
        self.wheel_prefix = _prefix(
            [1 if a == WHEELCHAIR else 0 for a in self.access])
        self.min_cost = min((c for c, s in zip(self.costs, self.seat_ids)
                if s is not None), default=math.inf)
        xs = [s.x for s in seats] or [0.0]
        ys = [s.y for s in seats] or [0.0]
        self.box = (min(xs), min(ys), max(xs), max(ys))

    def distance_bound(self, x, y):
        "A lower bound of the distance from (x, y) to a seat of the row"
        x0, y0, x1, y1 = self.box
        dx = max(x0 - x, 0, x - x1)
        dy = max(y0 - y, 0, y - y1)
        return math.hypot(dx, dy)


def _prefix(values):
    prefix = [0] * (len(values) + 1)
    total = 0
    for i, value in enumerate(values):
        total += value
        prefix[i + 1] = total
    return prefix


class MapLayout:
    """The geometry of a seat map for the allocation.

    rows: (row id, section id) in the order of the row state strings;
    seats: SeatInfo of every seat; focal: (x, y)."""

    def __init__(self, rows, seats, focal, version=0):
        self.version = version
        self.focal = focal
        by_row = {}
        for seat in seats:
            by_row.setdefault(seat.row, []).append(seat)
        xs = [s.x for s in seats] or [0.0]
        ys = [s.y for s in seats] or [0.0]
        xs.append(focal[0])
        ys.append(focal[1])
        # a restricted view counts as the far end of the map
        self.penalty = math.hypot(max(xs) - min(xs), max(ys) - min(ys)) + 1
        self.rows = [
            RowLayout(row_id, index, section, by_row.get(row_id, []),
                focal, self.penalty)
            for index, (row_id, section) in enumerate(rows)]
        self.row_index = {r.id: r.index for r in self.rows}
        self.sections = {}
        for row in self.rows:
            self.sections.setdefault(row.section, []).append(row.index)
        # where each row starts in the strings of all rows joined by GAP
        self.blanks = [GAP * r.length for r in self.rows]
        self.offsets = []
        offset = 0
        for row in self.rows:
            self.offsets.append(offset)
            offset += row.length + 1
        self.offsets.append(offset)
        self.by_cost = sorted(
            (r.index for r in self.rows if r.min_cost < math.inf),
            key=lambda i: self.rows[i].min_cost)
        self.seat_index = {}
        for row in self.rows:
            for position, seat_id in enumerate(row.seat_ids):
                if seat_id is not None:
                    self.seat_index[seat_id] = (row.index, position)
        self.seat_count = len(self.seat_index)
        self._masks = {}

    def templates(self):
        "The state strings of a session where every seat is free"
        return [r.template for r in self.rows]

    def position(self, seat_id):
        "The (row index, position) of a seat, KeyError if not of the map"
        return self.seat_index[seat_id]

    def seat_at(self, row_index, position):
        return self.rows[row_index].seat_ids[position]

    def masks(self, categories, wheelchair, access_only=False):
        """Per row, what to or into the state bytes so that only the seats
        the request may take stay FREE: 0 when the whole row may be taken,
        None when none of it, else an integer mask"""
        key = (categories, wheelchair, access_only)
        if key not in self._masks:
            masks = [self._row_mask(r, categories, wheelchair, access_only)
                for r in self.rows]
            if not any(masks) and None not in masks:
                masks = None
            self._masks[key] = masks
        return self._masks[key]

    @staticmethod
    def _row_mask(row, categories, wheelchair, access_only):
        wanted = {WHEELCHAIR, COMPANION} if wheelchair else {NORMAL}
        refused = []
        eligible = 0
        for position, seat_id in enumerate(row.seat_ids):
            if seat_id is None:
                refused.append(0)
                continue
            ok = row.access[position] in wanted and (access_only
                or categories is None
                or row.categories[position] in categories)
            refused.append(0 if ok else OFF)
            eligible += ok
        if not eligible:
            return None
        if not any(refused):
            return 0
        return int.from_bytes(bytes(refused), 'big')

    def restrict(self, states, masks):
        """The state strings with the positions refused by masks (None for
        all allowed) not FREE; a row not on sale is all GAP"""
        blanks = self.blanks
        if masks is None:
            return [b if s is None else s for s, b in zip(states, blanks)]
        return [b if s is None or m is None else (s if not m else _or(s, m))
            for s, m, b in zip(states, masks, blanks)]


def _or(state, mask):
    raw = state.encode('latin-1')
    return (int.from_bytes(raw, 'big') | mask).to_bytes(
        len(raw), 'big').decode('latin-1')


def combine(*sessions):
    """The state strings of rows free in all of several sessions on the
    same map (a season pass seat): FREE only where every session is"""
    if len(sessions) == 1:
        return list(sessions[0])
    result = []
    for states in zip(*sessions):
        if any(s is None for s in states):
            result.append(None)
            continue
        blocks = 0
        for state in states:
            blocks |= int.from_bytes(
                state.encode('latin-1').translate(_BLOCKS), 'big')
        result.append(_or(states[0], blocks) if blocks else states[0])
    return result


def isolates(rule, start, end):
    """Whether taking positions [start, end) of a rule string leaves a
    single free position next to them"""
    length = len(rule)
    if start >= 1 and rule[start - 1] == FREE and (
            start < 2 or rule[start - 2] != FREE):
        return True
    if end < length and rule[end] == FREE and (
            end + 1 >= length or rule[end + 1] != FREE):
        return True
    return False


def isolated_positions(rule, taken):
    """The free positions of a rule string left single once the positions
    in taken are no longer free (for a pick on the map)"""
    chars = list(rule)
    for position in taken:
        chars[position] = HELD
    single = []
    for position in range(len(chars)):
        if position in taken or rule[position] != FREE:
            continue
        left = position > 0 and chars[position - 1] == FREE
        right = position + 1 < len(chars) and chars[position + 1] == FREE
        touches = any(p in taken for p in (position - 1, position + 1))
        if touches and not left and not right:
            single.append(position)
    return single


@dataclass
class _Best:
    cost: float = math.inf
    row: int = -1
    start: int = -1
    size: int = 0


class _Search:
    """The strings a request searches: eligible (the seats it may take
    FREE) and, when the isolated-seat rule applies, the rule strings (every
    seat of its kind FREE), both updated as pieces of a split are taken"""

    def __init__(self, layout, states, request):
        self.layout = layout
        self.states = list(states)
        self.wheelchair = request.wheelchair
        self.eligible = layout.restrict(
            states, layout.masks(request.categories, request.wheelchair))
        self.joined = GAP.join(self.eligible)
        self.available = self.joined.count(FREE)
        self.rule = None
        self.rule_on = False

    def apply_rule(self):
        "Check the rule on the seats of the request's kind"
        self.rule = self.layout.masks(None, self.wheelchair, access_only=True)
        self.rule_on = True

    def rule_state(self, index):
        "The string of a row where the seats of the request's kind are FREE"
        state = self.states[index]
        if state is None:
            return self.layout.blanks[index]
        mask = self.rule[index] if self.rule else 0
        return _or(state, mask) if mask else state

    def take(self, index, start, end):
        for strings in (self.eligible, self.states):
            state = strings[index]
            strings[index] = (
                state[:start] + HELD * (end - start) + state[end:])
        self.joined = GAP.join(self.eligible)

    def rows_with(self, pattern, limit=64):
        """The indexes of the rows where pattern is eligible, or None when
        there are more than limit"""
        joined = self.joined
        offsets = self.layout.offsets
        rows = []
        position = joined.find(pattern)
        while position >= 0:
            if len(rows) == limit:
                return None
            index = bisect.bisect_right(offsets, position) - 1
            rows.append(index)
            position = joined.find(pattern, offsets[index + 1])
        return rows

    def windows(self, size, best, point=None, rows=None, wheelchair=None):
        """Improve best with the windows of size seats; by the precomputed
        focal costs, or by the distance to point among rows (indexes)"""
        layout = self.layout
        eligible = self.eligible
        pattern = FREE * size
        if wheelchair is None:
            wheelchair = self.wheelchair
        found = self.rows_with(pattern)
        if point is None:
            bound = None
            if found is None:
                order = layout.by_cost
            else:
                order = sorted(found, key=lambda i: layout.rows[i].min_cost)
        else:
            px, py = point
            if rows is None:
                rows = found if found is not None else range(len(eligible))
            bound = {i: layout.rows[i].distance_bound(px, py)
                for i in rows if pattern in eligible[i]}
            order = sorted(bound, key=bound.get)
        rule_on = self.rule_on
        for index in order:
            state = eligible[index]
            row = layout.rows[index]
            lower = row.min_cost if bound is None else bound[index]
            if lower >= best.cost:
                break
            if state.find(pattern) < 0:
                continue
            rule = self.rule_state(index) if rule_on else None
            for match in RUNS.finditer(state):
                run_start, run_end = match.span()
                if run_end - run_start < size:
                    continue
                if point is not None:
                    window_prefix = _prefix([
                            math.hypot(row.xs[p] - px, row.ys[p] - py)
                            + row.extra[p]
                            for p in range(run_start, run_end)])
                for start in range(run_start, run_end - size + 1):
                    end = start + size
                    if rule is not None and isolates(rule, start, end):
                        continue
                    if wheelchair and not (
                            row.wheel_prefix[end] - row.wheel_prefix[start]):
                        continue
                    if point is None:
                        cost = (row.prefix[end] - row.prefix[start]) / size
                    else:
                        cost = (window_prefix[end - run_start]
                            - window_prefix[start - run_start]) / size
                    # the first of equal groups (rows by distance, seats
                    # from the left) wins, whatever the rounding
                    if cost < best.cost - EPSILON:
                        best.cost = cost
                        best.row = index
                        best.start = start
                        best.size = size
        return best

    def seats(self, best):
        row = self.layout.rows[best.row]
        return row.seat_ids[best.start:best.start + best.size]


def choose(layout, states, request):
    """Choose the seats for request in states (one string per row of the
    layout, None for a row not on sale); raise NoSeatsError"""
    size = request.quantity
    if size < 1:
        raise NoSeatsError('not_enough')
    search = _Search(layout, states, request)
    available = search.available
    if available < size:
        raise NoSeatsError('not_enough', available)
    preferred = _preferred(layout, search.eligible, request)
    if preferred:
        return Choice([preferred])
    lifted = request.isolated_rule and available < request.trigger
    if request.isolated_rule and not lifted:
        search.apply_rule()
    together = FREE * size in search.joined
    if together:
        best = search.windows(size, _Best())
        if best.row >= 0:
            return Choice([search.seats(best)], rule_lifted=lifted)
    reason = 'isolated' if together else 'not_together'
    if not request.allow_split or size == 1:
        raise NoSeatsError(reason, available)
    pieces = _split(search, size)
    if pieces is None:
        raise NoSeatsError(
            'isolated' if search.rule_on else 'not_together', available)
    return Choice(pieces, split=True, rule_lifted=lifted)


def _preferred(layout, eligible, request):
    "The preferred seats when there are as many as asked and all free"
    if len(request.preferred) != request.quantity:
        return None
    for seat_id in request.preferred:
        try:
            index, position = layout.position(seat_id)
        except KeyError:
            return None
        state = eligible[index]
        if state is None or state[position] != FREE:
            return None
    return list(request.preferred)


def _split(search, size):
    """The fewest pieces, largest first, the first closest to the focal
    point, the next ones closest to the seats already chosen (in their
    section when it has room); None if the seats cannot be found"""
    layout = search.layout
    pieces, xs, ys, sections = [], [], [], set()
    remaining = size
    largest = size - 1
    while remaining:
        best = _Best()
        for piece_size in range(min(largest, remaining), 0, -1):
            if FREE * piece_size not in search.joined:
                continue
            # a wheelchair group needs one wheelchair seat, in its first
            # piece
            wheelchair = search.wheelchair and not pieces
            if not pieces:
                best = search.windows(piece_size, _Best())
            else:
                point = (sum(xs) / len(xs), sum(ys) / len(ys))
                rows = [i for s in sections for i in layout.sections[s]]
                best = search.windows(piece_size, _Best(), point, rows,
                    wheelchair)
                if best.row < 0:
                    best = search.windows(piece_size, _Best(), point,
                        wheelchair=wheelchair)
            if best.row >= 0:
                break
        else:
            return None
        largest = best.size
        row = layout.rows[best.row]
        end = best.start + best.size
        pieces.append(search.seats(best))
        sections.add(row.section)
        xs.extend(row.xs[best.start:end])
        ys.extend(row.ys[best.start:end])
        search.take(best.row, best.start, end)
        remaining -= best.size
    return pieces
