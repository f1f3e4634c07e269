import hashlib
import logging
from datetime import datetime, timezone
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..core import utc
from ..utils import event_store
from ..utils.params import get_int_param

_logger = logging.getLogger(__name__)

STATEMENT_COLUMNS = (
    "name",
    "subscription_id",
    "tenant_id",
    "partner_id",
    "company_id",
    "currency_id",
    "plan_id",
    "period_start",
    "period_end",
    "state",
    "amount_untaxed",
    "commitment_amount",
)
LINE_COLUMNS = (
    "statement_id",
    "company_id",
    "tenant_id",
    "sequence",
    "kind",
    "plan_id",
    "metric_id",
    "product_id",
    "name",
    "period_start",
    "period_end",
    "quantity",
    "included",
    "billable",
    "unit_price",
    "amount",
    "breakdown",
    "snapshot_from",
    "snapshot_to",
)
SQL_TYPES = {
    "many2one": "int4",
    "integer": "int4",
    "char": "varchar",
    "text": "text",
    "selection": "varchar",
    "datetime": "timestamp",
    "float": "numeric",
    "monetary": "numeric",
}


class UsagePeriodClosing(models.AbstractModel):
    """Closing billing periods into statements: the one owner of "close a period".

    The cron finds the subscriptions with an ended period (``next_close_at``) and
    enqueues one job per batch of them; a job locks its subscriptions, rates
    every due period of the batch at once (``usage.period.rating``) and writes
    the statements and their lines with one statement each.  Nothing is written
    on the usage events: each line records the database snapshot it billed.
    """

    _name = "usage.period.closing"
    _description = "Closing of Usage Billing Periods"

    # ------------------------------------------------------------ scheduling

    @api.model
    def _cron_close_due_periods(self):
        """Enqueue one job per batch of due subscriptions, committing as it goes."""
        due = self._due_subscriptions()
        batch_size = get_int_param(self.env, "billing_batch_size")
        cron = self.env["ir.cron"]
        for start in range(0, len(due), batch_size):
            batch = due[start : start + batch_size]
            self._enqueue_closing_jobs(batch)
            if not cron._commit_progress(len(batch), remaining=len(due) - start - len(batch)):
                break
        return len(due)

    @api.model
    def _due_subscriptions(self):
        """Subscriptions with an ended period and no statement for it (an index scan)."""
        # sudo: the billing cron closes the periods of every company, whatever
        # companies the cron's user happens to be allowed in.
        subscriptions = self.env["usage.subscription"].sudo()
        due = subscriptions.search([("next_close_at", "<=", self._now_naive())], order="id")
        mismatched = due.filtered("currency_mismatch")
        if mismatched:
            _logger.warning(
                "Not billed, plan and tenant currencies differ (filter 'Currency mismatch' on "
                "subscriptions): %s",
                ", ".join(mismatched.mapped("display_name")),
            )
        return due - mismatched

    @api.model
    def _enqueue_closing_jobs(self, subscriptions=None):
        """One job per batch; the identity key skips a batch already pending."""
        subscriptions = self._due_subscriptions() if subscriptions is None else subscriptions
        batch_size = get_int_param(self.env, "billing_batch_size")
        for start in range(0, len(subscriptions), batch_size):
            batch = subscriptions[start : start + batch_size]
            key = hashlib.sha256(
                ",".join(f"{sub.id}:{sub.next_close_at}" for sub in batch).encode()
            ).hexdigest()
            self.with_delay(
                channel="root.usage_billing",
                identity_key=f"usage_billing:close:{key}",
                description=f"Close billing periods of {len(batch)} subscription(s)",
            )._close_subscriptions(batch)

    # ---------------------------------------------------------------- closing

    def _close_subscription(self, subscription):
        """Close every due period of one subscription (buttons, tests); its statements."""
        subscription.ensure_one()
        if subscription.currency_mismatch:
            # Reported, never converted: refused until it is fixed.
            raise UserError(subscription._currency_mismatch_message(subscription.plan_id))
        return list(self._close_subscriptions(subscription))

    def _close_subscriptions(self, subscriptions):
        """Job: close every due period of ``subscriptions``, oldest first; the statements."""
        # sudo: started by the billing cron or an administrator's button, the job
        # writes statements and lines of the subscriptions' own companies,
        # whichever company the runner is in.
        self = self.sudo()
        subscriptions = subscriptions.sudo().exists().filtered(lambda s: not s.currency_mismatch)
        if not subscriptions:
            return self.env["usage.statement"]
        subscriptions._lock_for_billing()
        snapshot = self._snapshot()
        now = self._now()
        items = []
        for sub in subscriptions:
            for index, period in enumerate(sub._due_periods(now)):
                items.append((sub, period, index == 0))
        rated = self.env["usage.period.rating"]._rate(items, snapshot)
        statements = self._write_statements(items, rated, snapshot)
        subscriptions._update_next_close_at()
        if statements:
            # Reconciliation reads the new lines' event quantity once it is kept.
            self.env.ref(
                "usage_billing_connector.ir_cron_keep_reconciliation_quantities"
            )._trigger()
        if statements and not self.env["usage.statement"]._requires_approval():
            statements.action_approve()
        return statements

    def _fill_statement(self, statement):
        """Rate a statement's period again (a rejected one being recomputed)."""
        sub = statement.subscription_id
        period = sub._period_containing(utc.aware(statement.period_start))
        snapshot = self._snapshot()
        key = (sub.id, utc.naive(period.start))
        rated = self.env["usage.period.rating"]._rate(
            [(sub, period, True)], snapshot, exclude_statements=statement.ids
        )[key]
        self.env.cr.execute(
            "UPDATE usage_statement SET commitment_amount = %s WHERE id = %s",
            [rated.committed, statement.id],
        )
        self._write_lines({statement.id: (sub, rated.lines)}, snapshot)
        statement.invalidate_recordset()

    # ---------------------------------------------------------------- writing

    def _write_statements(self, items, rated, snapshot):
        """One INSERT for the statements, one for their lines; the statements."""
        if not items:
            return self.env["usage.statement"]
        statement_model = self.env["usage.statement"]
        by_sub = {sub.id: sub for sub, _period, _late in items}
        names = self._statement_names(len(items))
        rows = []
        for (sub, period, _late), name in zip(items, names, strict=True):
            lines, committed = rated[(sub.id, utc.naive(period.start))]
            rows.append(
                {
                    "name": name,
                    "subscription_id": sub.id,
                    "tenant_id": sub.tenant_id.id,
                    "partner_id": sub.tenant_id.partner_id.id,
                    "company_id": sub.company_id.id,
                    "currency_id": sub.tenant_id.currency_id.id,
                    "plan_id": sub.plan_id.id,
                    "period_start": utc.naive(period.start),
                    "period_end": utc.naive(period.end),
                    "state": "to_approve",
                    "amount_untaxed": sum((line.amount for line, _f in lines), Decimal(0)),
                    "commitment_amount": committed,
                }
            )
        inserted = self._insert(
            statement_model,
            STATEMENT_COLUMNS,
            rows,
            returning=("id", "subscription_id", "period_start"),
        )
        statements = statement_model.browse([statement_id for statement_id, _s, _p in inserted])
        self._write_lines(
            {
                statement_id: (by_sub[sub_id], rated[(sub_id, start)].lines)
                for statement_id, sub_id, start in inserted
            },
            snapshot,
            amounts_written=True,
        )
        return statements

    def _statement_names(self, count):
        """``count`` statement numbers, as ``next_by_code`` draws them, in one query."""
        # sudo'ed env: the sequence is technical.
        sequence = self.env["ir.sequence"].search(
            [("code", "=", "usage.statement"), ("company_id", "in", [self.env.company.id, False])],
            order="company_id",
            limit=1,
        )
        if not sequence:
            return ["/"] * count
        if sequence.implementation != "standard" or sequence.use_date_range:
            return [sequence._next() for _n in range(count)]
        self.env.cr.execute(
            "SELECT nextval(%s) FROM generate_series(1, %s) ORDER BY 1",
            [f"ir_sequence_{sequence.id:03d}", count],
        )
        numbers = [number for (number,) in self.env.cr.fetchall()]
        # As get_next_char, interpolated once (after the fetch: it may read the sequence).
        prefix, suffix = sequence._get_prefix_suffix()
        return [f"{prefix}{number:0{sequence.padding}d}{suffix}" for number in numbers]

    def _write_lines(self, rated_statements, snapshot, amounts_written=False):
        """``{statement id: (subscription, [(Line, snapshot_from)])}`` -> one INSERT.

        ``amounts_written``: the statements were inserted with the sum of these
        lines as their amount; otherwise it is summed from the lines afterwards.
        """
        rows = []
        for statement_id, (sub, lines) in rated_statements.items():
            for sequence, (line, snapshot_from) in enumerate(lines):
                metric = line.metric
                if line.kind == "commitment":
                    product = (line.plan or sub.plan_id).commitment_product_id
                    product = product or sub.plan_id.commitment_product_id
                else:
                    product = metric.product_id if metric else sub.plan_id.fee_product_id
                rows.append(
                    {
                        "statement_id": statement_id,
                        "company_id": sub.company_id.id,
                        "tenant_id": sub.tenant_id.id,
                        "sequence": sequence,
                        "kind": line.kind,
                        "plan_id": (line.plan or sub.plan_id).id,
                        "metric_id": metric.id if metric else None,
                        "product_id": product.id,
                        "name": line.description,
                        "period_start": utc.naive(line.period.start) if line.period else None,
                        "period_end": utc.naive(line.period.end) if line.period else None,
                        "quantity": line.quantity,
                        "included": line.included,
                        "billable": line.billable,
                        "unit_price": line.unit_price if line.unit_price is not None else 0,
                        "amount": line.amount,
                        "breakdown": line.breakdown,
                        "snapshot_from": snapshot_from if line.kind != "fee" else None,
                        "snapshot_to": snapshot if line.metric else None,
                    }
                )
        self._insert(self.env["usage.statement.line"], LINE_COLUMNS, rows)
        # Usage in flight when the snapshot was taken commits unseen: check again next time.
        event_store.mark_recheck(
            self.env.cr,
            [
                (row["tenant_id"], row["period_start"], row["period_end"])
                for row in rows
                if row["snapshot_to"]
            ],
        )
        if not amounts_written:
            self._sum_amounts(list(rated_statements))
        self.env["usage.event"]._invalidate_billing()

    def _sum_amounts(self, statement_ids):
        self.env.cr.execute(
            """
            UPDATE usage_statement s
               SET amount_untaxed = (SELECT COALESCE(sum(l.amount), 0)
                                       FROM usage_statement_line l WHERE l.statement_id = s.id)
             WHERE s.id = ANY(%s)
            """,
            [statement_ids],
        )

    def _insert(self, model, columns, rows, returning=("id",)):
        """INSERT many rows of ``model`` from arrays, in one statement; the returned rows."""
        if not rows:
            return []
        types = [SQL_TYPES[model._fields[name].type] for name in columns]
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO %(table)s (%(names)s, create_uid, write_uid, create_date, write_date)
                SELECT r.*, %(uid)s, %(uid)s, %(now)s, %(now)s FROM unnest(%(arrays)s) AS r
                RETURNING %(returning)s
                """,
                table=SQL.identifier(model._table),
                names=SQL(", ").join(SQL.identifier(name) for name in columns),
                uid=self.env.uid,
                now=fields.Datetime.now(),
                arrays=SQL(", ").join(
                    SQL("%s::%s[]", [row[name] for row in rows], SQL(sql_type))
                    for name, sql_type in zip(columns, types, strict=True)
                ),
                returning=SQL(", ").join(SQL.identifier(name) for name in returning),
            )
        )
        returned = self.env.cr.fetchall()
        model.invalidate_model()
        return returned

    # ---------------------------------------------------------------- clock

    def _snapshot(self):
        """What this transaction reads, its own writes included: what its statements bill."""
        self.env.flush_all()
        return event_store.current_snapshot(self.env.cr)

    @api.model
    def _now(self):
        return datetime.now(timezone.utc)

    def _now_naive(self):
        return utc.naive(self._now())
