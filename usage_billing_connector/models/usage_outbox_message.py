"""Transactional outbox: everything that leaves Odoo is written here first.

A change that must reach another system writes an outbox message in its own
transaction: the message commits (or rolls back) with the change, and its
queue_job job is created in the same transaction, so nothing is lost and nothing
is sent for a change that did not happen.  One job delivers the pending messages
of one destination; failures are retried with backoff (the server's
``Retry-After`` and rate-limit hints first), a message failing
``max_attempts`` times is dead, and dead messages can be replayed.

Coalescing: at most one *pending* message per coalescing key (the model's
``_outbox_coalesce_fields``, enforced by a partial unique index of the concrete
model and written with ``INSERT ... ON CONFLICT DO UPDATE``): the newest payload
wins and ``revision`` counts the merged changes.  A delivery job that read an
older revision and then marks the message done conflicts with the concurrent
coalescing write (REPEATABLE READ): one of the two transactions is retried.

Concrete models (``crm.sync.message``, ``usage.webhook.delivery``) inherit this
mixin, name their destination field, coalescing columns and attempt model; the
destination (``usage.outbox.destination``) knows how to push.
"""

import json
import logging

from odoo import api, fields, models
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

STATES = [("pending", "Pending"), ("done", "Delivered"), ("dead", "Dead")]
#: How each field type travels through ``unnest`` in the enqueue statement.
SQL_TYPES = {"many2one": "int4", "char": "varchar", "selection": "varchar", "json": "jsonb"}


class UsageOutboxMessage(models.AbstractModel):
    _name = "usage.outbox.message"
    _description = "Outbox Message"
    _order = "id desc"

    #: Many2one field of the concrete model pointing at its destination.
    _outbox_destination_field = None
    #: Columns of the partial unique index "one pending message per key".
    _outbox_coalesce_fields = ()
    #: Model of the delivery attempts (inherits ``usage.outbox.attempt``).
    _outbox_attempt_model = None

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    dedup_key = fields.Char(
        required=True,
        default="",
        readonly=True,
        help="What makes two messages of the same kind distinct (empty: one per kind).",
    )
    payload = fields.Json(readonly=True)
    state = fields.Selection(STATES, required=True, default="pending", index=True, readonly=True)
    revision = fields.Integer(
        default=1, readonly=True, help="Number of changes merged into this message."
    )
    attempt_count = fields.Integer(readonly=True)
    event_date = fields.Datetime(readonly=True, help="When the newest merged change happened.")
    sent_date = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    remote_id = fields.Char(string="Remote record", readonly=True)

    # ------------------------------------------------------------------ outbox

    def _destination(self):
        return self[self._outbox_destination_field]

    @api.model
    def _outbox_write(self, rows, schedule=True):
        """Write (or coalesce into) one pending message per row; returns the messages.

        ``rows`` are dicts of the concrete model's columns: the destination, the
        coalescing fields, ``company_id`` and ``payload`` (JSON-able or None).
        New messages get a delivery job when ``schedule``; merged ones already
        have theirs.  One statement for any number of rows.
        """
        if not rows:
            return self.browse()
        self.env.flush_all()
        columns = [
            self._outbox_destination_field,
            "company_id",
            "payload",
            *self._coalesce_rest(),
            "dedup_key",
        ]
        now = fields.Datetime.now()
        arrays = [[self._outbox_value(name, row.get(name)) for row in rows] for name in columns]
        table = SQL.identifier(self._table)
        names = SQL(", ").join(SQL.identifier(name) for name in columns)
        unnest = SQL(", ").join(
            SQL("%s::%s[]", array, SQL(SQL_TYPES[self._fields[name].type]))
            for name, array in zip(columns, arrays, strict=True)
        )
        conflict = SQL(", ").join(SQL.identifier(name) for name in self._outbox_coalesce_fields)
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO %(table)s AS m (
                    %(names)s, state, revision, attempt_count, event_date,
                    create_uid, write_uid, create_date, write_date)
                SELECT r.*, 'pending', 1, 0, %(now)s, %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM unnest(%(unnest)s) AS r
                ON CONFLICT (%(conflict)s) WHERE state = 'pending'
                DO UPDATE SET payload = EXCLUDED.payload,
                              event_date = EXCLUDED.event_date,
                              revision = m.revision + 1,
                              write_uid = EXCLUDED.write_uid,
                              write_date = EXCLUDED.write_date
                RETURNING m.id, (m.xmax = 0) AS inserted
                """,
                table=table,
                names=names,
                now=now,
                uid=self.env.uid,
                unnest=unnest,
                conflict=conflict,
            )
        )
        result = self.env.cr.fetchall()
        self.env.invalidate_all()
        messages = self.browse([message_id for message_id, _inserted in result])
        if schedule:
            self.browse([message_id for message_id, inserted in result if inserted])._schedule()
        return messages

    def _outbox_value(self, name, value):
        """A row's value as the enqueue statement's arrays hold it."""
        if name == "dedup_key":
            return value or ""
        if self._fields[name].type == "json":
            return None if value is None else json.dumps(value)
        return value

    def _coalesce_rest(self):
        """Coalescing columns other than the destination and ``dedup_key``."""
        skip = {self._outbox_destination_field, "dedup_key"}
        return [name for name in self._outbox_coalesce_fields if name not in skip]

    def _schedule(self, eta=None):
        """Delivery jobs: one per batch of the destination's size."""
        for destination, messages in self.grouped(self._outbox_destination_field).items():
            size = destination._outbox_batch_size()
            for start in range(0, len(messages), size):
                messages[start : start + size]._delay(eta=eta)._deliver()

    def _delay(self, eta=None):
        destination = self._destination()
        destination.ensure_one()
        return self.with_delay(
            channel=destination._outbox_channel_name(),
            eta=eta,
            max_retries=0,  # attempts are counted on the message (dead letter)
            description=f"{self._description}: {destination.display_name}",
        )

    # ------------------------------------------------------------------ delivery

    def _deliver(self):
        """Job: send the pending messages of ``self`` (one destination)."""
        # sudo: delivery is system plumbing; the job runs as the user whose change
        # triggered it (an accountant posting an invoice), who may read neither
        # the destination's credentials nor the data sent, nor write the log.
        messages = self.sudo().exists().filtered(lambda m: m.state == "pending")
        if not messages:
            return "nothing pending"
        destination = messages._destination()
        destination.ensure_one()
        messages = messages.with_company(destination.company_id)
        destination = destination.with_company(destination.company_id)
        retry_later, delivered = [], False
        for group, result in destination._outbox_push(messages):
            attempt_values = group._attempt_values(result)
            if result.ok:
                group._mark_done(result, attempt_values)
                delivered = True
                continue
            attempts = group[:1].attempt_count + 1
            if result.retryable and attempts < destination.max_attempts:
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
        """The delivery log of one result: its HTTP exchanges, else the result itself."""
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
        self.env[self._outbox_attempt_model].create(
            [
                {
                    "message_id": message.id,
                    "company_id": message.company_id.id,
                    "attempt_number": message.attempt_count,
                    "result_error": summary,
                    **message._attempt_extra_values(),
                    **values,
                }
                for message in self
                for values in attempt_values
            ]
        )

    def _attempt_extra_values(self):
        """Columns of the concrete attempt model beyond the mixin's (e.g. its destination)."""
        return {}

    def _mark_done(self, result, attempt_values):
        for message in self:
            remote = message._remote_id_in(result)
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

    def _remote_id_in(self, result):
        """The id the remote system gave this message (a created or upserted record)."""
        return result.remote_id

    def _mark_failed(self, result, attempt_values):
        for message in self:
            message.write({"attempt_count": message.attempt_count + 1, "last_error": result.error})
        self._log_attempts(attempt_values, result)

    def _mark_dead(self, result, attempt_values):
        self._mark_failed(result, attempt_values)
        self.write({"state": "dead"})
        _logger.warning(
            "%s: %s message(s) dead after %s attempt(s): %s",
            self._description,
            len(self),
            self[:1].attempt_count,
            result.error,
        )

    # ------------------------------------------------------------------ replay

    def action_replay(self):
        """Send dead messages again; one with a newer pending message is superseded."""
        dead = self.filtered(lambda m: m.state == "dead")
        if not dead:
            raise UserError(self.env._("Only dead messages can be replayed."))
        fields_ = self._outbox_coalesce_fields
        for message in dead:
            pending = self.search(
                [
                    (name, "=", message._fields[name].convert_to_write(message[name], message))
                    for name in fields_
                ]
                + [("state", "=", "pending")],
                limit=1,
            )
            if pending:
                # A newer change is already on its way: it carries the newest state.
                message.write({"state": "done", "last_error": self.env._("Superseded on replay.")})
                continue
            message.write({"state": "pending", "attempt_count": 0})
            message._schedule()
        return True
