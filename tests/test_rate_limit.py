from usage_billing_connector.core import rate_limit


def test_windows_are_whole_minutes():
    assert rate_limit.window_start(120.0) == 120
    assert rate_limit.window_start(179.9) == 120


def test_retry_after_counts_to_the_next_window_and_is_at_least_one_second():
    assert rate_limit.retry_after(121.0) == 59
    assert rate_limit.retry_after(179.99) == 1


def test_retry_after_counts_in_the_configured_window():
    # 131 s into 10-second windows: the next one opens at 140, not at the minute.
    assert rate_limit.retry_after(131.0, window=10) == 9


def test_zero_limit_means_unlimited():
    assert not rate_limit.is_over_limit(10**6, 0)
    assert rate_limit.is_over_limit(11, 10)
    assert not rate_limit.is_over_limit(10, 10)
