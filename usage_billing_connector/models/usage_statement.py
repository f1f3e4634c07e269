from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..utils.actions import form_action
from ..utils.display import compute_period_labels
from ..utils.params import get_bool_param
from .usage_event_billing import BILLED_EVENT_SQL


class UsageStatement(models.Model):
    """What one subscription owes for one closed billing period, before invoicing."""

    _name = "usage.statement"
    _description = "Usage Statement"
    _inherit = ["usage.numbered.mixin", "mail.thread"]
    _order = "period_start desc, id desc"
    _check_company_auto = True

    subscription_id = fields.Many2one(
        "usage.subscription", required=True, readonly=True, index=True, check_company=True
    )
    tenant_id = fields.Many2one("usage.tenant", required=True, readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    plan_id = fields.Many2one("usage.plan", required=True, readonly=True)
    period_start = fields.Datetime(required=True, readonly=True)
    period_end = fields.Datetime(required=True, readonly=True)
    period_label = fields.Char(string="Period", compute="_compute_period_label")
    state = fields.Selection(
        [("to_approve", "To approve"), ("approved", "Approved"), ("rejected", "Rejected")],
        required=True,
        default="to_approve",
        readonly=True,
        tracking=True,
        index=True,
    )
    reject_reason = fields.Text(tracking=True)
    line_ids = fields.One2many("usage.statement.line", "statement_id", readonly=True)
    amount_untaxed = fields.Monetary(compute="_compute_amount_untaxed", store=True)
    invoice_id = fields.Many2one("account.move", readonly=True, copy=False, tracking=True)
    commitment_amount = fields.Monetary(
        string="Minimum spend",
        readonly=True,
        help="The period's commitment, prorated for the time it was in force: the usage of "
        "the period, late usage included, is measured against it.",
    )
    event_count = fields.Integer(compute="_compute_event_count")
    # A correction re-rates an invoiced period: a statement of the difference,
    # invoiced as a credit note of the original invoice or a supplementary one.
    correction_of_id = fields.Many2one(
        "usage.statement", string="Corrects", readonly=True, index=True, check_company=True
    )
    correction_ids = fields.One2many("usage.statement", "correction_of_id", readonly=True)
    correction_reason = fields.Text(readonly=True)

    _period_stated_once = models.UniqueIndex(
        "(subscription_id, period_start) WHERE correction_of_id IS NULL",
        "A billing period is stated once (corrections aside).",
    )
    _one_correction_to_approve = models.UniqueIndex(
        "(correction_of_id) WHERE state = 'to_approve'",
        "A period has one correction waiting for approval at a time.",
    )
    _invoice_uniq = models.UniqueIndex(
        "(invoice_id) WHERE invoice_id IS NOT NULL", "A statement has its own invoice."
    )

    @api.depends("period_start", "period_end")
    def _compute_period_label(self):
        compute_period_labels(self)

    @api.depends("line_ids.amount")
    def _compute_amount_untaxed(self):
        for statement in self:
            statement.amount_untaxed = sum(statement.line_ids.mapped("amount"))

    def _compute_event_count(self):
        counts = {}
        if self.ids:
            self.env["usage.statement.line"].flush_model()
            self.env.cr.execute(
                SQL(
                    """
                    SELECT l.statement_id, count(e.id)
                      FROM usage_statement_line l
                      JOIN usage_event_data e ON %s
                     WHERE l.statement_id = ANY(%s)
                     GROUP BY l.statement_id
                    """,
                    SQL(BILLED_EVENT_SQL),
                    self.ids,
                )
            )
            counts = dict(self.env.cr.fetchall())
        for statement in self:
            statement.event_count = counts.get(statement.id, 0)

    # ---------------------------------------------------------------- approval

    def _lock_for_decision(self):
        """Row locks so that two approvals of one statement cannot both invoice."""
        self.env.cr.execute(
            "SELECT id FROM usage_statement WHERE id = ANY(%s) FOR UPDATE", [self.ids]
        )
        self.invalidate_recordset(["state", "invoice_id"])

    def action_approve(self):
        self._lock_for_decision()
        pending = self.filtered(lambda s: s.state == "to_approve")
        if not pending and self:
            raise UserError(self.env._("Only statements to approve can be approved."))
        pending.write({"state": "approved"})
        pending._create_invoices()
        pending.invoice_id._usage_post_and_send()  # when the company posts and sends on approval
        return True

    def action_reject(self):
        self._lock_for_decision()
        for statement in self:
            if statement.state != "to_approve":
                raise UserError(self.env._("Only statements to approve can be rejected."))
            if not statement.reject_reason:
                raise UserError(self.env._("Write why %s is rejected first.", statement.name))
        # Its usage goes back to unbilled by itself: "billed" is read from the
        # statements that are not rejected (usage.event.statement_id).
        self.write({"state": "rejected"})
        self.env["usage.event"]._invalidate_billing()
        return True

    def action_recompute(self):
        """Rate a rejected period again (after fixing quarantine, mapping or plan)."""
        for statement in self:
            if statement.state != "rejected":
                raise UserError(self.env._("Only rejected statements can be recomputed."))
            if statement.correction_of_id:
                raise UserError(self.env._("Correct the period again instead."))
            statement.line_ids.unlink()
            statement.write({"state": "to_approve"})
            self.env["usage.period.closing"]._fill_statement(statement)
        return True

    def _create_invoices(self):
        for statement in self:
            if statement.invoice_id:
                continue  # exactly one invoice per statement
            if statement.correction_of_id and not statement.amount_untaxed:
                continue  # usage attributed at no charge: nothing to invoice or credit
            move = (
                self.env["account.move"]
                .with_company(statement.company_id)
                .create(statement._invoice_values())
            )
            statement.invoice_id = move

    def _invoice_values(self):
        self.ensure_one()
        credit = bool(self.correction_of_id) and self.amount_untaxed < 0
        sign = -1 if credit else 1
        values = {
            "move_type": "out_refund" if credit else "out_invoice",
            "partner_id": self.partner_id.id,
            "currency_id": self.currency_id.id,
            "company_id": self.company_id.id,
            "invoice_origin": self.name,
            "ref": f"{self.tenant_id.external_id} {self.period_start.date()}",
            "invoice_line_ids": [
                fields.Command.create(line._invoice_line_values(sign))
                for line in self.line_ids.sorted("sequence")
            ],
        }
        if self.correction_of_id:
            original = self.correction_of_id.invoice_id
            values["ref"] = self.env._(
                "Correction of %(invoice)s: %(reason)s",
                invoice=original.name,
                reason=self.correction_reason,
            )
            if credit:
                values["reversed_entry_id"] = original.id
        return values

    @api.model
    def _requires_approval(self):
        return get_bool_param(self.env, "require_approval")

    def action_correct(self):
        """Button: open the wizard that re-rates this invoiced period."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "usage.statement.correction.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_statement_id": (self.correction_of_id or self).id},
        }

    def action_view_invoice(self):
        self.ensure_one()
        return form_action(self.invoice_id)
