from odoo import api, fields, models
from odoo.exceptions import ValidationError


class UsageMetric(models.Model):
    _name = "usage.metric"
    _description = "Usage Metric"
    _order = "code"
    _rec_names_search = ["code", "name"]
    _check_company_auto = True

    code = fields.Char(required=True, help="Sent as 'metric' in usage events.")
    name = fields.Char(required=True, translate=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    product_id = fields.Many2one(
        "product.product",
        string="Invoiced product",
        required=True,
        check_company=True,
        domain=[("type", "=", "service")],
    )
    # Stored: the read API names the unit on every request without loading the product.
    uom_id = fields.Many2one("uom.uom", string="Unit", related="product_id.uom_id", store=True)
    aggregation = fields.Selection(
        [
            ("sum", "Sum of quantities"),
            ("max", "Maximum quantity"),
            ("count", "Number of events"),
            ("unique_count", "Distinct values of a property"),
            ("last", "Last quantity of the period"),
        ],
        required=True,
        default="sum",
    )
    unique_property = fields.Char(
        help="Property whose distinct values are counted (unique_count only)."
    )
    decimal_places = fields.Integer(
        default=2,
        help="Decimal places its quantities are shown with (statements, events, "
        "reconciliation): 0 for calls or seats, 2 or 3 for gigabytes. Display only: "
        "quantities are stored and rated exactly.",
    )
    active = fields.Boolean(default=True)

    _code_company_uniq = models.Constraint(
        "UNIQUE(company_id, code)", "A metric code is unique per company."
    )

    _decimal_places_range = models.Constraint(
        "CHECK(decimal_places BETWEEN 0 AND 9)", "A metric shows 0 to 9 decimal places."
    )

    @api.constrains("aggregation", "unique_property")
    def _check_unique_property(self):
        for metric in self:
            if metric.aggregation == "unique_count" and not metric.unique_property:
                raise ValidationError(
                    self.env._("Metric %s counts distinct values: name the property.", metric.code)
                )

    @api.depends("code", "name")
    def _compute_display_name(self):
        for metric in self:
            metric.display_name = f"{metric.code} - {metric.name}" if metric.name else metric.code
