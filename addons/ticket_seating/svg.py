"""The SVG picture of a session's seat map: a circle per seat colored by its
status and category, its label in a <title> shown on hover (no script), and
a data-seat attribute with its id for the pickers of the shop and the POS.
The back office's version names the holders."""
from html import escape

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from .allocation import BLOCKED, CONTINGENT, FREE, GAP, HELD, SOLD

RADIUS = 0.42
TAKEN = '#c8c8c8'
STATUS_CLASSES = {
    FREE: 'f', HELD: 'h', SOLD: 's', BLOCKED: 'b', CONTINGENT: 'c'}
STATUS_MESSAGES = {
    FREE: 'ticket_seating.msg_status_free',
    HELD: 'ticket_seating.msg_status_held',
    SOLD: 'ticket_seating.msg_status_sold',
    BLOCKED: 'ticket_seating.msg_status_blocked',
    CONTINGENT: 'ticket_seating.msg_status_contingent',
    'taken': 'ticket_seating.msg_status_taken',
    }


def labels(layout):
    """{seat id: (section name, row name, seat label)} of a layout's map,
    kept with the layout (its version changes with the names)"""
    cached = getattr(layout, 'labels', None)
    if cached is not None:
        return cached
    pool = Pool()
    Seat = pool.get('ticket.seat')
    Row = pool.get('ticket.seat.row')
    Section = pool.get('ticket.seat.section')
    seat = Seat.__table__()
    row = Row.__table__()
    section = Section.__table__()
    ids = list(layout.seat_index)
    cursor = Transaction().connection.cursor()
    result = {}
    if ids:
        # the seats alone, then the names of their rows: no join over the
        # seats for the planner to get wrong on a map just imported
        cursor.execute(*seat.select(seat.map, where=seat.id == ids[0]))
        map_id = cursor.fetchone()[0]
        cursor.execute(*row.join(section, condition=row.section == section.id
                ).select(row.id, section.name, row.name,
                where=section.map == map_id))
        names = {r: (sec, name) for r, sec, name in cursor}
        cursor.execute(*seat.select(seat.id, seat.row, seat.label,
                where=seat.map == map_id))
        result = {s: (*names.get(r, ('', '')), label)
            for s, r, label in cursor}
    layout.labels = result
    return result


def bounds(layout, margin=2.0):
    "(x, y, width, height) of the seats and the focal point"
    xs = [layout.focal[0]]
    ys = [layout.focal[1]]
    for row in layout.rows:
        for position, seat_id in enumerate(row.seat_ids):
            if seat_id is not None:
                xs.append(row.xs[position])
                ys.append(row.ys[position])
    x0, y0 = min(xs) - margin, min(ys) - margin
    return (x0, y0, max(xs) - x0 + margin, max(ys) - y0 + margin)


def render(layout, states, categories, title='', public=True, holders=None):
    """The SVG of a map for a session's states.

    categories maps a seat category id to (name, color); public shows
    every status but free as taken, else each status and the holders
    (holders maps a seat id to a name)."""
    x0, y0, width, height = bounds(layout)
    names = labels(layout)
    pattern = gettext('ticket_seating.msg_seat_label',
        section='%(section)s', row='%(row)s', seat='%(seat)s')
    statuses = {k: gettext(v) for k, v in STATUS_MESSAGES.items()}
    holders = holders or {}
    classes = {}
    style = [
        'circle{stroke:#fff;stroke-width:.06}',
        'circle:hover{stroke:#000;stroke-width:.16}',
        f'.h,.s,.b,.t{{fill:{TAKEN}}}',
        '.h{fill:#f5b041}.b{fill:#616a6b}.c{fill:#f4d03f}',
        'text{font:1.2px sans-serif;fill:#555}',
        '.stage{fill:#eee;stroke:#999;stroke-width:.1}',
        ]
    for index, (category_id, (name, color)) in enumerate(
            sorted(categories.items())):
        classes[category_id] = f'k{index}'
        style.append(f'.f.k{index}{{fill:{escape(color)}}}')
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="{x0:.2f} {y0:.2f} {width:.2f} {height:.2f}" '
        'class="seat-map" role="img">',
        f'<title>{escape(title)}</title>',
        f'<style>{"".join(style)}</style>',
        ]
    fx, fy = layout.focal
    parts.append(
        f'<rect class="stage" x="{fx - 4:.2f}" y="{fy - 1:.2f}" width="8" '
        f'height="2" rx=".3"/><text x="{fx:.2f}" y="{fy + .4:.2f}" '
        f'text-anchor="middle">{escape(gettext("ticket_seating.msg_stage"))}'
        '</text>')
    section = None
    for row, state in zip(layout.rows, states):
        if row.section != section:
            if section is not None:
                parts.append('</g>')
            parts.append(f'<g data-section="{row.section}">')
            section = row.section
        for position, seat_id in enumerate(row.seat_ids):
            if seat_id is None:
                continue
            char = state[position] if state else GAP
            if char == GAP:
                continue
            if public and char != FREE:
                status, css = statuses['taken'], 't'
            else:
                status, css = statuses[char], STATUS_CLASSES[char]
            category = row.categories[position]
            category_name = categories.get(category, ('', ''))[0]
            sec, row_name, label = names.get(seat_id, ('', '', ''))
            text = pattern % {'section': sec, 'row': row_name, 'seat': label}
            details = [text, category_name, status]
            if not public and seat_id in holders:
                details.append(holders[seat_id])
            parts.append(
                f'<circle cx="{row.xs[position]:.2f}" '
                f'cy="{row.ys[position]:.2f}" r="{RADIUS}" '
                f'class="{css} {classes.get(category, "")}" '
                f'data-seat="{seat_id}"><title>'
                f'{escape(" · ".join(d for d in details if d))}'
                '</title></circle>')
    if section is not None:
        parts.append('</g>')
    parts.append('</svg>')
    return ''.join(parts)


def session_svg(session, channel=None, public=True):
    "The SVG of session's map (for channel when public)"
    from .service import Availability
    from .inventory import Inventory
    seat_map = session.seat_map
    if public:
        availability = Availability(session, channel)
        layout, states = availability.layout, availability.states
        holders = None
    else:
        layout = seat_map.get_layout()
        states = Inventory.states(session, layout)
        holders = {b.seat.id: b.holder or '' for b in session.seat_bookings
            if b.state != 'released'}
    categories = {c.id: (c.name, c.color) for c in seat_map.categories}
    return render(layout, states, categories, title=session.rec_name,
        public=public, holders=holders)
