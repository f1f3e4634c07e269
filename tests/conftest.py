"""Repo-level tests import the addons' cores without Odoo (``tools/addon_packages.py``)."""

import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import addon_packages  # noqa: E402

addon_packages.register()

# Fixtures shared by several test modules: the copy of the compose stack that the
# compose tests break, the stand-in API of the reference client's tests, and those
# of the CRM client tests (fake CRM server, one client per CRM; that import needs
# the packages registered above).
from compose_helpers import stack  # noqa: E402, F401
from crm_helpers import crm, hubspot, salesforce, webhook  # noqa: E402, F401
from fake_usage_api import api, client, sleeps  # noqa: E402, F401

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis is in requirements-test.txt
    pass
else:
    # No example database on disk: the checkout may be read-only (docker tests service).
    # No timing: like the deadline, the "input generation is slow" check measures the
    # machine, not the code (it failed a property test whose process was paused for
    # a minute on a busy machine).
    settings.register_profile(
        "repo", database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.load_profile("repo")


@pytest.fixture
def server_in_new_york(monkeypatch):
    """A server whose local zone is not UTC: instants on the wire must not notice."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
