"""Fixed one-minute windows for the per-key request limit."""

import math

WINDOW_SECONDS = 60


def window_start(now_ts, window=WINDOW_SECONDS):
    """Unix time of the start of the window holding ``now_ts``."""
    return int(now_ts // window * window)


def retry_after(now_ts, window=WINDOW_SECONDS):
    """Whole seconds until the next window opens (at least 1)."""
    return max(1, math.ceil(window_start(now_ts, window) + window - now_ts))


def is_over_limit(count, limit):
    return limit > 0 and count > limit
