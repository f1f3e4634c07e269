import psycopg2

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, UserError

from ..core import subscription_history
from ..core.ingestion import DUPLICATE, IDEMPOTENCY_CONFLICT, count, result
from ..core.lifecycle_payload import parse_lifecycle_event
from ..core.payload import Rejection
from ..exceptions import SubscriptionChangeError
from .usage_subscription import STATES

#: ``_company_event_uniq`` below, as PostgreSQL names it.
EVENT_UNIQUE_CONSTRAINT = "usage_subscription_change_company_event_uniq"

CHANGE_TYPES = [
    ("activated", "Activated"),
    ("plan_changed", "Plan changed"),
    ("seats_changed", "Seats changed"),
    ("suspended", "Suspended"),
    ("reactivated", "Reactivated"),
    ("cancelled", "Cancelled"),
]


class UsageSubscriptionChange(models.Model):
    """One lifecycle change and the subscription's state from ``effective_at`` on.

    ``requested_*`` is what the change asked for; ``plan_id``, ``seats`` and
    ``state`` are the state in force after it, replayed from the whole history in
    effective order (``core.subscription_history``): the history proration reads.
    """

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
    requested_plan_id = fields.Many2one("usage.plan", readonly=True)
    requested_seats = fields.Integer(readonly=True)
    sets_seats = fields.Boolean(readonly=True, help="The change sets the number of seats.")
    requested_state = fields.Selection(STATES, readonly=True)
    plan_id = fields.Many2one("usage.plan", required=True, string="Plan in force")
    seats = fields.Integer(required=True, string="Seats in force")
    state = fields.Selection(STATES, required=True, string="State in force")
    event_id = fields.Char(string="Event ID", help="Lifecycle event that made this change.")
    request_id = fields.Char(help="API request that carried the lifecycle event.")
    payload_hash = fields.Char()

    _company_event_uniq = models.Constraint(
        "UNIQUE(company_id, event_id)", "A lifecycle event_id is applied once per company."
    )

    def _as_history(self):
        """The changes as the pure replay sees them (plan records as plan keys)."""
        return [
            subscription_history.Change(
                effective_at=change.effective_at,
                sequence=change.id,
                plan=change.requested_plan_id or None,
                seats=change.requested_seats if change.sets_seats else None,
                state=change.requested_state or None,
            )
            for change in self
        ]

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
            except psycopg2.errors.UniqueViolation as exc:
                if exc.diag.constraint_name != EVENT_UNIQUE_CONSTRAINT:
                    raise
                # The same event was committed meanwhile by a concurrent request (another
                # worker or node), after this transaction's snapshot: Odoo retries the
                # request, whose new snapshot answers "duplicate" or a conflict.
                message = f"Lifecycle event {event.event_id} stored concurrently"
                raise ConcurrencyError(message) from exc
            except SubscriptionChangeError as exc:
                results.append(result(event.event_id, "rejected", (exc.code, exc.message)))
            except UserError as exc:  # any other business rule (a constraint of a model)
                results.append(result(event.event_id, "rejected", ("invalid_change", str(exc))))
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
            raise SubscriptionChangeError("unknown_tenant", "No tenant with this id for this key.")
        plan = self.env["usage.plan"]
        if event.plan:
            plan = plan._for_tenant(event.plan, tenant)
        effective_at = event.effective_at.replace(tzinfo=None)
        trace = {
            "event_id": event.event_id,
            "payload_hash": event.payload_hash,
            "request_id": request_id,
        }
        subscriptions = self.env["usage.subscription"]
        if event.type == "activated":
            subscriptions._activate(tenant, plan, event.seats, effective_at, **trace)
            return result(event.event_id, "accepted")
        subscription = subscriptions._in_force(tenant, effective_at)
        if not subscription:
            raise SubscriptionChangeError(
                "no_subscription", "The tenant has no subscription in force at effective_at."
            )
        subscription._apply_change(
            event.type, effective_at, plan=plan or None, seats=event.seats, **trace
        )
        return result(event.event_id, "accepted")
