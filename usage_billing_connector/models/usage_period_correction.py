import dataclasses
from decimal import Decimal

from odoo import api, models
from odoo.exceptions import UserError

from ..core import periods, statement_lines, utc
from .usage_period_rating import _not_charged

#: The latest billing of one period (any statement, late true-ups and earlier
#: corrections included): the snapshot a correction starts from.
PERIOD_LAST_BILLING_SQL = """
SELECT l.snapshot_to
  FROM usage_statement_line l
  JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
 WHERE l.tenant_id = %s AND l.period_start = %s AND l.kind IN ('usage', 'late_usage')
 ORDER BY l.id DESC
 LIMIT 1
"""

#: What the period's non-rejected statements charged so far, per metric.
PERIOD_BILLED_SQL = """
SELECT l.metric_id, sum(l.amount)::text
  FROM usage_statement_line l
  JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
 WHERE l.tenant_id = %s AND l.period_start = %s AND l.kind IN ('usage', 'late_usage')
 GROUP BY l.metric_id
"""


class UsagePeriodCorrection(models.AbstractModel):
    """Re-rating a closed, invoiced period into a statement of the difference.

    The period's whole usage is rated again — with the plan version it was
    billed with, or a corrected one — and compared with what every statement of
    the period charged (the original, late-usage true-ups, earlier corrections).
    Each metric whose amount differs, or that received usage since the period's
    last billing, gets a ``late_usage`` line of the difference: the events it
    bills are the ones its snapshot sees and the previous billing did not, so
    reconciliation traces them like any late usage.  Approved like any
    statement, a negative difference becomes a credit note reversing the
    original invoice, a positive one a supplementary invoice.
    """

    _name = "usage.period.correction"
    _description = "Correction of an Invoiced Usage Billing Period"

    @api.model
    def _correct(self, statement, reason, plan=None, release_held_usage=False):
        """The correction statement of ``statement``'s period (``UserError`` if none is due)."""
        original = statement.correction_of_id or statement
        self._check_correctable(original)
        # sudo: an accountant's button; the statement and its lines are written
        # in the original's company, as the billing job would.
        self = self.sudo()
        original = original.sudo()
        sub = original.subscription_id
        sub._lock_for_billing()  # never beside a closing or another correction
        plan = (plan or original.plan_id).sudo()
        if plan.currency_id != original.currency_id:
            raise UserError(self.env._("Correct a period with a plan in its own currency."))
        if release_held_usage:
            self._held_usage(original).with_context(
                usage_billing_correcting_periods=[(original.tenant_id.id, original.period_start)]
            )._reprocess()
        closing = self.env["usage.period.closing"]
        snapshot = closing._snapshot()
        lines = self._difference_lines(original, plan)
        if not lines:
            raise UserError(
                self.env._(
                    "Rating %(period)s again gives what was billed: there is nothing to correct.",
                    period=original.name,
                )
            )
        correction = self.env["usage.statement"].create(
            {
                "subscription_id": sub.id,
                "tenant_id": original.tenant_id.id,
                "partner_id": original.partner_id.id,
                "company_id": original.company_id.id,
                "currency_id": original.currency_id.id,
                "plan_id": plan.id,
                "period_start": original.period_start,
                "period_end": original.period_end,
                "correction_of_id": original.id,
                "correction_reason": reason,
            }
        )
        closing._write_lines({correction.id: (sub, lines)}, snapshot)
        correction.invalidate_recordset()
        original.message_post(
            body=self.env._("Correction %(name)s: %(reason)s", name=correction.name, reason=reason)
        )
        if not correction._requires_approval():
            correction.action_approve()
        return correction

    def _check_correctable(self, original):
        if original.state != "approved" or original.invoice_id.state != "posted":
            raise UserError(
                self.env._(
                    "Only an approved statement with a posted invoice can be corrected; "
                    "%(name)s is not (reject and recompute a statement that is not invoiced).",
                    name=original.name,
                )
            )
        if original.correction_ids.filtered(lambda c: c.state == "to_approve"):
            raise UserError(
                self.env._(
                    "%(name)s already has a correction to approve: approve or reject it first.",
                    name=original.name,
                )
            )

    @api.model
    def _held_usage(self, original):
        """Usage of the period quarantined because the period was invoiced."""
        return (
            self.env["usage.event"]
            .sudo()
            .search(
                [
                    ("company_id", "=", original.company_id.id),
                    ("state", "=", "quarantined"),
                    ("quarantine_reason", "=", "period_invoiced"),
                    ("tenant_ref", "=", original.tenant_id.external_id),
                    ("occurred_at", ">=", original.period_start),
                    ("occurred_at", "<", original.period_end),
                ]
            )
        )

    def _difference_lines(self, original, plan):
        """``[(Line, snapshot_from)]``: per metric, what the period owes now minus its charges."""
        cr = self.env.cr
        tenant_id, start, end = original.tenant_id.id, original.period_start, original.period_end
        cr.execute(PERIOD_LAST_BILLING_SQL, [tenant_id, start])
        (last_snapshot,) = cr.fetchone()
        cr.execute(PERIOD_BILLED_SQL, [tenant_id, start])
        billed = {metric_id: Decimal(amount) for metric_id, amount in cr.fetchall()}
        events = self.env["usage.event"]
        totals = events._aggregate([(tenant_id, start, end)])
        arrived = events._aggregate([(tenant_id, start, end, last_snapshot)])
        decimals = original.currency_id.decimal_places
        period = periods.Period(utc.aware(start), utc.aware(end))
        charges = {charge.metric_id.id: charge for charge in plan.charge_ids}
        metric_ids = set(charges) | {m for (_t, _s, m) in totals} | set(billed)
        lines = []
        for metric in self.env["usage.metric"].browse(sorted(metric_ids)):
            total = totals.get((tenant_id, start, metric.id), Decimal(0))
            charge = charges.get(metric.id)
            if charge is None:
                # No longer charged by the plan: whatever was charged for it is credited.
                line = dataclasses.replace(
                    _not_charged(metric, total, period, "late_usage"),
                    amount=-billed.get(metric.id, Decimal(0)),
                    plan=plan,
                )
            else:
                line = statement_lines.late_usage_line(
                    metric,
                    metric.name,
                    charge._to_core(),
                    total,
                    billed.get(metric.id, Decimal(0)),
                    decimals,
                    period,
                    plan,
                    what=self.env._("correction"),
                )
            if line.amount or (tenant_id, start, metric.id) in arrived:
                lines.append((line, last_snapshot))
        return lines
