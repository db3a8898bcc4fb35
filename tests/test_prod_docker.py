"""docker/: the compose file is valid against the Compose Specification and
runs the services of a production deployment; the Dockerfile copies files
that exist.

No Docker engine runs on the development machines (the ``docker`` client has
no compose plugin), so ``compose.yaml`` is interpolated as Compose does it
and validated against the official Compose Specification JSON schema, as
vendored (with its checksum) by the PyPI package check-jsonschema, pinned in
pyproject.toml. ``make serve-prod`` runs the same processes without Docker
(tests/test_prod_serve.py).
"""
import hashlib
import importlib.resources
import pathlib
import re
import shlex
import unittest

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCKER = ROOT / 'docker'
# The environment of the interpolation: what an operator exports
ENVIRONMENT = {'POSTGRES_PASSWORD': 'secret', 'GUICHET_ADMIN_PASSWORD': 'x'}
VARIABLE = re.compile(r'\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)'
    r'(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)')


class InterpolationError(ValueError):
    pass


def interpolate(value, environment):
    "Substitute ${VAR}, ${VAR:-default}, ${VAR:?error} and $$ as Compose"
    if isinstance(value, dict):
        return {k: interpolate(v, environment) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, environment) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match):
        if match.group(0) == '$$':
            return '$'
        name = match.group('name') or match.group('bare')
        op, arg = match.group('op'), match.group('arg')
        current = environment.get(name)
        unset = current is None or (current == '' and op and op[0] == ':')
        if unset and op and op.endswith('-'):
            return arg
        if unset and op and op.endswith('?'):
            raise InterpolationError(f"{name}: {arg}")
        return current or ''
    return VARIABLE.sub(substitute, value)


def load_compose(environment=ENVIRONMENT, text=None):
    "compose.yaml as Compose reads it: YAML merge keys, then interpolation"
    if text is None:
        text = (DOCKER / 'compose.yaml').read_text()
    return interpolate(yaml.safe_load(text), environment)


def compose_schema():
    "The Compose Specification schema vendored by check-jsonschema"
    import json
    vendor = importlib.resources.files(
        'check_jsonschema.builtin_schemas.vendor')
    raw = (vendor / 'compose-spec.json').read_bytes()
    digest = (vendor / 'sha256' / 'compose-spec.sha256').read_text().strip()
    assert hashlib.sha256(raw).hexdigest() == digest, "schema altered"
    return json.loads(raw)


def schema_errors(document):
    from jsonschema import Draft202012Validator
    validator = Draft202012Validator(compose_schema())
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document))


def dockerfile_instructions():
    "(instruction, arguments) of docker/Dockerfile, continuations joined"
    text = (DOCKER / 'Dockerfile').read_text()
    lines, current = [], ''
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith('#')):
            continue
        if stripped.startswith('#'):
            continue
        if stripped.endswith('\\'):
            current += stripped[:-1] + ' '
            continue
        lines.append(current + stripped)
        current = ''
    result = []
    for line in lines:
        instruction, _, arguments = line.partition(' ')
        result.append((instruction.upper(), arguments.strip()))
    return result


def ignored(path):
    "Whether docker/Dockerfile.dockerignore keeps path out of the context"
    import fnmatch
    rules = [l.strip() for l in (DOCKER / 'Dockerfile.dockerignore')
        .read_text().splitlines() if l.strip() and not l.startswith('#')]
    excluded = False
    for rule in rules:
        negate = rule.startswith('!')
        pattern = rule.lstrip('!').rstrip('/')
        parts = path.split('/')
        prefixes = ['/'.join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes) or (
                pattern.startswith('**/') and any(fnmatch.fnmatch(
                        p, pattern[3:]) for p in parts)):
            excluded = not negate
    return excluded


class ComposeTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.compose = load_compose()
        cls.services = cls.compose['services']

    def test_valid_against_compose_specification(self):
        self.assertEqual(schema_errors(self.compose), [])

    def test_schema_refuses_mistakes(self):
        "The validation can fail: typical mistakes are refused"
        for mistake in [
                lambda c: c['services']['app'].update(restart_policy='x'),
                lambda c: c['services']['app']['healthcheck'].update(
                    test=42),
                lambda c: c['services']['proxy'].update(ports='80:80'),
                lambda c: c.update(volumes=['pgdata']),
                lambda c: c['services']['cron'].update(
                    depends_on={'postgres': {'condition': 'healthy'}}),
                ]:
            compose = load_compose()
            mistake(compose)
            with self.subTest(mistake=mistake):
                self.assertTrue(schema_errors(compose))

    def test_required_variables(self):
        "The passwords must be given: Compose stops otherwise"
        with self.assertRaises(InterpolationError):
            load_compose({})
        self.assertEqual(interpolate('$${X}-${A:-b}-${C}', {'C': 'c'}),
            '${X}-b-c')

    def test_services_with_health_checks(self):
        for name in ['postgres', 'app', 'cron', 'worker', 'proxy']:
            with self.subTest(service=name):
                service = self.services[name]
                test = service['healthcheck']['test']
                self.assertIsInstance(test, list)
                self.assertIn(test[0], {'CMD', 'CMD-SHELL'})
                self.assertFalse(service['healthcheck'].get('disable'))
        commands = {name: ' '.join(self.services[name].get('command', []))
            for name in ['cron', 'worker', 'init']}
        self.assertIn('trytond-cron', commands['cron'])
        self.assertIn('trytond-worker', commands['worker'])
        self.assertIn('trytond-admin', commands['init'])
        self.assertEqual(self.services['init']['restart'], 'no')
        self.assertEqual(self.services['app']['healthcheck']['test'][-1],
            'app')

    def test_app_scales(self):
        "--scale app=N: no container name, no host port; proxy finds all"
        app = self.services['app']
        self.assertNotIn('container_name', app)
        self.assertNotIn('ports', app)
        self.assertNotIn('command', app)  # the image's gunicorn command
        self.assertEqual(app['build']['target'], 'app')
        self.assertEqual(self.services['proxy']['build']['target'], 'proxy')
        self.assertEqual(self.services['proxy']['environment'][
                'GUICHET_APP_HOST'], 'app')
        caddy = (DOCKER / 'Caddyfile').read_text()
        self.assertIn('dynamic a', caddy)
        self.assertIn('{$GUICHET_APP_HOST:app}', caddy)
        self.assertEqual(
            self.services['proxy']['depends_on']['app']['condition'],
            'service_healthy')

    def test_configuration_by_environment(self):
        for name in ['init', 'app', 'cron', 'worker']:
            with self.subTest(service=name):
                service = self.services[name]
                environment = service['environment']
                self.assertTrue(environment['TRYTOND_DATABASE__URI']
                    .startswith('postgresql://guichet:secret@postgres:'))
                self.assertEqual(environment['TRYTOND_DATABASE_NAMES'],
                    'guichet')
                self.assertEqual(environment['TRYTOND_QUEUE__WORKER'],
                    'True')
                self.assertIn(
                    f"filestore:{environment['TRYTOND_DATABASE__PATH']}",
                    service['volumes'])
                if name != 'init':
                    self.assertEqual(service['depends_on']['init'][
                            'condition'], 'service_completed_successfully')
        self.assertEqual(self.services['app']['environment'][
                'GUICHET_APP_WORKERS'], '2')
        self.assertEqual(load_compose(dict(ENVIRONMENT,
                    GUICHET_APP_WORKERS='6'))['services']['app'][
                'environment']['GUICHET_APP_WORKERS'], '6')

    def test_named_volumes(self):
        self.assertEqual(set(self.compose['volumes']),
            {'pgdata', 'filestore', 'caddy_data'})
        self.assertIn('pgdata:/var/lib/postgresql',
            self.services['postgres']['volumes'])
        self.assertEqual(self.compose['secrets']['admin_password'],
            {'environment': 'GUICHET_ADMIN_PASSWORD'})


class DockerfileTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.instructions = dockerfile_instructions()

    def stages(self):
        stages = {}
        current = None
        for instruction, arguments in self.instructions:
            if instruction == 'FROM':
                image, _, name = arguments.partition(' AS ')
                current = name.strip()
                stages[current] = {'image': image.strip(), 'lines': []}
            else:
                stages[current]['lines'].append((instruction, arguments))
        return stages

    def test_copied_paths_exist(self):
        "Every COPY from the context names files that exist and are sent"
        copies = 0
        for instruction, arguments in self.instructions:
            if instruction not in {'COPY', 'ADD'}:
                continue
            words = shlex.split(arguments)
            if any(w.startswith('--from=') for w in words):
                continue
            sources = [w for w in words if not w.startswith('--')][:-1]
            for source in sources:
                with self.subTest(source=source):
                    self.assertTrue((ROOT / source).exists(), source)
                    self.assertFalse(ignored(source.rstrip('/')), source)
                    copies += 1
        self.assertGreaterEqual(copies, 7)
        self.assertTrue(ignored('var/pgdata/PG_VERSION'))
        self.assertTrue(ignored('.venv/bin/python'))
        self.assertFalse(ignored('addons/ticket_event/tryton.cfg'))

    def test_stages(self):
        stages = self.stages()
        self.assertEqual(set(stages), {'sao', 'app', 'proxy'})
        self.assertEqual(stages['app']['image'], 'python:3.11-slim')
        app = dict(stages['app']['lines'])
        self.assertEqual(app['USER'], 'guichet')
        self.assertIn('pip install .', app['RUN'])
        self.assertIn('guichet-healthcheck', app['HEALTHCHECK'])
        self.assertIn('trytond.application:app', app['CMD'])
        sao = ' '.join(a for i, a in stages['sao']['lines'] if i == 'RUN')
        self.assertIn('npm ci', sao)
        # sao is served from where the proxy stage copies it
        caddy = (DOCKER / 'Caddyfile').read_text()
        self.assertIn('root * /srv/node_modules/tryton-sao', caddy)
        self.assertIn('/srv/node_modules', ' '.join(
                a for i, a in stages['proxy']['lines'] if i == 'COPY'))
        self.assertTrue(
            (ROOT / 'sao' / 'node_modules' / 'tryton-sao' / 'index.html')
            .exists())
