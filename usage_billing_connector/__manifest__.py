# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Usage Billing Connector",
    "summary": "Turn signed SaaS usage events into rated statements and draft invoices",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/usage-billing/odoo-usage-billing",
    "author": "Usage Billing Team",
    "license": "LGPL-3",
    "application": True,
    "installable": True,
    "depends": ["account", "mail", "queue_job"],
    "external_dependencies": {"python": ["cryptography", "requests"]},
    "data": [
        "security/usage_billing_security.xml",
        "security/ir.model.access.csv",
        "views/usage_billing_menus.xml",
    ],
    "demo": [],
}
