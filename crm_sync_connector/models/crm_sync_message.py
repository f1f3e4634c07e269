"""Transactional outbox of CRM deliveries.

A change that must reach a CRM calls ``_enqueue`` in its own transaction: the
message row commits (or rolls back) with the change, and its queue_job job is
created in the same transaction, so nothing is lost or sent for a change that
did not happen.

Coalescing: at most one *pending* message per (backend, tenant, kind, key),
enforced by a partial unique index and written with ``INSERT ... ON CONFLICT DO
UPDATE``; the newest payload wins and ``revision`` counts the merged changes.
Updates compute their payload at send time, so they always send the newest
state.  A delivery job that read an older revision and then marks the message
done conflicts with the concurrent coalescing write (REPEATABLE READ): one of
the two transactions is retried and the newest state is sent again.
"""

import json
import logging

from odoo import _, api, fields, models
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

STATES = [("pending", "Pending"), ("done", "Delivered"), ("dead", "Dead")]
KINDS = [("update", "Account update"), ("alert", "Alert")]
#: HubSpot accepts 100 companies per batch request.
BATCH_SIZE = 100

ENQUEUE_SQL = """
INSERT INTO crm_sync_message AS m (
    backend_id, company_id, tenant_id, kind, dedup_key, payload, state, revision,
    attempt_count, event_date, create_uid, write_uid, create_date, write_date
)
SELECT b.id, b.company_id, %(tenant_id)s, %(kind)s, %(dedup_key)s, %(payload)s::jsonb,
       'pending', 1, 0, %(now)s, %(uid)s, %(uid)s, %(now)s, %(now)s
  FROM crm_sync_backend b
 WHERE b.id = ANY(%(backend_ids)s)
ON CONFLICT (backend_id, tenant_id, kind, dedup_key) WHERE state = 'pending'
DO UPDATE SET payload = EXCLUDED.payload,
              event_date = EXCLUDED.event_date,
              revision = m.revision + 1,
              write_uid = EXCLUDED.write_uid,
              write_date = EXCLUDED.write_date
RETURNING m.id, (m.xmax = 0) AS inserted
"""


class CrmSyncMessage(models.Model):
    _name = "crm.sync.message"
    _description = "CRM Sync Message"
    _order = "id desc"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "crm.sync.backend", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    tenant_id = fields.Many2one(
        "usage.tenant", required=True, index=True, ondelete="cascade", readonly=True
    )
    kind = fields.Selection(KINDS, required=True, readonly=True)
    dedup_key = fields.Char(
        required=True,
        default="",
        readonly=True,
        help="Alerts: metric, threshold and period; updates: empty (one per tenant).",
    )
    payload = fields.Json(readonly=True, help="Alert content; updates are computed at send time.")
    state = fields.Selection(STATES, required=True, default="pending", index=True, readonly=True)
    revision = fields.Integer(
        default=1, readonly=True, help="Number of changes merged into this message."
    )
    attempt_count = fields.Integer(readonly=True)
    event_date = fields.Datetime(readonly=True, help="When the newest merged change happened.")
    sent_date = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    remote_id = fields.Char(string="CRM record", readonly=True)
    attempt_ids = fields.One2many("crm.sync.attempt", "message_id", readonly=True)

    _pending_uniq = models.UniqueIndex(
        "(backend_id, tenant_id, kind, dedup_key) WHERE state = 'pending'",
        "Only one pending message per backend, tenant and kind.",
    )

    @api.depends("tenant_id", "kind", "backend_id")
    def _compute_display_name(self):
        labels = dict(KINDS)
        for message in self:
            message.display_name = (
                f"{message.backend_id.name}: {labels.get(message.kind)} "
                f"{message.tenant_id.external_id or ''}"
            )

    # ------------------------------------------------------------------ outbox

    @api.model
    def _enqueue(self, backends, tenant, kind="update", payload=None, dedup_key="", schedule=True):
        """Write (or coalesce into) the pending message of each backend; returns them."""
        backends = backends.filtered(lambda b: b.active and b.company_id == tenant.company_id)
        if not backends:
            return self.browse()
        self.env.flush_all()
        self.env.cr.execute(
            ENQUEUE_SQL,
            {
                "backend_ids": backends.ids,
                "tenant_id": tenant.id,
                "kind": kind,
                "dedup_key": dedup_key,
                "payload": json.dumps(payload) if payload is not None else None,
                "now": fields.Datetime.now(),
                "uid": self.env.uid,
            },
        )
        rows = self.env.cr.fetchall()
        self.env.invalidate_all()
        messages = self.browse([row[0] for row in rows])
        inserted = messages.filtered(lambda m: m.id in {r[0] for r in rows if r[1]})
        if schedule:
            inserted._schedule()
        return inserted if not schedule else messages

    def _schedule(self, eta=None):
        """One delivery job per message (HubSpot full refreshes batch, see the cron)."""
        for message in self:
            message._delay(eta=eta)._deliver()

    def _delay(self, eta=None):
        backend = self.backend_id
        backend.ensure_one()
        return self.with_delay(
            channel=backend._channel_name,
            eta=eta,
            max_retries=0,  # attempts are counted on the message (dead letter)
            description=f"CRM sync: {backend.name}",
        )

    # ------------------------------------------------------------------ delivery

    def _status(self):
        """Account status (our keys) of the message's tenant, computed now."""
        self.ensure_one()
        return self.tenant_id._crm_account_status()

    def _deliver(self):
        """Job: send the pending messages of ``self`` (one backend)."""
        # sudo: delivery is system plumbing; the job runs as the user whose change
        # triggered it (an accountant posting an invoice), who may read neither
        # the backend's credentials nor the tenant's usage, nor write the log.
        messages = self.sudo().exists().filtered(lambda m: m.state == "pending")
        if not messages:
            return "nothing pending"
        backend = messages.backend_id
        backend.ensure_one()
        messages = messages.with_company(backend.company_id)
        backend = backend.with_company(backend.company_id)
        retry_later, delivered = [], False
        for group, result in backend._push(messages):
            attempt_values = group._attempt_values(result)
            if result.ok:
                group._mark_done(result, attempt_values)
                delivered = True
                continue
            attempts = group[:1].attempt_count + 1
            if result.retryable and attempts < backend.max_attempts:
                retry_later.append((group, result, attempt_values, attempts))
            else:
                group._mark_dead(result, attempt_values)
        if not retry_later:
            return f"{len(messages)} message(s) processed"
        return self._retry(retry_later, partial=delivered)

    def _retry(self, retry_later, partial):
        """Count the failed attempt and retry later, honouring the server's delay.

        When nothing of this job was delivered, the attempt is logged in its own
        transaction and ``RetryableJobError`` makes queue_job retry the job
        after the delay (the job's transaction is rolled back).  When part of the
        job was delivered, that part is kept and the failed messages get a new
        job with the delay as ETA.
        """
        delay = max(
            result.retry_after if result.retry_after is not None else result.next_delay(attempts)
            for _group, result, _values, attempts in retry_later
        )
        if partial:
            for group, result, attempt_values, _attempts in retry_later:
                group._mark_failed(result, attempt_values)
                group._schedule(eta=int(delay))
            return "partially delivered; retry scheduled"
        # A separate transaction: the job's own is rolled back by the retry.
        with self.env.registry.cursor() as cr:
            env = retry_later[0][0].env(cr=cr)  # keeps the delivery's sudo and company
            for group, result, attempt_values, _attempts in retry_later:
                group.with_env(env)._mark_failed(result, attempt_values)
        self.env.invalidate_all()
        error = "; ".join(result.error or "" for _g, result, _v, _a in retry_later)
        raise RetryableJobError(error, seconds=max(1, int(delay)))

    def _attempt_values(self, result):
        return [
            {
                "method": attempt.method,
                "url": attempt.url,
                "status_code": attempt.status,
                "duration_ms": attempt.duration_ms,
                "error": attempt.error,
            }
            for attempt in result.attempts
        ] or [
            {
                "method": False,
                "url": False,
                "status_code": result.status,
                "duration_ms": result.duration_ms,
                "error": result.error,
            }
        ]

    def _log_attempts(self, attempt_values, result):
        summary = result.error if not result.ok else False
        self.env["crm.sync.attempt"].create(
            [
                {
                    "message_id": message.id,
                    "backend_id": message.backend_id.id,
                    "company_id": message.company_id.id,
                    "attempt_number": message.attempt_count,
                    "result_error": summary,
                    **values,
                }
                for message in self
                for values in attempt_values
            ]
        )

    def _mark_done(self, result, attempt_values):
        for message in self:
            remote = result.external_ids.get(message.tenant_id.external_id) or result.remote_id
            message.write(
                {
                    "state": "done",
                    "attempt_count": message.attempt_count + 1,
                    "sent_date": fields.Datetime.now(),
                    "last_error": False,
                    "remote_id": remote or message.remote_id,
                }
            )
        self._log_attempts(attempt_values, result)

    def _mark_failed(self, result, attempt_values):
        for message in self:
            message.write({"attempt_count": message.attempt_count + 1, "last_error": result.error})
        self._log_attempts(attempt_values, result)

    def _mark_dead(self, result, attempt_values):
        self._mark_failed(result, attempt_values)
        self.write({"state": "dead"})
        _logger.warning(
            "CRM sync: %s message(s) dead after %s attempt(s): %s",
            len(self),
            self[:1].attempt_count,
            result.error,
        )

    # ------------------------------------------------------------------ replay

    def action_replay(self):
        """Send dead messages again (their payloads are recomputed at send time)."""
        dead = self.filtered(lambda m: m.state == "dead")
        if not dead:
            raise UserError(_("Only dead messages can be replayed."))
        for message in dead:
            pending = self.search(
                [
                    ("backend_id", "=", message.backend_id.id),
                    ("tenant_id", "=", message.tenant_id.id),
                    ("kind", "=", message.kind),
                    ("dedup_key", "=", message.dedup_key),
                    ("state", "=", "pending"),
                ],
                limit=1,
            )
            if pending:
                # A newer change is already on its way: it carries the newest state.
                message.write({"state": "done", "last_error": _("Superseded on replay.")})
                continue
            message.write({"state": "pending", "attempt_count": 0})
            message._schedule()
        return True
