"""A CRM Sync user who is not a Usage Billing user can open every CRM Sync screen.

Messages and alerts name a tenant and a metric, which belong to Usage Billing and
are not readable without its groups: a field of theirs added to these views beyond
the record's name would lock CRM Sync users out of their own screens.  (An access
error opening a message was reported once; it could not be reproduced.)
"""

from odoo.tests import new_test_user, tagged

from .common import CrmSyncCase


def read_spec(fields):
    """What the web client reads for a view: relational fields with their names."""
    return {
        name: {"fields": {"display_name": {}}} if field.get("relation") else {}
        for name, field in fields.items()
    }


@tagged("post_install", "-at_install")
class TestScreenAccess(CrmSyncCase):
    def _open(self, user, record):
        """Read ``record`` as its list and form views do, as ``user``."""
        model = record.with_user(user).env[record._name]
        for view_type in ("list", "form"):
            views = model.get_views([(False, view_type)])
            spec = read_spec(views["models"][record._name]["fields"])
            values = model.browse(record.id).web_read(spec)
            self.assertEqual(values[0]["id"], record.id)
        return values[0]

    def test_crm_sync_roles_without_usage_billing_open_messages_and_alerts(self):
        backend = self.make_backend()
        message = self.env["crm.sync.message"]._enqueue(backend, self.tenant, schedule=False)
        alert = self.env["crm.sync.threshold.alert"].create(
            {
                "backend_id": backend.id,
                "company_id": self.company.id,
                "tenant_id": self.tenant.id,
                "metric_id": self.metric.id,
                "period_start": "2026-11-01 00:00:00",
                "threshold": 80,
                "used": 800,
                "included": 1000,
                "message_id": message.id,
            }
        )
        for group in ("group_crm_sync_user", "group_crm_sync_manager"):
            user = new_test_user(
                self.env,
                f"crm_only_{group}",
                groups=f"base.group_user,crm_sync_connector.{group}",
                company_id=self.company.id,
                company_ids=[self.company.id],
            )
            self.assertFalse(user.has_group("usage_billing_connector.group_usage_billing_user"))
            with self.subTest(group=group):
                shown = self._open(user, message)
                self.assertEqual(shown["tenant_id"]["display_name"], self.tenant.display_name)
                shown = self._open(user, alert)
                self.assertEqual(shown["metric_id"]["display_name"], self.metric.display_name)
