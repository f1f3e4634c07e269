import jsonschema

from odoo.tests import tagged

from .common import UsageApiCase


@tagged("post_install", "-at_install")
class TestApiContract(UsageApiCase):
    """Every real answer of the API matches the OpenAPI document it serves."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.document = None

    def _spec(self):
        if not self.document:
            response = self.url_open("/usage_billing/v1/openapi.json")
            self.assertEqual(response.status_code, 200)
            type(self).document = response.json()
        return self.document

    def assertMatches(self, response, path, method="post"):
        spec = self._spec()
        operation = spec["paths"][path][method]
        described = operation["responses"].get(str(response.status_code))
        self.assertTrue(described, f"{response.status_code} is not documented for {path}")
        schema = described["content"]["application/json"]["schema"]
        resolver_schema = {**schema, "components": spec["components"]}
        jsonschema.validate(response.json(), resolver_schema)

    def test_openapi_document_lists_every_endpoint(self):
        paths = set(self._spec()["paths"])
        self.assertEqual(
            paths,
            {
                "/usage_billing/v1/events",
                "/usage_billing/v1/subscription_events",
                "/usage_billing/v1/health",
                "/usage_billing/v1/openapi.json",
                "/usage_billing/v1/tenants/{tenant}/usage",
                "/usage_billing/v1/tenants/{tenant}/entitlements",
                "/usage_billing/v1/tenants/{tenant}/invoices",
            },
        )
        self.assertEqual(self._spec()["openapi"], "3.1.0")

    def test_success_and_error_answers_match_the_schema(self):
        events = "/usage_billing/v1/events"
        ok, _ = self.post_events(
            [self.event("oa-1"), self.event("oa-1"), self.event("oa-2", quantity=-1)]
        )
        self.assertMatches(ok, events)
        self.assertMatches(self.post_events([self.event("oa-3")], secret="bad")[0], events)
        self.assertMatches(self.post(b"{", headers={}), events)
        self.assertMatches(self.post({"x": 1}, headers={"Content-Type": "text/csv"}), events)
        self.assertMatches(
            self.url_open("/usage_billing/v1/health"), "/usage_billing/v1/health", "get"
        )
        self.key.rate_limit = 1
        self.post_events([self.event("oa-4")])
        self.assertMatches(self.post_events([self.event("oa-5")])[0], events)
        lifecycle = self.post(
            {
                "events": [
                    {
                        "event_id": "l-1",
                        "tenant": "t-one",
                        "type": "suspended",
                        "effective_at": "2026-01-01T00:00:00Z",
                    }
                ]
            },
            url="/usage_billing/v1/subscription_events",
        )
        self.assertMatches(lifecycle, "/usage_billing/v1/subscription_events")
