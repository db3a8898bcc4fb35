"""The addons are found, not listed: every ``addons/<name>/tryton.cfg`` is
a Tryton module shipped as ``guichet.<name>`` and exposed through the
``trytond.modules`` entry point; all other metadata is in pyproject.toml."""
import pathlib

from setuptools import setup

ADDONS = pathlib.Path(__file__).resolve().parent / 'addons'
MODULES = sorted(p.parent.name for p in ADDONS.glob('*/tryton.cfg'))

packages = ['guichet']
for module in MODULES:
    packages.append(f'guichet.{module}')
    if (ADDONS / module / 'tests' / '__init__.py').exists():
        packages.append(f'guichet.{module}.tests')

setup(
    packages=packages,
    entry_points={
        'trytond.modules': [f'{m} = guichet.{m}' for m in MODULES],
        },
    )
