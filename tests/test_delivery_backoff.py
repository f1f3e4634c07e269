"""Retry schedule and retryability of deliveries (usage_billing_connector.core.delivery.backoff)."""

from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from usage_billing_connector.core.delivery import backoff
from usage_billing_connector.core.delivery.backoff import (
    delay_for_response,
    is_retryable,
    parse_retry_after,
    retry_delay,
    salesforce_usage,
    server_delay,
)

NO_JITTER = 0.5  # rng() == 0.5 puts the delay exactly in the middle of the jitter band
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc).timestamp()


def middle():
    return NO_JITTER


# -- retry_delay --------------------------------------------------------------


def test_default_schedule_doubles_from_30_seconds_up_to_one_hour():
    delays = [retry_delay(attempt, rng=middle) for attempt in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_schedule_parameters_are_honoured():
    delays = [retry_delay(n, base=2, factor=3, cap=50, rng=middle) for n in (1, 2, 3, 4)]
    assert delays == [2, 6, 18, 50]


@given(attempt=st.integers(min_value=1, max_value=40), r1=st.floats(0, 1), r2=st.floats(0, 1))
def test_delay_never_decreases_without_jitter_and_stays_in_jitter_band(attempt, r1, r2):
    plain = retry_delay(attempt, rng=middle)
    assert retry_delay(attempt + 1, rng=middle) >= plain
    for r in (r1, r2):
        jittered = retry_delay(attempt, rng=lambda r=r: r)
        assert plain * 0.8 - 1e-9 <= jittered <= min(plain * 1.2, 3600) + 1e-9


def test_jitter_band_edges():
    assert retry_delay(2, rng=lambda: 0.0) == pytest.approx(48)  # 60 - 20 %
    assert retry_delay(2, rng=lambda: 0.999999) == pytest.approx(72, rel=1e-5)  # 60 + 20 %


def test_jitter_never_pushes_a_capped_delay_over_the_cap():
    assert retry_delay(30, rng=lambda: 0.999999) == 3600
    assert retry_delay(30, rng=lambda: 0.0) == pytest.approx(3600 * 0.8)


def test_default_jitter_spreads_retries_of_messages_that_failed_together():
    delays = {retry_delay(3) for _ in range(50)}
    assert len(delays) > 1
    assert all(96 <= delay <= 144 for delay in delays)


def test_huge_attempt_numbers_do_not_overflow():
    assert retry_delay(10_000, factor=1.5, rng=middle) == 3600
    assert retry_delay(10_000, rng=middle) == 3600


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempt_starts_at_one(attempt):
    with pytest.raises(ValueError, match="attempt starts at 1"):
        retry_delay(attempt)


def test_jitter_must_be_a_fraction():
    with pytest.raises(ValueError, match="jitter"):
        retry_delay(1, jitter=1.5)


# -- Retry-After ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (7, 7.0),
        ("-3", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_retry_after_delta_seconds(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


def test_retry_after_http_date_counts_from_now():
    in_90_seconds = format_datetime(datetime.fromtimestamp(NOW + 90, timezone.utc), usegmt=True)
    assert parse_retry_after(in_90_seconds, now=NOW) == pytest.approx(90)


def test_retry_after_date_in_the_past_means_retry_now():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=NOW) == 0


def test_absurd_retry_after_is_bounded_to_a_day():
    assert parse_retry_after("99999999", now=NOW) == backoff.MAX_SERVER_DELAY


# -- delay_for_response --------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_wins_over_schedule(status):
    assert delay_for_response(1, status, {"Retry-After": "7"}, rng=middle) == 7
    assert delay_for_response(8, status, {"retry-after": "7"}, rng=middle) == 7


def test_retry_after_http_date_is_honoured_on_429():
    header = format_datetime(datetime.fromtimestamp(NOW + 300, timezone.utc), usegmt=True)
    assert delay_for_response(1, 429, {"Retry-After": header}, now=NOW) == pytest.approx(300)


def test_retry_after_is_ignored_on_other_statuses():
    """RFC 9110 gives it meaning on 503 and 3xx; CRMs send it on 429. A 500 follows the schedule."""
    assert delay_for_response(2, 500, {"Retry-After": "7"}, rng=middle) == 60


def test_unusable_retry_after_falls_back_to_schedule():
    assert delay_for_response(1, 429, {"Retry-After": "later"}, rng=middle) == 30


def test_no_status_no_headers_is_the_schedule():
    """Timeouts and connection errors have no response."""
    assert delay_for_response(3, None, None, rng=middle) == 120


def test_hubspot_exhausted_window_waits_for_the_interval():
    headers = {
        "X-HubSpot-RateLimit-Remaining": "0",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Max": "100",
    }
    assert delay_for_response(5, 429, headers, rng=middle) == 10


def test_hubspot_window_not_exhausted_follows_schedule():
    headers = {
        "X-HubSpot-RateLimit-Remaining": "42",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    }
    assert delay_for_response(1, 429, headers, rng=middle) == 30


def test_hubspot_secondly_and_daily_limits():
    assert server_delay(429, {"X-HubSpot-RateLimit-Secondly-Remaining": "0"}) == 1
    assert server_delay(429, {"X-HubSpot-RateLimit-Daily-Remaining": "0"}) == 3600


def test_hubspot_retry_after_has_priority_over_window_headers():
    headers = {"Retry-After": "3", "X-HubSpot-RateLimit-Remaining": "0"}
    assert server_delay(429, headers) == 3


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("api-usage=10/15000", 10 / 15000),
        ("api-usage=14250/15000", 0.95),
        ("api-usage=0/0", None),
        ("garbage", None),
    ],
)
def test_salesforce_usage_parsing(header, expected):
    assert salesforce_usage({"Sforce-Limit-Info": header}) == expected


def test_salesforce_under_95_percent_follows_schedule():
    headers = {"Sforce-Limit-Info": "api-usage=14000/15000"}
    assert delay_for_response(2, 503, headers, rng=middle) == 60


def test_salesforce_at_95_percent_backs_off_four_times_longer():
    headers = {"Sforce-Limit-Info": "api-usage=14250/15000"}
    assert delay_for_response(2, 503, headers, rng=middle) == 240
    assert delay_for_response(7, 503, headers, rng=middle) == 3600  # still capped


def test_salesforce_quota_exhausted_waits_the_cap():
    headers = {"Sforce-Limit-Info": "api-usage=15000/15000"}
    assert delay_for_response(1, 403, headers, rng=middle) == 3600
    assert delay_for_response(1, 403, headers, cap=600, rng=middle) == 600


# -- is_retryable ----------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 502, 503, 504, 599])
def test_retryable_statuses(status):
    assert is_retryable(status)


@pytest.mark.parametrize("status", [200, 204, 300, 400, 401, 403, 404, 405, 410, 413, 415, 422])
def test_permanent_statuses(status):
    assert not is_retryable(status)


@pytest.mark.parametrize(
    "exception",
    [
        requests.ReadTimeout("read timed out"),
        requests.ConnectTimeout("connect timed out"),
        requests.ConnectionError("refused"),
        requests.exceptions.SSLError("handshake"),
        requests.exceptions.ChunkedEncodingError("broken"),
        TimeoutError(),
        ConnectionResetError(),
    ],
)
def test_network_problems_are_retryable(exception):
    assert is_retryable(exception)


@pytest.mark.parametrize(
    "exception",
    [requests.exceptions.InvalidURL("x"), requests.exceptions.MissingSchema("x"), ValueError()],
)
def test_configuration_errors_are_permanent(exception):
    assert not is_retryable(exception)


@pytest.mark.parametrize("value", [None, "500", True, 5.0])
def test_is_retryable_rejects_what_is_neither_status_nor_exception(value):
    with pytest.raises(TypeError):
        is_retryable(value)
