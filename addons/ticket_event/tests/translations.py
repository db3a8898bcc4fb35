import re

import polib

from trytond.modules import get_module_info
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.tools import file_open

PLACEHOLDER = re.compile(r'%\((\w+)\)[sdif]')


def entry_key(entry):
    return entry.msgctxt, entry.msgid


def describe(key):
    context, source = key
    return f"{context} {source!r}"


class TranslationTestMixin:
    """The module's French translation (locale/fr.po) translates every
    source of the module and nothing else"""
    translation_languages = ['fr']

    def translation_sources(self):
        """The translatable sources of the module as (msgctxt, msgid):
        models, fields, help, selections, views, reports, messages,
        buttons, menus and actions, as Tryton exports them"""
        pool = Pool()
        Translation = pool.get('ir.translation')
        TranslationSet = pool.get('ir.translation.set', type='wizard')
        session_id, _, _ = TranslationSet.create()
        TranslationSet(session_id).transition_set_()
        TranslationSet.delete(session_id)
        content = Translation.translation_export('en', self.module)
        catalogue = polib.pofile((content or b'').decode('utf-8'))
        return {entry_key(e) for e in catalogue}

    def translation_problems(self, sources, catalogue):
        "Describe what the catalogue lacks, has too much or gets wrong"
        entries = {entry_key(e): e for e in catalogue if not e.obsolete}
        problems = []
        for key in sorted(sources):
            entry = entries.get(key)
            if entry is None:
                problems.append(f"missing: {describe(key)}")
            elif not entry.msgstr:
                problems.append(f"untranslated: {describe(key)}")
            elif 'fuzzy' in entry.flags:
                problems.append(f"fuzzy: {describe(key)}")
            elif (set(PLACEHOLDER.findall(entry.msgid))
                    != set(PLACEHOLDER.findall(entry.msgstr))):
                problems.append(
                    f"placeholders differ: {describe(key)} "
                    f"-> {entry.msgstr!r}")
        for key in sorted(set(entries) - sources):
            problems.append(f"stale: {describe(key)}")
        return problems

    def inactive_extras(self):
        """The installed extras_depend of the module that the test database
        lacks: tools/i18n.py translates their sources too"""
        Module = Pool().get('ir.module')
        extras = get_module_info(self.module).get('extras_depend', [])
        return sorted(
            m.name for m in Module.search([('name', 'in', extras)])
            if m.state != 'activated')

    @with_transaction()
    def test_translations_complete(self):
        "Test the module's translation covers every source and no other"
        pool = Pool()
        Translation = pool.get('ir.translation')
        inactive = self.inactive_extras()
        if inactive:
            self.fail(
                "The sources that depend on extras are checked only with "
                "them: set extras = %r on the test case" % inactive)
        sources = self.translation_sources()
        self.assertTrue(sources)
        for language in self.translation_languages:
            with self.subTest(language=language):
                with file_open(
                        f'{self.module}/locale/{language}.po',
                        encoding='utf-8') as file:
                    path = file.name
                    catalogue = polib.pofile(file.read())
                problems = self.translation_problems(sources, catalogue)
                if problems:
                    self.fail(
                        f"{self.module}/locale/{language}.po, refresh it "
                        f"with tools/i18n.py {self.module} and translate:\n"
                        + '\n'.join(problems))
                self.assertTrue(
                    Translation.translation_import(
                        language, self.module, path))

    def test_translation_check_reports_problems(self):
        "Test the translation check names each kind of problem"
        sources = {
            ('field:ticket.x,a:', "A"),
            ('field:ticket.x,b:', "B"),
            ('field:ticket.x,c:', "C"),
            ('model:ir.message,text:msg_x', "No %(x)s here"),
            ('model:ir.message,text:msg_y', "Fine"),
            }
        catalogue = polib.POFile()
        for context, source, target, flags in [
                ('field:ticket.x,b:', "B", "", []),
                ('field:ticket.x,c:', "C", "Cé", ['fuzzy']),
                ('model:ir.message,text:msg_x', "No %(x)s here", "Pas ici",
                    ['python-format']),
                ('model:ir.message,text:msg_y', "Fine", "Bien", []),
                ('field:ticket.x,gone:', "Gone", "Parti", []),
                ]:
            catalogue.append(polib.POEntry(
                    msgctxt=context, msgid=source, msgstr=target,
                    flags=flags))
        self.assertEqual(self.translation_problems(sources, catalogue), [
                "missing: field:ticket.x,a: 'A'",
                "untranslated: field:ticket.x,b: 'B'",
                "fuzzy: field:ticket.x,c: 'C'",
                "placeholders differ: model:ir.message,text:msg_x "
                "'No %(x)s here' -> 'Pas ici'",
                "stale: field:ticket.x,gone: 'Gone'",
                ])
