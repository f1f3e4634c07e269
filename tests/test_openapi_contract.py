"""The OpenAPI document is the wire contract: what it names, and that real answers follow it.

The document is built when its modules are imported; ``document`` rebuilds it from its
modules so that what is checked is what the build produces.  Every operation's parameters
and statuses are pinned, the error codes each status names are checked, and answers built
by the cores (``read_api``, ``ingestion``) are validated against the documented schemas.
"""

import importlib
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from usage_billing_connector.core import (
    ingestion,
    openapi,
    openapi_fragments,
    openapi_read,
    payload,
    read_api,
)
from usage_billing_connector.core.quarantine import ClassifyContext, TenantInfo

jsonschema = pytest.importorskip("jsonschema")
validator = pytest.importorskip("openapi_spec_validator")

SIGNED = ("X-Usage-Key", "X-Usage-Signature", "X-Request-Id")
READS = {
    "usage": ("TenantUsage", {"period"}, {"400", "401", "403", "404", "429", "500", "503"}),
    "entitlements": ("TenantEntitlements", set(), {"401", "403", "404", "429", "500", "503"}),
    "invoices": (
        "TenantInvoices",
        {"limit", "starting_after"},
        {"400", "401", "403", "404", "429", "500", "503"},
    ),
}
WRITES = {"/usage_billing/v1/events": "UsageEvent"}
WRITES["/usage_billing/v1/subscription_events"] = "LifecycleEvent"


@pytest.fixture
def document():
    # Rebuilt for each test: mutation testing attributes the build to each test using it.
    for module in (openapi_fragments, openapi_read, openapi):
        importlib.reload(module)
    return openapi.openapi_document("https://billing.example.com/")


def schema_of(document, name):
    """A component schema as a standalone JSON Schema (its ``$ref`` resolve in ``document``)."""
    return {**document["components"]["schemas"][name], "components": document["components"]}


def check(document, name, instance):
    jsonschema.Draft202012Validator(
        schema_of(document, name), format_checker=jsonschema.FormatChecker()
    ).validate(instance)


def refused(document, name, instance):
    with pytest.raises(jsonschema.ValidationError):
        check(document, name, instance)


def test_the_built_document_is_valid_openapi_3_1_with_the_server(document):
    validator.validate(document)
    assert document["servers"] == [{"url": "https://billing.example.com"}]
    assert "servers" not in openapi.openapi_document()
    assert "servers" not in openapi.openapi_document("")
    # only trailing slashes go: a server path ending in another character is kept
    assert openapi.openapi_document("http://h/X//")["servers"] == [{"url": "http://h/X"}]


def test_the_document_served_is_a_copy_callers_cannot_change():
    first = openapi.openapi_document()
    first["paths"].clear()
    assert openapi.openapi_document()["paths"]


def test_the_paths_and_methods_are_exactly_the_public_endpoints(document):
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    reads = {("/usage_billing/v1/tenants/{tenant}/" + name, "get") for name in READS}
    assert operations == {
        ("/usage_billing/v1/events", "post"),
        ("/usage_billing/v1/subscription_events", "post"),
        ("/usage_billing/v1/health", "get"),
        ("/usage_billing/v1/openapi.json", "get"),
        *reads,
    }


def params(operation):
    return {(p["name"], p["in"]): p for p in operation["parameters"]}


def check_signed_headers(parameters, signed_text):
    assert {name: parameters[name, "header"]["required"] for name in SIGNED} == {
        "X-Usage-Key": True,
        "X-Usage-Signature": True,
        "X-Request-Id": False,
    }
    for name in SIGNED:
        assert parameters[name, "header"]["schema"]["type"] == "string"
    signature = parameters["X-Usage-Signature", "header"]["description"]
    assert signature.startswith(f"t=<unix seconds>,v1=<hex HMAC-SHA256(secret, {signed_text})>;")
    assert "several v1 entries" in signature


def check_json_responses(operation, ok_schema, statuses):
    responses = operation["responses"]
    assert set(responses) == {"200", *statuses}
    for status, response in responses.items():
        assert response["description"]
        content = response["content"]
        assert list(content) == ["application/json"]
        expected = ok_schema if status == "200" else "Error"
        assert content["application/json"]["schema"] == {"$ref": f"#/components/schemas/{expected}"}


@pytest.mark.parametrize(("path", "event_schema"), WRITES.items())
def test_batch_endpoints_take_signed_json_bodies_and_name_their_errors(
    document, path, event_schema
):
    operation = document["paths"][path]["post"]
    assert operation["summary"].startswith("Send ")
    parameters = params(operation)
    assert set(parameters) == {(name, "header") for name in SIGNED}
    check_signed_headers(parameters, "'<t>.' + raw body")
    body = operation["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema["type"] == "object"
    assert schema["required"] == ["events"]
    events = schema["properties"]["events"]
    assert events == {
        "type": "array",
        "minItems": 1,
        "items": {"$ref": f"#/components/schemas/{event_schema}"},
    }
    check_json_responses(
        operation, "IngestResponse", {"400", "401", "413", "415", "429", "500", "503"}
    )
    ok = operation["responses"]["200"]["description"]
    assert "rejected" in ok and "200" in ok


@pytest.mark.parametrize("name", READS)
def test_read_endpoints_take_a_signed_get_the_tenant_and_their_queries(document, name):
    schema, query, statuses = READS[name]
    operation = document["paths"]["/usage_billing/v1/tenants/{tenant}/" + name]["get"]
    assert operation["summary"]
    assert "requestBody" not in operation
    parameters = params(operation)
    assert set(parameters) == {
        *((header, "header") for header in SIGNED),
        ("tenant", "path"),
        *((q, "query") for q in query),
    }
    check_signed_headers(
        parameters, "'<t>.GET <path?query>', the path and query string exactly as sent"
    )
    tenant = parameters["tenant", "path"]
    assert tenant["required"] is True
    assert tenant["schema"] == {"type": "string", "minLength": 1, "maxLength": 128}
    for q in query:
        assert parameters[q, "query"]["required"] is False
    check_json_responses(operation, schema, statuses)


def error_text(document, name, status):
    return document["paths"]["/usage_billing/v1/tenants/{tenant}/" + name]["get"]["responses"][
        status
    ]["description"]


@pytest.mark.parametrize("name", READS)
def test_read_errors_name_the_codes_the_api_answers(document, name):
    assert "tenant_not_allowed" in error_text(document, name, "403")
    assert "unknown_tenant" in error_text(document, name, "404")
    assert "no_subscription" in error_text(document, name, "404")
    assert "Retry-After" in error_text(document, name, "429")
    assert "signature" in error_text(document, name, "401")


def test_query_errors_name_their_codes(document):
    assert "(invalid_period)" in error_text(document, "usage", "400")
    invoices = error_text(document, "invoices", "400")
    assert "invalid_limit" in invoices and "invalid_cursor" in invoices


def test_query_parameters_are_described_as_the_core_parses_them(document):
    operation = document["paths"]["/usage_billing/v1/tenants/{tenant}/invoices"]["get"]
    parameters = params(operation)
    assert parameters["limit", "query"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": read_api.MAX_PAGE,
    }
    assert "description" not in parameters["limit", "query"]
    assert parameters["starting_after", "query"]["schema"] == {"type": "string"}
    assert "invoice" in parameters["starting_after", "query"]["description"]
    usage = params(document["paths"]["/usage_billing/v1/tenants/{tenant}/usage"]["get"])
    period = usage["period", "query"]
    assert period["schema"] == {"type": "string"}
    assert all(word in period["description"] for word in ("current", "previous", "RFC 3339"))


def test_health_and_the_document_itself_are_unsigned(document):
    health = document["paths"]["/usage_billing/v1/health"]["get"]
    assert "parameters" not in health
    assert health["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Health"
    }
    check(document, "Health", {"status": "ok"})
    refused(document, "Health", {"status": "down"})
    assert "parameters" not in document["paths"]["/usage_billing/v1/openapi.json"]["get"]


# ------------------------------------------------------------------ real answers


def usage_answer():
    metric = {"code": "api_calls", "name": "API calls", "aggregation": "sum", "unit": None}
    return {
        "tenant": "acme",
        "plan": "pro",
        "currency": "EUR",
        "period_start": read_api.instant_text(datetime(2026, 1, 1)),
        "period_end": read_api.instant_text(datetime(2026, 2, 1)),
        "as_of": read_api.instant_text(datetime(2026, 1, 20, 8, tzinfo=timezone.utc)),
        "metrics": [
            read_api.metric_answer(
                metric, Decimal("12.5"), Decimal(10), Decimal(8), Decimal(20), Decimal("1.5"), 2
            ),
            read_api.metric_answer(metric, Decimal(0), None, None, None, 0, 0),
        ],
        "fees": [{"name": "Base fee", "amount": read_api.money_text(Decimal(49), 2)}],
        "amount_untaxed": read_api.money_text(Decimal("50.5"), 2),
        "credits": read_api.credits_answer(
            Decimal(20), "EUR", [(date(2026, 3, 31), Decimal(20))], 2
        ),
    }


def test_usage_answers_follow_the_documented_schema(document):
    answer = usage_answer()
    check(document, "TenantUsage", answer)
    for key in ("credits", "metrics", "as_of"):
        refused(document, "TenantUsage", {k: v for k, v in answer.items() if k != key})
    refused(document, "TenantUsage", {**answer, "amount_untaxed": "1e3"})
    refused(document, "TenantUsage", {**answer, "as_of": "yesterday"})


def test_entitlement_answers_follow_the_documented_schema(document):
    answer = {
        "tenant": "acme",
        "as_of": read_api.instant_text(datetime(2026, 1, 20)),
        "entitlements": [
            read_api.entitlement_answer("seats", Decimal(12), Decimal(8), Decimal(10)),
            read_api.entitlement_answer("api_calls", Decimal(1), None, None),
        ],
    }
    check(document, "TenantEntitlements", answer)
    bad = {**answer["entitlements"][0], "limit_state": "blocked"}
    refused(document, "TenantEntitlements", {**answer, "entitlements": [bad]})


def test_an_invoice_page_follows_the_documented_schema(document):
    invoice = {
        "number": "INV/2026/00001",
        "date": "2026-02-01",
        "due_date": None,
        "currency": "EUR",
        "amount_untaxed": read_api.money_text(Decimal(100), 2),
        "amount_total": read_api.money_text(Decimal(121), 2),
        "amount_residual": read_api.money_text(Decimal(0), 2),
        "state": "posted",
        "payment_state": "paid",
        "portal_url": "/my/invoices/1?access_token=x",
        "period_start": read_api.instant_text(datetime(2026, 1, 1)),
        "period_end": None,
    }
    check(document, "TenantInvoices", {"data": [invoice], "has_more": False})
    check(document, "TenantInvoices", {"data": [], "has_more": True})
    refused(document, "TenantInvoices", {"data": [invoice]})
    refused(document, "TenantInvoices", {"data": {}, "has_more": False})
    refused(document, "TenantInvoices", {"data": [{**invoice, "number": 1}], "has_more": False})
    refused(document, "TenantInvoices", {"has_more": False})
    refused(document, "TenantInvoices", {"data": [], "has_more": "no"})
    refused(document, "TenantInvoices", [invoice])


def test_ingestion_answers_follow_the_documented_schema(document):
    context = ClassifyContext(
        tenants={"acme": TenantInfo(1, "active")},
        metrics={"api_calls": 10},
        allowed_tenant_ids=None,
        now=datetime(2026, 1, 20, tzinfo=timezone.utc),
    )
    raws = [
        {"event_id": "e1", "tenant": "acme", "metric": "api_calls", "quantity": 1,
         "timestamp": "2026-01-15T10:00:00Z"},
        {"event_id": "e2", "tenant": "nobody", "metric": "api_calls", "quantity": "2.5",
         "timestamp": "2026-01-15T10:00:00Z"},
        {"event_id": "e1", "tenant": "acme", "metric": "api_calls", "quantity": 1,
         "timestamp": "2026-01-15T10:00:00Z"},
        {"tenant": "acme"},
    ]  # fmt: skip
    plan = ingestion.plan_batch(payload.parse_events(raws), context)
    results, counts = ingestion.finish_batch(plan, set(plan.event_ids), {})
    answer = {"request_id": "r-1", **counts, "results": results}
    assert {r["status"] for r in results} == {"accepted", "quarantined", "duplicate", "rejected"}
    check(document, "IngestResponse", answer)
    for raw in raws[:2]:
        check(document, "UsageEvent", raw)
    refused(document, "IngestResponse", {**answer, "extra": 1})
    refused(document, "EventResult", {**results[0], "status": "stored"})
    refused(document, "Error", {"error": {"code": "x"}})
