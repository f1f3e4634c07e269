from datetime import datetime, timedelta, timezone

import pytest

from usage_billing_connector.core import utc

PARIS_SUMMER = timezone(timedelta(hours=2))


def test_to_utc_converts_and_drops_microseconds():
    moment = datetime(2026, 6, 1, 12, 0, 0, 999999, tzinfo=PARIS_SUMMER)
    assert utc.to_utc(moment) == datetime(2026, 6, 1, 10, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("value", [datetime(2026, 6, 1), "2026-06-01", None])
def test_to_utc_refuses_naive_and_non_datetimes(value):
    with pytest.raises(ValueError, match="when"):
        utc.to_utc(value, "when")


def test_database_round_trip():
    stored = datetime(2026, 6, 1, 10, 0, 0)
    moment = utc.aware(stored)
    assert moment.tzinfo is timezone.utc
    assert utc.naive(moment.astimezone(PARIS_SUMMER)) == stored
    assert utc.aware(False) is False and utc.aware(None) is None


def test_unix_seconds_become_naive_utc():
    assert utc.from_unix(0) == datetime(1970, 1, 1)
    assert utc.from_unix(1_767_225_600) == datetime(2026, 1, 1)


def test_database_values_are_utc_whatever_the_servers_zone(server_in_new_york):
    assert utc.naive(datetime(2026, 6, 1, 12, tzinfo=PARIS_SUMMER)) == datetime(2026, 6, 1, 10)
    assert utc.from_unix(1_767_225_600) == datetime(2026, 1, 1)
