"""Suspensions and reactivations reach the product platform, whoever made them."""

from odoo import models

from ..core.webhook_events import rfc3339

NOTIFIED_CHANGES = ("suspended", "reactivated")


class UsageSubscription(models.Model):
    _inherit = "usage.subscription"  # pylint: disable=consider-merging-classes-inherited

    def _apply_change(
        self, change_type, effective_at, plan=None, seats=None, reason=None, invoice=None, **trace
    ):
        """``reason`` (``dunning``, ``payment``...) and ``invoice`` are told to the platform.

        Without a reason, a change carried by a lifecycle event is ``api`` and one
        made in Odoo is ``manual``.
        """
        change = super()._apply_change(change_type, effective_at, plan=plan, seats=seats, **trace)
        if change_type in NOTIFIED_CHANGES:
            reason = reason or ("api" if trace.get("event_id") else "manual")
            data = {
                "subscription": {
                    "id": self.id,
                    "state": self.state,
                    "plan": self.plan_id.code,
                    "seats": self.seats,
                    "effective_at": rfc3339(change.effective_at),
                },
                "reason": reason,
            }
            if invoice:
                data["invoice"] = {
                    "number": invoice.name,
                    "amount_residual": self.tenant_id._api_invoice(
                        invoice, invoice.usage_statement_ids[:1], invoice.get_base_url()
                    )["amount_residual"],
                    "currency": invoice.currency_id.name,
                }
            self.tenant_id._usage_notify(f"subscription.{change_type}", data)
        return change
