"""OpenAPI-driven fuzzing: every operation of the served document, requests built from it.

The test reads ``GET /usage_billing/v1/openapi.json`` from the running test
server and, for every operation in it (none is listed here, so an endpoint added
to the document is fuzzed without touching this file), generates requests with
``hypothesis-jsonschema`` from the operation's own schemas: the JSON request
body and the non-authentication parameters (query, path, header).  Requests of
operations that declare ``X-Usage-Signature`` are signed as the document says:
``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>``, and for a request
without a body (a signed GET) over ``"<t>.<METHOD> <path?query>"``.

Every answer must be below 500, have a status the operation documents, and, when
that status documents a JSON schema, be JSON that validates against it.
``USAGE_FUZZ_EXAMPLES`` raises the number of examples per operation (default 60).
"""

import json
import logging
import os
import time
import unittest
from collections import Counter
from urllib.parse import quote, urlencode

import jsonschema

from odoo.tests import tagged

from ..core import signing
from .common import UsageApiCase

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis_jsonschema import from_schema
except ImportError:  # pragma: no cover - both are in requirements-test.txt
    from_schema = None

_logger = logging.getLogger(__name__)

EXAMPLES = int(os.environ.get("USAGE_FUZZ_EXAMPLES", "60"))
OPENAPI_URL = "/usage_billing/v1/openapi.json"
KEY_HEADER, SIGNATURE_HEADER = "X-Usage-Key", "X-Usage-Signature"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: Header values a client can send at all: printable ASCII.
HEADER_VALUE = {"type": "string", "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"}


def operations(document):
    """``(path, method, operation)`` for every operation, path-level parameters merged."""
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            if method in item:
                operation = dict(item[method])
                own = {(p["name"], p["in"]) for p in operation.get("parameters", [])}
                inherited = [p for p in shared if (p["name"], p["in"]) not in own]
                operation["parameters"] = inherited + operation.get("parameters", [])
                yield path, method, operation


def rooted(schema, document):
    """``schema`` with the document's components, so ``#/components/...`` refs resolve."""
    return {**schema, "components": document.get("components", {})}


def json_body_schema(operation):
    content = (operation.get("requestBody") or {}).get("content", {})
    media = content.get("application/json")
    return media.get("schema", {}) if media is not None else None


def is_signed(operation):
    return any(
        p["in"] == "header" and p["name"] == SIGNATURE_HEADER for p in operation["parameters"]
    )


def parameter_strategy(parameter, document):
    schema = rooted(parameter.get("schema", {}), document)
    if parameter["in"] == "header":
        schema = {"allOf": [schema, HEADER_VALUE], "components": schema["components"]}
    return from_schema(schema)


def request_strategy(operation, document):
    """``{"body": ..., "params": {(in, name): value}}`` drawn from the operation's schemas."""
    required, optional = {}, {}
    for parameter in operation["parameters"]:
        if parameter["in"] not in ("query", "path", "header"):
            continue  # cookies: none documented
        if parameter["in"] == "header" and parameter["name"] in (KEY_HEADER, SIGNATURE_HEADER):
            continue  # authentication: always sent right, see _send
        slot = required if parameter.get("required") or parameter["in"] == "path" else optional
        slot[(parameter["in"], parameter["name"])] = parameter_strategy(parameter, document)
    body_schema = json_body_schema(operation)
    body = st.none() if body_schema is None else from_schema(rooted(body_schema, document))
    return st.fixed_dictionaries(
        {"body": body, "params": st.fixed_dictionaries(required, optional=optional)}
    )


def documented_response(operation, status):
    responses = operation.get("responses", {})
    for key in (str(status), f"{str(status)[0]}XX", "default"):
        if key in responses:
            return responses[key]
    return None


@unittest.skipIf(
    from_schema is None, "hypothesis-jsonschema is not installed (requirements-test.txt)"
)
@tagged("post_install", "-at_install")
class TestApiOpenapiFuzz(UsageApiCase):
    """Requests generated from the served OpenAPI document: documented answers only."""

    def setUp(self):
        super().setUp()
        self.key.rate_limit = 1_000_000  # hundreds of requests a minute

    def _document(self):
        response = self.url_open(OPENAPI_URL)
        self.assertEqual(response.status_code, 200, response.text[:300])
        return response.json()

    def _send(self, path, method, operation, case):
        params = case["params"]
        for (where, name), value in params.items():
            if where == "path":
                path = path.replace("{" + name + "}", quote(str(value), safe=""))
        query = {name: value for (where, name), value in params.items() if where == "query"}
        target = path + ("?" + urlencode(query, doseq=True) if query else "")
        headers = {str(name): value for (where, name), value in params.items() if where == "header"}
        data = None
        if case["body"] is not None:
            data = json.dumps(case["body"]).encode()
            headers["Content-Type"] = "application/json"
        if is_signed(operation):
            signed = data if data is not None else f"{method.upper()} {target}".encode()
            headers[KEY_HEADER] = self.key.key_id
            headers[SIGNATURE_HEADER] = signing.sign_header(self.secret, int(time.time()), signed)
        return self.url_open(target, data=data, headers=headers, method=method.upper())

    def _check_answer(self, path, method, operation, response):
        where = f"{method.upper()} {path} answered {response.status_code}"
        self.assertLess(response.status_code, 500, f"{where}: {response.text[:500]}")
        described = documented_response(operation, response.status_code)
        self.assertIsNotNone(described, f"{where}, not documented: {response.text[:500]}")
        content = described.get("content") or {}
        if "application/json" not in content:
            return
        self.assertEqual(
            response.headers.get("Content-Type", "").split(";")[0], "application/json", where
        )
        body = response.json()
        schema = content["application/json"].get("schema")
        if schema is not None:
            try:
                jsonschema.validate(body, rooted(schema, self.document))
            except jsonschema.ValidationError as exc:
                self.fail(f"{where} with a body the document does not allow: {exc.message}")

    def _fuzz(self, path, method, operation):
        statuses = Counter()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(request_strategy(operation, self.document))
        def check(case):
            response = self._send(path, method, operation, case)
            statuses[response.status_code] += 1
            self._check_answer(path, method, operation, response)

        check()
        _logger.info(
            "OpenAPI fuzz %s %s: %d requests, statuses %s",
            method.upper(),
            path,
            sum(statuses.values()),
            dict(sorted(statuses.items())),
        )
        return statuses

    def test_every_documented_operation_answers_as_documented(self):
        self.document = self._document()
        fuzzed = []
        for path, method, operation in operations(self.document):
            with self.subTest(operation=f"{method.upper()} {path}"):
                statuses = self._fuzz(path, method, operation)
                self.assertTrue(statuses, "no request was sent")
                fuzzed.append((path, method))
        self.assertTrue(fuzzed, "the document lists no operation")

    def test_signed_get_is_signed_over_method_and_target(self):
        """The signing rule for GETs that declare the signature (upcoming contract)."""
        operation = {"parameters": [{"name": SIGNATURE_HEADER, "in": "header"}]}
        self.document = {"components": {}}
        case = {"body": None, "params": {("query", "since"): "2026-01-01"}}
        sent = {}

        def fake_url_open(url, data=None, headers=None, method=None):
            sent.update(url=url, data=data, headers=headers, method=method)

        self.patch(self, "url_open", fake_url_open)
        self._send("/usage_billing/v1/x", "get", operation, case)
        self.assertEqual(sent["url"], "/usage_billing/v1/x?since=2026-01-01")
        self.assertIsNone(sent["data"])
        timestamp = signing.parse_header(sent["headers"][SIGNATURE_HEADER]).timestamp
        expected = signing.sign_header(
            self.secret, timestamp, b"GET /usage_billing/v1/x?since=2026-01-01"
        )
        self.assertEqual(sent["headers"][SIGNATURE_HEADER], expected)
        self.assertEqual(sent["headers"][KEY_HEADER], self.key.key_id)
