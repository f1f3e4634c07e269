"""The generic HTTP delivery client (usage_billing_connector.core.delivery.http)."""

import json
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest
from crm_helpers import UPSERT, accounts, no_jitter

from crm_sync_connector.core.clients import HubSpotClient
from crm_sync_connector.tests.fake_crm_server import FakeCrmServer
from usage_billing_connector.core import signing
from usage_billing_connector.core.delivery.http import (
    DeliveryResult,
    HttpClient,
    RateLimiter,
    shared_rate_limiter,
    to_json_bytes,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET = FakeCrmServer.WEBHOOK_SECRET


def test_post_signed_signs_the_exact_bytes_at_the_clock_time(crm):
    sent_at = int(time.time()) - 42  # a pinned clock, still fresh for the receiver
    client = HttpClient(crm.url, clock=lambda: sent_at)
    payload = {"event": "account.updated", "data": {"mrr": Decimal("1.50"), "name": "Café"}}

    result = client.post_signed(
        crm.webhook_url, payload, SECRET, header="X-Signature", idempotency_key="key-7"
    )

    assert result.ok and result.status == 200
    (request,) = crm.requests_to("/webhook")
    assert request.body == to_json_bytes(payload)
    assert json.loads(request.body)["data"] == {"mrr": "1.50", "name": "Café"}
    assert request.header("Content-Type") == "application/json"
    assert request.header("Idempotency-Key") == "key-7"
    signature = request.header("X-Signature")
    assert signature.startswith(f"t={sent_at},v1=")
    assert signing.verify(signature, request.body, [SECRET], sent_at, 0).timestamp == sent_at
    assert len(crm.webhook_events) == 1


def test_post_signed_uses_the_header_name_given_and_no_idempotency_key_by_default(crm):
    client = HttpClient(crm.url)

    result = client.post_signed(crm.webhook_url, {"a": 1}, SECRET, header="X-Product-Signature")

    # this receiver reads X-Signature only: it refuses, and the failure says so
    assert (result.ok, result.status, result.retryable) == (False, 401, False)
    (request,) = crm.requests_to("/webhook")
    assert request.header("X-Signature") is None
    assert request.header("Idempotency-Key") is None
    signing.verify(request.header("X-Product-Signature"), request.body, [SECRET], time.time(), 5)


def test_post_signed_with_a_stale_clock_is_refused_by_the_receiver(crm):
    client = HttpClient(crm.url, clock=lambda: time.time() - 3600)
    result = client.post_signed(crm.webhook_url, {}, SECRET, header="X-Signature")
    assert (result.ok, result.status) == (False, 401)
    assert crm.webhook_rejected and not crm.webhook_events


def test_post_signed_any_2xx_is_success_whatever_the_body(crm):
    crm.inject("/webhook", "malformed", status=202)
    result = HttpClient(crm.url).post_signed(crm.webhook_url, {}, SECRET, header="X-Signature")
    assert (result.ok, result.status, result.remote_id) == (True, 202, None)
    assert [attempt.status for attempt in result.attempts] == [202]


@pytest.mark.parametrize(("status", "retryable"), [(503, True), (422, False)])
def test_post_signed_error_status_is_a_failure(crm, status, retryable):
    crm.inject("/webhook", "status", status=status, retry_after=9)
    result = HttpClient(crm.url).post_signed(crm.webhook_url, {}, SECRET, header="X-Signature")
    assert (result.ok, result.status, result.retryable) == (False, status, retryable)
    assert result.retry_after == (9 if retryable else None)


def test_crm_core_reaches_the_delivery_package_of_its_sibling_addon_inside_odoo():
    """Inside Odoo both addons live under ``odoo.addons``: the CRM core must import
    the delivery machinery from there, never as a second, bare copy."""
    script = textwrap.dedent(
        f"""
        import sys, types
        for name in ("odoo", "odoo.addons"):
            module = types.ModuleType(name)
            module.__path__ = []
            sys.modules[name] = module
        for addon in ("usage_billing_connector", "crm_sync_connector"):
            module = types.ModuleType("odoo.addons." + addon)
            module.__path__ = [{str(ROOT)!r} + "/" + addon]
            sys.modules["odoo.addons." + addon] = module
        from odoo.addons.crm_sync_connector.core import clients
        from odoo.addons.usage_billing_connector.core.delivery import http
        assert clients.DeliveryResult is http.DeliveryResult
        assert issubclass(clients.HubSpotClient, http.HttpClient)
        assert not [name for name in sys.modules if name.startswith("usage_billing_connector")]
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd="/")


# -- through a client: errors, rate limit, timeouts ------------------------------------


def test_long_error_bodies_are_truncated(crm, hubspot):
    crm.inject(UPSERT, "status", status=502, body={"message": "x" * 5000})
    result = hubspot.upsert_companies(accounts(1))
    assert len(result.error) == 500 and result.error.endswith("…")


def test_html_error_page_from_a_proxy_is_kept_as_text(crm, hubspot):
    crm.inject(UPSERT, "status", status=502, body=b"<html>Bad gateway</html>")
    result = hubspot.upsert_companies(accounts(1))
    assert (result.status, result.retryable) == (502, True)
    assert result.error == "HTTP 502: <html>Bad gateway</html>"


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_allows_a_burst_then_spaces_requests():
    clock = FakeClock()
    limiter = RateLimiter(2, burst=2, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits == [0, 0, 0.5, 0.5, 0.5]
    assert clock.now == pytest.approx(1.5)


def test_rate_limiter_refills_while_idle_up_to_the_burst():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        limiter.acquire()
    clock.now += 60  # idle for a minute: only `burst` tokens come back
    assert [limiter.acquire() for _ in range(10)] == [0] * 10
    assert limiter.acquire() == pytest.approx(0.1)


def test_rate_limiter_rejects_nonsense():
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(1, burst=0.5)


def test_shared_rate_limiter_is_one_bucket_per_key():
    first = shared_rate_limiter(("hubspot", 1), 5)
    assert shared_rate_limiter(("hubspot", 1), 5) is first
    assert shared_rate_limiter(("hubspot", 2), 5) is not first
    assert shared_rate_limiter(("hubspot", 1), 7).rate == 7


def test_clients_wait_for_the_rate_limiter_before_every_request(crm):
    clock = FakeClock()
    limiter = RateLimiter(1, burst=1, clock=clock, sleep=clock.sleep)
    client = HubSpotClient(crm.url, crm.HUBSPOT_TOKEN, rate_limit=limiter)
    assert client.upsert_companies(accounts(250)).ok
    assert clock.slept == [1.0, 1.0]  # three chunks: the first from the burst


def test_every_request_carries_the_connect_and_read_timeout(crm):
    seen = []

    class RecordingSession:
        def request(self, method, url, **kwargs):
            seen.append(kwargs["timeout"])
            raise ConnectionRefusedError("refused")

        def close(self):
            pass

    client = HubSpotClient(crm.url, crm.HUBSPOT_TOKEN, timeout=(3, 7), session=RecordingSession())
    result = client.upsert_companies(accounts(1))
    assert seen == [(3.0, 7.0)]
    assert (result.ok, result.retryable) == (False, True)


def test_delivery_result_next_delay_uses_the_schedule_without_hints():
    result = DeliveryResult(ok=False, status=None, retryable=True)
    assert result.next_delay(1, rng=no_jitter) == 30
    assert result.next_delay(3, base=10, rng=no_jitter) == 40
    assert json.dumps(result.headers) == "{}"
