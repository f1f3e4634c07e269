"""Import the addons' plain-Python cores without Odoo (tests and tools).

Each addon's ``__init__.py`` imports Odoo; its ``core/`` must not need that.
Registering the addon directory as a bare package lets
``import usage_billing_connector.core.x`` load only the core modules, exactly
the code Odoo imports as ``odoo.addons.usage_billing_connector.core.x``.  The
fake CRM server ships with the CRM addon's Odoo tests, whose ``__init__.py``
imports Odoo too: the same trick makes ``crm_sync_connector.tests.fake_crm_server``
importable alone.
"""

import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "usage_billing_connector": ROOT / "usage_billing_connector",
    "crm_sync_connector": ROOT / "crm_sync_connector",
    "crm_sync_connector.tests": ROOT / "crm_sync_connector" / "tests",
}


def register():
    """Register the bare packages (idempotent)."""
    for name, path in PACKAGES.items():
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [str(path)]
            sys.modules[name] = package
