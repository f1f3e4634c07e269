"""What the billing-period tests share: UTC moments and hypothesis strategies of schedules."""

from datetime import datetime, timezone

from hypothesis import strategies as st

UTC = timezone.utc
DAY = 86_400


def utc(*args):
    return datetime(*args, tzinfo=UTC)


anchors = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))
intervals = st.sampled_from(["monthly", "quarterly", "yearly"])
