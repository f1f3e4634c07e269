"""The reference client against a local stand-in of the ingestion API.

The stand-in checks every signature with the addon's own ``signing.verify`` and
answers like the real endpoint, so a client that passes here signs, batches and
reads answers the way the server expects.  Failures are injected per request
(429 with Retry-After, 500/503, a dropped connection, a slow answer, a 400) to
check which ones are retried, how long the client waits (``sleep`` is recorded,
never slept) and that a retry resends the very same body.
"""

import io
import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import usage_client
import usage_files

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


# ------------------------------------------------------------------ batching


def test_2500_events_go_in_three_signed_requests(api, client, sleeps):
    summary = client.send(iter(events(2500)))
    assert summary.requests == 3
    assert [len(sent_ids(body)) for body in api.bodies] == [1000, 1000, 500]
    assert all(ok for _headers, _body, ok in api.requests)
    assert [i for body in api.bodies for i in sent_ids(body)] == [f"ev-{n}" for n in range(2500)]
    assert (summary.accepted, summary.retries, summary.failed_batches) == (2500, 0, 0)
    assert summary.ok and not summary.errors and not sleeps
    # Each batch has its own request id, sent as X-Request-Id.
    assert len({headers["X-Request-Id"] for headers, _b, _ok in api.requests}) == 3


def test_counts_are_added_over_batches_and_rejections_are_listed(api, client):
    batch = events(3) + events(1, prefix="bad", quantity=-1) + events(1, prefix="q", tenant="x")
    client.batch_size = 2
    client.send(events(2))  # already stored: duplicates below
    summary = client.send(batch)
    assert (summary.accepted, summary.duplicates, summary.quarantined, summary.rejected) == (
        1,
        2,
        1,
        1,
    )
    assert summary.requests == 3
    assert summary.errors == [{"event_id": "bad-0", "code": "invalid_quantity", "message": None}]
    assert not summary.ok


def test_body_is_compact_json_with_exact_decimal_quantities(api, client):
    client.send([{**events(1)[0], "quantity": Decimal("0.10")}])
    assert api.bodies[0].startswith(b'{"events":[{"event_id":"ev-0",')
    assert json.loads(api.bodies[0])["events"][0]["quantity"] == "0.10"


# ------------------------------------------------------------------- retries


def test_429_waits_retry_after_and_resends_the_same_body(api, client, sleeps):
    api.script = [(429, {"Retry-After": "7"})]
    summary = client.send(events(3))
    assert summary.requests == 2 and summary.retries == 1
    assert summary.accepted == 3 and summary.ok
    assert len(sleeps) == 1 and 7 <= sleeps[0] <= 8
    first, second = api.requests
    assert first[1] == second[1]  # byte-identical: same event ids, idempotent
    assert first[0]["X-Request-Id"] == second[0]["X-Request-Id"]
    assert second[2]  # the retry is signed too


def test_each_attempt_is_signed_with_a_fresh_timestamp(api, client, monkeypatch):
    clock = [time.time()]
    monkeypatch.setattr(usage_client.time, "time", lambda: clock[0])
    client.sleep = lambda seconds: clock.__setitem__(0, clock[0] + seconds)
    api.script = [(429, {"Retry-After": "120"})]
    client.send(events(1))
    stamps = [
        signing.parse_header(headers["X-Usage-Signature"]).timestamp
        for headers, _b, _ok in api.requests
    ]
    assert stamps[1] - stamps[0] >= 120
    assert all(ok for _h, _b, ok in api.requests)


def test_5xx_and_a_dropped_connection_are_retried_with_growing_backoff(api, client, sleeps):
    api.script = [(500, None), (503, None), "drop"]
    summary = client.send(events(5))
    assert summary.requests == 4 and summary.retries == 3
    assert summary.accepted == 5 and summary.failed_batches == 0
    assert len(set(api.bodies)) == 1
    # Equal jitter around 0.5 s, 1 s, 2 s: never zero, never above the step.
    for delay, step in zip(sleeps, (0.5, 1, 2), strict=True):
        assert step / 2 <= delay <= step


def test_503_with_retry_after_is_honoured(api, client, sleeps):
    api.script = [(503, {"Retry-After": "2"})]
    assert client.send(events(1)).accepted == 1
    assert 2 <= sleeps[0] <= 3


def test_read_timeout_is_retried(api, sleeps):
    client = usage_client.UsageClient(api.url, KEY, SECRET, timeout=(1, 0.1), sleep=sleeps.append)
    api.script = ["slow"]
    summary = client.send(events(2))
    assert summary.retries == 1 and summary.accepted == 2
    assert len(set(api.bodies)) == 1


def test_backoff_is_capped(client):
    client.backoff_max = 30
    assert all(15 <= client._delay(attempt, None) <= 30 for attempt in range(6, 12))


def test_permanent_400_is_not_retried_and_later_batches_still_go(api, client, sleeps):
    api.script = [(400, None)]
    client.batch_size = 2
    summary = client.send(events(4))
    assert summary.requests == 2 and summary.retries == 0 and not sleeps
    assert summary.failed_batches == 1 and summary.accepted == 2
    assert summary.errors == [
        {
            "batch": 1,
            "events": 2,
            "first_event_id": "ev-0",
            "status": 400,
            "code": "invalid_json",
            "message": "HTTP 400: invalid_json",
        }
    ]


def test_wrong_secret_gets_401_once(api, sleeps):
    client = usage_client.UsageClient(api.url, KEY, "wrong", sleep=sleeps.append)
    summary = client.send(events(1))
    assert summary.requests == 1 and summary.errors[0]["status"] == 401 and not sleeps


def test_exhausted_retries_give_up_and_do_not_send_the_rest(api, sleeps):
    client = usage_client.UsageClient(api.url, KEY, SECRET, max_retries=2, sleep=sleeps.append)
    client.batch_size = 2
    api.script = [(503, None)] * 3
    summary = client.send(events(6))
    assert summary.requests == 3 and summary.retries == 2 and len(sleeps) == 2
    assert summary.failed_batches == 3  # the failed one and the two never sent
    assert [e["code"] for e in summary.errors] == ["oops", "not_sent"]


# ----------------------------------------------------------------------- CLI


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def cli(api, *args):
    return ["--url", api.url, "--key", KEY, *args]


def test_cli_sends_a_jsonl_file_and_prints_one_summary_line(api, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    path = write_jsonl(tmp_path / "events.jsonl", events(25))
    assert usage_client.main(cli(api, "--batch-size", "10", str(path))) == 0
    out = capsys.readouterr().out
    assert out == (
        "accepted=25 duplicates=0 quarantined=0 rejected=0 requests=3 retries=0 failed_batches=0\n"
    )
    # Sending the same file again is harmless: everything comes back as duplicates.
    assert usage_client.main(cli(api, str(path))) == 0
    assert capsys.readouterr().out.startswith("accepted=0 duplicates=25 ")


def test_cli_reads_csv_from_stdin_with_a_named_secret_variable(api, monkeypatch, capsys):
    monkeypatch.setenv("MY_SECRET", SECRET)
    stdin = io.StringIO(CSV_TEXT)
    assert usage_client.main(cli(api, "--secret-env", "MY_SECRET", "-"), stdin=stdin) == 0
    assert capsys.readouterr().out.startswith("accepted=2 ")
    assert set(api.stored) == {"c1", "c2"}


def test_cli_exits_1_when_an_event_is_rejected(api, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    path = write_jsonl(tmp_path / "e.jsonl", events(2) + events(1, prefix="neg", quantity=-1))
    assert usage_client.main(cli(api, str(path))) == 1
    captured = capsys.readouterr()
    assert "rejected=1" in captured.out and "invalid_quantity" in captured.err


def test_cli_exits_1_when_a_batch_fails(api, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    api.script = [(400, None)]
    path = write_jsonl(tmp_path / "e.jsonl", events(2))
    assert usage_client.main(cli(api, str(path))) == 1
    assert "failed_batches=1" in capsys.readouterr().out


def test_cli_retries_with_the_injected_sleep(api, tmp_path, monkeypatch, capsys, sleeps):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    api.script = [(429, {"Retry-After": "3"})]
    path = write_jsonl(tmp_path / "e.jsonl", events(2))
    assert usage_client.main(cli(api, str(path)), sleep=sleeps.append) == 0
    assert "retries=1" in capsys.readouterr().out and 3 <= sleeps[0] <= 4


def test_cli_without_the_secret_variable_exits_2(api, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("USAGE_SECRET", raising=False)
    assert usage_client.main(cli(api, str(write_jsonl(tmp_path / "e.jsonl", events(1))))) == 2
    assert "USAGE_SECRET is not set" in capsys.readouterr().err
    assert not api.requests


def test_cli_has_no_secret_option(api, capsys):
    with pytest.raises(SystemExit) as exc:
        usage_client.main(cli(api, "--secret", SECRET, "x.jsonl"))
    assert exc.value.code == 2


def test_cli_bad_line_exits_2_after_sending_the_batches_before_it(
    api, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    path = tmp_path / "e.jsonl"
    path.write_text(write_jsonl(path, events(3)).read_text() + "{broken\n", encoding="utf-8")
    assert usage_client.main(cli(api, "--batch-size", "2", str(path))) == 2
    assert "e.jsonl:4: not valid JSON" in capsys.readouterr().err
    assert set(api.stored) == {"ev-0", "ev-1"}


# ------------------------------------------------------------------ hostile input


def test_lone_surrogates_and_nul_reach_the_server_as_escapes():
    """The server rejects that one event (invalid_characters), not the batch."""
    (event,) = usage_files.read_jsonl(io.StringIO('{"event_id": "a\\ud800", "t": "b\\u0000"}\n'))
    body = usage_client.encode_body([event, {"event_id": "é"}])
    assert b"\\ud800" in body and b"\\u0000" in body
    assert json.loads(body)["events"][1]["event_id"] == "é"
    plain = usage_client.encode_body([{"event_id": "é"}])
    assert "é".encode() in plain, "UTF-8 as is when it can be"


def test_cli_file_that_is_not_utf8_exits_2(api, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    path = tmp_path / "e.jsonl"
    path.write_bytes('{"event_id": "x"}\n'.encode("utf-16"))
    assert usage_client.main(cli(api, str(path))) == 2
    assert "is not UTF-8 text" in capsys.readouterr().err
    assert not api.requests


# ------------------------------------------------------------------------ reads


def test_reads_are_signed_gets_over_the_exact_target(api, client):
    assert client.usage("acme") == {"path": "/usage_billing/v1/tenants/acme/usage"}
    period = client.usage("acme", "2026-01-15T00:00:00+01:00")["path"]
    assert period == "/usage_billing/v1/tenants/acme/usage?period=2026-01-15T00%3A00%3A00%2B01%3A00"
    assert client.entitlements("a/b")["path"] == "/usage_billing/v1/tenants/a%2Fb/entitlements"
    page = client.invoices("acme", limit=2, starting_after="INV/2026/0003")["path"]
    assert (
        page == "/usage_billing/v1/tenants/acme/invoices?limit=2&starting_after=INV%2F2026%2F0003"
    )
    assert all(ok for _headers, _target, ok in api.requests), "each signature verified"


def test_reads_retry_429_and_report_permanent_errors(api, client, sleeps):
    api.script = [(429, {"Retry-After": "2"})]
    assert client.entitlements("acme")["path"].endswith("/entitlements")
    assert 2 <= sleeps[0] <= 3
    with pytest.raises(usage_client.ApiError) as err:
        client.usage("ghost")
    assert (err.value.status, err.value.code) == (404, "unknown_tenant")


def test_cli_reads_print_json_and_exit_1_on_an_error(api, monkeypatch, capsys):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    assert usage_client.main(cli(api, "--invoices", "acme", "--limit", "5")) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["path"] == "/usage_billing/v1/tenants/acme/invoices?limit=5"
    assert usage_client.main(cli(api, "--usage", "ghost")) == 1
    assert "unknown_tenant" in capsys.readouterr().err
    assert usage_client.main(cli(api)) == 2, "a file or a read is needed"
