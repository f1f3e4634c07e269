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

if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

try:
    from hypothesis import settings
except ImportError:  # pragma: no cover - hypothesis is in requirements-test.txt
    pass
else:
    # No example database on disk: the checkout may be read-only (docker tests service).
    settings.register_profile("repo", database=None, deadline=None)
    settings.load_profile("repo")
