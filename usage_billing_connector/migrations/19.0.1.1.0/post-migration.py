"""19.0.1.1.0: subscription histories replayed in effective order; currency mismatches reported."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["usage.subscription"]._migrate_history_requests()
