from odoo import api, fields, models
from odoo.addons.usage_billing_connector.core import utc
from odoo.addons.usage_billing_connector.core.webhook_events import rfc3339

from ..core.thresholds import alert_text, parse_thresholds, reached_thresholds


class CrmSyncThresholdAlert(models.Model):
    """Log of fired usage thresholds; its unique constraint makes each fire once."""

    _name = "crm.sync.threshold.alert"
    _description = "CRM Sync Usage Threshold Alert"
    _order = "id desc"

    backend_id = fields.Many2one(
        "crm.sync.backend", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    tenant_id = fields.Many2one("usage.tenant", required=True, ondelete="cascade", readonly=True)
    metric_id = fields.Many2one("usage.metric", required=True, ondelete="cascade", readonly=True)
    period_start = fields.Datetime(required=True, readonly=True)
    threshold = fields.Integer(string="Threshold (%)", required=True, readonly=True)
    used = fields.Float(readonly=True)
    included = fields.Float(readonly=True)
    message_id = fields.Many2one("crm.sync.message", readonly=True, ondelete="set null")

    _once_per_period = models.Constraint(
        "UNIQUE(tenant_id, metric_id, period_start, threshold, backend_id)",
        "A usage threshold fires once per period and backend.",
    )

    # ------------------------------------------------------------------ detection

    @api.model
    def _cron_check_thresholds(self):
        """Fire the usage thresholds reached in current periods, once each.

        Runs on a frequent cron, never in the ingestion request: one aggregate
        over current-period usage for every open subscription, then one
        ``INSERT ... ON CONFLICT DO NOTHING`` into this log; only the rows it
        really inserts produce an alert message.
        """
        backends = self.env["crm.sync.backend"].search([])  # pylint: disable=no-search-all
        if not backends:
            return 0
        subscriptions = self.env["usage.subscription"].search(
            [
                ("state", "in", ("trial", "active")),
                ("company_id", "in", backends.company_id.ids),
                ("plan_id.charge_ids.included_quantity", ">", 0),
            ]
        )
        periods = {sub: (sub.current_period_start, sub.current_period_end) for sub in subscriptions}
        usage = self.env["usage.event"]._aggregate(
            [(sub.tenant_id.id, start, end) for sub, (start, end) in periods.items()]
        )
        rows = []
        for sub, (start, _end) in periods.items():
            company_backends = backends.filtered(lambda b, s=sub: b.company_id == s.company_id)
            for charge in sub.plan_id.charge_ids.filtered("included_quantity"):
                used = usage.get((sub.tenant_id.id, start, charge.metric_id.id)) or 0
                limits = parse_thresholds(charge.metric_id.crm_alert_thresholds)
                for threshold in reached_thresholds(used, charge.included_quantity, limits):
                    for backend in company_backends:
                        rows.append((backend, sub, charge, start, threshold, used))
        return self._fire(rows)

    def _fire(self, rows):
        if not rows:
            return 0
        self.env.cr.execute(
            """
            INSERT INTO crm_sync_threshold_alert (
                backend_id, company_id, tenant_id, metric_id, period_start, threshold,
                used, included, create_uid, write_uid, create_date, write_date)
            SELECT r.*, %(uid)s, %(uid)s, %(now)s, %(now)s
              FROM unnest(%(backend)s::int[], %(company)s::int[], %(tenant)s::int[],
                          %(metric)s::int[], %(start)s::timestamp[], %(threshold)s::int[],
                          %(used)s::float8[], %(included)s::float8[]) AS r
            ON CONFLICT (tenant_id, metric_id, period_start, threshold, backend_id) DO NOTHING
            RETURNING id
            """,
            {
                "backend": [r[0].id for r in rows],
                "company": [r[1].company_id.id for r in rows],
                "tenant": [r[1].tenant_id.id for r in rows],
                "metric": [r[2].metric_id.id for r in rows],
                "start": [r[3] for r in rows],
                "threshold": [r[4] for r in rows],
                "used": [float(r[5]) for r in rows],
                "included": [r[2].included_quantity for r in rows],
                "uid": self.env.uid,
                "now": fields.Datetime.now(),
            },
        )
        fired = self.browse([row[0] for row in self.env.cr.fetchall()])
        for alert in fired:
            alert.message_id = alert._enqueue_message()
        fired._first_of_their_kind()._notify_product()
        return len(fired)

    def _first_of_their_kind(self):
        """The alerts that are the first fire of their threshold (whatever the backend)."""
        self.env.cr.execute(
            """
            SELECT a.id FROM crm_sync_threshold_alert a
             WHERE a.id = ANY(%s)
               AND NOT EXISTS (
                   SELECT 1 FROM crm_sync_threshold_alert b
                    WHERE b.tenant_id = a.tenant_id AND b.metric_id = a.metric_id
                      AND b.period_start = a.period_start AND b.threshold = a.threshold
                      AND b.id < a.id)
            """,
            [self.ids],
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _notify_product(self):
        """``usage.threshold_crossed`` to the product's webhook endpoints, once per threshold."""
        for alert in self:
            subscription = alert.tenant_id._crm_subscriptions().get(alert.tenant_id)
            period_end = (
                subscription._period_containing(utc.aware(alert.period_start)).end
                if subscription
                else None
            )
            alert.tenant_id._usage_notify(
                "usage.threshold_crossed",
                {
                    "metric": alert.metric_id.code,
                    "threshold": alert.threshold,
                    "used": alert.used,
                    "included": alert.included,
                    "period": {
                        "start": rfc3339(alert.period_start),
                        "end": rfc3339(period_end) if period_end else None,
                    },
                },
            )

    def _enqueue_message(self):
        self.ensure_one()
        tenant, metric = self.tenant_id, self.metric_id
        subject, body = alert_text(
            tenant.external_id, metric.code, self.threshold, self.used, self.included
        )
        payload = {
            "type": "usage_threshold",
            "metric": metric.code,
            "threshold": self.threshold,
            "used": self.used,
            "included": self.included,
            "period_start": fields.Datetime.to_string(self.period_start),
            "subject": subject,
            "body": body,
        }
        key = f"{metric.code}:{self.threshold}:{payload['period_start']}"
        return self.env["crm.sync.message"]._enqueue(
            self.backend_id, tenant, "alert", payload, key
        )[:1]
