"""The wizards that make seat maps: generate a section, import a file,
copy a map to another venue."""
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pyson import Eval, PYSONEncoder
from trytond.wizard import (
    Button, StateAction, StateTransition, StateView, Wizard)

from . import layout
from .exceptions import MapError

NUMBERINGS = [
    ('left_right', "Left to Right"),
    ('right_left', "Right to Left"),
    ('odd_even', "Odd Left, Even Right (from the Centre)"),
    ]
SHAPES = [
    ('straight', "Straight"),
    ('curved', "Curved"),
    ]


def layout_error(error):
    "The MapError telling a LayoutError"
    values = dict(error.values)
    values.setdefault('line', error.line or '')
    message = gettext(f'ticket_seating.msg_layout_{error.code}', **values)
    if error.line and error.code not in {'duplicate'}:
        message = gettext('ticket_seating.msg_layout_at_line',
            line=error.line, message=message)
    return MapError(message)


class GenerateStart(ModelView):
    "Generate a section of seats"
    __name__ = 'ticket.seat.map.generate.start'
    map = fields.Many2One('ticket.seat.map', "Map", readonly=True)
    section = fields.Char("Section", required=True,
        help="An existing section gets the new rows.")
    category = fields.Char(
        "Seat Category", help="Created if the map has none of this name.")
    rows = fields.Integer("Rows", required=True,
        domain=[('rows', '>', 0), ('rows', '<=', 500)])
    seats = fields.Integer("Seats per Row", required=True,
        domain=[('seats', '>', 0), ('seats', '<=', 500)])
    increment = fields.Integer("Seats Added per Row", required=True,
        help="For rows that widen away from the stage.")
    first_row = fields.Char("First Row", required=True,
        help="A letter (A, B, C...) or a number (1, 2, 3...).")
    first_seat = fields.Integer("First Seat Number", required=True)
    numbering = fields.Selection(NUMBERINGS, "Numbering", required=True)
    shape = fields.Selection(SHAPES, "Shape", required=True)
    radius = fields.Float("Radius",
        states={
            'invisible': Eval('shape') != 'curved',
            'required': Eval('shape') == 'curved',
            },
        help="The distance from the centre of the curve to the first row, "
        "in seat widths.")
    aisles = fields.Char("Aisles After Seats",
        help="Where aisles cut the rows, e.g. \"6, 18\": after the 6th and "
        "the 18th seat from the left.")
    seat_spacing = fields.Float("Seat Width", required=True)
    row_spacing = fields.Float("Row Spacing", required=True)
    x = fields.Float("X", required=True,
        help="Where the middle of the first row goes.")
    y = fields.Float("Y", required=True)
    rotation = fields.Float("Rotation", required=True,
        help="In degrees; 0 faces the top of the map.")

    @classmethod
    def default_increment(cls):
        return 0

    @classmethod
    def default_first_row(cls):
        return 'A'

    @classmethod
    def default_first_seat(cls):
        return 1

    @classmethod
    def default_numbering(cls):
        return 'left_right'

    @classmethod
    def default_shape(cls):
        return 'straight'

    @classmethod
    def default_radius(cls):
        return 20.0

    @classmethod
    def default_seat_spacing(cls):
        return 1.0

    @classmethod
    def default_row_spacing(cls):
        return 1.2

    @classmethod
    def default_x(cls):
        return 0.0

    @classmethod
    def default_y(cls):
        return 0.0

    @classmethod
    def default_rotation(cls):
        return 0.0

    def spec(self):
        try:
            aisles = layout.parse_aisles(self.aisles)
        except layout.LayoutError as error:
            raise layout_error(error)
        return layout.SectionSpec(
            name=self.section.strip(), rows=self.rows, seats=self.seats,
            increment=self.increment, first_row=self.first_row,
            first_seat=self.first_seat, numbering=self.numbering,
            shape=self.shape, radius=self.radius or 0, aisles=aisles,
            seat_spacing=self.seat_spacing, row_spacing=self.row_spacing,
            x=self.x, y=self.y, rotation=self.rotation,
            category=(self.category or '').strip())


class Generate(Wizard):
    "Generate a section of seats"
    __name__ = 'ticket.seat.map.generate'
    start = StateView('ticket.seat.map.generate.start',
        'ticket_seating.map_generate_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Generate", 'generate', 'tryton-ok', default=True),
            ])
    generate = StateTransition()

    def default_start(self, fields):
        return {'map': self.record.id}

    def transition_generate(self):
        try:
            seats = layout.generate(self.start.spec())
        except layout.LayoutError as error:
            raise layout_error(error)
        self.record.add_seats(seats)
        return 'end'


class ImportStart(ModelView):
    "Import seats"
    __name__ = 'ticket.seat.map.import.start'
    map = fields.Many2One('ticket.seat.map', "Map", readonly=True)
    file = fields.Binary("File", required=True, filename='file_name',
        help="CSV with a header line naming the columns section, row, "
        "seat, x, y, category and optionally wheelchair, restricted_view "
        "and companion; or JSON: a list of objects with these keys.")
    file_name = fields.Char("File Name")
    replace = fields.Boolean("Replace",
        help="Delete the seats of the map first.")


class Import(Wizard):
    "Import seats"
    __name__ = 'ticket.seat.map.import'
    start = StateView('ticket.seat.map.import.start',
        'ticket_seating.map_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateTransition()

    def default_start(self, fields):
        return {'map': self.record.id}

    def transition_import_(self):
        try:
            seats = layout.parse(bytes(self.start.file),
                self.start.file_name or '')
        except layout.LayoutError as error:
            raise layout_error(error)
        self.record.add_seats(seats, replace=bool(self.start.replace))
        return 'end'


class CopyStart(ModelView):
    "Copy a seat map to a venue"
    __name__ = 'ticket.seat.map.copy.start'
    map = fields.Many2One('ticket.seat.map', "Map to Copy", required=True)
    venue = fields.Many2One('ticket.venue', "Venue", required=True)
    name = fields.Char("Name", required=True)

    @fields.depends('map', 'name')
    def on_change_map(self):
        if self.map and not self.name:
            self.name = self.map.name


class Copy(Wizard):
    "Copy a seat map to a venue"
    __name__ = 'ticket.seat.map.copy'
    start = StateView('ticket.seat.map.copy.start',
        'ticket_seating.map_copy_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Copy", 'copy_', 'tryton-ok', default=True),
            ])
    copy_ = StateAction('ticket_seating.act_map_form')

    def default_start(self, fields):
        values = {}
        if self.model and self.model.__name__ == 'ticket.venue':
            values['venue'] = self.record.id
        elif self.model and self.model.__name__ == 'ticket.seat.map':
            values['map'] = self.record.id
            values['name'] = self.record.name
        return values

    def do_copy_(self, action):
        copy = self.start.map.copy_to(self.start.venue, self.start.name)
        action['pyson_domain'] = PYSONEncoder().encode(
            [('id', '=', copy.id)])
        return action, {}
