"""The plain-Python core of ``usage_billing_connector``, the addon this one depends on.

Inside Odoo both addons are packages under ``odoo.addons`` and the sibling is
reached relatively (this core never names odoo); in the repo-level tests they
are top-level packages (``tests/conftest.py``).  Every module of this core
imports the sibling's core through here.
"""

if __name__.startswith("odoo.addons."):
    from ...usage_billing_connector.core import numbers, signing
    from ...usage_billing_connector.core.delivery import http as delivery_http
    from ...usage_billing_connector.core.delivery import redact as delivery_redact
else:
    from usage_billing_connector.core import numbers, signing
    from usage_billing_connector.core.delivery import http as delivery_http
    from usage_billing_connector.core.delivery import redact as delivery_redact

__all__ = ["delivery_http", "delivery_redact", "numbers", "signing"]
