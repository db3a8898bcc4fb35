"""The seat plan of a session for the back office: the map with every
status and the holders' names on hover, and the list of the seats taken."""
from html import escape

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.report import Report

from .inventory import Inventory
from .svg import session_svg


class SeatPlan(Report):
    "Seat plan of a session"
    __name__ = 'ticket.session.seat_plan'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Session = pool.get('ticket.session')
        ActionReport = pool.get('ir.action.report')
        action_id = data.get('action_id') or ActionReport.search(
            [('report_name', '=', cls.__name__)], limit=1)[0].id
        action = ActionReport(action_id)
        cls.check_access(action, Session.__name__, ids)
        sessions = [s for s in Session.browse(ids) if s.seat_map]
        pages = [cls.page(s) for s in sessions]
        content = (
            '<!DOCTYPE html><html><head><meta charset="utf-8">'
            f'<title>{escape(action.name)}</title><style>'
            'body{font:14px sans-serif;margin:1em}'
            '.plan svg{width:100%;max-height:80vh}'
            'table{border-collapse:collapse}'
            'td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}'
            'section{page-break-after:always}'
            '</style></head><body>' + ''.join(pages) + '</body></html>')
        name = action.name
        if len(sessions) == 1:
            name = f'{action.name}-{sessions[0].id}'
        return 'html', content.encode('utf-8'), False, name

    @classmethod
    def page(cls, session):
        counts = Inventory.counts([session])[session.id]
        statuses = ', '.join(
            f'{gettext("ticket_seating.msg_status_" + k)}: {v}'
            for k, v in counts.items())
        rows = ''.join(
            f'<tr><td>{escape(b.seat.rec_name)}</td>'
            f'<td>{escape(gettext("ticket_seating.msg_status_" + b.state))}'
            f'</td><td>{escape(b.holder or "")}</td></tr>'
            for b in sorted(session.seat_bookings,
                key=lambda b: (b.seat.row.section.sequence or 0,
                    b.seat.row.section.id, b.seat.row.sequence or 0,
                    b.seat.row.id, b.seat.position or 0))
            if b.state != 'released')
        return (
            f'<section><h1>{escape(session.rec_name)}</h1>'
            f'<p>{escape(session.seat_map.rec_name)} — {escape(statuses)}</p>'
            f'<div class="plan">{session_svg(session, public=False)}</div>'
            f'<table><tr><th>{escape(gettext("ticket_seating.msg_seat"))}'
            f'</th><th>{escape(gettext("ticket_seating.msg_status"))}</th>'
            f'<th>{escape(gettext("ticket_seating.msg_holder"))}</th></tr>'
            f'{rows}</table></section>')
