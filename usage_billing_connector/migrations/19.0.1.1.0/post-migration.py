"""19.0.1.1.0: subscription histories replayed in effective order, currency mismatches
reported; the billing cron and its jobs belong to ``usage.period.closing``."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["usage.event"]._migrate_legacy_events()
    env["usage.subscription"]._migrate_history_requests()
    env["usage.subscription"].search([])._update_next_close_at()
    # The cron record is noupdate: point it at its new owner before the old model
    # usage.billing.run is removed at the end of the update.
    cron = env.ref("usage_billing_connector.ir_cron_billing_run", raise_if_not_found=False)
    if cron:
        cron.write(
            {
                "model_id": env["ir.model"]._get_id("usage.period.closing"),
                "code": "model._cron_close_due_periods()",
            }
        )
    # Jobs enqueued by 19.0.1.0.0 call a method that no longer exists: the next
    # cron run enqueues them again (their identity keys are free once cancelled).
    cr.execute(
        """
        UPDATE queue_job SET state = 'cancelled'
         WHERE model_name = 'usage.subscription' AND method_name = '_close_due_periods'
           AND state IN ('wait_dependencies', 'pending', 'enqueued')
        """
    )
