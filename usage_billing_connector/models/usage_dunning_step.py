from odoo import api, fields, models

from ..core import dunning

TRIGGERS = [
    (dunning.DUE, "Days after the due date"),
    (dunning.FAILED_CHARGE, "Days after a failed charge"),
]
ACTIONS = [
    (dunning.RETRY, "Retry the charge"),
    (dunning.REMINDER, "Send a reminder"),
    (dunning.SUSPEND, "Suspend the subscription"),
]


class UsageDunningStep(models.Model):
    """One step of a company's dunning policy (``core.dunning`` decides when it is due)."""

    _name = "usage.dunning.step"
    _description = "Usage Dunning Step"
    _order = "company_id, sequence, days, id"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    sequence = fields.Integer(default=10)
    trigger = fields.Selection(TRIGGERS, required=True, default=dunning.DUE)
    days = fields.Integer(required=True, default=1)
    action = fields.Selection(ACTIONS, required=True, default=dunning.REMINDER)
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Reminder template",
        domain=[("model", "=", "account.move")],
        help="Reminders only; empty: the module's reminder with the portal link.",
    )
    active = fields.Boolean(default=True)

    _days_positive = models.Constraint("CHECK(days >= 0)", "Days cannot be negative.")

    @api.depends("trigger", "days", "action")
    def _compute_display_name(self):
        triggers, actions = dict(TRIGGERS), dict(ACTIONS)
        for step in self:
            step.display_name = (
                f"{actions.get(step.action)}: {step.days} "
                f"{(triggers.get(step.trigger) or '').lower()}"
            )

    def _as_core(self):
        return [dunning.Step(s.id, s.sequence, s.trigger, s.days, s.action) for s in self]

    def _reminder_template(self):
        self.ensure_one()
        return self.mail_template_id or self.env.ref(
            "usage_billing_connector.mail_template_usage_dunning_reminder"
        )
