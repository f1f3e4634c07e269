"""What a delivery reports: results, attempt logs, kept headers, errors (core.delivery.http).

A client's caller (the outbox job) decides from the ``DeliveryResult`` alone whether to
retry and when, and the delivery log shows its ``attempts``: these tests pin each field
for a success, an error status, a malformed 2xx and a network failure, against the fake
CRM server over real HTTP.
"""

import socket
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import requests

from usage_billing_connector.core.delivery import http
from usage_billing_connector.core.delivery.http import HttpClient, RateLimiter

SECRET = "s3cr3t-token-value"


class SecretClient(HttpClient):
    name = "secret"

    def secrets(self):
        return (SECRET,)


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_json_request_sends_exact_bytes_and_json_headers(crm):
    client = HttpClient(crm.url + "/")
    body = {"amount": Decimal("1.50"), "day": date(2026, 1, 2), "tags": ("a",)}
    exchange = client.request("POST", client.url("/webhook/x"), json_body=body)
    (request,) = crm.requests_to("/webhook")
    assert request.body == b'{"amount":"1.50","day":"2026-01-02","tags":["a"]}'
    assert request.header("Content-Type") == "application/json"
    assert request.header("Accept") == "application/json"
    assert exchange.attempt.method == "POST"
    assert exchange.attempt.url == crm.url + "/webhook/x"


def test_headers_given_by_the_client_win_and_params_become_the_query(crm):
    client = HttpClient(crm.url)
    client.request(
        "GET",
        client.url("/nothing"),
        headers={"Accept": "text/plain", "X-Custom": "1"},
        params={"q": "a b"},
    )
    (request,) = crm.requests_to("/nothing")
    assert request.header("Accept") == "text/plain"
    assert request.header("X-Custom") == "1"
    assert request.header("Content-Type") is None
    assert request.query == {"q": ["a b"]}


def test_an_error_status_is_a_permanent_failure_with_the_servers_message(crm):
    client = HttpClient(crm.url)
    exchange = client.request("GET", client.url("/nothing"))
    assert (exchange.status, exchange.succeeded, exchange.malformed) == (404, False, False)
    assert exchange.json == {"message": "no route for GET /nothing"}
    assert (exchange.attempt.status, exchange.attempt.error) == (404, "HTTP 404")
    result = client.failure(exchange, [exchange.attempt], external_ids={"acme": "1"})
    assert (result.ok, result.status, result.retryable, result.retry_after) == (
        False,
        404,
        False,
        None,
    )
    assert result.error == "HTTP 404: no route for GET /nothing"
    assert result.external_ids == {"acme": "1"}
    assert result.attempts == [exchange.attempt]
    assert result.duration_ms == exchange.attempt.duration_ms
    assert result.headers == {}


def test_a_retryable_status_keeps_the_rate_limit_headers_and_the_servers_delay(crm):
    headers = {
        "X-HubSpot-RateLimit-Remaining": "0",
        "Sforce-Limit-Info": "api-usage=10/100",
        "X-Other": "dropped",
    }
    crm.inject("/webhook", "status", status=503, retry_after=9, headers=headers)
    client = HttpClient(crm.url)
    exchange = client.request("POST", client.url("/webhook/x"), json_body={})
    result = client.failure(exchange, [exchange.attempt, exchange.attempt])
    assert (result.retryable, result.retry_after) == (True, 9)
    assert result.error == "HTTP 503: injected 503"
    assert result.headers == {
        "Retry-After": "9",
        "X-HubSpot-RateLimit-Remaining": "0",
        "Sforce-Limit-Info": "api-usage=10/100",
    }
    assert result.duration_ms == 2 * exchange.attempt.duration_ms


def test_the_caller_may_override_the_error_and_whether_to_retry(crm):
    crm.inject("/webhook", "status", status=503, retry_after=9)
    client = HttpClient(crm.url)
    exchange = client.request("POST", client.url("/webhook/x"), json_body={})
    result = client.failure(exchange, [exchange.attempt], error="quota", retryable=False)
    assert (result.error, result.retryable, result.retry_after) == ("quota", False, None)


def test_a_2xx_that_is_not_json_is_a_retryable_failure(crm):
    crm.inject("/webhook", "malformed", status=201)
    client = HttpClient(crm.url)
    exchange = client.request("POST", client.url("/webhook/x"), json_body={})
    assert (exchange.succeeded, exchange.malformed, exchange.json) == (False, True, None)
    assert exchange.attempt.error == "malformed JSON in response body"
    result = client.failure(exchange, [exchange.attempt])
    assert (result.status, result.retryable) == (201, True)
    assert result.error == "HTTP 201: malformed or unexpected response body"


def test_a_success_reports_ids_and_the_exchange(crm):
    client = HttpClient(crm.url)
    exchange = client.request("GET", client.url("/nothing"))
    result = client.success(exchange, [exchange.attempt], external_ids={"a": "7"}, remote_id="9")
    assert (result.ok, result.status, result.retryable, result.error) == (True, 404, False, None)
    assert (result.external_ids, result.remote_id) == ({"a": "7"}, "9")
    assert result.attempts == [exchange.attempt]
    bare = client.success(exchange, [])
    assert (bare.external_ids, bare.remote_id, bare.duration_ms) == ({}, None, 0)


def test_a_network_failure_is_retryable_and_logged_without_a_status():
    client = HttpClient(closed_port_url())
    exchange = client.request("GET", client.url("/x"))
    assert (exchange.status, exchange.response, exchange.succeeded) == (None, None, False)
    assert exchange.json is None
    assert exchange.attempt.status is None
    assert exchange.attempt.error.startswith("ConnectionError: ")
    # The delivery log still says what was tried, and how long it took.
    assert (exchange.attempt.method, exchange.attempt.url) == ("GET", client.url("/x"))
    assert 0 <= exchange.attempt.duration_ms < 30_000
    result = client.failure(exchange, [exchange.attempt])
    assert (result.ok, result.status, result.retryable, result.retry_after) == (
        False,
        None,
        True,
        None,
    )
    assert result.error.startswith("ConnectionError: ")
    assert client.error_message(exchange) == ""


def test_secrets_never_reach_the_log_or_the_result(crm):
    client = SecretClient(crm.url)
    url = client.url(f"/nothing?token={SECRET}")
    exchange = client.request("GET", url)
    assert SECRET not in exchange.attempt.url
    assert "[REDACTED]" in exchange.attempt.url
    result = client.failure(exchange, [exchange.attempt], error=f"refused {SECRET}")
    assert result.error == "refused [REDACTED]"
    assert SECRET not in repr(SecretClient(f"https://{SECRET}@crm.example.com/"))
    assert repr(HttpClient("https://crm.example.com/")) == "<HttpClient https://crm.example.com>"


def test_error_texts_are_cut_to_500_characters():
    client = HttpClient("https://crm.example.com")
    assert client._error_text("x" * 500) == "x" * 500
    assert client._error_text("x" * 501) == "x" * 499 + "…"
    assert client._error_text(None) is None


class Body:
    """An exchange whose response is known, to read the error message formats."""

    def __init__(self, payload, text="", reason="Bad Gateway"):
        response = requests.Response()
        response.status_code = 502
        response._content = text.encode()
        response.reason = reason
        self.exchange = http.Exchange(None, response=response, payload=payload)


@pytest.mark.parametrize(
    ("payload", "text", "reason", "message"),
    [
        ({"message": "m", "error_description": "d", "error": "e"}, "", "", "m"),
        ({"error_description": "d", "error": "e"}, "", "", "d"),
        ({"error": "e", "message": ""}, "", "", "e"),
        ({"error": {"code": 1}}, "", "", "{'code': 1}"),
        ({"other": 1}, " plain text \n", "Bad Gateway", "plain text"),
        (["not", "a", "dict"], "", "Bad Gateway", "Bad Gateway"),
        (http._NO_BODY, "", None, ""),
    ],
)
def test_the_error_message_is_read_from_the_usual_json_keys_then_the_text(
    payload, text, reason, message
):
    assert HttpClient("https://x").error_message(Body(payload, text, reason).exchange) == message


@pytest.mark.parametrize("status", [204, 200])
def test_no_content_is_success_without_a_body(status):
    # A 200 with an empty body (some CRMs answer so) is not malformed JSON either.
    response = requests.Response()
    response.status_code = status
    response._content = b""
    exchange = http.Exchange(None, response=response, payload=http._parse_body(response))
    assert (exchange.succeeded, exchange.malformed, exchange.json) == (True, False, None)


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [(None, (5.0, 30.0)), (7, (7.0, 7.0)), (2.5, (2.5, 2.5)), ((1, 2), (1.0, 2.0))],
)
def test_timeouts_are_connect_and_read_seconds(timeout, expected):
    client = HttpClient("https://x", timeout=timeout)
    assert client.timeout == expected
    assert all(isinstance(part, float) for part in client.timeout)


def test_account_values_become_exact_json():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert http.json_default(Decimal("0.10")) == "0.10"
    assert http.json_default(moment) == "2026-01-02T03:04:05+00:00"
    assert http.json_default(frozenset({1})) == [1]
    assert http.json_default({2}) == [2]
    with pytest.raises(TypeError, match=r"^object is not JSON serializable$"):
        http.json_default(object())
    assert http.to_json_bytes({"name": "Café", "n": 1}) == '{"name":"Café","n":1}'.encode()


def test_a_rate_given_as_a_number_makes_a_limiter_of_that_rate():
    client = HttpClient("https://x", rate_limit=4)
    assert isinstance(client.rate_limiter, RateLimiter)
    assert (client.rate_limiter.rate, client.rate_limiter.capacity) == (4.0, 4.0)
    assert HttpClient("https://x").rate_limiter is None
    assert RateLimiter(0.5).capacity == 1.0
    assert RateLimiter(3, burst=1).capacity == 1.0


def test_nonsense_rates_are_refused_saying_why():
    with pytest.raises(ValueError, match=r"^rate_per_second must be positive, got -1$"):
        RateLimiter(-1)
    with pytest.raises(ValueError, match=r"^burst must be at least 1, got 0.5$"):
        RateLimiter(1, burst=0.5)


def test_a_client_closes_its_session_when_leaving_its_block():
    closed = []

    class Session:
        def close(self):
            closed.append(True)

    with HttpClient("https://x", session=Session()) as client:
        assert client.base_url == "https://x"
    assert closed == [True]
    assert HttpClient(None).base_url == ""


def test_a_shared_limiter_is_kept_while_its_rate_holds_and_replaced_when_it_changes():
    key = object()  # a backend no other test (or earlier run in this process) used
    first = http.shared_rate_limiter(key, 5, burst=2)
    assert (first.rate, first.capacity) == (5.0, 2.0)
    assert http.shared_rate_limiter(key, 5.0) is first
    second = http.shared_rate_limiter(key, 7, burst=3)
    assert second is not first
    assert (second.rate, second.capacity) == (7.0, 3.0)
    assert http.shared_rate_limiter(key, 7) is second


def test_a_fractional_burst_lends_no_negative_wait():
    clock = {"now": 0.0}
    limiter = RateLimiter(2, burst=1.5, clock=lambda: clock["now"], sleep=lambda s: None)
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == 0.25


def test_a_success_keeps_the_rate_limit_headers_for_the_next_delay(crm):
    crm.inject("/webhook", "status", status=200, headers={"X-HubSpot-RateLimit-Remaining": "0"})
    client = HttpClient(crm.url)
    exchange = client.request("POST", client.url("/webhook/x"), json_body={})
    result = client.success(exchange, [exchange.attempt])
    assert result.headers == {"X-HubSpot-RateLimit-Remaining": "0"}


@pytest.mark.parametrize(("status", "error"), [(300, None), (399, None), (400, "HTTP 400")])
def test_a_3xx_is_a_permanent_failure_and_errors_are_logged_from_400(crm, status, error):
    crm.inject("/webhook", "status", status=status)
    client = HttpClient(crm.url)
    exchange = client.request("POST", client.url("/webhook/x"), json_body={})
    assert exchange.attempt.error == error
    result = client.failure(exchange, [exchange.attempt])
    assert (result.retryable, result.error) == (False, f"HTTP {status}: injected {status}")
