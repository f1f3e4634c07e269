import pytest

from crm_sync_connector.core.thresholds import (
    DEFAULT_THRESHOLDS,
    alert_text,
    credit_alert_text,
    new_crossings,
    parse_thresholds,
    reached_thresholds,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, DEFAULT_THRESHOLDS),
        ("", DEFAULT_THRESHOLDS),
        ("100, 80", (80, 100)),
        ("50;90;90", (50, 90)),
        ("120", (120,)),
    ],
)
def test_parse_thresholds(value, expected):
    assert parse_thresholds(value) == expected


@pytest.mark.parametrize("value", ["abc", "0", "-5", "80.5"])
def test_parse_thresholds_refuses_nonsense(value):
    with pytest.raises(ValueError):
        parse_thresholds(value)


def test_reached_is_inclusive_and_exact():
    assert reached_thresholds(799, 1000) == ()
    assert reached_thresholds(800, 1000) == (80,)
    assert reached_thresholds(1000, 1000) == (80, 100)
    assert reached_thresholds(0.8, 1) == (80,)  # no float rounding surprise
    assert reached_thresholds(5000, 0) == ()
    assert reached_thresholds(5000, None) == ()


def test_new_crossings_skip_what_already_fired():
    assert new_crossings(1000, 1000, (80, 100), {80}) == (100,)
    assert new_crossings(1000, 1000, (80, 100), {80, 100}) == ()
    assert new_crossings(900, 1000, (80, 100), ()) == (80,)


def test_alert_text_names_tenant_metric_and_threshold():
    subject, body = alert_text("acme", "api_calls", 80, 800, 1000)
    assert "acme" in subject and "80%" in subject
    assert "800 of 1000" in body


def test_alert_texts_read_as_the_crm_shows_them():
    assert alert_text("acme", "api_calls", 80, 800, 1000) == (
        "acme: api_calls usage reached 80% of the allowance",
        "Tenant acme used 800 of 1000 included api_calls in the current billing period "
        "(80% threshold).",
    )
    assert credit_alert_text("acme", "12.50", 20, "EUR") == (
        "acme: prepaid credit below 20 EUR",
        "Tenant acme has 12.50 EUR of prepaid credit left, below the 20 EUR threshold: "
        "time to offer a top-up.",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("80, abc", "threshold 'abc' is not a number"),
        ("0", "threshold '0' must be a positive whole percentage"),
        ("80.5", "threshold '80.5' must be a positive whole percentage"),
    ],
)
def test_a_refused_threshold_is_quoted(value, message):
    with pytest.raises(ValueError) as err:
        parse_thresholds(value)
    assert str(err.value) == message


def test_blank_entries_are_ignored_and_nothing_left_means_the_defaults():
    assert parse_thresholds(" , ;") == DEFAULT_THRESHOLDS
    assert parse_thresholds("90,,") == (90,)
    assert parse_thresholds(100) == (100,)


def test_no_usage_reaches_nothing_and_thresholds_are_checked_in_order():
    assert reached_thresholds(None, 1000) == ()
    assert reached_thresholds(1000, 1000, (100, 80, 50)) == (50, 80, 100)
    assert new_crossings(1000, 1000, (80, 100), None) == (80, 100)


def test_no_usage_reaches_no_threshold_even_on_a_tiny_allowance():
    assert reached_thresholds(None, 1, (100,)) == ()
    assert reached_thresholds(0, "0.01", (1,)) == ()


def test_new_crossings_use_the_thresholds_given():
    assert new_crossings(500, 1000, (50,), ()) == (50,)
    assert new_crossings(500, 1000, (50, 90), {50}) == ()


def test_one_percent_is_a_threshold_and_a_blank_entry_first_is_skipped():
    assert parse_thresholds("1") == (1,)
    assert parse_thresholds(" , 90") == (90,)
