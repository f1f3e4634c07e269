"""``check_depth`` against a plain recursive definition of nesting depth."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usage_billing_connector.core.untrusted_json import UntrustedJsonError, check_depth


def depth(value):
    """Containers count one level each; leaves none; an empty container is one level."""
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


values = st.recursive(
    st.none() | st.integers() | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=20,
)


@given(value=values, max_depth=st.integers(min_value=1, max_value=6))
def test_check_depth_refuses_exactly_what_nests_too_deep(value, max_depth):
    if depth(value) > max_depth:
        with pytest.raises(UntrustedJsonError) as caught:
            check_depth(value, max_depth, "too_deep", "JSON")
        assert caught.value.code == "too_deep"
    else:
        check_depth(value, max_depth, "too_deep", "JSON")


def test_empty_containers_count_as_a_level():
    check_depth([[]], 2, "too_deep", "JSON")
    with pytest.raises(UntrustedJsonError):
        check_depth([[{}]], 2, "too_deep", "JSON")
    check_depth("leaf", 1, "too_deep", "JSON")
