"""The generic HTTP delivery client (usage_billing_connector.core.delivery.http)."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_crm_core_reaches_the_delivery_package_of_its_sibling_addon_inside_odoo():
    """Inside Odoo both addons live under ``odoo.addons``: the CRM core must import
    the delivery machinery from there, never as a second, bare copy."""
    script = textwrap.dedent(
        f"""
        import sys, types
        for name in ("odoo", "odoo.addons"):
            module = types.ModuleType(name)
            module.__path__ = []
            sys.modules[name] = module
        for addon in ("usage_billing_connector", "crm_sync_connector"):
            module = types.ModuleType("odoo.addons." + addon)
            module.__path__ = [{str(ROOT)!r} + "/" + addon]
            sys.modules["odoo.addons." + addon] = module
        from odoo.addons.crm_sync_connector.core import clients
        from odoo.addons.usage_billing_connector.core.delivery import http
        assert clients.DeliveryResult is http.DeliveryResult
        assert issubclass(clients.HubSpotClient, http.HttpClient)
        assert not [name for name in sys.modules if name.startswith("usage_billing_connector")]
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd="/")
