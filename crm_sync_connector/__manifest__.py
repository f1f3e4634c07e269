# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "CRM Sync Connector",
    "summary": "Push account status from usage billing to HubSpot, Salesforce, webhooks or Odoo CRM",
    "version": "19.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/usage-billing/odoo-usage-billing",
    "author": "Usage Billing Team",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["usage_billing_connector", "queue_job", "crm"],
    "external_dependencies": {"python": ["cryptography", "requests"]},
    "data": [
        "security/crm_sync_security.xml",
        "security/ir.model.access.csv",
        "data/queue_job_data.xml",
        "data/ir_cron.xml",
        "views/crm_sync_backend_views.xml",
        "views/crm_sync_message_views.xml",
        "views/res_partner_views.xml",
        "views/usage_metric_views.xml",
        "views/usage_billing_overview_views.xml",
        "views/crm_sync_menus.xml",
    ],
    "demo": ["demo/crm_sync_demo.xml"],
    "assets": {
        "web.assets_tests": ["crm_sync_connector/static/tests/tours/**/*"],
    },
}
