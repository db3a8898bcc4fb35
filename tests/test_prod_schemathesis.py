"""schemathesis against the served OpenAPI document, every public operation:
positive and negative examples (a bounded number per operation, derandomized
so that a run is reproducible), each answer checked — no 5xx, a documented
status, a documented content type, a body matching its schema.

The server is serve-prod's (gunicorn, 2 workers) on a database with an
event on sale (GA and seated sessions with tariffs) and a scanner device,
whose key goes with the check-in operations so that they are explored past
the authentication.
"""
import json
import unittest
import urllib.request

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance,
    status_code_conformance)

from tests.checkin import create_gate
from tests.load.rush import RushServer, in_transaction
from tests.server import API, HOST

EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance,
    content_type_conformance, response_schema_conformance]
SERVER = None


def setUpModule():
    global SERVER
    SERVER = RushServer('test_prod_schemathesis', places=50, rows=2,
        seats_per_row=25)
    SERVER.start()
    unittest.addModuleCleanup(SERVER.stop)


class SchemathesisTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        _, keys = in_transaction(SERVER.database, lambda pool: create_gate(
                pool, SERVER.sale['event']))
        cls.key = keys[0]
        cls.base_url = f'http://{HOST}:{SERVER.port}/{SERVER.database}'
        with urllib.request.urlopen(f'{cls.base_url}{API}/openapi.json') as (
                answer):
            cls.document = json.loads(answer.read())
        cls.schema = schemathesis.openapi.from_dict(cls.document)

    def explore(self, operation, mode, failures):
        headers = {}
        if '/checkin/' in operation.path:
            headers['Authorization'] = f'Bearer {self.key}'
        found = []

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
            derandomize=True, suppress_health_check=list(HealthCheck))
        @given(operation.as_strategy(generation_mode=mode))
        def test(case):
            if len(found) >= 3:
                return
            response = case.call(base_url=self.base_url, headers=headers,
                timeout=60)
            try:
                case.validate_response(response, checks=CHECKS,
                    headers=headers)
            except Exception as error:
                found.append(f"{operation.label} ({mode.value}): "
                    f"{str(error).strip()[:1500]}\n  "
                    f"{case.as_curl_command(headers=headers)}")
        try:
            test()
        except Unsatisfiable:
            # no invalid request exists (a token or no parameter at all)
            if mode is GenerationMode.POSITIVE:
                raise
            return False
        failures.extend(found)
        return True

    def test_every_operation(self):
        failures = []
        operations = negative = 0
        for result in self.schema.get_all_operations():
            operation = result.ok()
            operations += 1
            self.explore(operation, GenerationMode.POSITIVE, failures)
            negative += self.explore(
                operation, GenerationMode.NEGATIVE, failures)
        print(f"schemathesis: {operations} operations, positive examples "
            f"on each, negative on {negative}; {len(failures)} failures")
        self.assertGreaterEqual(operations, 20)
        self.assertGreaterEqual(negative, operations - 4)
        self.assertEqual(failures, [], '\n\n'.join(failures))


if __name__ == '__main__':
    unittest.main()
