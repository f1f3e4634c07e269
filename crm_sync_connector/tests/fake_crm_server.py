"""A fake CRM over real HTTP: HubSpot, Salesforce and a webhook receiver in one server.

Plain Python (the standard library and ``usage_billing_connector.core.signing``,
no test framework, no Odoo), shipped with the addon's tests so that the Odoo
tests (``from .fake_crm_server import FakeCrmServer``), the repo-level pytest
suite and ``tools/bench_crm_sync.py`` all use it::

    with FakeCrmServer() as crm:
        client = HubSpotClient(crm.url, FakeCrmServer.HUBSPOT_TOKEN)
        crm.inject("/crm/v3/objects/companies", "status", status=429, retry_after=7)

What it speaks (only what the connector uses, with the real wire shapes):

* HubSpot (bearer token must be ``hubspot_token``):
  ``POST /crm/v3/objects/companies/batch/upsert`` (max 100 inputs, unique ids,
  string values; optional ``hubspot_property_names`` makes unknown properties
  fail that input with a 207), ``GET /crm/v3/objects/companies``,
  ``POST /crm/v3/objects/notes`` (association to an existing company, type 190).
* Salesforce: ``POST /services/oauth2/token`` (client-credentials and
  refresh-token grants), then with a token it issued:
  ``PATCH|GET /services/data/<v>/sobjects/Account/<field>/<value>``,
  ``POST /services/data/<v>/sobjects/Task`` (``WhatId`` must be an Account),
  ``GET /services/data/<v>/limits``; every data response carries
  ``Sforce-Limit-Info: api-usage=N/M``.
* Webhook: ``POST /webhook...`` verifies ``X-Signature`` (``t=..,v1=<hex
  HMAC-SHA256(secret, "<t>." + raw body)>``) with the product's verifier
  (``core.signing.verify``), records valid events, answers 401 to bad signatures.

State for assertions: ``hubspot_companies`` (keyed by the id property value, so
one record per tenant whatever the retries; properties merged, newest wins),
``hubspot_notes``, ``sf_accounts`` (keyed by external id value), ``sf_tasks``,
``sf_token_requests``, ``webhook_events``, ``webhook_rejected`` and
``requests`` (every request received, faulted or not).

Fault injection, ``inject(path_prefix, kind, count=1, **options)``: the next
``count`` requests whose path starts with ``path_prefix`` get the fault instead
of (or on top of) the normal answer.  Faults are consumed in injection order.

``status``       answer ``status`` (default 500) without processing; options
                 ``retry_after``, ``headers`` (dict), ``body`` (JSON-able).
``timeout``      process, then hold the answer ``seconds`` (default 2) so the
                 client's read timeout fires: the write happened, the answer is lost.
``slow``         wait ``seconds`` (default 0.2), then answer normally.
``malformed``    process, then answer ``status`` (default 200) with a body that
                 is not JSON.
``disconnect``   process, then close the connection without answering.
``expire_token`` (Salesforce) revoke the presented token, answer 401
                 ``INVALID_SESSION_ID``: the client must get a new token.

``timeout``, ``malformed`` and ``disconnect`` take ``apply=False`` to not
process the request (the failure happened before the write).
"""

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

# The signing module of the sibling addon: ``odoo.addons.usage_billing_connector``
# when Odoo loads this file as ``odoo.addons.crm_sync_connector.tests.*``, the
# bare package in the repo-level tests and tools (registered like tests/conftest.py).
if __name__.startswith("odoo.addons."):
    from ...usage_billing_connector.core.signing import SignatureError, verify
else:
    from usage_billing_connector.core.signing import SignatureError, verify

FAULT_KINDS = ("status", "timeout", "slow", "malformed", "disconnect", "expire_token")
_SF_DATA_RE = re.compile(r"^/services/data/(v\d+\.\d+)(/.*)$")
_SF_ACCOUNT_RE = re.compile(r"^/sobjects/Account/([^/]+)/([^/]+)$")
_SF_FIELD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SESSION_EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@dataclass
class RecordedRequest:
    """A request as received, with the fault it got and the status answered."""

    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    fault: str | None = None
    status: int | None = None

    def json(self):
        return json.loads(self.body) if self.body else None

    def header(self, name):
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass
class Fault:
    path_prefix: str
    kind: str
    remaining: int
    options: dict = field(default_factory=dict)


@dataclass
class Reply:
    status: int
    body: object = None  # JSON-able, or bytes sent as they are
    headers: dict = field(default_factory=dict)

    def encoded(self):
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None else json.dumps(self.body).encode()


def _now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _hubspot_error(status, message, category="VALIDATION_ERROR"):
    return Reply(status, {"status": "error", "message": message, "category": category})


def _sf_error(status, code, message, fields=None):
    error = {"message": message, "errorCode": code}
    if fields:
        error["fields"] = fields
    return Reply(status, [error])


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeCRM/1.0"

    def _dispatch(self):
        self.server.fake.handle(self)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch

    def log_message(self, format, *args):
        """Silence: the test output is no place for an access log."""


class FakeCrmServer:
    """Start with ``start()``/``stop()`` or as a context manager."""

    HUBSPOT_TOKEN = "pat-na1-fake-hubspot-token-0123456789"
    SF_CLIENT_ID = "fake-sf-client-id"
    SF_CLIENT_SECRET = "fake-sf-client-secret-0123456789"
    SF_REFRESH_TOKEN = "fake-sf-refresh-token-0123456789"
    WEBHOOK_SECRET = "whsec_fake_0123456789abcdef"

    def __init__(
        self,
        *,
        hubspot_token=HUBSPOT_TOKEN,
        sf_client_id=SF_CLIENT_ID,
        sf_client_secret=SF_CLIENT_SECRET,
        sf_refresh_token=SF_REFRESH_TOKEN,
        webhook_secret=WEBHOOK_SECRET,
        sf_api_max=15000,
        sf_update_status=200,
        signature_tolerance=300,
        hubspot_property_names=None,
        host="127.0.0.1",
    ):
        self.hubspot_token = hubspot_token
        self.sf_client_id = sf_client_id
        self.sf_client_secret = sf_client_secret
        self.sf_refresh_token = sf_refresh_token
        self.webhook_secret = webhook_secret
        self.sf_api_max = sf_api_max
        self.sf_update_status = sf_update_status
        self.signature_tolerance = signature_tolerance
        self.hubspot_property_names = hubspot_property_names
        self.host = host
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._httpd = None
        self._thread = None
        self.reset()

    # -- lifecycle ----------------------------------------------------------

    def start(self):
        self._stopping.clear()
        self._httpd = ThreadingHTTPServer((self.host, 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        """Stop serving; wakes handlers held by ``timeout``/``slow`` faults."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_url(self):
        return f"{self.url}/services/oauth2/token"

    @property
    def webhook_url(self):
        return f"{self.url}/webhook"

    # -- state ------------------------------------------------------------------

    def reset(self):
        """Forget every record, request, token and pending fault."""
        with self._lock:
            self.requests = []
            self.faults = []
            self.hubspot_companies = {}
            self.hubspot_notes = []
            self.sf_accounts = {}
            self.sf_tasks = []
            self.sf_issued_tokens = set()
            self.sf_token_requests = 0
            self.sf_api_used = 0
            self.webhook_events = []
            self.webhook_rejected = []
            self._next_id = 1000

    def _new_id(self, prefix=""):
        self._next_id += 1
        return f"{prefix}{self._next_id:011d}" if prefix else str(self._next_id)

    def requests_to(self, path_prefix, method=None):
        """Recorded requests whose path starts with ``path_prefix``."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path.startswith(path_prefix) and (method is None or r.method == method)
            ]

    # -- faults ---------------------------------------------------------------

    def inject(self, path_prefix, kind, count=1, **options):
        """Script the next ``count`` answers on ``path_prefix`` (see module docstring)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if count < 1:
            raise ValueError("count must be at least 1")
        fault = Fault(path_prefix, kind, count, options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def pending_faults(self):
        with self._lock:
            return [f for f in self.faults if f.remaining > 0]

    def _take_fault(self, path):
        with self._lock:
            for fault in self.faults:
                if fault.remaining > 0 and path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    return fault
        return None

    # -- request handling -------------------------------------------------------

    def handle(self, handler):
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        record = RecordedRequest(
            method=handler.command,
            path=split.path,
            query=parse_qs(split.query),
            headers=dict(handler.headers.items()),
            body=handler.rfile.read(length) if length else b"",
        )
        with self._lock:
            self.requests.append(record)
        fault = self._take_fault(record.path)
        record.fault = fault.kind if fault else None
        reply = self._faulted(fault, record) if fault else self._route(record)
        if reply is None:  # disconnect
            handler.close_connection = True
            return
        record.status = reply.status
        self._write(handler, reply)

    def _write(self, handler, reply):
        body = reply.encoded()
        try:
            handler.send_response(reply.status)
            for key, value in reply.headers.items():
                handler.send_header(key, str(value))
            if body:
                handler.send_header("Content-Type", "application/json;charset=UTF-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up (timeout fault): nothing to answer to

    def _faulted(self, fault, record):
        options = fault.options
        if fault.kind == "status":
            return self._status_fault(record, options)
        if fault.kind == "expire_token":
            self._revoke_presented_token(record)
            return Reply(401, _SESSION_EXPIRED)
        if fault.kind == "slow":
            self._stopping.wait(options.get("seconds", 0.2))
            return self._route(record)
        reply = self._route(record) if options.get("apply", True) else None
        if fault.kind == "timeout":
            self._stopping.wait(options.get("seconds", 2.0))
            return reply or Reply(504, {"message": "gateway timeout"})
        if fault.kind == "malformed":
            return Reply(options.get("status", 200), b'{"status": "COMPLETE", "results": [')
        return None  # disconnect

    def _status_fault(self, record, options):
        status = options.get("status", 500)
        headers = dict(options.get("headers") or {})
        if "retry_after" in options:
            headers["Retry-After"] = options["retry_after"]
        if _SF_DATA_RE.match(record.path):
            with self._lock:  # Salesforce counts failed calls too, and always says so
                self.sf_api_used += 1
                headers["Sforce-Limit-Info"] = f"api-usage={self.sf_api_used}/{self.sf_api_max}"
        body = options.get("body")
        if body is None and record.path.startswith("/services/"):
            body = [{"message": f"injected {status}", "errorCode": options.get("code", "ERROR")}]
        elif body is None:
            body = {"status": "error", "message": f"injected {status}", "category": "FAULT"}
        return Reply(status, body, headers)

    def _route(self, record):
        path = record.path
        if path.startswith("/crm/v3/"):
            return self._hubspot(record)
        if path == "/services/oauth2/token":
            return self._sf_token(record)
        match = _SF_DATA_RE.match(path)
        if match:
            return self._salesforce(record, match.group(2))
        if path.startswith("/webhook"):
            return self._webhook(record)
        return Reply(404, {"message": f"no route for {record.method} {path}"})

    # -- HubSpot ----------------------------------------------------------------

    def _hubspot(self, record):
        if record.header("Authorization") != f"Bearer {self.hubspot_token}":
            return _hubspot_error(
                401, "Authentication credentials not found.", "INVALID_AUTHENTICATION"
            )
        route = (record.method, record.path)
        if route == ("POST", "/crm/v3/objects/companies/batch/upsert"):
            return self._hubspot_upsert(record)
        if route == ("GET", "/crm/v3/objects/companies"):
            with self._lock:
                companies = list(self.hubspot_companies.values())[:1]
            return Reply(200, {"results": companies})
        if route == ("POST", "/crm/v3/objects/notes"):
            return self._hubspot_note(record)
        return _hubspot_error(404, f"no route for {record.method} {record.path}", "NOT_FOUND")

    def _hubspot_upsert(self, record):
        inputs = _json_or_none(record.body, dict).get("inputs")
        problem = _hubspot_batch_problem(inputs)
        if problem:
            return _hubspot_error(400, problem)
        results, errors = [], []
        with self._lock:
            for item in inputs:
                unknown = self._hubspot_unknown_properties(item["properties"])
                if unknown:
                    errors.append({"status": "error", "message": f"Property {unknown} unknown"})
                    continue
                results.append(self._hubspot_store(item))
        body = {"status": "COMPLETE", "results": results, "completedAt": _now_iso()}
        if errors:
            body.update(errors=errors, numErrors=len(errors))
        return Reply(207 if errors else 200, body)

    def _hubspot_unknown_properties(self, properties):
        if self.hubspot_property_names is None:
            return None
        unknown = sorted(set(properties) - set(self.hubspot_property_names))
        return ", ".join(unknown) or None

    def _hubspot_store(self, item):
        key = str(item["id"])
        company = self.hubspot_companies.get(key)
        is_new = company is None
        if is_new:
            company = {"id": self._new_id(), "properties": {}, "createdAt": _now_iso()}
            company["idProperty"] = item["idProperty"]
            self.hubspot_companies[key] = company
        company["properties"].update(item["properties"])
        company["properties"][item["idProperty"]] = key
        company["updatedAt"] = _now_iso()
        return {
            "id": company["id"],
            "properties": dict(company["properties"]),
            "createdAt": company["createdAt"],
            "updatedAt": company["updatedAt"],
            "archived": False,
            "new": is_new,
        }

    def _hubspot_note(self, record):
        body = _json_or_none(record.body, dict)
        properties = body.get("properties") or {}
        if not properties.get("hs_note_body") or not properties.get("hs_timestamp"):
            return _hubspot_error(400, "hs_note_body and hs_timestamp are required")
        with self._lock:
            company_ids = _note_company_ids(body.get("associations"))
            known = {company["id"] for company in self.hubspot_companies.values()}
            if company_ids is None or not set(company_ids) <= known:
                return _hubspot_error(400, "One or more associations are invalid")
            note = {"id": self._new_id(), "properties": properties, "company_ids": company_ids}
            self.hubspot_notes.append(note)
        return Reply(201, {"id": note["id"], "properties": properties, "createdAt": _now_iso()})

    # -- Salesforce --------------------------------------------------------------

    def _sf_token(self, record):
        form = {k: v[0] for k, v in parse_qs(record.body.decode()).items()}
        with self._lock:
            self.sf_token_requests += 1
        grant = form.get("grant_type")
        if grant not in ("client_credentials", "refresh_token"):
            return Reply(400, {"error": "unsupported_grant_type", "error_description": grant})
        secret_ok = form.get("client_secret") == self.sf_client_secret
        if form.get("client_id") != self.sf_client_id or not secret_ok:
            return Reply(400, {"error": "invalid_client", "error_description": "invalid client"})
        if grant == "refresh_token" and form.get("refresh_token") != self.sf_refresh_token:
            return Reply(400, {"error": "invalid_grant", "error_description": "expired token"})
        token = "00DFAKE!" + secrets.token_urlsafe(24)
        with self._lock:
            self.sf_issued_tokens.add(token)
        body = {
            "access_token": token,
            "instance_url": self.url,
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
        }
        return Reply(200, body)

    def _presented_token(self, record):
        authorization = record.header("Authorization") or ""
        return authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else None

    def _revoke_presented_token(self, record):
        with self._lock:
            self.sf_issued_tokens.discard(self._presented_token(record))

    def _salesforce(self, record, path):
        with self._lock:
            if self._presented_token(record) not in self.sf_issued_tokens:
                return Reply(401, _SESSION_EXPIRED)
            self.sf_api_used += 1
            reply = self._sf_route(record, path)
            reply.headers["Sforce-Limit-Info"] = f"api-usage={self.sf_api_used}/{self.sf_api_max}"
            return reply

    def _sf_route(self, record, path):
        account = _SF_ACCOUNT_RE.match(path)
        if account and record.method == "PATCH":
            return self._sf_upsert(record, unquote(account.group(1)), unquote(account.group(2)))
        if account and record.method == "GET":
            return self._sf_get_account(unquote(account.group(2)))
        if (record.method, path) == ("POST", "/sobjects/Task"):
            return self._sf_task(record)
        if (record.method, path) == ("GET", "/limits"):
            remaining = self.sf_api_max - self.sf_api_used
            return Reply(
                200, {"DailyApiRequests": {"Max": self.sf_api_max, "Remaining": remaining}}
            )
        return _sf_error(404, "NOT_FOUND", "The requested resource does not exist")

    def _sf_upsert(self, record, field_name, value):
        fields = _json_or_none(record.body, dict)
        if not fields and record.body != b"{}":
            return _sf_error(400, "JSON_PARSER_ERROR", "The request body is not a JSON object")
        if field_name in fields:
            message = f"The external ID field {field_name} cannot be set in the request body"
            return _sf_error(400, "INVALID_FIELD", message, [field_name])
        bad = [name for name in fields if not _SF_FIELD_RE.match(name)]
        if bad:
            return _sf_error(400, "INVALID_FIELD", f"No such column '{bad[0]}' on Account", bad)
        account = self.sf_accounts.get(value)
        created = account is None
        if created:
            account = self.sf_accounts[value] = {"Id": self._new_id("001FAKE"), field_name: value}
        account.update(fields)
        if not created and self.sf_update_status == 204:
            return Reply(204)
        body = {"id": account["Id"], "success": True, "errors": [], "created": created}
        return Reply(201 if created else self.sf_update_status, body)

    def _sf_get_account(self, value):
        account = self.sf_accounts.get(value)
        if account is None:
            return _sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        return Reply(200, {"attributes": {"type": "Account"}, **account})

    def _sf_task(self, record):
        fields = _json_or_none(record.body, dict)
        account_ids = {account["Id"] for account in self.sf_accounts.values()}
        if fields.get("WhatId") not in account_ids:
            message = "What ID: id value of incorrect type"
            return _sf_error(400, "FIELD_INTEGRITY_EXCEPTION", message, ["WhatId"])
        if not fields.get("Subject"):
            return _sf_error(
                400, "REQUIRED_FIELD_MISSING", "Required fields are missing", ["Subject"]
            )
        task = {"Id": self._new_id("00TFAKE"), **fields}
        self.sf_tasks.append(task)
        return Reply(201, {"id": task["Id"], "success": True, "errors": []})

    # -- webhook ------------------------------------------------------------------

    def _webhook(self, record):
        if record.method != "POST":
            return Reply(405, {"error": "POST only"})
        if not (record.header("Content-Type") or "").startswith("application/json"):
            return Reply(415, {"error": "application/json expected"})
        event = {
            "path": record.path,
            "body": record.body,
            "signature": record.header("X-Signature"),
            "idempotency_key": record.header("Idempotency-Key"),
        }
        if not self.signature_is_valid(record.body, event["signature"]):
            with self._lock:
                self.webhook_rejected.append(event)
            return Reply(401, {"error": "invalid signature"})
        event["payload"] = json.loads(record.body)
        with self._lock:
            self.webhook_events.append(event)
        return Reply(200, {"received": True})

    def signature_is_valid(self, body, header):
        """The receiver's check, done with the product's verifier (``core.signing``)."""
        try:
            verify(header, body, [self.webhook_secret], time.time(), self.signature_tolerance)
        except SignatureError:
            return False
        return True


def _json_or_none(body, expected_type):
    """Parsed body when it is JSON of ``expected_type``, else an empty one."""
    try:
        value = json.loads(body) if body else None
    except ValueError:
        value = None
    return value if isinstance(value, expected_type) else expected_type()


def _hubspot_batch_problem(inputs):
    if not isinstance(inputs, list) or not inputs:
        return "inputs must be a non-empty list"
    if len(inputs) > 100:
        return f"Batch input limit is 100, got {len(inputs)}"
    ids = []
    for item in inputs:
        if not isinstance(item, dict) or not item.get("idProperty") or item.get("id") is None:
            return "each input needs idProperty and id"
        properties = item.get("properties")
        if not isinstance(properties, dict):
            return "each input needs properties"
        if not all(isinstance(value, str) for value in properties.values()):
            return "property values must be strings"
        ids.append(str(item["id"]))
    if len(set(ids)) != len(ids):
        return "Duplicate IDs found in batch input"
    return None


def _note_company_ids(associations):
    """Company ids of note-to-company associations, ``None`` when one is malformed."""
    company_ids = []
    for association in associations or []:
        types = association.get("types") or []
        valid_type = any(
            t.get("associationCategory") == "HUBSPOT_DEFINED" and t.get("associationTypeId") == 190
            for t in types
        )
        target = (association.get("to") or {}).get("id")
        if not valid_type or not target:
            return None
        company_ids.append(str(target))
    return company_ids or None
