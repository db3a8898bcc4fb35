"""Seat maps: the halls of a venue with their sections, rows, seats and
seat categories (price zones).

A map is built by the generator or an import (``SeatMap.add_seats``), or
copied from another venue's (``SeatMap.copy_to``). Once a session uses it,
its layout (which seats, where) is frozen, so that every session of the map
reads the same positions; labels, categories and flags may still change.
``SeatMap.get_layout`` gives the geometry the allocation needs, cached per
process and map version.
"""
import threading

from sql.aggregate import Count, Max, Min

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields,
    sequence_ordered)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from guichet.ticket_event.common import forget_records

from . import allocation
from .exceptions import MapError, MapValidationError
from .layout import with_positions

COLORS = [
    '#c0392b', '#2e86c1', '#27ae60', '#8e44ad', '#d68910', '#17a589',
    '#cb4335', '#2874a6', '#7d3c98', '#b7950b']
_layouts = {}
_layouts_lock = threading.Lock()


class Venue(metaclass=PoolMeta):
    __name__ = 'ticket.venue'
    seat_maps = fields.One2Many(
        'ticket.seat.map', 'venue', "Seat Maps",
        help="The seating plans of the halls of the venue.")


class SeatMap(DeactivableMixin, ModelSQL, ModelView):
    "A seating plan of a hall"
    __name__ = 'ticket.seat.map'
    name = fields.Char("Name", required=True)
    venue = fields.Many2One(
        'ticket.venue', "Venue", required=True, ondelete='RESTRICT')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    sections = fields.One2Many(
        'ticket.seat.section', 'map', "Sections")
    categories = fields.One2Many(
        'ticket.seat.category', 'map', "Seat Categories",
        help="The price zones of the map; link them to tariffs or tariff "
        "categories of each event.")
    focal_x = fields.Float(
        "Focal Point X",
        help="The best place to see from, e.g. the middle of the stage: "
        "best available picks the seats closest to it. Empty for the "
        "middle of the front of the map.")
    focal_y = fields.Float("Focal Point Y")
    isolated_trigger = fields.Integer(
        "Isolated Seat Trigger", required=True,
        domain=[('isolated_trigger', '>=', 0)],
        help="Best available never leaves a single seat between taken "
        "seats unless fewer free seats than this remain.")
    allow_isolated = fields.Boolean(
        "Always Allow Isolated Seats",
        help="Best available may leave single seats at any time.")
    version = fields.Integer(
        "Version", readonly=True, required=True,
        help="Increases at every change of the seats.")
    seat_count = fields.Function(
        fields.Integer("Seats"), 'get_seat_count')
    used = fields.Function(
        fields.Boolean(
            "Used", help="A session uses the map: its layout is frozen."),
        'get_used')
    notes = fields.Text("Notes")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('venue', 'ASC'), ('name', 'ASC'), ('id', 'ASC')]
        cls._buttons.update(
            generate_wizard={'icon': 'tryton-launch'},
            import_wizard={'icon': 'tryton-import'},
            copy_wizard={'icon': 'tryton-copy'},
            )

    @classmethod
    def default_isolated_trigger(cls):
        return 10

    @classmethod
    def default_allow_isolated(cls):
        return False

    @classmethod
    def default_version(cls):
        return 1

    @fields.depends('venue', '_parent_venue.company')
    def on_change_with_company(self, name=None):
        return self.venue.company if self.venue else None

    @classmethod
    def search_company(cls, name, clause):
        return [('venue.company',) + tuple(clause[1:])]

    @classmethod
    def get_seat_count(cls, maps, name):
        Seat = Pool().get('ticket.seat')
        table = Seat.__table__()
        cursor = Transaction().connection.cursor()
        counts = dict.fromkeys([m.id for m in maps], 0)
        for sub in grouped_slice(counts):
            cursor.execute(*table.select(table.map, Count(table.id),
                    where=table.map.in_(list(sub)), group_by=[table.map]))
            counts.update(cursor)
        return counts

    @classmethod
    def get_used(cls, maps, name):
        Session = Pool().get('ticket.session')
        table = Session.__table__()
        cursor = Transaction().connection.cursor()
        used = dict.fromkeys([m.id for m in maps], False)
        for sub in grouped_slice(used):
            cursor.execute(*table.select(table.seat_map,
                    where=table.seat_map.in_(list(sub)),
                    group_by=[table.seat_map]))
            used.update((r[0], True) for r in cursor)
        return used

    def get_rec_name(self, name):
        return f'{self.name} ({self.venue.rec_name})'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('name', operator, value),
            ('venue.rec_name', operator, value),
            ]

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        args = []
        for maps, values in zip(actions, actions):
            if {'focal_x', 'focal_y'} & values.keys():
                values = values.copy()
                values['version'] = max(m.version for m in maps) + 1
            args.extend((maps, values))
        super().write(*args)

    @classmethod
    def copy(cls, maps, default=None):
        "A copy keeps the sections, rows, seats and categories"
        Venue = Pool().get('ticket.venue')
        default = default or {}
        copies = []
        for map_ in maps:
            venue = default.get('venue')
            name = default.get('name')
            copies.append(map_.copy_to(
                    Venue(venue) if isinstance(venue, int) else map_.venue,
                    name if isinstance(name, str) else None))
        return copies

    @property
    def focal(self):
        "The focal point, by default in front of the middle of the first row"
        if self.focal_x is not None and self.focal_y is not None:
            return (self.focal_x, self.focal_y)
        Seat = Pool().get('ticket.seat')
        table = Seat.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                Min(table.x), Max(table.x), Min(table.y),
                where=table.map == self.id))
        x0, x1, y0 = cursor.fetchone()
        if x0 is None:
            return (0.0, 0.0)
        return ((x0 + x1) / 2, y0 - 3)

    def get_layout(self):
        "The MapLayout of the map, cached per process and version"
        key = (Transaction().database.name, self.id)
        layout = _layouts.get(key)
        if layout is not None and layout.version == self.version:
            return layout
        layout = self._build_layout()
        with _layouts_lock:
            _layouts[key] = layout
        return layout

    def _build_layout(self):
        pool = Pool()
        Seat = pool.get('ticket.seat')
        Row = pool.get('ticket.seat.row')
        Section = pool.get('ticket.seat.section')
        seat = Seat.__table__()
        row = Row.__table__()
        section = Section.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*row.join(section, condition=row.section == section.id
                ).select(row.id, row.section,
                where=section.map == self.id,
                order_by=[section.sequence.asc.nulls_first, section.id,
                    row.sequence.asc.nulls_first, row.id]))
        rows = list(cursor)
        cursor.execute(*seat.select(
                seat.id, seat.row, seat.position, seat.x, seat.y,
                seat.category, seat.wheelchair, seat.companion,
                seat.restricted_view,
                where=seat.map == self.id))
        seats = [allocation.SeatInfo(
                id=id_, row=row_id, position=position, x=x, y=y,
                category=category,
                access=(allocation.WHEELCHAIR if wheelchair
                    else allocation.COMPANION if companion
                    else allocation.NORMAL),
                restricted=bool(restricted))
            for (id_, row_id, position, x, y, category, wheelchair,
                companion, restricted) in cursor]
        return allocation.MapLayout(
            rows, seats, self.focal, version=self.version)

    @classmethod
    def bump(cls, maps):
        "Mark the layout of maps changed"
        table = cls.__table__()
        ids = list({int(m) for m in maps})
        if not ids:
            return
        Transaction().connection.cursor().execute(*table.update(
                [table.version], [table.version + 1],
                where=table.id.in_(ids)))
        forget_records(cls, ids)

    @classmethod
    def check_layout_editable(cls, maps):
        "Raise MapError if a session uses one of maps"
        for map_ in cls.browse(list({int(m) for m in maps})):
            if map_.used:
                raise MapError(gettext(
                        'ticket_seating.msg_map_used', map=map_.rec_name))

    def add_seats(self, specs, replace=False):
        """Create the seats described by specs (layout.SeatSpec) with
        their sections, rows and categories (found or created by name);
        return the number of seats created. replace deletes the seats of the
        map first. Raise MapError for a seat that exists already."""
        pool = Pool()
        Seat = pool.get('ticket.seat')
        Section = pool.get('ticket.seat.section')
        Row = pool.get('ticket.seat.row')
        Category = pool.get('ticket.seat.category')
        self.check_layout_editable([self])
        if replace:
            Seat.delete(Seat.search([('map', '=', self.id)]))
            Row.delete(Row.search([('section.map', '=', self.id)]))
            Section.delete(Section.search([('map', '=', self.id)]))
        with_positions(specs)

        categories = {c.name: c for c in self.__class__(self.id).categories}
        new = [name for name in dict.fromkeys(s.category for s in specs)
            if name and name not in categories]
        for category in Category.create([{
                        'map': self.id, 'name': name,
                        'color': COLORS[(len(categories) + i) % len(COLORS)],
                        } for i, name in enumerate(new)]):
            categories[category.name] = category

        sections = {s.name: s for s in Section.search(
                [('map', '=', self.id)])}
        new = [n for n in dict.fromkeys(s.section for s in specs)
            if n not in sections]
        start = len(sections)
        for section in Section.create([{
                        'map': self.id, 'name': name,
                        'sequence': (start + i + 1) * 10,
                        } for i, name in enumerate(new)]):
            sections[section.name] = section

        rows = {(r.section.name, r.name): r for r in Row.search(
                [('section.map', '=', self.id)])}
        new = [k for k in dict.fromkeys((s.section, s.row) for s in specs)
            if k not in rows]
        for row in Row.create([{
                        'section': sections[section].id, 'name': name,
                        'sequence': (i + 1) * 10,
                        } for i, (section, name) in enumerate(new)]):
            rows[(row.section.name, row.name)] = row

        existing = set()
        if not replace:
            table = Seat.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.select(table.row, table.label,
                    where=table.map == self.id))
            existing = set(cursor)
        values = []
        for spec in specs:
            row = rows[(spec.section, spec.row)]
            if (row.id, spec.seat) in existing:
                raise MapError(gettext('ticket_seating.msg_seat_exists',
                        seat=f'{spec.section} {spec.row} {spec.seat}'))
            category = categories.get(spec.category)
            values.append([
                    self.id, row.id, spec.seat, spec.position, spec.x,
                    spec.y, category.id if category else None,
                    spec.wheelchair, spec.restricted_view, spec.companion])
        Seat.insert_raw(values)
        self.bump([self])
        return len(values)

    def copy_to(self, venue, name=None, **values):
        "Copy the map with its seats to venue; return the copy"
        pool = Pool()
        Seat = pool.get('ticket.seat')
        Category = pool.get('ticket.seat.category')
        Section = pool.get('ticket.seat.section')
        Row = pool.get('ticket.seat.row')
        copy, = self.__class__.create([{
                    'name': name or self.name,
                    'venue': venue.id,
                    'focal_x': self.focal_x,
                    'focal_y': self.focal_y,
                    'isolated_trigger': self.isolated_trigger,
                    'allow_isolated': self.allow_isolated,
                    'notes': self.notes,
                    **values}])
        categories = dict(zip(self.categories, Category.create([{
                            'map': copy.id, 'name': c.name,
                            'color': c.color, 'sequence': c.sequence,
                            } for c in self.categories])))
        sections = dict(zip(self.sections, Section.create([{
                            'map': copy.id, 'name': s.name,
                            'sequence': s.sequence,
                            } for s in self.sections])))
        old_rows = [r for s in self.sections for r in s.rows]
        rows = dict(zip(old_rows, Row.create([{
                            'section': sections[r.section].id,
                            'name': r.name, 'sequence': r.sequence,
                            } for r in old_rows])))
        rows = {r.id: c.id for r, c in rows.items()}
        categories = {c.id: n.id for c, n in categories.items()}
        table = Seat.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.row, table.label, table.position, table.x, table.y,
                table.category, table.wheelchair, table.restricted_view,
                table.companion, where=table.map == self.id,
                order_by=[table.id]))
        Seat.insert_raw([[copy.id, rows[r], label, position, x, y,
                    categories.get(category), wheelchair, restricted,
                    companion]
                for r, label, position, x, y, category, wheelchair,
                restricted, companion in cursor])
        return copy

    @classmethod
    @ModelView.button_action('ticket_seating.wizard_map_generate')
    def generate_wizard(cls, maps):
        pass

    @classmethod
    @ModelView.button_action('ticket_seating.wizard_map_import')
    def import_wizard(cls, maps):
        pass

    @classmethod
    @ModelView.button_action('ticket_seating.wizard_map_copy')
    def copy_wizard(cls, maps):
        pass


class Category(sequence_ordered(), ModelSQL, ModelView):
    "A price zone of a seat map"
    __name__ = 'ticket.seat.category'
    map = fields.Many2One(
        'ticket.seat.map', "Map", required=True, ondelete='CASCADE')
    name = fields.Char("Name", required=True)
    color = fields.Char(
        "Color", required=True,
        help="The color of its free seats on the map, e.g. #2e86c1.")
    tariffs = fields.Many2Many(
        'ticket.tariff-ticket.seat.category', 'seat_category', 'tariff',
        "Tariffs", readonly=True)
    tariff_categories = fields.Many2Many(
        'ticket.tariff.category-ticket.seat.category', 'seat_category',
        'category', "Tariff Categories", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('name_unique', Unique(t, t.map, t.name),
                'ticket_seating.msg_category_name_unique'),
            ]
        cls.__access__.add('map')

    @classmethod
    def default_color(cls):
        return COLORS[1]

    @classmethod
    def validate_fields(cls, categories, field_names):
        super().validate_fields(categories, field_names)
        if 'color' in field_names:
            for category in categories:
                color = category.color or ''
                if not (len(color) == 7 and color[0] == '#' and all(
                            c in '0123456789abcdefABCDEF'
                            for c in color[1:])):
                    raise MapValidationError(gettext(
                            'ticket_seating.msg_category_color',
                            category=category.name))

    def get_rec_name(self, name):
        return self.name


class Section(sequence_ordered(), ModelSQL, ModelView):
    "A part of a hall: stalls, balcony, a stand"
    __name__ = 'ticket.seat.section'
    map = fields.Many2One(
        'ticket.seat.map', "Map", required=True, ondelete='CASCADE')
    name = fields.Char("Name", required=True)
    rows = fields.One2Many('ticket.seat.row', 'section', "Rows")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('name_unique', Unique(t, t.map, t.name),
                'ticket_seating.msg_section_name_unique'),
            ]
        cls.__access__.add('map')

    @classmethod
    def create(cls, vlist):
        sections = super().create(vlist)
        cls._changed([s.map for s in sections])
        return sections

    @classmethod
    def write(cls, *args):
        "A new name changes the labels of the seats"
        SeatMap = Pool().get('ticket.seat.map')
        super().write(*args)
        SeatMap.bump([s.map for s in sum(args[::2], [])])

    @classmethod
    def delete(cls, sections):
        maps = [s.map for s in sections]
        cls._changed(maps)
        super().delete(sections)

    @classmethod
    def _changed(cls, maps):
        SeatMap = Pool().get('ticket.seat.map')
        SeatMap.check_layout_editable(maps)
        SeatMap.bump(maps)


class Row(sequence_ordered(), ModelSQL, ModelView):
    "A row of seats of a section"
    __name__ = 'ticket.seat.row'
    section = fields.Many2One(
        'ticket.seat.section', "Section", required=True, ondelete='CASCADE')
    map = fields.Function(
        fields.Many2One('ticket.seat.map', "Map"),
        'on_change_with_map', searcher='search_map')
    name = fields.Char("Name", required=True)
    seats = fields.One2Many('ticket.seat', 'row', "Seats")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('name_unique', Unique(t, t.section, t.name),
                'ticket_seating.msg_row_name_unique'),
            ]
        cls.__access__.add('section')

    @fields.depends('section', '_parent_section.map')
    def on_change_with_map(self, name=None):
        return self.section.map if self.section else None

    @classmethod
    def search_map(cls, name, clause):
        return [('section.map',) + tuple(clause[1:])]

    def get_rec_name(self, name):
        return f'{self.section.name} - {self.name}'

    @classmethod
    def create(cls, vlist):
        rows = super().create(vlist)
        Section._changed([r.section.map for r in rows])
        return rows

    @classmethod
    def write(cls, *args):
        SeatMap = Pool().get('ticket.seat.map')
        actions = iter(args)
        for rows, values in zip(actions, actions):
            if 'section' in values:
                SeatMap.check_layout_editable(
                    [r.section.map for r in rows])
        super().write(*args)
        SeatMap.bump([r.section.map for r in sum(args[::2], [])])

    @classmethod
    def delete(cls, rows):
        Section._changed([r.section.map for r in rows])
        super().delete(rows)


class Seat(ModelSQL, ModelView):
    "A seat of a seat map"
    __name__ = 'ticket.seat'
    map = fields.Many2One(
        'ticket.seat.map', "Map", required=True, ondelete='CASCADE')
    row = fields.Many2One(
        'ticket.seat.row', "Row", required=True, ondelete='CASCADE',
        domain=[('section.map', '=', Eval('map', -1))])
    section = fields.Function(
        fields.Many2One('ticket.seat.section', "Section"),
        'on_change_with_section', searcher='search_section')
    label = fields.Char("Seat", required=True, help="The seat number.")
    position = fields.Integer(
        "Position", readonly=True,
        help="The place of the seat in its row; seats side by side have "
        "consecutive positions.")
    x = fields.Float("X", required=True)
    y = fields.Float("Y", required=True)
    category = fields.Many2One(
        'ticket.seat.category', "Category", ondelete='RESTRICT',
        domain=[('map', '=', Eval('map', -1))],
        help="The price zone of the seat.")
    wheelchair = fields.Boolean(
        "Wheelchair", help="A wheelchair space, sold only when asked for.")
    companion = fields.Boolean(
        "Companion", help="The seat of a wheelchair user's companion.")
    restricted_view = fields.Boolean(
        "Restricted View",
        help="Best available chooses it only when no other seat fits.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('label_unique', Unique(t, t.row, t.label),
                'ticket_seating.msg_seat_label_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.map, Index.Range()), (t.row, Index.Range())),
                })
        cls.__access__.add('map')
        cls._order = [('map', 'ASC'), ('row', 'ASC'), ('position', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def default_wheelchair(cls):
        return False

    @classmethod
    def default_companion(cls):
        return False

    @classmethod
    def default_restricted_view(cls):
        return False

    @fields.depends('row', '_parent_row.section')
    def on_change_with_section(self, name=None):
        return self.row.section if self.row else None

    @classmethod
    def search_section(cls, name, clause):
        return [('row.section',) + tuple(clause[1:])]

    def get_rec_name(self, name):
        return gettext('ticket_seating.msg_seat_label',
            section=self.row.section.name, row=self.row.name,
            seat=self.label)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('label', operator, value),
            ('row.name', operator, value),
            ('row.section.name', operator, value),
            ]

    @classmethod
    def insert_raw(cls, values):
        """Insert seats fast: values are [map, row, label, position, x, y,
        category, wheelchair, restricted_view, companion]"""
        import datetime as dt
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        user = Transaction().user
        now = dt.datetime.now()
        columns = [table.map, table.row, table.label, table.position,
            table.x, table.y, table.category, table.wheelchair,
            table.restricted_view, table.companion, table.create_uid,
            table.create_date]
        for sub in grouped_slice(values, 1000):
            cursor.execute(*table.insert(columns,
                    [list(v) + [user, now] for v in sub]))

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Row = pool.get('ticket.seat.row')
        SeatMap = pool.get('ticket.seat.map')
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            if values.get('row') and not values.get('map'):
                values['map'] = Row(values['row']).section.map.id
        SeatMap.check_layout_editable([v['map'] for v in vlist
                if v.get('map')])
        seats = super().create(vlist)
        cls.set_positions([s.row for s in seats])
        SeatMap.bump([s.map for s in seats])
        return seats

    @classmethod
    def write(cls, *args):
        SeatMap = Pool().get('ticket.seat.map')
        actions = iter(args)
        rows, maps = [], []
        for seats, values in zip(actions, actions):
            maps.extend(s.map for s in seats)
            if {'row', 'x', 'y', 'map'} & values.keys():
                SeatMap.check_layout_editable([s.map for s in seats])
                rows.extend(s.row for s in seats)
        super().write(*args)
        if rows:
            actions = iter(args)
            for seats, values in zip(actions, actions):
                rows.extend(s.row for s in seats)
            cls.set_positions(rows)
        SeatMap.bump(maps)

    @classmethod
    def delete(cls, seats):
        SeatMap = Pool().get('ticket.seat.map')
        maps = [s.map for s in seats]
        SeatMap.check_layout_editable(maps)
        super().delete(seats)
        SeatMap.bump(maps)

    @classmethod
    def set_positions(cls, rows):
        "Number the seats of rows from their geometry, aisles included"
        from .layout import order_row
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for row in {int(r) for r in rows}:
            cursor.execute(*table.select(table.id, table.x, table.y,
                    where=table.row == row, order_by=[table.id]))
            seats = list(cursor)
            positions = order_row([(x, y) for _, x, y in seats])
            for (seat_id, _, _), position in zip(seats, positions):
                cursor.execute(*table.update([table.position], [position],
                        where=table.id == seat_id))
        cls._clear_cache_rows(rows)

    @classmethod
    def _clear_cache_rows(cls, rows):
        seats = cls.search([('row', 'in', [int(r) for r in rows])])
        forget_records(cls, [s.id for s in seats])
