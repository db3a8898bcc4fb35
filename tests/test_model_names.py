"""Two addons never define the same model, wizard or report name.

An addon extends another's model by a class without a Model base (Tryton's
``metaclass=PoolMeta``); a class with a Model, Wizard or Report base
defines the name. Two definitions of one name would silently merge into
one table in a database that activates both addons."""
import configparser
import importlib
import pathlib
import unittest
from collections import defaultdict

from trytond.model import Model
from trytond.report import Report
from trytond.wizard import Wizard

ADDONS = pathlib.Path(__file__).resolve().parent.parent / 'addons'


def registered_classes(addon):
    "Yield (dotted path, class) of every class registered by addon"
    config = configparser.ConfigParser()
    config.read(ADDONS / addon / 'tryton.cfg')
    for section in config.sections():
        if not section.startswith('register'):
            continue
        for kind in ('model', 'wizard', 'report'):
            for entry in config.get(section, kind, fallback='').split():
                module_name, class_name = entry.rsplit('.', 1)
                module = importlib.import_module(
                    f'guichet.{addon}.{module_name}')
                yield f'{addon}.{entry}', getattr(module, class_name)


class ModelNamesTestCase(unittest.TestCase):

    def test_addons_found(self):
        "Every addon is checked"
        addons = [p.parent.name for p in ADDONS.glob('*/tryton.cfg')]
        self.assertIn('ticket_event', addons)
        self.assertTrue(all(list(registered_classes(a)) for a in addons))

    def test_no_name_defined_twice(self):
        "No model, wizard or report name is defined by two classes"
        definitions = defaultdict(list)
        for cfg in sorted(ADDONS.glob('*/tryton.cfg')):
            for path, cls in registered_classes(cfg.parent.name):
                if issubclass(cls, (Model, Wizard, Report)):
                    definitions[cls.__name__].append(path)
        twice = {name: paths for name, paths in definitions.items()
            if len(paths) > 1}
        self.assertEqual(twice, {})
