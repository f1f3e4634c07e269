"""A fake CRM over real HTTP: HubSpot, Salesforce and a webhook receiver in one server.

Plain Python (the standard library and ``usage_billing_connector.core.signing``,
no test framework, no Odoo), shipped with the addon's tests so that the Odoo
tests (``from .fake_crm_server import FakeCrmServer``), the repo-level pytest
suite and ``tools/bench_crm_sync.py`` all use it::

    with FakeCrmServer() as crm:
        client = HubSpotClient(crm.url, FakeCrmServer.HUBSPOT_TOKEN)
        crm.inject("/crm/v3/objects/companies", "status", status=429, retry_after=7)

This module is the server (lifecycle, routing, recorded requests, fault
injection); each wire format it speaks lives in its own module, with the real
wire shapes of only what the connector uses: ``fake_hubspot`` (bearer token
must be ``hubspot_token``), ``fake_salesforce`` (OAuth token, Account upsert,
Task, limits) and ``fake_webhook_receiver`` (``X-Signature`` checked with
``core.signing.verify``).  ``fake_crm_wire`` holds what they share.

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

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import fake_hubspot, fake_salesforce, fake_webhook_receiver
from .fake_crm_wire import RecordedRequest, Reply
from .fake_hubspot import FakeHubSpot
from .fake_salesforce import FakeSalesforce
from .fake_webhook_receiver import FakeWebhookReceiver

__all__ = ["FAULT_KINDS", "FakeCrmServer", "Fault", "RecordedRequest", "Reply"]

FAULT_KINDS = ("status", "timeout", "slow", "malformed", "disconnect", "expire_token")


@dataclass
class Fault:
    path_prefix: str
    kind: str
    remaining: int
    options: dict = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeCRM/1.0"

    def _dispatch(self):
        self.server.fake.handle(self)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch

    def log_message(self, format, *args):
        """Silence: the test output is no place for an access log."""


class FakeCrmServer(FakeHubSpot, FakeSalesforce, FakeWebhookReceiver):
    """Start with ``start()``/``stop()`` or as a context manager.

    The credentials it accepts by default are class attributes of the wire
    formats: ``HUBSPOT_TOKEN``, ``SF_CLIENT_ID``, ``SF_CLIENT_SECRET``,
    ``SF_REFRESH_TOKEN``, ``WEBHOOK_SECRET``.
    """

    def __init__(
        self,
        *,
        hubspot_token=fake_hubspot.HUBSPOT_TOKEN,
        sf_client_id=fake_salesforce.SF_CLIENT_ID,
        sf_client_secret=fake_salesforce.SF_CLIENT_SECRET,
        sf_refresh_token=fake_salesforce.SF_REFRESH_TOKEN,
        webhook_secret=fake_webhook_receiver.WEBHOOK_SECRET,
        sf_api_max=15000,
        sf_update_status=200,
        signature_tolerance=300,
        hubspot_property_names=None,
        host="127.0.0.1",
        port=0,
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
        self.port = port  # 0: any free port (tests); a fixed one for a benchmark's backend URL
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._httpd = None
        self._thread = None
        self.reset()

    # -- lifecycle ----------------------------------------------------------

    def start(self):
        self._stopping.clear()
        self._httpd = ThreadingHTTPServer((self.host, self.port), _Handler)
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

    # -- state ------------------------------------------------------------------

    def reset(self):
        """Forget every record, request, token and pending fault."""
        with self._lock:
            self.requests = []
            self.faults = []
            self._reset_hubspot()
            self._reset_salesforce()
            self._reset_webhook()
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
            return self._sf_expire_token(record)
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
        self._sf_count_failed_call(record, headers)
        body = options.get("body")
        if body is None and record.path.startswith("/services/"):
            body = [{"message": f"injected {status}", "errorCode": options.get("code", "ERROR")}]
        elif body is None:
            body = {"status": "error", "message": f"injected {status}", "category": "FAULT"}
        return Reply(status, body, headers)

    def _route(self, record):
        path = record.path
        if path.startswith(fake_hubspot.PATH_PREFIX):
            return self._hubspot(record)
        if path == fake_salesforce.TOKEN_PATH:
            return self._sf_token(record)
        match = fake_salesforce.SF_DATA_RE.match(path)
        if match:
            return self._salesforce(record, match.group(2))
        if path.startswith(fake_webhook_receiver.PATH_PREFIX):
            return self._webhook(record)
        return Reply(404, {"message": f"no route for {record.method} {path}"})
