"""The catalogue pages of the shop: agenda (list and calendar, filters by
tag, venue and dates), organizer pages, event pages (public, or private by
their link), event images, the embeddable widget and the static files.

The cart, checkout and order pages are in cart_routes.py and
order_routes.py, imported at the end so that they register too."""
import calendar as calendar_
import datetime as dt
import pathlib
import re
import threading
import time
from collections import OrderedDict

from werkzeug.exceptions import NotFound
from werkzeug.utils import safe_join

from trytond.protocols.wrappers import Response
from trytond.transaction import Transaction

from guichet.ticket_event.common import now, to_local
from guichet.ticket_event.routes import LISTED, REACHABLE, public_domain
from guichet.ticket_pricing.exceptions import PricingError
from guichet.ticket_pricing.routes import tax_included_price

from .event import image_type
from .render import render_summary, text
from .seating import seat_mode
from .web import page, route, security_headers

STATIC = pathlib.Path(__file__).resolve().parent / 'static'
STATIC_TYPES = {
    '.css': 'text/css; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.svg': 'image/svg+xml',
    }
MONTH = re.compile(r'([0-9]{4})-([0-9]{2})')
DATE = re.compile(r'[0-9]{4}-[0-9]{2}-[0-9]{2}')
ID = re.compile(r'[0-9]{1,9}')
TOKEN = re.compile(r'[A-Za-z0-9_-]{16,64}')
MAX_SESSIONS = 500


def as_id(value):
    return int(value) if value and ID.fullmatch(value) else None


def as_date(value):
    if value and DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def not_over():
    "The domain of the sessions not over (an exhibition goes on for days)"
    at = now()
    return ['OR', ('start', '>', at), ('end', '>', at)]


class Filters:
    "The agenda's filters from the query string; invalid values are ignored"

    def __init__(self, args, company=None):
        self.tag = as_id(args.get('tag'))
        self.venue = as_id(args.get('venue'))
        self.from_ = as_date(args.get('from'))
        self.to = as_date(args.get('to'))
        self.view = 'calendar' if args.get('view') == 'calendar' else 'list'
        self.company = company
        match = MONTH.fullmatch(args.get('month') or '')
        today = dt.date.today()
        self.month = dt.date(today.year, today.month, 1)
        if match and 1 <= int(match.group(2)) <= 12 and (
                1900 < int(match.group(1)) < 3000):
            self.month = dt.date(int(match.group(1)), int(match.group(2)), 1)

    def domain(self):
        domain = public_domain(LISTED) + [not_over()]
        if self.company:
            domain.append(('event.company', '=', self.company.id))
        if self.tag:
            domain.append(('event.tags', '=', self.tag))
        if self.venue:
            domain.append(['OR',
                    ('venue', '=', self.venue),
                    [('venue', '=', None), ('event.venue', '=', self.venue)],
                    ])
        return domain

    def match(self, session):
        day = to_local(session.start, session.event.timezone).date()
        if self.view == 'calendar':
            return (day.year, day.month) == (
                self.month.year, self.month.month)
        return ((not self.from_ or day >= self.from_)
            and (not self.to or day <= self.to))

    def query(self, **changes):
        values = {
            'tag': self.tag, 'venue': self.venue,
            'from': self.from_ and self.from_.isoformat(),
            'to': self.to and self.to.isoformat(),
            'view': self.view if self.view != 'list' else None,
            'month': (self.month.strftime('%Y-%m')
                if self.view == 'calendar' else None),
            }
        values.update(changes)
        return {k: v for k, v in values.items() if v is not None}


def agenda_values(web, filters):
    "The events, sessions and choices of the agenda page"
    pool = web.pool
    Session = pool.get('ticket.session')
    sessions = [s for s in Session.search(filters.domain(),
            order=[('start', 'ASC'), ('id', 'ASC')], limit=MAX_SESSIONS)
        if filters.match(s)]
    by_event = OrderedDict()
    for session in sessions:
        by_event.setdefault(session.event, []).append(session)
    all_sessions = Session.search(Filters({}, filters.company).domain())
    events = {s.event for s in all_sessions}
    tags = sorted({t for e in events for t in e.tags},
        key=lambda t: t.name)
    venues = sorted({s.effective_venue for s in all_sessions},
        key=lambda v: v.name)
    values = {
        'filters': filters,
        'events': [(e, s, min_price(e)) for e, s in by_event.items()],
        'tags': tags,
        'venues': venues,
        'tag_name': next((t.name for t in tags if t.id == filters.tag), None),
        }
    if filters.view == 'calendar':
        values['weeks'] = month_weeks(filters.month, sessions)
        values['previous_month'] = (
            filters.month - dt.timedelta(days=1)).strftime('%Y-%m')
        values['next_month'] = (
            filters.month + dt.timedelta(days=31)).strftime('%Y-%m')
    return values


def month_weeks(month, sessions):
    "The weeks of month as lists of (day, sessions, whether in the month)"
    by_day = {}
    for session in sessions:
        day = to_local(session.start, session.event.timezone).date()
        by_day.setdefault(day, []).append(session)
    weeks = []
    for week in calendar_.Calendar().monthdatescalendar(
            month.year, month.month):
        weeks.append([(d, by_day.get(d, []), d.month == month.month)
                for d in week])
    return weeks


def min_price(event):
    "The lowest price of the event's tariffs sold online, tax included"
    prices = [tax_included_price(t, now()) for t in event.tariffs
        if t.active and t.issues_ticket and 'online' in (t.channels or [])]
    return min(prices) if prices else None


@route('', methods=['GET'])
@route('/', methods=['GET'])
@page(private=False)
def agenda(web):
    filters = Filters(web.request.args)
    return web.render('agenda.html', title=text('web_agenda_title'),
        **agenda_values(web, filters))


@route('/organizer/<int:company_id>', methods=['GET'])
@page(private=False)
def organizer(web, company_id):
    Company = web.pool.get('company.company')
    Organizer = web.pool.get('ticket.shop.organizer')
    companies = Company.search([('id', '=', company_id)]) if (
        company_id < 2 ** 31) else []
    if not companies:
        return web.error_page(404, text('msg_organizer_unknown'))
    company, = companies
    filters = Filters(web.request.args, company)
    return web.render('organizer.html', title=company.rec_name,
        company=company, organizer=Organizer.for_company(company),
        **agenda_values(web, filters))


@route('/organizer/<int:company_id>/terms.pdf', methods=['GET'])
@page(private=False)
def terms(web, company_id):
    Organizer = web.pool.get('ticket.shop.organizer')
    organizers = Organizer.search([('company', '=', company_id)], limit=1)
    if not organizers or not organizers[0].terms:
        return web.error_page(404, text('msg_terms_unknown'))
    response = Response(bytes(organizers[0].terms),
        content_type='application/pdf')
    response.headers['Content-Disposition'] = 'inline; filename="terms.pdf"'
    return response


def find_event(web, event_id=None, token=None):
    "The published event of id (public) or link token (any), or None"
    Event = web.pool.get('ticket.event')
    if token is not None:
        if not TOKEN.fullmatch(token):
            return None
        domain = [('token', '=', token)]
    else:
        if event_id >= 2 ** 31:
            return None
        domain = [('id', '=', event_id), ('visibility', '=', 'public')]
    events = Event.search(domain + [('state', '=', 'published')], limit=1)
    return events[0] if events else None


def session_offers(web, event, session):
    "The tariffs a buyer may choose for session, with their prices"
    offers = []
    with Transaction().set_context(company=event.company.id):
        for tariff in event.tariffs:
            if not tariff.active or 'online' not in (tariff.channels or []):
                continue
            try:
                tariff.check_sale(session, 'web')
            except PricingError:
                continue
            offers.append((tariff, tax_included_price(tariff, now())))
    return offers


def session_status(session):
    "on_sale, sold_out, soon (sale not open yet) or closed"
    at = now()
    if session.state == 'sold_out' or (
            session.state == 'on_sale' and session.available <= 0):
        return 'sold_out'
    if session.state == 'on_sale':
        if session.sale_start and at < session.sale_start:
            return 'soon'
        if at > (session.sale_end or session.start):
            return 'closed'
        return 'on_sale'
    if session.state == 'scheduled':
        return 'soon'
    return 'closed'


def event_page(web, event, status=200, errors=None, chosen=None,
        waitlist_done=None, summary_mark=False):
    """The page of event, with the errors of a refused form (or, with
    summary_mark, SUMMARY_MARK where their summary goes)"""
    Session = web.pool.get('ticket.session')
    sessions = Session.search([
            ('event', '=', event.id),
            ('visibility', 'in', REACHABLE),
            ('state', 'in', ['scheduled', 'on_sale', 'sold_out']),
            not_over(),
            ], order=[('start', 'ASC'), ('id', 'ASC')], limit=MAX_SESSIONS)
    selected = (chosen or {}).get('session') or as_id(
        web.request.args.get('session'))
    if event.visibility == 'public':
        # A session sold by link only shows to who has its link
        sessions = [s for s in sessions
            if 'online' in (s.visibility or []) or s.id == selected]
    days = OrderedDict()
    for session in sessions:
        day = to_local(session.start, event.timezone).date()
        days.setdefault(day, []).append({
                'session': session,
                'status': session_status(session),
                'offers': session_offers(web, event, session),
                'seat_mode': seat_mode(session),
                })
    if selected is None and sessions:
        selected = sessions[0].id
    return web.render('event.html', status=status, title=event.name,
        event=event, days=days, selected=selected, errors=errors or {},
        chosen=chosen or {}, waitlist_done=waitlist_done,
        currency=event.company.currency,
        summary_mark=SUMMARY_MARK if summary_mark else None)


# The rendered event pages of this process, by what they show: during an
# on-sale rush every buyer opens the same page, and building it takes a few
# dozen queries. The key holds the state of the event's sessions and whether
# each has places left (one query), so that "sold out" shows at once; an
# entry lives PAGE_TTL seconds at most, so the number of places left (when
# the event shows it) may be that old. The hold checks the places exactly.
PAGE_TTL = 2.0
PAGE_CACHE_SIZE = 256
CSRF_MARK = '\x00csrf\x00'
SUMMARY_MARK = '\x00summary\x00'
_pages = {}
_pages_lock = threading.Lock()


def page_snapshot(event_id):
    """What the event page of event_id shows that changes during a sale: the
    state of its sessions and whether each has places left, the times its
    records were changed"""
    cursor = Transaction().connection.cursor()
    # one query: the event's row repeated on each of its sessions' (or on
    # one row of NULLs when it has none)
    cursor.execute(
        'SELECT e.write_date, e.state, e.visibility, '
        '(SELECT max(coalesce(t.write_date, t.create_date)) '
        'FROM ticket_tariff t WHERE t.event = e.id), '
        's.id, s.state, s.write_date, '
        'min(p.capacity - p.sold - p.held) '
        'FROM ticket_event e '
        'LEFT JOIN ticket_session s ON s.event = e.id '
        'LEFT JOIN "ticket_pool-ticket_session" r ON r.session = s.id '
        'LEFT JOIN ticket_pool p ON p.id = r.pool '
        'WHERE e.id = %s GROUP BY e.id, s.id ORDER BY s.id', (event_id,))
    rows = cursor.fetchall()
    if not rows:
        return None
    event = rows[0][:4]
    sessions = tuple((id_, state, write_date, (available or 0) > 0)
        for *_, id_, state, write_date, available in rows
        if id_ is not None)
    return (event, sessions)


def session_sold_out(session_id):
    """Whether the session of session_id has no place left or is marked
    sold out (one query: the refusal of a rush's late buyers)"""
    cursor = Transaction().connection.cursor()
    cursor.execute(
        'SELECT s.state, min(p.capacity - p.sold - p.held) '
        'FROM ticket_session s '
        'LEFT JOIN "ticket_pool-ticket_session" r ON r.session = s.id '
        'LEFT JOIN ticket_pool p ON p.id = r.pool '
        'WHERE s.id = %s GROUP BY s.id', (session_id,))
    row = cursor.fetchone()
    return bool(row) and (row[0] == 'sold_out' or (row[1] or 0) <= 0)


def _event_html(web, event_id):
    """The HTML of the event page (with the CSRF and summary marks) from
    this process's cache when nothing it shows changed, or a Response when
    there is no such page"""
    if event_id >= 2 ** 31:
        return web.error_page(404, text('msg_event_unknown'))
    snapshot = page_snapshot(event_id)
    key = (web.database, web.request.script_root, event_id, web.language,
        web.embed, len(web.cart),
        tuple(sorted(web.request.args.items(multi=True))), snapshot)
    at = time.monotonic()
    with _pages_lock:
        cached = _pages.get(key)
    if cached is not None and cached[0] > at:
        return cached[1]
    event = find_event(web, event_id)
    if event is None:
        return web.error_page(404, text('msg_event_unknown'))
    response = event_page(web, event, summary_mark=True)
    if response.status_code != 200:
        return response
    html = response.get_data(as_text=True).replace(
        web.csrf_token, CSRF_MARK)
    with _pages_lock:
        if len(_pages) >= PAGE_CACHE_SIZE:
            for old in [k for k, v in _pages.items() if v[0] <= at] or (
                    list(_pages)[:PAGE_CACHE_SIZE // 2]):
                del _pages[old]
        _pages[key] = (at + PAGE_TTL, html)
    return html


def cached_event_page(web, event_id, status=200, errors=None):
    """The event page, from this process's cache when nothing it shows
    changed; with errors, the summary of errors at its top (a refusal
    that needs no form values back, like sold out)"""
    html = _event_html(web, event_id)
    if not isinstance(html, str):
        return html
    summary = render_summary(errors) if errors else ''
    return Response(html.replace(CSRF_MARK, web.csrf_token).replace(
            SUMMARY_MARK, summary), status=status,
        content_type='text/html; charset=utf-8')


@route('/event/<int:event_id>', methods=['GET'])
@page(private=False)
def event(web, event_id):
    return cached_event_page(web, event_id)


@route('/e/<token>', methods=['GET'])
@page(private=False)
def private_event(web, token):
    event = find_event(web, token=token)
    if event is None:
        return web.error_page(404, text('msg_event_unknown'))
    response = event_page(web, event)
    response.headers['X-Robots-Tag'] = 'noindex'
    return response


@route('/event/<int:event_id>/image', methods=['GET'])
@page(private=False)
def event_image(web, event_id):
    Event = web.pool.get('ticket.event')
    events = Event.search([
            ('id', '=', event_id),
            ('state', '=', 'published'),
            ]) if event_id < 2 ** 31 else []
    data = bytes(events[0].shop_image) if (
        events and events[0].shop_image) else None
    if not data or not image_type(data):
        return web.error_page(404, text('msg_event_unknown'))
    response = Response(data, content_type=image_type(data))
    response.headers['Cache-Control'] = 'public, max-age=3600'
    return response


@route('/static/<path:name>', methods=['GET'])
def static(request, database_name, name):
    path = safe_join(str(STATIC), name)
    if (path is None or pathlib.Path(path).suffix not in STATIC_TYPES
            or not pathlib.Path(path).is_file()):
        raise NotFound()
    response = Response(pathlib.Path(path).read_bytes(),
        content_type=STATIC_TYPES[pathlib.Path(path).suffix])
    response.headers['Cache-Control'] = 'public, max-age=3600'
    return security_headers(response, embed=True, private=False)


@route('/widget.js', methods=['GET'])
def widget(request, database_name):
    "The embed script: an iframe of the page in data-src, sized to fit"
    response = Response((STATIC / 'widget.js').read_bytes(),
        content_type=STATIC_TYPES['.js'])
    response.headers['Cache-Control'] = 'public, max-age=3600'
    response.headers['Access-Control-Allow-Origin'] = '*'
    return security_headers(response, embed=True, private=False)


from . import cart_routes, order_routes, seat_routes  # noqa: E402,F401
