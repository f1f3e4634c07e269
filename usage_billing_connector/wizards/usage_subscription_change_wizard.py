from odoo import api, fields, models


class UsageSubscriptionChangeWizard(models.TransientModel):
    """Record a plan or seat change from the UI, through the same rules as the API."""

    _name = "usage.subscription.change.wizard"
    _description = "Change a Usage Subscription"

    subscription_id = fields.Many2one("usage.subscription", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="subscription_id.company_id")
    currency_id = fields.Many2one(related="subscription_id.tenant_id.currency_id")
    change_type = fields.Selection(
        [("plan_changed", "Change plan"), ("seats_changed", "Change seats")],
        required=True,
        default="seats_changed",
    )
    effective_at = fields.Datetime(
        required=True,
        default=fields.Datetime.now,
        help="When the change takes effect; recurring fees are prorated to the second.",
    )
    plan_id = fields.Many2one(
        "usage.plan",
        domain="[('company_id', '=', company_id), ('currency_id', '=', currency_id)]",
        help="Price lists in the tenant's currency.",
    )
    seats = fields.Integer()
    change_seats = fields.Boolean(string="Also change seats")

    @api.onchange("subscription_id")
    def _onchange_subscription_id(self):
        self.seats = self.subscription_id.seats
        self.plan_id = self.subscription_id.plan_id

    def action_apply(self):
        self.ensure_one()
        seats = self.seats if self.change_type == "seats_changed" or self.change_seats else None
        plan = self.plan_id if self.change_type == "plan_changed" else None
        self.subscription_id._apply_change(
            self.change_type, self.effective_at, plan=plan, seats=seats
        )
        return {"type": "ir.actions.act_window_close"}
