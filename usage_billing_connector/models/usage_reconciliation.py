from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..utils.display import compute_period_labels
from .usage_event_billing import LINE_EVENT_QUANTITY_SQL
from .usage_reconciliation_quantity import KEPT_FOR_LINE_SQL

# One row per statement line of usage: what the events say, what the statement
# rated, what the invoice charges.  Both variances must be zero.
RECONCILIATION_SQL = f"""
SELECT l.id AS id,
       l.statement_id, s.tenant_id, s.company_id, s.currency_id, s.state AS statement_state,
       l.metric_id, l.kind, l.period_start, l.period_end,
       s.invoice_id, s.correction_of_id, o.invoice_id AS corrected_invoice_id,
       received.count AS events_received,
       quarantined.count AS events_quarantined,
       l.quantity AS billed_quantity,
       COALESCE(c.quantity, k.quantity, recomputed.quantity, 0) AS event_quantity,
       l.quantity - COALESCE(c.quantity, k.quantity, recomputed.quantity, 0) AS quantity_variance,
       l.amount AS statement_amount,
       COALESCE(invoiced.quantity, 0) AS invoiced_quantity,
       COALESCE(invoiced.amount, 0) AS invoiced_amount,
       CASE WHEN s.invoice_id IS NULL THEN 0
            ELSE l.amount - COALESCE(invoiced.amount, 0) END AS amount_variance
  FROM usage_statement_line l
  JOIN usage_statement s ON s.id = l.statement_id
  JOIN usage_tenant t ON t.id = s.tenant_id
  LEFT JOIN usage_statement o ON o.id = s.correction_of_id
  LEFT JOIN usage_metric m ON m.id = l.metric_id
  -- Raw events of old invoiced periods may be compacted: their summary stands in.
  LEFT JOIN usage_event_compaction c ON c.statement_line_id = l.id
  LEFT JOIN LATERAL (
        SELECT count(*) + (
                SELECT COALESCE(sum(c2.event_count), 0) FROM usage_event_compaction c2
                 WHERE c2.tenant_id = s.tenant_id AND c2.metric_id = l.metric_id
                   AND c2.period_start = l.period_start) AS count
          FROM usage_event_data e
         WHERE e.tenant_id = s.tenant_id AND e.metric_id = l.metric_id
           AND e.occurred_at >= l.period_start AND e.occurred_at < l.period_end
  ) received ON TRUE
  LEFT JOIN LATERAL (
        SELECT count(*) AS count FROM usage_event_data e
         WHERE e.company_id = s.company_id AND e.state = 'quarantined'
           AND e.tenant_ref = t.external_id AND e.metric_code = m.code
           AND e.occurred_at >= l.period_start AND e.occurred_at < l.period_end
  ) quarantined ON TRUE
  -- The line's quantity as kept (usage_reconciliation_quantity.py), else recomputed:
  -- the lateral's last condition skips the events of a kept line.  Looked up line
  -- by line (LIMIT: a lateral kept apart), so lines are recomputed in their order,
  -- a tenant's next to each other, whose events share pages.
  LEFT JOIN LATERAL (
        SELECT k.statement_line_id, k.quantity FROM usage_reconciliation_quantity k
         WHERE {KEPT_FOR_LINE_SQL} LIMIT 1
  ) k ON TRUE
  LEFT JOIN LATERAL ({LINE_EVENT_QUANTITY_SQL}
           AND k.statement_line_id IS NULL) recomputed ON TRUE
  LEFT JOIN LATERAL (
        -- A credit note shows credits positive: signed back to the statement's sign.
        SELECT sum(aml.quantity) AS quantity,
               sum(CASE WHEN am.move_type = 'out_refund' THEN -aml.price_subtotal
                        ELSE aml.price_subtotal END) AS amount
          FROM account_move_line aml
          JOIN account_move am ON am.id = aml.move_id AND am.state != 'cancel'
         WHERE aml.usage_statement_line_id = l.id
  ) invoiced ON TRUE
 WHERE l.kind IN ('usage', 'late_usage') AND s.state != 'rejected'
"""


class UsageReconciliation(models.Model):
    """Event → statement → invoice, per period, tenant and metric: variances must be zero."""

    _name = "usage.reconciliation"
    _description = "Usage Reconciliation"
    _auto = False
    _order = "period_start desc, tenant_id, metric_id"

    statement_id = fields.Many2one("usage.statement", readonly=True)
    tenant_id = fields.Many2one("usage.tenant", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    statement_state = fields.Selection(
        [("to_approve", "To approve"), ("approved", "Approved"), ("rejected", "Rejected")],
        readonly=True,
    )
    invoice_id = fields.Many2one("account.move", readonly=True)
    correction_of_id = fields.Many2one("usage.statement", string="Corrects", readonly=True)
    corrected_invoice_id = fields.Many2one(
        "account.move", string="Corrected invoice", readonly=True
    )
    metric_id = fields.Many2one("usage.metric", readonly=True)
    kind = fields.Selection([("usage", "Usage"), ("late_usage", "Late usage")], readonly=True)
    period_start = fields.Datetime(readonly=True)
    period_end = fields.Datetime(readonly=True)
    period_label = fields.Char(string="Period", compute="_compute_period_label")
    quantity_digits = fields.Integer(related="metric_id.decimal_places")
    events_received = fields.Integer(readonly=True)
    events_quarantined = fields.Integer(readonly=True)
    billed_quantity = fields.Float(digits=(28, 9), readonly=True)
    event_quantity = fields.Float(digits=(28, 9), readonly=True)
    quantity_variance = fields.Float(digits=(28, 9), readonly=True)
    statement_amount = fields.Monetary(readonly=True)
    invoiced_quantity = fields.Float(digits=(28, 9), readonly=True)
    invoiced_amount = fields.Monetary(readonly=True)
    amount_variance = fields.Monetary(readonly=True)

    @api.model
    def _search(self, domain, *args, **kwargs):
        # The planner prices every line as if its events were read, which a kept
        # line skips: JIT would compile for about 0.2 s a query that runs in tens
        # of ms.  LOCAL: this transaction only, the one that runs the query.
        self.env.cr.execute("SET LOCAL jit = off")
        return super()._search(domain, *args, **kwargs)

    @api.depends("period_start", "period_end")
    def _compute_period_label(self):
        compute_period_labels(self)

    def init(self):
        self.env["usage.reconciliation.quantity"]._ensure_table()
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE VIEW %s AS (%s)", SQL.identifier(self._table), SQL(RECONCILIATION_SQL))
        )
