from markupsafe import Markup, escape

from odoo import api, fields, models

from ..utils.params import get_int_param


class UsageEventCompactionWizard(models.TransientModel):
    """Preview (dry run), then compact the raw usage of old invoiced periods."""

    _name = "usage.event.compaction.wizard"
    _description = "Compact Old Usage"

    months = fields.Integer(
        string="Keep raw usage (months)",
        default=lambda self: get_int_param(self.env, "retention_months") or 24,
        required=True,
    )
    cutoff = fields.Datetime(compute="_compute_preview", string="Periods ended before")
    line_count = fields.Integer(compute="_compute_preview", string="Statement lines")
    event_count = fields.Integer(compute="_compute_preview", string="Raw events removed")
    preview = fields.Html(compute="_compute_preview", sanitize=False)

    @api.depends("months")
    def _compute_preview(self):
        compaction = self.env["usage.event.compaction"]
        for wizard in self:
            cutoff = compaction._cutoff(max(wizard.months, 1))
            rows = compaction._preview(cutoff)
            wizard.cutoff = cutoff
            wizard.line_count = sum(row["lines"] for row in rows)
            wizard.event_count = sum(row["events"] for row in rows)
            cells = Markup("").join(
                Markup(
                    "<tr><td>%s</td><td class='text-end'>%s</td><td class='text-end'>%s</td></tr>"
                )
                % (escape(f"{row['month']:%B %Y}"), row["lines"], f"{row['events']:,}")
                for row in rows
            )
            wizard.preview = (
                Markup(
                    "<table class='table table-sm'><thead><tr><th>Period</th>"
                    "<th class='text-end'>Statement lines</th><th class='text-end'>Events</th>"
                    "</tr></thead><tbody>%s</tbody></table>"
                )
                % cells
                if rows
                else Markup("<p>Nothing to compact: no invoiced period is that old.</p>")
            )

    def action_compact(self):
        self.ensure_one()
        compacted = self.env["usage.event.compaction"]._compact(self.cutoff)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Compacted usage"),
            "res_model": "usage.event.compaction",
            "view_mode": "list,form",
            "domain": [("id", "in", compacted.ids)],
        }
