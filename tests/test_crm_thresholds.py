import pytest

from crm_sync_connector.core.thresholds import (
    DEFAULT_THRESHOLDS,
    alert_text,
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
