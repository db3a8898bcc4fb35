"""The HTTP edge of the shop: one short transaction per request (the core
API's runner), the language (?lang=, cookie, browser), CSRF tokens on every
form, rate limits, cookies and the security headers of the pages.

A route is ``@page(...)`` and receives a ``Web`` (the request, its
language, cart and CSRF token) and returns a Response. A refused form is
rendered inside the transaction and raised as ``Refusal``: the transaction
is rolled back, so that a refusal changes nothing, and the page is answered
with its 4xx status."""
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import urllib.parse
from functools import wraps

from werkzeug.utils import redirect

from trytond.pool import Pool
from trytond.protocols.wrappers import Response
from trytond.transaction import Transaction
from trytond.wsgi import app

from guichet.ticket_event.routes import ApiError, load_pool, run_in_transaction

from .render import LANGUAGES, render, text

logger = logging.getLogger(__name__)
PREFIX = '/<database_name>/ticket/shop'
MAX_FORM = 64 * 1024
MAX_UPLOAD = 12 * 1024 * 1024
CSRF_COOKIE = 'guichet_csrf'
CART_COOKIE = 'guichet_cart'
LANG_COOKIE = 'guichet_lang'
CSRF_FIELD = 'csrf_token'
# (attempts, window) per client address
RATE_LIMITS = {
    'code': (10, dt.timedelta(minutes=15)),
    'lookup': (5, dt.timedelta(minutes=15)),
    'waitlist': (10, dt.timedelta(hours=1)),
    }


class Refusal(Exception):
    """A page answering a refused request; raised to roll the transaction
    back. limit names the rate limit the refusal counts against."""

    def __init__(self, response, limit=None):
        super().__init__(response.status)
        self.response = response
        self.limit = limit


class Web:
    "A request to the shop"

    def __init__(self, request, database):
        self.request = request
        self.database = database
        self.pool = None
        self.cookies = {}
        args = request.args
        self.embed = args.get('embed') == '1'
        lang = args.get('lang')
        if lang in LANGUAGES:
            self.language = lang
            self.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600)
        elif request.cookies.get(LANG_COOKIE) in LANGUAGES:
            self.language = request.cookies[LANG_COOKIE]
        else:
            self.language = request.accept_languages.best_match(
                LANGUAGES) or 'en'
        self.csrf_cookie = request.cookies.get(CSRF_COOKIE)
        if not self.csrf_cookie or len(self.csrf_cookie) != 43:
            self.csrf_cookie = secrets.token_urlsafe(32)
            self.set_cookie(CSRF_COOKIE, self.csrf_cookie)
        cart = request.cookies.get(CART_COOKIE) or ''
        self.cart = [t for t in cart.split('.') if t][:10]

    @property
    def root(self):
        return '%s/%s/ticket/shop' % (self.request.script_root,
            urllib.parse.quote(self.database))

    @property
    def base_url(self):
        "The absolute URL of the shop, as the buyer reached it"
        return self.request.host_url.rstrip('/') + self.root

    def url(self, path='', **query):
        query = {k: v for k, v in query.items() if v not in (None, '')}
        if self.embed:
            query.setdefault('embed', '1')
        url = self.root + path
        if query:
            url += '?' + urllib.parse.urlencode(query)
        return url

    def set_cookie(self, name, value, max_age=None):
        self.cookies[name] = (value, max_age)

    def set_cart(self, tokens):
        self.cart = list(dict.fromkeys(tokens))[-10:]
        self.set_cookie(CART_COOKIE, '.'.join(self.cart))

    @property
    def form(self):
        return self.request.form

    @property
    def client(self):
        "A key of the client's address for the rate limits"
        address = self.request.remote_addr or ''
        return hashlib.sha256(address.encode()).hexdigest()[:24]

    @property
    def csrf_token(self):
        Configuration = Pool().get('ticket.configuration')
        key = Configuration.get_shop_secret().encode()
        return hmac.new(key, self.csrf_cookie.encode(),
            hashlib.sha256).hexdigest()

    def check_csrf(self):
        "Refuse a form whose CSRF token does not match the cookie"
        token = self.form.get(CSRF_FIELD) or ''
        if (CSRF_COOKIE not in self.request.cookies
                or not hmac.compare_digest(token, self.csrf_token)):
            raise Refusal(self.error_page(403, text('msg_csrf')))

    def rate_limited(self, kind):
        "Whether the client exhausted the attempts of kind"
        RateLimit = Pool().get('ticket.shop.rate_limit')
        limit, window = RATE_LIMITS[kind]
        return RateLimit.exceeded(f'{kind}:{self.client}', limit, window)

    def render(self, template, status=200, **values):
        values.setdefault('web', self)
        values.setdefault('title', '')
        response = Response(render(template, **values), status=status,
            content_type='text/html; charset=utf-8')
        return response

    def error_page(self, status, message):
        return self.render('error.html', status=status, message=message,
            title=text('web_error_title'))

    def redirect(self, path, **query):
        return redirect(self.url(path, **query), code=303)


def security_headers(response, embed=False, private=True):
    headers = response.headers
    headers.setdefault('Content-Security-Policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors "
        + ("*" if embed else "'none'"))
    headers.setdefault('X-Content-Type-Options', 'nosniff')
    headers.setdefault('Referrer-Policy', 'same-origin')
    if not embed:
        headers.setdefault('X-Frame-Options', 'DENY')
    if private:
        headers.setdefault('Cache-Control', 'no-store')
    return response


def page(methods=('GET',), readonly=True, csrf=True, max_size=MAX_FORM,
        private=True):
    """Serve a shop page: the route gets a Web and returns a Response.

    POST forms are checked against their CSRF token; the route runs in one
    transaction at READ COMMITTED when it writes (like the core API)."""
    def decorator(func):
        @wraps(func)
        def wrapper(request, database_name, **kwargs):
            web = Web(request, database_name)
            try:
                pool = load_pool(request, database_name)
            except ApiError:
                return security_headers(Response(
                        'Unknown database', status=404,
                        content_type='text/plain'))

            def run(request, pool, **kwargs):
                web.pool = pool
                with Transaction().set_context(language=web.language):
                    if csrf and request.method == 'POST':
                        web.check_csrf()
                    return func(web, **kwargs)
            try:
                response = run_in_transaction(run, request, pool, kwargs,
                    readonly, read_committed=not readonly)
            except Refusal as refusal:
                response = refusal.response
                if refusal.limit:
                    count_attempt(request, pool, web, refusal.limit)
            except ApiError as error:
                busy = error.code == 'busy'
                response = error_response(request, pool, web, error.status,
                    error.message, busy=busy)
                for name, value in (error.headers or {}).items():
                    response.headers[name] = value
            except Exception:
                logger.exception("%s %s failed", request.method, request.path)
                raise
            for name, (value, max_age) in web.cookies.items():
                response.set_cookie(name, value, max_age=max_age,
                    path=web.root, httponly=True, samesite='Lax',
                    secure=request.is_secure)
            return security_headers(response, web.embed, private)
        wrapper.max_request_size = max_size
        return wrapper
    return decorator


def count_attempt(request, pool, web, kind):
    "Count a refused attempt of kind against the client, in its own commit"
    def run(request, pool):
        RateLimit = pool.get('ticket.shop.rate_limit')
        RateLimit.count(f'{kind}:{web.client}')
    try:
        run_in_transaction(run, request, pool, {}, False, True)
    except ApiError:
        pass


def error_response(request, pool, web, status, message, busy=False):
    """An error page rendered in a read-only transaction of its own; when
    the database is busy, the page says to try again (in the buyer's
    language)"""
    def run(request, pool):
        web.pool = pool
        with Transaction().set_context(language=web.language):
            return web.error_page(status,
                text('msg_busy') if busy else message)
    try:
        return run_in_transaction(run, request, pool, {}, True, False)
    except ApiError:
        return Response(message, status=status, content_type='text/plain')


def json_answer(data, status=200):
    return Response(json.dumps(data), status=status,
        content_type='application/json')


def route(path, **options):
    "Register a route of the shop under PREFIX"
    return app.route(PREFIX + path, **options)
