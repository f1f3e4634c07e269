"""19.0.1.3.0: usage rollups are daily, not hourly (reads only ever asked for whole
days): a month of usage is about thirty rows per metric instead of seven hundred."""

from odoo.addons.usage_billing_connector.utils import usage_rollup


def migrate(cr, version):
    if version:
        usage_rollup.hours_into_days(cr)
