"""Make the addons' plain-Python cores importable without Odoo.

``usage_billing_connector/__init__.py`` imports the Odoo models; the cores under
``<addon>/core`` must not need that.  Registering each addon as an empty package
whose path is the addon directory lets ``import usage_billing_connector.core.x``
load only the core modules, exactly the code Odoo imports as
``odoo.addons.usage_billing_connector.core.x``.
"""

import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

for addon in ("usage_billing_connector", "crm_sync_connector"):
    if addon not in sys.modules:
        package = types.ModuleType(addon)
        package.__path__ = [str(ROOT / addon)]
        sys.modules[addon] = package

# The fake CRM server ships with the addon's Odoo tests, whose ``__init__.py``
# imports Odoo: the same trick makes ``crm_sync_connector.tests.fake_crm_server``
# importable alone.
if "crm_sync_connector.tests" not in sys.modules:
    package = types.ModuleType("crm_sync_connector.tests")
    package.__path__ = [str(ROOT / "crm_sync_connector" / "tests")]
    sys.modules["crm_sync_connector.tests"] = package

if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

# Fixtures of the CRM client tests (fake CRM server, one client per CRM); the
# import needs the packages registered above.
from crm_helpers import crm, hubspot, salesforce, webhook  # noqa: E402, F401

try:
    from hypothesis import settings
except ImportError:  # pragma: no cover - hypothesis is in requirements-test.txt
    pass
else:
    # No example database on disk: the checkout may be read-only (docker tests service).
    settings.register_profile("repo", database=None, deadline=None)
    settings.load_profile("repo")
