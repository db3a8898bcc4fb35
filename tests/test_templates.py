"""The Jinja environments of the pages (shop, POS, scanner) look at a
template's file on disk again at each page only in development (trytond
--dev, trytond's own reloading flag): in production, templates change with
a release."""
import unittest

from trytond.wsgi import app

from guichet.ticket_access import scanner
from guichet.ticket_pos import terminal
from guichet.ticket_shop import render


def forget_environments():
    render._environment = None
    scanner.environment.cache_clear()
    terminal.environment.cache_clear()


class TemplatesReloadTestCase(unittest.TestCase):

    def test_reloaded_in_development_only(self):
        dev = app.dev
        self.assertFalse(dev, "the tests run outside development")
        self.addCleanup(forget_environments)
        self.addCleanup(setattr, app, 'dev', dev)
        for development in [False, True]:
            with self.subTest(development=development):
                app.dev = development
                forget_environments()
                for environment in [render.environment(),
                        scanner.environment(), terminal.environment()]:
                    self.assertIs(environment.auto_reload, development)


if __name__ == '__main__':
    unittest.main()
