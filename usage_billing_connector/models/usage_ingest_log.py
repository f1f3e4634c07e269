from odoo import api, fields, models

from ..utils.params import get_int_param


class UsageIngestLog(models.Model):
    """One row per ingestion request, whatever its outcome."""

    _name = "usage.ingest.log"
    _description = "Usage Ingestion Log"
    _order = "id desc"
    _rec_name = "request_id"

    request_id = fields.Char(required=True, index=True, readonly=True)
    endpoint = fields.Char(readonly=True)
    api_key_id = fields.Many2one("usage.api.key", readonly=True, index=True, ondelete="set null")
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    http_status = fields.Integer(readonly=True)
    accepted = fields.Integer(readonly=True)
    duplicates = fields.Integer(readonly=True)
    quarantined = fields.Integer(readonly=True)
    rejected = fields.Integer(readonly=True)
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    error_code = fields.Char(readonly=True)
    errors = fields.Json(readonly=True, help="The request error, or the rejected events' errors.")

    _key_date_idx = models.Index("(api_key_id, create_date DESC)")
    # The overview's "ingestion today" and "last event received".
    _company_date_idx = models.Index("(company_id, create_date DESC)")

    @api.model
    def _record(self, values):
        # sudo: the ingestion endpoint runs without a user; the log is append-only.
        return self.sudo().create(values)

    @api.model
    def _cron_purge(self):
        days = get_int_param(self.env, "log_retention_days")
        self.env.cr.execute(
            "DELETE FROM usage_ingest_log WHERE create_date < "
            "(now() at time zone 'UTC') - make_interval(days => %s)",
            (days,),
        )
        self.env["usage.rate.counter"]._gc_old_windows()
