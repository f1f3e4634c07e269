from odoo.tests import tagged

from .common import CrmSyncCase

UPSERT = "/crm/v3/objects/companies/batch/upsert"


@tagged("post_install", "-at_install")
class TestAccountStatusBatch(CrmSyncCase):
    """Statuses are computed a batch at a time: the query count does not grow with tenants."""

    def _tenants(self, count, prefix):
        tenants = self.env["usage.tenant"]
        for index in range(count):
            partner = self.env["res.partner"].create({"name": f"{prefix} {index}"})
            tenant = self._make_tenant(f"{prefix}-{index}", partner)
            self._subscribe(tenant)
            self.add_usage(tenant, 10 + index)
            tenants |= tenant
        return tenants

    def _queries(self, tenants):
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        statuses = tenants._crm_account_statuses()
        self.assertEqual(set(statuses), set(tenants.ids))
        return self.env.cr.sql_log_count - before

    def test_statuses_of_many_tenants_cost_what_a_few_cost(self):
        few, many = self._tenants(2, "few"), self._tenants(30, "many")
        self.assertLessEqual(self._queries(many), self._queries(few) + 2)
        status = (few | many)._crm_account_statuses()[many[-1].id]
        self.assertEqual(status["usage"]["api_calls"]["used"], 10 + 29)
        self.assertEqual(status["plan"], "growth")

    def test_daily_refresh_of_a_batch_queries_per_job_not_per_tenant(self):
        backend = self.make_backend("hubspot")
        tenants = self._tenants(40, "refresh")
        with self.trap_jobs() as trap:
            self.run_until_settled(trap)
            self.crm.reset()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            backend._cron_full_refresh()
            trap.assert_jobs_count(1)
            self.run_until_settled(trap)
            queries = self.env.cr.sql_log_count - before
        self.assertEqual(len(self.crm.requests_to(UPSERT)), 1)
        self.assertEqual(set(self.crm.hubspot_companies), set(tenants.mapped("external_id")))
        # About 4 queries a tenant before: well under 40 x 4 for the whole refresh.
        self.assertLess(queries, 80, f"{queries} queries for the refresh of 40 tenants")
