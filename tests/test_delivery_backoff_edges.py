"""Edges of the retry schedule and of the servers' hints (core.delivery.backoff).

``test_delivery_backoff`` pins the schedule and each hint; these tests pin the limits
around them: the status range that retries, windows without an interval, header shapes
the HTTP libraries hand over, dates that are not HTTP dates, and the errors that say why
a schedule parameter is refused.
"""

import pytest
from requests.structures import CaseInsensitiveDict

from usage_billing_connector.core.delivery import backoff
from usage_billing_connector.core.delivery.backoff import (
    delay_for_response,
    hubspot_delay,
    is_retryable,
    parse_retry_after,
    retry_delay,
    salesforce_usage,
    server_delay,
)

NOW = 1_740_830_400.0  # 2025-03-01T12:00:00Z


def middle():
    return 0.5


@pytest.mark.parametrize(("status", "retryable"), [(499, False), (500, True), (600, False)])
def test_only_5xx_and_the_listed_4xx_retry(status, retryable):
    assert is_retryable(status) is retryable


def test_what_is_neither_status_nor_exception_is_named_in_the_error():
    with pytest.raises(TypeError, match=r"^expected an HTTP status or an exception, got '500'$"):
        is_retryable("500")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempt": 0}, r"^attempt starts at 1, got 0$"),
        ({"attempt": 1, "jitter": 1}, r"^jitter must be in \[0, 1\), got 1$"),
        ({"attempt": 1, "jitter": -0.1}, r"^jitter must be in \[0, 1\), got -0.1$"),
    ],
)
def test_a_refused_schedule_says_why(kwargs, message):
    with pytest.raises(ValueError, match=message):
        retry_delay(**kwargs)


def test_jitter_zero_is_the_exact_schedule_and_the_band_is_symmetric():
    assert retry_delay(3, jitter=0, rng=lambda: 0.99) == 120
    assert retry_delay(1, jitter=0.2, rng=lambda: 0.0) == 24
    assert retry_delay(1, jitter=0.2, rng=lambda: 1.0) == 36
    assert retry_delay(1, base=10, factor=3, rng=middle) == 10
    assert retry_delay(3, base=10, factor=3, rng=middle) == 90
    assert retry_delay(3, base=10, factor=3, cap=50, rng=middle) == 50


def test_an_overflowing_schedule_is_the_cap():
    assert retry_delay(10**6, factor=10.0, cap=77, rng=middle) == 77


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("86400", 86400.0),
        ("86401", 86400.0),
        ("inf", 86400.0),
        ("  ", None),
        ("Wed, 21 Oct 2015 07:28:00", None),  # no zone: not an HTTP date
        ("Sat, 01 Mar 2025 12:00:30 GMT", 30.0),
        ("Sat, 01 Mar 2025 14:00:30 +0200", 30.0),
        ("Sat, 01 Mar 2026 12:00:00 GMT", 86400.0),
        ("Mon, 99 Foo 2025 12:00:00 GMT", None),
    ],
)
def test_retry_after_is_bounded_and_only_zoned_dates_count(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


def test_a_retry_after_date_counts_from_the_real_clock_by_default():
    assert parse_retry_after("Thu, 01 Jan 2099 00:00:00 GMT") == 86400.0
    assert parse_retry_after("Thu, 01 Jan 1998 00:00:00 GMT") == 0


REMAINING = "X-HubSpot-RateLimit-Remaining"
INTERVAL = "X-HubSpot-RateLimit-Interval-Milliseconds"


@pytest.mark.parametrize(
    "headers",
    [
        {REMAINING.lower(): "0", INTERVAL.lower(): "2500"},
        CaseInsensitiveDict({REMAINING: " 0 ", INTERVAL: 2500}),
        [(REMAINING, "0"), (INTERVAL, "2500")],
    ],
)
def test_header_names_match_whatever_their_case_and_container(headers):
    assert hubspot_delay(headers) == 2.5


@pytest.mark.parametrize(
    ("interval", "expected"),
    [(None, 10.0), ("0", 10.0), ("-5", 10.0), ("soon", 10.0), ("999999999999", 86400.0)],
)
def test_an_exhausted_window_without_a_usable_interval_waits_hubspots_default(interval, expected):
    headers = {"X-HubSpot-RateLimit-Remaining": "0"}
    if interval is not None:
        headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = interval
    assert hubspot_delay(headers) == expected


def test_the_daily_quota_comes_first_and_waits_the_given_cap():
    headers = {
        "X-HubSpot-RateLimit-Daily-Remaining": "0",
        "X-HubSpot-RateLimit-Remaining": "0",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "2500",
    }
    assert hubspot_delay(headers, cap=900) == 900.0
    assert server_delay(429, headers, cap=900) == 900.0
    assert delay_for_response(1, 429, headers, cap=900, rng=middle) == 900.0


def test_windows_with_requests_left_ask_nothing():
    assert hubspot_delay({"X-HubSpot-RateLimit-Secondly-Remaining": "1"}) is None
    assert hubspot_delay({"X-HubSpot-RateLimit-Daily-Remaining": "5"}) is None
    assert hubspot_delay({}) is None
    assert hubspot_delay(None) is None


def test_retry_after_counts_only_on_429_and_503_but_windows_on_any_status():
    assert server_delay(500, {"Retry-After": "7"}) is None
    assert server_delay(503, {"Retry-After": "7"}) == 7
    assert server_delay(503, {"Retry-After": "-1"}) is None
    assert server_delay(500, {"X-HubSpot-RateLimit-Secondly-Remaining": "0"}) == 1.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [("API-Usage = 3 / 4", 0.75), ("per-app-api-usage=1/2; api-usage=9/10", 0.5)],
)
def test_salesforce_usage_is_read_from_the_first_api_usage(header, expected):
    assert salesforce_usage({"sforce-limit-info": header}) == expected
    assert salesforce_usage({}) is None


def test_salesforce_usage_just_under_95_percent_is_the_plain_schedule():
    headers = {"Sforce-Limit-Info": "api-usage=9499/10000"}
    assert delay_for_response(2, 503, headers, rng=middle) == 60
    over = {"Sforce-Limit-Info": "api-usage=10001/10000"}
    assert delay_for_response(1, None, over, cap=120, rng=middle) == 120.0


def test_defaults_are_those_documented():
    assert (backoff.DEFAULT_BASE, backoff.DEFAULT_FACTOR) == (30.0, 2.0)
    assert (backoff.DEFAULT_CAP, backoff.DEFAULT_JITTER) == (3600.0, 0.2)
    assert retry_delay(13, rng=middle) == 3600.0


def test_a_jittered_delay_may_go_below_one_second_but_not_below_zero():
    assert retry_delay(1, base=1, jitter=0.5, rng=lambda: 0.0) == 0.5
    assert retry_delay(1, base=0, rng=lambda: 0.0) == 0.0


def test_a_quota_of_one_request_is_a_quota():
    assert salesforce_usage({"Sforce-Limit-Info": "api-usage=1/1"}) == 1.0


def test_a_one_millisecond_window_is_waited_as_such():
    assert hubspot_delay({REMAINING: "0", INTERVAL: "1"}) == 0.001
