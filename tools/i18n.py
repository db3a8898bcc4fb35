"""Refresh the French translation file of Guichet addons.

For each addon: activate it (with its installed extras_depend) in a scratch
database on the embedded PostgreSQL server, run Tryton's "Set Translations"
(view and report strings) and "Update Translations" for French, export the
addon's French catalogue as "Export Translations" does, and merge the
translations already in addons/<addon>/locale/fr.po:

- an entry whose context and source are unchanged keeps its msgstr;
- an entry whose source text changed (same context) keeps the old msgstr,
  marked fuzzy for review;
- a new entry whose source is translated elsewhere (in the addon or in a
  Guichet addon it depends on) gets that translation, marked fuzzy;
- a translated entry that no longer exists is kept as an obsolete (#~)
  entry, unless --prune is given.

Tryton ignores fuzzy and obsolete entries. The script prints how many entries
are untranslated or fuzzy; with --check it writes nothing, lists them and
exits 1 if any remains or if the file is not up to date.

Usage: python tools/i18n.py ADDON [ADDON ...] [--check] [--prune] [--keep]
"""
import argparse
import configparser
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
import pgctl  # noqa: E402

LANG = 'fr'
# contexts that identify one source: an edited source keeps its translation
SINGLE_SOURCE_TYPES = {'field', 'model', 'wizard_button'}


def po_path(addon):
    return ROOT / 'addons' / addon / 'locale' / f'{LANG}.po'


def is_addon(name):
    return (ROOT / 'addons' / name / 'tryton.cfg').exists()


def tryton_cfg(addon, option):
    "The module names listed by option in the addon's tryton.cfg"
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / 'addons' / addon / 'tryton.cfg')
    return cfg.get('tryton', option, fallback='').split()


def guichet_dependencies(addon, seen=None):
    "The Guichet addons the addon depends on, directly or not"
    seen = set() if seen is None else seen
    for name in tryton_cfg(addon, 'depends'):
        if name not in seen and is_addon(name):
            seen.add(name)
            guichet_dependencies(name, seen)
    return seen


def database_name(addon):
    return f'i18n_{addon}'


def drop_database(name):
    import psycopg
    with psycopg.connect(pgctl.uri('postgres'), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(name):
    "An empty Tryton database in English, the source language"
    from sql import Table
    from trytond import backend
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    database = backend.Database()
    database.connect()
    connection = database.get_connection(autocommit=True)
    try:
        database.create(connection, name)
    finally:
        database.put_connection(connection)
        database.close()
    database = backend.Database(name)
    connection = database.get_connection()
    try:
        with connection.cursor() as cursor:
            database.init()
            configuration = Table('ir_configuration')
            cursor.execute(*configuration.insert(
                    [configuration.language], [['en']]))
        connection.commit()
    finally:
        database.put_connection(connection)
    pool = Pool(name)
    pool.init(update=['res', 'ir'], lang=['en'])
    with Transaction().start(name, 0):
        pool.get('ir.module').update_list()


def activate(name, addon):
    """Activate the addon with those of its extras that are installed, so
    that the sources depending on them are exported too"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(name)
    with Transaction().start(name, 0, close=True) as transaction:
        Module = pool.get('ir.module')
        if not Module.search([('name', '=', addon)]):
            raise SystemExit(f"{addon}: not an installed Tryton module")
        extras = tryton_cfg(addon, 'extras_depend')
        modules = Module.search([('name', 'in', [addon] + extras)])
        missing = set(extras) - {m.name for m in modules}
        if missing:
            print(f"{addon}: extras not installed, their sources are left "
                f"out: {', '.join(sorted(missing))}")
        Module.activate(modules)
        transaction.commit()
        ActivateUpgrade = pool.get(
            'ir.module.activate_upgrade', type='wizard')
        session_id, _, _ = ActivateUpgrade.create()
        transaction.commit()
        ActivateUpgrade(session_id).transition_upgrade()
        ActivateUpgrade.delete(session_id)
        transaction.commit()


def export(name, addon):
    "Set, update and export the addon's French translations (polib file)"
    import polib
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(name)
    with Transaction().start(name, 0, close=True) as transaction:
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        TranslationSet = pool.get('ir.translation.set', type='wizard')
        TranslationUpdate = pool.get('ir.translation.update', type='wizard')

        french, = Lang.search([('code', '=', LANG)])
        french.translatable = True
        french.save()

        session_id, _, _ = TranslationSet.create()
        TranslationSet(session_id).transition_set_()
        TranslationSet.delete(session_id)

        session_id, _, _ = TranslationUpdate.create()
        update = TranslationUpdate(session_id)
        update.start.language = french
        update.do_update({})
        TranslationUpdate.delete(session_id)

        content = Translation.translation_export(LANG, addon)
        transaction.rollback()
    return polib.pofile((content or b'').decode('utf-8'), wrapwidth=78)


def translated(entry):
    return bool(entry.msgstr) and 'fuzzy' not in entry.flags


def merge(new, old, suggestions):
    """Copy into the new catalogue the translations of the old one.

    Return the old translated entries that match nothing any more."""
    by_key = {}
    for entry in sorted(old, key=lambda e: not e.obsolete):
        by_key[entry.msgctxt, entry.msgid] = entry
    by_context = {}
    for entry in old:
        if not entry.obsolete:
            by_context.setdefault(entry.msgctxt, []).append(entry)
    new_keys = {(e.msgctxt, e.msgid) for e in new}
    used = set()
    for entry in new:
        previous = by_key.get((entry.msgctxt, entry.msgid))
        fuzzy = False
        if previous is None:
            type_ = entry.msgctxt.split(':', 1)[0]
            candidates = [
                e for e in by_context.get(entry.msgctxt, [])
                if (e.msgctxt, e.msgid) not in new_keys]
            if type_ in SINGLE_SOURCE_TYPES and len(candidates) == 1:
                previous = candidates[0]
                fuzzy = True
        if previous is not None:
            used.add((previous.msgctxt, previous.msgid))
            entry.msgstr = previous.msgstr
            fuzzy |= 'fuzzy' in previous.flags
        else:
            type_ = entry.msgctxt.split(':', 1)[0]
            entry.msgstr = suggestions.get(
                (type_, entry.msgid), suggestions.get(entry.msgid, ''))
            fuzzy = True
        if fuzzy and entry.msgstr and 'fuzzy' not in entry.flags:
            entry.flags.append('fuzzy')
    return [
        e for e in old
        if (e.msgctxt, e.msgid) not in used and e.msgstr
        and (e.obsolete or (e.msgctxt, e.msgid) not in new_keys)]


def collect_suggestions(addon, old):
    """Translations of a source text in the addon and its Guichet
    dependencies, by type of entry and source, and by source alone"""
    import polib
    catalogues = [old]
    for name in sorted(guichet_dependencies(addon)):
        if po_path(name).exists():
            catalogues.append(polib.pofile(str(po_path(name))))
    suggestions = {}
    for catalogue in catalogues:
        for entry in catalogue:
            if translated(entry) and not entry.msgid_plural:
                type_ = entry.msgctxt.split(':', 1)[0]
                suggestions.setdefault((type_, entry.msgid), entry.msgstr)
                suggestions.setdefault(entry.msgid, entry.msgstr)
    return suggestions


def refresh(addon, check=False, prune=False, keep=False):
    import polib
    path = po_path(addon)
    old = (polib.pofile(str(path), wrapwidth=78) if path.exists()
        else polib.POFile(wrapwidth=78))
    name = database_name(addon)
    drop_database(name)
    create_database(name)
    try:
        activate(name, addon)
        new = export(name, addon)
    finally:
        from trytond.pool import Pool
        Pool.stop(name)
        if not keep:
            drop_database(name)

    obsolete = merge(new, old, collect_suggestions(addon, old))
    if not prune:
        for entry in obsolete:
            entry.obsolete = True
            new.append(entry)
    new.metadata = {'Content-Type': 'text/plain; charset=utf-8'}
    new.sort(key=lambda e: (e.msgctxt, e.msgid))
    content = str(new)

    active = [e for e in new if not e.obsolete]
    untranslated = [e for e in active if not e.msgstr]
    fuzzy = [e for e in active if e.msgstr and 'fuzzy' in e.flags]
    up_to_date = path.exists() and path.read_text('utf-8') == content
    if up_to_date:
        status = ""
    elif check:
        status = ", file out of date"
    else:
        status = f" -> {path.relative_to(ROOT)}"
    print(f"{addon}: {len(active)} entries, {len(untranslated)} "
        f"untranslated, {len(fuzzy)} fuzzy, "
        f"{len(new) - len(active)} obsolete kept{status}")
    if check:
        for label, entries in [
                ('untranslated', untranslated), ('fuzzy', fuzzy)]:
            for entry in entries:
                print(f"  {label}: {entry.msgctxt} {entry.msgid!r}")
        return not (untranslated or fuzzy or not up_to_date)
    if not up_to_date:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, 'utf-8')
    return True


def configure():
    os.environ['TRYTOND_DATABASE__URI'] = pgctl.uri()
    os.environ.setdefault(
        'TRYTOND_DATABASE__PATH', str(ROOT / 'var' / 'i18n-filestore'))
    import logging
    logging.basicConfig(level=logging.ERROR)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('addons', nargs='+', metavar='ADDON')
    parser.add_argument('--check', action='store_true',
        help="write nothing; fail if an entry is untranslated or fuzzy "
        "or if the file is not up to date")
    parser.add_argument('--prune', action='store_true',
        help="drop the translations that match no source any more")
    parser.add_argument('--keep', action='store_true',
        help="keep the scratch database (i18n_<addon>)")
    args = parser.parse_args(argv)
    for addon in args.addons:
        if not is_addon(addon):
            parser.error(f"{addon}: no addons/{addon}/tryton.cfg")
    pgctl.start()
    configure()
    ok = True
    for addon in args.addons:
        ok &= refresh(addon, check=args.check, prune=args.prune,
            keep=args.keep)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
