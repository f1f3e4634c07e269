import json
from datetime import timezone

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..core.ingestion import finish_batch, plan_batch
from ..core.payload import UsageEvent as ParsedUsageEvent
from ..core.payload import parse_events
from ..core.quarantine import REASONS, ClassifyContext, TenantInfo, classify
from ..utils import event_store, usage_rollup
from ..utils.ingest_sql import INSERT_EVENTS_SQL

QUANTITY_DIGITS = (28, 9)


class UsageEvent(models.Model):
    """A unit of usage as the product sent it; append-only (billing never rewrites it).

    Stored in a table partitioned by month, read and written by the ORM through
    a view (``utils/event_store.py``): ``_auto = False``, the schema is ours.
    """

    _name = "usage.event"
    _description = "Usage Event"
    _auto = False
    _order = "occurred_at desc, id desc"
    _rec_name = "event_id"
    _check_company_auto = True

    event_id = fields.Char(string="Event ID", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    api_key_id = fields.Many2one("usage.api.key", readonly=True, ondelete="set null")
    request_id = fields.Char(readonly=True, index="btree_not_null")
    tenant_ref = fields.Char(string="Tenant (as sent)", required=True, readonly=True)
    tenant_id = fields.Many2one(
        "usage.tenant", readonly=True, ondelete="restrict", check_company=True
    )
    partner_id = fields.Many2one(related="tenant_id.partner_id", string="Customer")
    metric_code = fields.Char(string="Metric (as sent)", required=True, readonly=True)
    metric_id = fields.Many2one(
        "usage.metric", readonly=True, ondelete="restrict", check_company=True
    )
    quantity = fields.Float(digits=QUANTITY_DIGITS, required=True, readonly=True)
    quantity_digits = fields.Integer(compute="_compute_quantity_digits")
    occurred_at = fields.Datetime(
        required=True, readonly=True, help="When the usage happened (UTC)."
    )
    received_at = fields.Datetime(required=True, readonly=True)
    properties = fields.Json(readonly=True)
    state = fields.Selection(
        [("accepted", "Accepted"), ("quarantined", "Quarantined"), ("discarded", "Discarded")],
        required=True,
        readonly=True,
    )
    quarantine_reason = fields.Selection(
        [(code, code.replace("_", " ").capitalize()) for code in REASONS], readonly=True
    )
    quarantine_message = fields.Char(compute="_compute_quarantine_message")

    def init(self):
        event_store.ensure_schema(self.env.cr, fields.Date.today())

    @api.model_create_multi
    def create(self, vals_list):
        """ORM creation (tests, imports): keys and billability as ingestion records them."""
        events = super().create(vals_list)
        self.env.cr.execute(
            """
            INSERT INTO usage_event_key (company_id, event_id, payload_hash)
            SELECT company_id, event_id, 'orm:' || id FROM usage_event_data WHERE id = ANY(%s)
            """,
            [events.ids],
        )
        events.filtered(lambda e: e.state == "accepted")._mark_accepted()
        return events

    def write(self, vals):
        result = super().write(vals)
        if vals.get("state") == "accepted":
            self._mark_accepted()
        return result

    def _mark_accepted(self):
        """This transaction made these events billable (see ``utils/event_store.py``)."""
        if self:
            self.flush_recordset()
            self.env.cr.execute(
                "UPDATE usage_event_data SET accepted_xid = pg_current_xact_id(),"
                " accepted_seq = (SELECT nextval('usage_event_accepted_seq')) WHERE id = ANY(%s)"
                " RETURNING tenant_id, occurred_at",
                [self.ids],
            )
            marked = [row for row in self.env.cr.fetchall() if row[0]]
            event_store.mark_late_usage(
                self.env.cr, [row[0] for row in marked], [row[1] for row in marked]
            )
            usage_rollup.add_events(self.env.cr, self.ids)

    @api.depends("metric_id.decimal_places")
    def _compute_quantity_digits(self):
        # Unknown metric (quarantined): the exact quantity, without trailing zeros.
        for event in self:
            event.quantity_digits = event.metric_id.decimal_places if event.metric_id else -1

    @api.depends("quarantine_reason")
    def _compute_quarantine_message(self):
        for event in self:
            event.quarantine_message = REASONS.get(event.quarantine_reason) or False

    # ------------------------------------------------------------------ ingestion

    @api.model
    def _classify_context(self, api_key, tenant_refs, metric_codes):
        """Look up, once per batch, everything the quarantine rules need."""
        self.env.flush_all()  # the lookups below are raw SQL
        cr, company_id = self.env.cr, api_key.company_id.id
        cr.execute(
            "SELECT external_id, id, state FROM usage_tenant"
            " WHERE company_id = %s AND external_id = ANY(%s)",
            (company_id, list(tenant_refs)),
        )
        tenants = {ref: TenantInfo(tid, state) for ref, tid, state in cr.fetchall()}
        cr.execute(
            "SELECT code, id FROM usage_metric WHERE company_id = %s AND active AND code = ANY(%s)",
            (company_id, list(metric_codes)),
        )
        return ClassifyContext(
            tenants=tenants,
            metrics=dict(cr.fetchall()),
            allowed_tenant_ids=api_key._allowed_tenant_ids(),
            now=fields.Datetime.now().replace(tzinfo=timezone.utc),
            is_closed=self._closed_period_rule([t.id for t in tenants.values()]),
        )

    @api.model
    def _ingest_batch(self, api_key, raw_events, request_id):
        """Store one batch with one INSERT; return (results, counts)."""
        parsed = parse_events(raw_events)
        events = [item for item in parsed if isinstance(item, ParsedUsageEvent)]
        context = self._classify_context(
            api_key, {e.tenant for e in events}, {e.metric for e in events}
        )
        plan = plan_batch(parsed, context)
        inserted = self._insert_rows(api_key, plan.rows, request_id)
        existing = self._stored_hashes(api_key, set(plan.event_ids) - inserted)
        return finish_batch(plan, inserted, existing)

    def _insert_rows(self, api_key, rows, request_id):
        if not rows:
            return set()
        now = fields.Datetime.now()
        self.env.cr.execute(
            INSERT_EVENTS_SQL,
            {
                "company_id": api_key.company_id.id,
                "api_key_id": api_key.id,
                "request_id": request_id,
                "now": now,
                "uid": self.env.uid,
                "event_ids": [r.event.event_id for r in rows],
                "tenant_ids": [r.tenant_id for r in rows],
                "tenant_refs": [r.event.tenant for r in rows],
                "metric_ids": [r.metric_id for r in rows],
                "metric_codes": [r.event.metric for r in rows],
                "quantities": [r.event.quantity for r in rows],
                "occurred_ats": [r.event.occurred_at.replace(tzinfo=None) for r in rows],
                "properties": [json.dumps(r.event.properties) for r in rows],
                "states": [r.state for r in rows],
                "reasons": [r.reason for r in rows],
                "hashes": [r.payload_hash for r in rows],
            },
        )
        inserted = {row[0] for row in self.env.cr.fetchall()}
        late = [r for r in rows if r.state == "accepted" and r.event.event_id in inserted]
        event_store.mark_late_usage(
            self.env.cr,
            [r.tenant_id for r in late],
            [r.event.occurred_at.replace(tzinfo=None) for r in late],
        )
        # The ORM cache knows nothing of rows written in SQL.  (Fetch first:
        # invalidating flushes pending writes, which runs queries on the cursor.)
        self.env.invalidate_all()
        return inserted

    def _stored_hashes(self, api_key, event_ids):
        if not event_ids:
            return {}
        self.env.cr.execute(
            "SELECT event_id, payload_hash FROM usage_event_key"
            " WHERE company_id = %s AND event_id = ANY(%s)",
            (api_key.company_id.id, list(event_ids)),
        )
        return dict(self.env.cr.fetchall())

    # --------------------------------------------------------------- quarantine

    def action_reprocess(self):
        """Button: apply the quarantine rules again, e.g. after mapping a missing tenant."""
        quarantined = self.filtered(lambda e: e.state == "quarantined")
        if not quarantined:
            raise UserError(self.env._("Select quarantined events to reprocess."))
        released = quarantined._reprocess()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._(
                    "%(released)s of %(total)s events accepted; the others stay quarantined.",
                    released=len(released),
                    total=len(quarantined),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _reprocess(self):
        """Classify quarantined events again; return those now accepted."""
        released = self.browse()
        # One lookup per key and company: the key decides the allowed tenants, the
        # company the tenants and metrics (a deleted key leaves only the company).
        for (key, company), events in self.grouped(lambda e: (e.api_key_id, e.company_id)).items():
            context = self._classify_context(
                key or _CompanyOnlyKey(company),
                set(events.mapped("tenant_ref")),
                set(events.mapped("metric_code")),
            )
            updates = [
                (
                    event,
                    classify(
                        event.tenant_ref,
                        event.metric_code,
                        event.occurred_at.replace(tzinfo=timezone.utc),
                        context,
                    ),
                )
                for event in events
            ]
            self._write_verdicts(updates)
            released |= self.browse(
                [event.id for event, verdict in updates if verdict.state == "accepted"]
            )
        return released

    def _write_verdicts(self, updates):
        """Store ``[(event, verdict)]``: one ORM write per distinct verdict."""
        by_verdict = {}
        for event, verdict in updates:
            by_verdict.setdefault(verdict, self.browse())
            by_verdict[verdict] |= event
        for verdict, events in by_verdict.items():
            events.write(
                {
                    "state": verdict.state,
                    "quarantine_reason": verdict.reason or False,
                    "tenant_id": verdict.tenant_id or False,
                    "metric_id": verdict.metric_id or False,
                }
            )

    def action_discard(self):
        """A human decision that quarantined usage must never be billed (kept, not deleted)."""
        if self.filtered(lambda e: e.state != "quarantined"):
            raise UserError(self.env._("Only quarantined events can be discarded."))
        self.write({"state": "discarded"})

    @api.model
    def _cron_ensure_partitions(self, months_ahead=3):
        """The monthly partitions of the next months exist before their usage arrives."""
        today = fields.Date.today()
        return event_store.ensure_partitions(
            self.env.cr,
            event_store.month_start(today),
            event_store.add_months(event_store.month_start(today), months_ahead),
        )

    @api.model
    def _cron_summarize_new_events(self):
        """Hourly: the BRIN index covers the events written since (``event_store``)."""
        return event_store.summarize_new_ranges(self.env.cr)

    @api.model
    def _cron_compact_rollups(self):
        """Hourly: one rollup row per (tenant, metric, day), and per (tenant, metric,
        month, value) of the distinct values."""
        now = fields.Datetime.now()
        usage_rollup.compact(self.env.cr, now.replace(minute=0, second=0, microsecond=0))

    @api.model
    def _cron_reprocess_quarantined(self, limit=10000):
        events = self.search([("state", "=", "quarantined")], limit=limit, order="id")
        return events._reprocess()


class _CompanyOnlyKey:
    """Stands in for an API key when a quarantined event's key was deleted."""

    def __init__(self, company):
        self.company_id = company

    def _allowed_tenant_ids(self):
        return None
