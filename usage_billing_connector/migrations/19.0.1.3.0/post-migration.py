"""19.0.1.3.0: distinct values of ``unique_count`` metrics kept once per month, with
the days they were seen as bits (``usage_rollup_distinct``), instead of once per day
(``usage_rollup_value``): a month of a thousand users a day reads a thousand rows,
not thirty thousand.
"""

from odoo.addons.usage_billing_connector.utils import usage_rollup


def migrate(cr, version):
    if version:
        usage_rollup.fold_daily_values(cr)
