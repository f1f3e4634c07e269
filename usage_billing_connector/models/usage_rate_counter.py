from contextlib import contextmanager

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import fields, models
from odoo.sql_db import Cursor


class UsageRateCounter(models.Model):
    """Requests per API key and minute, shared by every worker through PostgreSQL."""

    _name = "usage.rate.counter"
    _description = "Usage API Rate Counter"
    _log_access = False

    api_key_id = fields.Many2one("usage.api.key", required=True, ondelete="cascade")
    window_start = fields.Datetime(required=True)
    count = fields.Integer(required=True, default=0)

    _key_window_uniq = models.Constraint("UNIQUE(api_key_id, window_start)", "One row per window.")

    def _hit(self, api_key, window_start):
        """Count one request and return the window's count.

        Runs on its own short transaction so that the counter row is locked for
        microseconds, not for the whole ingestion request.
        """
        with self._counter_cursor() as cr:
            cr.execute(
                """
                INSERT INTO usage_rate_counter (api_key_id, window_start, count)
                VALUES (%s, %s, 1)
                ON CONFLICT (api_key_id, window_start)
                DO UPDATE SET count = usage_rate_counter.count + 1
                RETURNING count
                """,
                (api_key.id, window_start),
            )
            return cr.fetchone()[0]

    @contextmanager
    def _counter_cursor(self):
        """A cursor of its own for one increment, committed when the block ends."""
        with self.env.registry.cursor() as cr:
            if isinstance(cr, Cursor):
                # READ COMMITTED: concurrent requests of one key wait for each
                # other's increment and add up.  Under Odoo's REPEATABLE READ the
                # second one fails to serialize and Odoo replays the whole
                # ingestion request.  (Odoo sets the level again on the next
                # cursor of this pooled connection; a test cursor shares the
                # test's transaction and is left alone.)
                cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
                # Nor does the request wait for this commit to reach the disk: a
                # flush costs milliseconds, hundreds when the disk is busy (the
                # tail of every read API answer).  A PostgreSQL crash may lose the
                # last fraction of a second of counts, which a rate limit can
                # afford; the request's own data commits in its own transaction.
                cr.execute("SET LOCAL synchronous_commit TO OFF")
            yield cr

    def _gc_old_windows(self):
        self.env.cr.execute(
            "DELETE FROM usage_rate_counter WHERE window_start < now() at time zone 'UTC' "
            "- interval '1 hour'"
        )
