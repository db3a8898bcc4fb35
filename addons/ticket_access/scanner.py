"""The scanner web app: ``/<db>/ticket/scanner/``.

One page for the gates, served by trytond: a phone scans with its camera
(the browser's BarcodeDetector, or jsQR from npm where it is missing), a PC
takes the codes of a USB or Bluetooth scanner in keyboard mode. It talks to
the check-in API (``routes.py``) with the device's key, keeps the offline
bundle and the scans made without network in IndexedDB and uploads them
when the network is back; a service worker keeps the app itself for offline
use.

The page is a Jinja2 template rendered in English or French (``?lang=``,
else the browser's languages); ``static/scanner/messages.json`` holds the
texts of both for the page and its scripts. The scripts and the service
worker are static files of the addon; jsQR comes from ``sao/node_modules``
(the npm packages of the project) or the web client's root.
"""
import functools
import hashlib
import json
import mimetypes
import pathlib
import urllib.parse

from jinja2 import Environment, FileSystemLoader, select_autoescape

from trytond import config
from trytond.protocols.wrappers import HTTPStatus, Response, redirect
from trytond.wsgi import app

from guichet.ticket_event.routes import ApiError, load_pool

from .routes import CHECKIN

HERE = pathlib.Path(__file__).resolve().parent
STATIC = HERE / 'static' / 'scanner'
TEMPLATES = HERE / 'templates'
SCANNER = '/<database_name>/ticket/scanner'
LANGUAGES = ('en', 'fr')
# The files of the app shell, as the page and the service worker name them
ASSETS = ('app.js', 'ui.js', 'sync.js', 'verifier.js', 'store.js',
    'camera.js', 'scanner.css', 'icon.svg')
JSQR = 'jsQR.js'
CONTENT_TYPES = {
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.json': 'application/json',
    '.webmanifest': 'application/manifest+json',
    }


def jsqr_candidates():
    "Where jsQR may be: the web client's npm tree, then the repository's"
    root = config.get('web', 'root')
    if root:
        yield pathlib.Path(root).parent / 'jsqr' / 'dist' / JSQR
    yield HERE.parent.parent / 'sao' / 'node_modules' / 'jsqr' / 'dist' / JSQR


def asset_path(name):
    "The file of an asset of the app, or None"
    if name == JSQR:
        return next((p for p in jsqr_candidates() if p.is_file()), None)
    if name in ASSETS:
        return STATIC / name
    return None


@functools.lru_cache(maxsize=None)
def read_asset(path):
    "The content and ETag of a file (read once per process)"
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def version():
    "A hash of the app's files: a new version installs a new service worker"
    digest = hashlib.sha256()
    for path in sorted([STATIC / n for n in ASSETS]
            + [STATIC / 'messages.json', STATIC / 'sw.js',
                TEMPLATES / 'scanner.html']):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@functools.lru_cache(maxsize=None)
def messages():
    "The texts of the app by language"
    return json.loads((STATIC / 'messages.json').read_text('utf-8'))


@functools.lru_cache(maxsize=None)
def environment():
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(['html']),
        auto_reload=app.dev)


def language(request):
    "The language of the page: ?lang=, else the browser's best"
    chosen = request.args.get('lang', '')[:5].lower()
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or 'en'


def check_database(request, database_name):
    "Refuse a database that does not exist or has no check-in"
    pool = load_pool(request, database_name)
    try:
        pool.get('ticket.access.device')
    except KeyError:
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found',
            "Check-in is not activated on this database.")


def text_response(message, status):
    return Response(message + '\n', status=int(status),
        content_type='text/plain; charset=utf-8')


def no_store(response):
    response.headers['Cache-Control'] = 'no-cache'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response


@app.route(SCANNER, methods=['GET'])
def scanner_root(request, database_name):
    "The app lives at its folder, the scope of its service worker"
    query = request.query_string.decode('latin-1')
    return redirect(request.path + '/' + (f'?{query}' if query else ''),
        code=int(HTTPStatus.MOVED_PERMANENTLY))


@app.route(f'{SCANNER}/', methods=['GET'])
def scanner_page(request, database_name):
    "The page of the scanner app"
    try:
        check_database(request, database_name)
    except ApiError as error:
        return text_response(error.message, error.status)
    lang = language(request)
    texts = messages()
    base = request.script_root + '/' + urllib.parse.quote(database_name)
    html = environment().get_template('scanner.html').render(
        lang=lang,
        t=texts[lang],
        messages=json.dumps(texts, ensure_ascii=False).replace('</', '<\\/'),
        api=base + CHECKIN.replace('/<database_name>', ''),
        database=database_name,
        version=version())
    response = Response(html, content_type='text/html; charset=utf-8')
    response.headers['Content-Security-Policy'] = (
        "default-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; worker-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'")
    response.headers['Referrer-Policy'] = 'no-referrer'
    response.headers['Vary'] = 'Accept-Language'
    return no_store(response)


@app.route(f'{SCANNER}/sw.js', methods=['GET'])
def service_worker(request, database_name):
    "The service worker: keeps the app shell for offline use"
    source = (STATIC / 'sw.js').read_text('utf-8')
    source = source.replace('__VERSION__', version()).replace(
        '__ASSETS__', json.dumps(list(ASSETS) + [JSQR]))
    return no_store(Response(source, content_type=CONTENT_TYPES['.js']))


@app.route(f'{SCANNER}/manifest.webmanifest', methods=['GET'])
def manifest(request, database_name):
    "The web app manifest: the scanner installs as a full-screen app"
    lang = language(request)
    data = {
        'name': messages()[lang]['app_name'],
        'short_name': messages()[lang]['app_short_name'],
        'lang': lang,
        'start_url': './',
        'scope': './',
        'display': 'standalone',
        'orientation': 'portrait',
        'background_color': '#111827',
        'theme_color': '#111827',
        'icons': [{'src': 'static/icon.svg', 'sizes': 'any',
                'type': 'image/svg+xml', 'purpose': 'any'}],
        }
    return no_store(Response(json.dumps(data, ensure_ascii=False),
            content_type=CONTENT_TYPES['.webmanifest']))


@app.route(f'{SCANNER}/static/<string:name>', methods=['GET'])
def static_file(request, database_name, name):
    "The scripts, style and icon of the app, and jsQR"
    path = asset_path(name)
    if path is None or not path.is_file():
        return text_response("No such file.", HTTPStatus.NOT_FOUND)
    data, etag = read_asset(path)
    content_type = CONTENT_TYPES.get(path.suffix) or (
        mimetypes.guess_type(name)[0] or 'application/octet-stream')
    response = Response(data, content_type=content_type)
    response.set_etag(etag)
    response.make_conditional(request)
    return no_store(response)
