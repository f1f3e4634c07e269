"""The read API's pure core: query parameters, signed GET bytes and the wire format of answers.

The Odoo tier (``TestReadApi``) checks the same answers through HTTP; these tests pin
what the product platform relies on without a server: which queries are refused with
which ``error.code`` and ``error.message``, and how quantities, amounts, instants and
limit states are written.
"""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from usage_billing_connector.core import read_api
from usage_billing_connector.core.read_api import QueryError

METRIC = {"code": "api_calls", "name": "API calls", "aggregation": "sum", "unit": "call"}


def refused(call, *args):
    with pytest.raises(QueryError) as err:
        call(*args)
    assert isinstance(err.value, ValueError)
    assert str(err.value) == err.value.message
    return err.value.code, err.value.message


# ------------------------------------------------------------------ signed GET


def test_a_get_is_signed_over_its_method_path_and_query_exactly_as_sent():
    target = "/usage_billing/v1/tenants/acme/usage?period=previous"
    assert read_api.signed_get(target) == b"GET " + target.encode()
    assert read_api.signed_get("/t/acme/usage?period=previous") == (
        b"GET /t/acme/usage?period=previous"
    )
    assert read_api.signed_get("/a?x=%20") == b"GET /a?x=%20"


# ------------------------------------------------------------------ ?period=


@pytest.mark.parametrize("value", [None, "", "current"])
def test_no_period_or_current_is_the_current_period(value):
    query = read_api.parse_period(value)
    assert (query.which, query.instant) == ("current", None)


def test_previous_is_the_period_before():
    query = read_api.parse_period("previous")
    assert (query.which, query.instant) == ("previous", None)


def test_an_instant_names_the_period_containing_it_in_utc():
    query = read_api.parse_period("2026-03-01T01:30:00+02:00")
    assert query.which == "instant"
    assert query.instant == datetime(2026, 2, 28, 23, 30, tzinfo=timezone.utc)
    assert query.instant.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    ["Current", "previous ", "2026-03-01", "2026-03-01T00:00:00", "2026-02-30T00:00:00Z", "x\x00"],
)
def test_any_other_period_is_refused_with_invalid_period(value):
    assert refused(read_api.parse_period, value) == (
        "invalid_period",
        "period must be current, previous or an RFC 3339 instant.",
    )


def test_a_period_with_a_lone_surrogate_is_refused_not_crashed_on():
    assert refused(read_api.parse_period, "\ud800")[0] == "invalid_period"


def test_period_queries_are_immutable_values():
    assert read_api.parse_period("previous") == read_api.PeriodQuery("previous")
    with pytest.raises(AttributeError):
        read_api.parse_period("previous").which = "current"


# ------------------------------------------------------------------ ?limit=&starting_after=


def test_a_page_is_ten_invoices_from_the_newest_by_default():
    assert read_api.parse_page(None, None) == (10, None)
    assert read_api.parse_page("", "") == (10, None)


@pytest.mark.parametrize(("limit", "size"), [("1", 1), ("7", 7), ("100", 100), ("007", 7)])
def test_a_limit_from_1_to_100_is_the_page_size(limit, size):
    assert read_api.parse_page(limit, None) == (size, None)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "+5", "1.5", " 5", "ten", "١٢", "²"])
def test_any_other_limit_is_refused_with_invalid_limit(limit):
    assert refused(read_api.parse_page, limit, None) == (
        "invalid_limit",
        "limit must be an integer from 1 to 100.",
    )


def test_a_refused_limit_is_reported_before_a_refused_cursor():
    assert refused(read_api.parse_page, "0", "\n")[0] == "invalid_limit"


@pytest.mark.parametrize("cursor", ["INV/2026/00001", "a", " ", "~" * 256])
def test_an_invoice_number_is_the_cursor(cursor):
    assert read_api.parse_page("5", cursor) == (5, cursor)
    assert read_api.parse_page(None, cursor) == (10, cursor)


@pytest.mark.parametrize("cursor", ["x" * 257, "INV\n1", "INV/1\n", "\x7f", "é", "\x00"])
def test_a_cursor_that_cannot_be_an_invoice_number_is_refused_with_invalid_cursor(cursor):
    assert refused(read_api.parse_page, "5", cursor) == (
        "invalid_cursor",
        "starting_after must be an invoice number.",
    )


# ------------------------------------------------------------------ limit states


@pytest.mark.parametrize(
    ("used", "soft", "hard", "state"),
    [
        (Decimal(0), None, None, "ok"),
        (Decimal(10**9), None, None, "ok"),
        (Decimal(79), Decimal(80), Decimal(100), "ok"),
        (Decimal(80), Decimal(80), Decimal(100), "soft_exceeded"),
        (Decimal(99), Decimal(80), Decimal(100), "soft_exceeded"),
        (Decimal(100), Decimal(80), Decimal(100), "hard_exceeded"),
        (Decimal(150), Decimal(80), Decimal(100), "hard_exceeded"),
        (Decimal(100), None, Decimal(100), "hard_exceeded"),
        (Decimal(99), None, Decimal(100), "ok"),
        (Decimal(80), Decimal(80), None, "soft_exceeded"),
        (Decimal(500), Decimal(80), Decimal(0), "soft_exceeded"),
        (Decimal(500), Decimal(0), Decimal(0), "ok"),
    ],
)
def test_a_limit_is_exceeded_once_reached_and_zero_means_no_limit(used, soft, hard, state):
    assert read_api.limit_state(used, soft, hard) == state


# ------------------------------------------------------------------ numbers and instants


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+3"), "1000"),
        (Decimal("12.500"), "12.5"),
        (Decimal("0.000000001"), "0.000000001"),
        (Decimal("0.00"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("-2.50"), "-2.5"),
        (3, "3"),
        (0, "0"),
        ("4.10", "4.1"),
    ],
)
def test_quantities_are_exact_decimal_strings_without_exponent(value, text):
    assert read_api.decimal_text(value) == text


def test_a_missing_quantity_stays_null():
    assert read_api.decimal_text(None) is None


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (Decimal("12.5"), 2, "12.50"),
        (Decimal("0.1249"), 2, "0.12"),
        (Decimal("0.1351"), 2, "0.14"),
        (Decimal("1999"), 0, "1999"),
        (Decimal("1.2345"), 3, "1.234"),
        (0, 2, "0.00"),
        ("7", 2, "7.00"),
        (Decimal("1E+2"), 2, "100.00"),
        (0, 7, "0.0000000"),  # never "0E-7"
    ],
)
def test_amounts_have_exactly_the_currencys_places(value, decimals, text):
    assert read_api.money_text(value, decimals) == text


def test_instants_are_rfc3339_utc_with_z():
    aware = datetime(2026, 3, 1, 1, 30, 15, 999999, tzinfo=timezone(timedelta(hours=2)))
    assert read_api.instant_text(aware) == "2026-02-28T23:30:15Z"
    assert read_api.instant_text(datetime(2026, 1, 31, 23, 59, 59)) == "2026-01-31T23:59:59Z"
    assert read_api.instant_text(None) is None


# ------------------------------------------------------------------ answers


def test_a_metric_entry_states_use_allowance_amount_and_limits():
    answer = read_api.metric_answer(
        METRIC, Decimal("85.50"), Decimal(100), Decimal(80), Decimal(120), Decimal("3.456"), 2
    )
    assert answer == {
        "metric": "api_calls",
        "name": "API calls",
        "aggregation": "sum",
        "used": "85.5",
        "included": "100",
        "remaining": "14.5",
        "unit": "call",
        "amount": "3.46",
        "soft_limit": "80",
        "hard_limit": "120",
        "limit_state": "soft_exceeded",
    }


def test_a_metric_without_allowance_or_limits_has_nulls_and_zero_included():
    answer = read_api.metric_answer(METRIC, Decimal(7), None, None, None, Decimal(0), 0)
    assert answer["included"] == "0"
    assert answer["remaining"] is None
    assert answer["soft_limit"] is None
    assert answer["hard_limit"] is None
    assert answer["limit_state"] == "ok"
    assert answer["amount"] == "0"
    zero = read_api.metric_answer(METRIC, Decimal(7), Decimal(0), Decimal(0), Decimal(0), 0, 2)
    assert (zero["included"], zero["remaining"]) == ("0", None)
    assert (zero["soft_limit"], zero["hard_limit"]) == (None, None)


def test_remaining_allowance_never_goes_below_zero():
    over = read_api.metric_answer(METRIC, Decimal(130), Decimal(100), None, Decimal(120), 1, 2)
    assert over["remaining"] == "0"
    assert over["limit_state"] == "hard_exceeded"
    exact = read_api.metric_answer(METRIC, Decimal(100), Decimal(100), None, None, 1, 2)
    assert exact["remaining"] == "0"


def test_an_entitlement_blocks_only_at_the_hard_limit():
    soft = read_api.entitlement_answer("seats", Decimal(9), Decimal(8), Decimal(10))
    assert soft == {
        "metric": "seats",
        "allowed": True,
        "limit_state": "soft_exceeded",
        "remaining": "1",
    }
    hard = read_api.entitlement_answer("seats", Decimal(12), Decimal(8), Decimal(10))
    assert hard == {
        "metric": "seats",
        "allowed": False,
        "limit_state": "hard_exceeded",
        "remaining": "0",
    }


def test_an_entitlement_without_hard_limit_is_allowed_with_no_remaining():
    answer = read_api.entitlement_answer("seats", Decimal(10**6), Decimal(5), None)
    assert answer == {
        "metric": "seats",
        "allowed": True,
        "limit_state": "soft_exceeded",
        "remaining": None,
    }
    assert read_api.entitlement_answer("seats", Decimal(3), None, Decimal(0))["remaining"] is None


def test_credits_give_the_balance_and_each_expiry_in_the_currencys_places():
    answer = read_api.credits_answer(
        Decimal("150.5"),
        "EUR",
        [(date(2026, 4, 30), Decimal("50")), (date(2026, 6, 30), Decimal("100.499"))],
        2,
    )
    assert answer == {
        "balance": "150.50",
        "currency": "EUR",
        "expires": [
            {"date": "2026-04-30", "amount": "50.00"},
            {"date": "2026-06-30", "amount": "100.50"},
        ],
    }
    assert read_api.credits_answer(0, "JPY", [], 0) == {
        "balance": "0",
        "currency": "JPY",
        "expires": [],
    }


def test_instants_are_utc_whatever_the_servers_zone(server_in_new_york):
    assert read_api.instant_text(datetime(2026, 1, 31, 23, 59, 59)) == "2026-01-31T23:59:59Z"
    aware = datetime(2026, 7, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert read_api.instant_text(aware) == "2026-07-01T00:00:00Z"
