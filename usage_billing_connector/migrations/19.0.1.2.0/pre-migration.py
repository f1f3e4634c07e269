"""19.0.1.2.0: a period may have corrections beside its statement.

The plain UNIQUE(subscription_id, period_start) constraint gives way to a
partial unique index that leaves corrections out (``_period_stated_once``);
Odoo creates the index but does not drop a constraint the code no longer
declares, so it goes here.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "ALTER TABLE usage_statement DROP CONSTRAINT IF EXISTS"
        " usage_statement_subscription_period_uniq"
    )
