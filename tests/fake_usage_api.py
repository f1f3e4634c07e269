"""A local stand-in of the ingestion API, for the tests of the reference client.

The stand-in checks every signature with the addon's own ``signing.verify`` and
answers like the real endpoint, so a client that passes against it signs,
batches and reads answers the way the server expects.  Failures are injected
per request (429 with Retry-After, 500/503, a dropped connection, a slow answer,
a 400) through ``FakeApi.script``.  Fixtures: ``api`` (the running stand-in),
``sleeps`` (the delays a client asked for, recorded, never slept) and
``client`` (a ``UsageClient`` of both); test modules import the ones they use.
"""

import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import usage_client

from usage_billing_connector.core import signing

KEY, SECRET = "test-key", "test-secret"
TENANTS, METRICS = {"acme", "globex"}, {"api_calls", "storage_gb", "active_users"}


class FakeApi(ThreadingHTTPServer):
    """Records each request; ``script`` holds the failures to inject, in order."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests = []  # (headers, body, signature ok)
        self.script = []
        self.stored = {}  # event_id -> canonical payload
        self.lock = threading.Lock()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def bodies(self):
        return [body for _headers, body, _ok in self.requests]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        """Quiet: pytest shows the assertions, not an access log."""

    def _json(self, status, payload, headers=None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, code, headers=None):
        self._json(status, {"error": {"code": code, "message": code}}, headers)

    def do_POST(self):
        api = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            signing.verify(self.headers.get("X-Usage-Signature"), body, [SECRET], time.time(), 300)
            signed = self.headers.get("X-Usage-Key") == KEY
        except signing.SignatureError:
            signed = False
        with api.lock:
            api.requests.append((dict(self.headers), body, signed))
            action = api.script.pop(0) if api.script else None
        if action == "drop":
            self.close_connection = True  # no answer at all: the client sees a reset
            return
        if action == "slow":
            time.sleep(0.3)  # longer than the client's read timeout in the test
            self.close_connection = True
            return
        if isinstance(action, tuple):
            status, headers = action
            self._error(
                status, {400: "invalid_json", 429: "rate_limited"}.get(status, "oops"), headers
            )
            return
        if self.path != "/usage_billing/v1/events" or not signed:
            self._error(401 if signed is False else 404, "invalid_signature")
            return
        self._json(200, self._ingest(json.loads(body)["events"]))

    def do_GET(self):
        """Reads: signed over ``GET <path?query>``; answers what was asked, as JSON."""
        api = self.server
        try:
            signed = f"GET {self.path}".encode()
            signing.verify(
                self.headers.get("X-Usage-Signature"), signed, [SECRET], time.time(), 300
            )
            ok = self.headers.get("X-Usage-Key") == KEY
        except signing.SignatureError:
            ok = False
        with api.lock:
            api.requests.append((dict(self.headers), self.path.encode(), ok))
            action = api.script.pop(0) if api.script else None
        if isinstance(action, tuple):
            self._error(action[0], "oops", action[1])
            return
        if not ok:
            self._error(401, "invalid_signature")
            return
        if "/tenants/ghost/" in self.path:
            self._error(404, "unknown_tenant")
            return
        self._json(200, {"path": self.path})

    def _ingest(self, events):
        api, results = self.server, []
        counts = dict.fromkeys(("accepted", "duplicates", "quarantined", "rejected"), 0)
        with api.lock:
            for event in events:
                result = {"event_id": event["event_id"], "status": "accepted"}
                canonical = json.dumps(event, sort_keys=True)
                if Decimal(str(event["quantity"])) < 0:
                    result.update(status="rejected", error={"code": "invalid_quantity"})
                elif event["event_id"] in api.stored:
                    result["status"] = "duplicate"
                elif event["tenant"] not in TENANTS or event["metric"] not in METRICS:
                    result.update(status="quarantined", error={"code": "unknown_tenant"})
                if result["status"] in ("accepted", "quarantined"):
                    api.stored[event["event_id"]] = canonical
                counts[{"duplicate": "duplicates"}.get(result["status"], result["status"])] += 1
                results.append(result)
        return {"request_id": self.headers.get("X-Request-Id"), **counts, "results": results}


@pytest.fixture
def api():
    server = FakeApi()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(api, sleeps):
    return usage_client.UsageClient(api.url, KEY, SECRET, sleep=sleeps.append, max_retries=4)


def events(count, prefix="ev", **overrides):
    return [
        {
            "event_id": f"{prefix}-{n}",
            "tenant": "acme",
            "metric": "api_calls",
            "quantity": n % 7,
            "timestamp": "2026-01-15T10:00:00Z",
            "properties": {"n": n},
            **overrides,
        }
        for n in range(count)
    ]


def sent_ids(body):
    return [event["event_id"] for event in json.loads(body)["events"]]


CSV_TEXT = (
    "event_id,tenant,metric,quantity,timestamp,properties\n"
    'c1,acme,api_calls,1.50,2026-01-15T10:00:00Z,"{""user_id"": ""u1""}"\n'
    "\n"
    "c2,globex,storage_gb,3,2026-01-15T11:00:00+01:00,\n"
)
