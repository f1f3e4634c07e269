from odoo import api, fields, models

from ..core.ingestion import DUPLICATE, IDEMPOTENCY_CONFLICT, count, result
from ..core.lifecycle_payload import parse_lifecycle_event
from ..core.payload import Rejection
from .usage_subscription import STATES

CHANGE_TYPES = [
    ("activated", "Activated"),
    ("plan_changed", "Plan changed"),
    ("seats_changed", "Seats changed"),
    ("suspended", "Suspended"),
    ("reactivated", "Reactivated"),
    ("cancelled", "Cancelled"),
]


class UsageSubscriptionChange(models.Model):
    """The subscription's state from ``effective_at`` on: the history proration reads."""

    _name = "usage.subscription.change"
    _description = "Usage Subscription Change"
    _order = "effective_at, id"
    _check_company_auto = True

    subscription_id = fields.Many2one(
        "usage.subscription", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    change_type = fields.Selection(CHANGE_TYPES, required=True)
    effective_at = fields.Datetime(required=True)
    plan_id = fields.Many2one("usage.plan", required=True)
    seats = fields.Integer(required=True)
    state = fields.Selection(STATES, required=True)
    event_id = fields.Char(string="Event ID", help="Lifecycle event that made this change.")
    request_id = fields.Char(help="API request that carried the lifecycle event.")
    payload_hash = fields.Char()

    _company_event_uniq = models.Constraint(
        "UNIQUE(company_id, event_id)", "A lifecycle event_id is applied once per company."
    )

    @api.model
    def _ingest_batch(self, api_key, raw_events, request_id):
        """Apply lifecycle events in request order; same answers as usage ingestion."""
        results = []
        for raw in raw_events:
            event = parse_lifecycle_event(raw)
            if isinstance(event, Rejection):
                results.append(result(event.event_id, "rejected", (event.code, event.message)))
                continue
            try:
                with self.env.cr.savepoint():
                    results.append(self._apply_event(api_key, event, request_id))
            except LifecycleError as exc:
                results.append(result(event.event_id, "rejected", (exc.code, exc.message)))
        return results, count(results)

    def _apply_event(self, api_key, event, request_id):
        company = api_key.company_id
        self.env.cr.execute(
            "SELECT payload_hash FROM usage_subscription_change"
            " WHERE company_id = %s AND event_id = %s",
            [company.id, event.event_id],
        )
        row = self.env.cr.fetchone()
        if row:
            if row[0] == event.payload_hash:
                return result(event.event_id, "duplicate", DUPLICATE)
            return result(event.event_id, "rejected", IDEMPOTENCY_CONFLICT)
        tenant = self.env["usage.tenant"].search(
            [("company_id", "=", company.id), ("external_id", "=", event.tenant)], limit=1
        )
        allowed = api_key._allowed_tenant_ids()
        if not tenant or (allowed is not None and tenant.id not in allowed):
            raise LifecycleError("unknown_tenant", "No tenant with this id for this key.")
        plan = self.env["usage.plan"]
        if event.plan:
            plan = plan._current_for_code(event.plan, company)
            if not plan:
                raise LifecycleError("unknown_plan", f"No active plan with code {event.plan}.")
        effective_at = event.effective_at.replace(tzinfo=None)
        trace = {
            "event_id": event.event_id,
            "payload_hash": event.payload_hash,
            "request_id": request_id,
        }
        subscription = self.env["usage.subscription"].search(
            [("tenant_id", "=", tenant.id), ("state", "!=", "cancelled")], limit=1
        )
        if event.type == "activated":
            if subscription:
                raise LifecycleError(
                    "subscription_exists", "The tenant already has a subscription."
                )
            self.env["usage.subscription"]._activate(
                tenant, plan, event.seats, effective_at, **trace
            )
            return result(event.event_id, "accepted")
        if not subscription:
            raise LifecycleError("no_subscription", "The tenant has no open subscription.")
        if subscription.statement_ids.filtered(lambda s: s.period_end > effective_at):
            raise LifecycleError(
                "period_closed", "effective_at falls in a period that already has a statement."
            )
        subscription._apply_change(
            event.type, effective_at, plan=plan or None, seats=event.seats, **trace
        )
        return result(event.event_id, "accepted")


class LifecycleError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message
