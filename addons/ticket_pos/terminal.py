"""The box office terminal: ``/<db>/ticket/pos/``.

One page for the counter, served by trytond, for a touch screen or a
keyboard. It talks to the box office API (``routes.py``) with the Tryton
session of the operator who logged in. The sale in progress lives in the
page and in localStorage: a reload or a network loss keeps it, and the page
refuses to sell while the server cannot be reached, rather than risk a sale
it cannot confirm.

The page is a Jinja2 template rendered in English or French (``?lang=``,
else the browser's languages); ``static/pos/messages.json`` holds the texts
of both for the page and its script.
"""
import functools
import hashlib
import json
import pathlib
import urllib.parse

from jinja2 import Environment, FileSystemLoader, select_autoescape

from trytond.protocols.wrappers import HTTPStatus, Response, redirect
from trytond.wsgi import app

from guichet.ticket_event.routes import ApiError, load_pool

HERE = pathlib.Path(__file__).resolve().parent
STATIC = HERE / 'static' / 'pos'
TEMPLATES = HERE / 'templates'
TERMINAL = '/<database_name>/ticket/pos'
LANGUAGES = ('en', 'fr')
ASSETS = {
    'pos.js': 'text/javascript; charset=utf-8',
    'pos.css': 'text/css; charset=utf-8',
    }


@functools.lru_cache(maxsize=None)
def read_asset(name):
    data = (STATIC / name).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def messages():
    return json.loads((STATIC / 'messages.json').read_text('utf-8'))


@functools.lru_cache(maxsize=None)
def environment():
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(['html']),
        auto_reload=app.dev)


def language(request):
    chosen = request.args.get('lang', '')[:5].lower()
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or 'en'


def text_response(message, status):
    return Response(message + '\n', status=int(status),
        content_type='text/plain; charset=utf-8')


@app.route(TERMINAL, methods=['GET'])
def terminal_root(request, database_name):
    query = request.query_string.decode('latin-1')
    return redirect(request.path + '/' + (f'?{query}' if query else ''),
        code=int(HTTPStatus.MOVED_PERMANENTLY))


@app.route(f'{TERMINAL}/', methods=['GET'])
def terminal_page(request, database_name):
    "The page of the box office terminal"
    try:
        pool = load_pool(request, database_name)
    except ApiError as error:
        return text_response(error.message, error.status)
    try:
        pool.get('ticket.pos.service')
    except KeyError:
        return text_response("The box office is not activated here.",
            HTTPStatus.NOT_FOUND)
    lang = language(request)
    texts = messages()
    base = request.script_root + '/' + urllib.parse.quote(database_name)
    html = environment().get_template('pos.html').render(
        lang=lang, t=texts[lang],
        messages=json.dumps(texts, ensure_ascii=False).replace('</', '<\\/'),
        api=base + '/ticket/api/v1/pos',
        version=read_asset('pos.js')[1])
    response = Response(html, content_type='text/html; charset=utf-8')
    response.headers['Content-Security-Policy'] = (
        "default-src 'self'; img-src 'self' data: blob:; "
        "style-src 'self'; script-src 'self'; connect-src 'self'; "
        "frame-src 'self' blob:; object-src 'self' blob:; "
        "base-uri 'none'; frame-ancestors 'none'")
    response.headers['Referrer-Policy'] = 'no-referrer'
    response.headers['Cache-Control'] = 'no-cache'
    response.headers['Vary'] = 'Accept-Language'
    return response


@app.route(f'{TERMINAL}/static/<string:name>', methods=['GET'])
def static_file(request, database_name, name):
    if name not in ASSETS:
        return text_response("No such file.", HTTPStatus.NOT_FOUND)
    data, etag = read_asset(name)
    response = Response(data, content_type=ASSETS[name])
    response.set_etag(etag)
    response.make_conditional(request)
    response.headers['Cache-Control'] = 'no-cache'
    return response
