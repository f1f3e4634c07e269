"""The CRM pipeline benchmark's verdict: every tenant received once, with its current status."""

import json

from bench_crm_pipeline import UPSERT
from crm_pipeline_report import delivery_problems, payload_problems, received_inputs

from crm_sync_connector.tests.fake_crm_wire import RecordedRequest


def upsert(*tenants, plan="growth"):
    inputs = [
        {"idProperty": "tenant_id", "id": t, "properties": {"usage_plan": plan}} for t in tenants
    ]
    body = json.dumps({"inputs": inputs}).encode()
    return RecordedRequest("POST", UPSERT, {}, {}, body)


def test_inputs_of_every_request_in_order():
    requests = [upsert("a", "b"), upsert("c")]
    assert [item["id"] for item in received_inputs(requests)] == ["a", "b", "c"]


def test_each_tenant_received_once_passes():
    inputs = received_inputs([upsert("a", "b"), upsert("c")])
    assert delivery_problems("batched", ["a", "b", "c"], inputs) == []


def test_lost_doubled_and_unexpected_tenants_are_each_reported():
    inputs = received_inputs([upsert("a", "b"), upsert("b", "x")])
    problems = delivery_problems("batched", ["a", "b", "c"], inputs)
    assert problems == [
        "batched: 1 tenant(s) lost, e.g. ['c']",
        "batched: 1 tenant(s) doubled, e.g. ['b']",
        "batched: 1 tenant(s) unexpected, e.g. ['x']",
    ]


def test_a_stale_status_is_reported_and_ignored_properties_are_not():
    inputs = received_inputs([upsert("a", "b", plan="starter")])
    for item in inputs:
        item["properties"]["usage_synced_at"] = "whenever"
    expected = {t: {"usage_plan": "starter", "usage_synced_at": "now"} for t in ("a", "b")}
    assert payload_problems("p", expected, inputs, ignore={"usage_synced_at"}) == []
    expected["b"]["usage_plan"] = "growth"
    assert payload_problems("p", expected, inputs, ignore={"usage_synced_at"}) == [
        "p: 1 tenant(s) received another status, e.g. ['b (usage_plan)']"
    ]


def test_a_tenant_without_a_computed_status_is_not_passed():
    inputs = received_inputs([upsert("a")])
    assert payload_problems("p", {}, inputs) == [
        "p: 1 tenant(s) received another status, e.g. ['a (no status computed)']"
    ]
