"""HubSpot's wire formats read and written by the client, without a server.

``test_crm_hubspot`` drives the client against the fake CRM; these tests pin the
property values HubSpot receives, the note timestamps, how a batch answer is mapped
back to tenants (and what is reported when it cannot be) and the error texts shown in
the delivery log.
"""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests

from crm_sync_connector.core.clients import HubSpotClient, hubspot
from usage_billing_connector.core.delivery.http import DeliveryResult, Exchange

CLIENT = HubSpotClient("https://hubspot.example.com", "pat-token-123")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (Decimal("12.50"), "12.50"),
        (1.5, "1.5"),
        ("Acme", "Acme"),
        (["a", "b"], "a;b"),
        (("x", True, None), "x;true;"),
        ([], ""),
        (date(2026, 1, 31), "2026-01-31"),
    ],
)
def test_property_values_are_the_strings_hubspot_stores(value, text):
    assert hubspot.hubspot_value(value) == text


def test_a_set_is_a_multi_select_value():
    assert sorted(hubspot.hubspot_value({"a", "b"}).split(";")) == ["a", "b"]
    assert hubspot.hubspot_value(frozenset({"only"})) == "only"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, 678999), "2026-01-02T03:04:05.678Z"),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05.000Z"),
        (
            datetime(2026, 1, 2, 1, 0, 0, 5000, tzinfo=timezone(timedelta(hours=2))),
            "2026-01-01T23:00:00.005Z",
        ),
        ("2025-03-01T12:00:00Z", "2025-03-01T12:00:00Z"),
    ],
)
def test_note_timestamps_are_utc_with_milliseconds(moment, text):
    assert hubspot.hubspot_timestamp(moment) == text


def test_a_note_without_timestamp_is_dated_now():
    before = datetime.now(timezone.utc).replace(microsecond=0)
    stamp = hubspot.hubspot_timestamp()
    assert stamp.endswith("Z") and len(stamp) == len("2026-01-02T03:04:05.678Z")
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert before <= moment <= datetime.now(timezone.utc)


def chunk(*tenants):
    return [{"idProperty": "tenant_id", "id": t, "properties": {}} for t in tenants]


def test_companies_are_mapped_back_by_the_id_property_echoed():
    body = {
        "results": [
            {"id": 2, "properties": {"tenant_id": "b"}},
            {"id": "1", "properties": {"tenant_id": "a"}},
        ]
    }
    assert CLIENT._company_ids(body, chunk("a", "b")) == ({"a": "1", "b": "2"}, None)


def test_without_the_id_property_companies_are_matched_by_position_only_if_all_came_back():
    body = {"results": [{"id": "1"}, {"id": "2", "properties": None}]}
    assert CLIENT._company_ids(body, chunk("a", "b")) == ({"a": "1", "b": "2"}, None)
    ids, problem = CLIENT._company_ids({"results": [{"id": "1"}]}, chunk("a", "b"))
    assert ids == {}
    assert problem == "HubSpot returned no company for tenants a, b"


def test_records_without_an_id_or_not_objects_are_skipped():
    body = {"results": ["junk", {"properties": {"tenant_id": "a"}}, {"id": "2"}]}
    ids, problem = CLIENT._company_ids(body, chunk("a", "b", "c"))
    assert ids == {"c": "2"}
    assert problem == "HubSpot returned no company for tenants a, b"


@pytest.mark.parametrize("body", [None, [], {"results": {}}, {"status": "COMPLETE"}])
def test_an_answer_without_results_is_a_problem(body):
    assert CLIENT._company_ids(body, chunk("a")) == (
        {},
        "HubSpot batch response has no results list",
    )


def test_rejected_inputs_are_listed_with_their_messages():
    body = {
        "results": [{"id": "1", "properties": {"tenant_id": "a"}}],
        "errors": [{"message": "Property x does not exist"}, {"status": "error"}, "boom"],
    }
    ids, problem = CLIENT._company_ids(body, chunk("a", "b"))
    assert ids == {"a": "1"}
    assert problem == (
        "HubSpot rejected some companies: Property x does not exist; {'status': 'error'}; boom"
    )


def test_a_custom_id_property_is_used_to_read_the_answer():
    client = HubSpotClient("https://h", "pat-token-123", id_property="account_ref")
    body = {"results": [{"id": "9", "properties": {"account_ref": "a", "tenant_id": "z"}}]}
    assert client._company_ids(body, chunk("a")) == ({"a": "9"}, None)
    (sent,) = client._inputs([{"tenant": 5, "properties": {"paid": True, "mrr": None}}])
    assert sent == {
        "idProperty": "account_ref",
        "id": "5",
        "properties": {"paid": "true", "mrr": "", "account_ref": "5"},
    }


def exchange(status, payload):
    response = requests.Response()
    response.status_code = status
    response._content = b"raw text"
    response.reason = "Reason"
    return Exchange(None, response=response, payload=payload)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"message": "Bad", "category": "VALIDATION_ERROR"}, "VALIDATION_ERROR: Bad"),
        ({"message": "Bad property"}, "Bad property"),
        ({"message": "", "error": "invalid_token"}, "invalid_token"),
        ({"category": "X"}, "raw text"),
    ],
)
def test_hubspot_errors_read_category_and_message(payload, message):
    assert CLIENT.error_message(exchange(400, payload)) == message


def test_updates_left_unsent_after_a_failed_batch_are_retried_later():
    failed = DeliveryResult(ok=False, status=429, retryable=True, retry_after=12.0, error="busy")
    result = hubspot._not_sent(failed)
    assert (result.ok, result.retryable, result.retry_after, result.status) == (
        False,
        True,
        12.0,
        None,
    )
    assert result.error == "not sent: an earlier batch failed (busy)"


def test_the_client_defaults_to_hubspots_api_and_a_rate_below_its_limit():
    client = HubSpotClient(token="pat-token-123")
    assert client.base_url == "https://api.hubapi.com"
    assert client.id_property == "tenant_id"
    assert client.rate_limiter.rate == 9.0
    assert client._headers() == {"Authorization": "Bearer pat-token-123"}
    assert client.secrets() == ("pat-token-123",)
    with pytest.raises(ValueError, match=r"^HubSpot access token is required$"):
        HubSpotClient("https://h", "")


def test_note_timestamps_are_utc_whatever_the_servers_zone(server_in_new_york):
    assert hubspot.hubspot_timestamp(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"
    before = datetime.now(timezone.utc).replace(microsecond=0)
    moment = datetime.strptime(hubspot.hubspot_timestamp(), "%Y-%m-%dT%H:%M:%S.%fZ")
    assert before <= moment.replace(tzinfo=timezone.utc) <= datetime.now(timezone.utc)
