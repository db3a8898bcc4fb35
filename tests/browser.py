"""Headless Chromium for the browser tests, driven by Playwright, and the
test case that serves a real trytond (with the web client sao) to it.

Chromium is Debian's package (/usr/bin/chromium, installed by .ci/run); the
flags keep it off the network, which this machine closes anyway."""
import contextlib
import os
import pathlib
import tempfile
import unittest

from tests.server import ApiServer

CHROMIUM = os.environ.get('GUICHET_CHROMIUM', '/usr/bin/chromium')
SCREENSHOTS = pathlib.Path(__file__).resolve().parent / 'screenshots'
SAO = (pathlib.Path(__file__).resolve().parent.parent / 'sao'
    / 'node_modules' / 'tryton-sao')
ARGS = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage',
    ]


@contextlib.contextmanager
def browser_page(viewport=None, extra_args=(), **context_options):
    """Yield a new page of a fresh headless Chromium, with extra flags (a
    fake camera); page.errors collects the page's errors"""
    from playwright.sync_api import sync_playwright
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(
            f"Chromium not found at {CHROMIUM}: .ci/run installs Debian's "
            "chromium package (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True,
            args=ARGS + list(extra_args),
            viewport=viewport or {'width': 1366, 'height': 900},
            **context_options)
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.errors = []
            page.on('pageerror', lambda error: page.errors.append(str(error)))
            page.on('console', lambda message: page.errors.append(
                    message.text) if message.type == 'error' else None)
            yield page
        finally:
            context.close()


def screenshot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f'{name}.png'
    page.screenshot(path=str(path), full_page=True)
    return path


class ServerTestCase(unittest.TestCase):
    """A real trytond on a fresh database for the class, serving the web
    client (sao) too; subclasses fill it in prepare()"""
    database = None

    @classmethod
    def setUpClass(cls):
        os.environ['TRYTOND_WEB__ROOT'] = str(SAO)
        cls.server = ApiServer(cls.database)
        try:
            cls.server.start()
            cls.addClassCleanup(cls.server.stop)
        finally:
            del os.environ['TRYTOND_WEB__ROOT']
        cls.prepare()

    @classmethod
    def prepare(cls):
        pass
