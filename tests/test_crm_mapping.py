from decimal import Decimal

import pytest

from crm_sync_connector.core.mapping import (
    DEFAULT_MAPPINGS,
    STATUS_KEYS,
    apply_mapping,
    default_mapping,
    usage_summary,
)

STATUS = {
    "tenant": "acme",
    "name": "Acme",
    "plan": "growth",
    "mrr": Decimal("100"),
    "health_score": 80,
    "usage": {
        "api_calls": {"used": Decimal(850), "included": Decimal(1000), "percent": Decimal("85.0")},
        "seats": {"used": Decimal(3), "included": None, "percent": None},
    },
}


@pytest.mark.parametrize("backend_type", sorted(DEFAULT_MAPPINGS))
def test_defaults_use_known_keys_only(backend_type):
    keys = set(default_mapping(backend_type))
    assert keys <= set(STATUS_KEYS) | {"usage", "usage_percent"}


def test_default_mapping_is_a_copy():
    default_mapping("hubspot")["plan"] = "x"
    assert DEFAULT_MAPPINGS["hubspot"]["plan"] == "usage_plan"


def test_apply_mapping_renames_and_expands_metrics():
    properties = apply_mapping(STATUS, default_mapping("hubspot"))
    assert properties["name"] == "Acme"
    assert properties["usage_plan"] == "growth"
    assert properties["usage_mrr"] == Decimal("100")
    assert properties["usage_api_calls"] == Decimal(850)
    assert properties["usage_api_calls_pct"] == Decimal("85.0")
    assert properties["usage_seats_pct"] is None
    assert "tenant" not in properties


def test_salesforce_names_are_custom_fields():
    properties = apply_mapping(STATUS, default_mapping("salesforce"))
    assert properties["Usage_Plan__c"] == "growth"
    assert properties["Usage_Health_Score__c"] == 80
    assert properties["Usage_api_calls__c"] == Decimal(850)
    assert properties["Name"] == "Acme"


def test_unmapped_and_blank_keys_are_not_sent():
    properties = apply_mapping(STATUS, {"plan": "p", "mrr": "", "usage": ""})
    assert properties == {"p": "growth"}


def test_usage_summary():
    assert usage_summary(STATUS) == "api_calls: 850 / 1000 (85.0%)\nseats: 3"


def test_a_new_backend_type_starts_with_our_own_keys():
    assert default_mapping("pipedrive") == default_mapping("webhook")
    assert default_mapping("pipedrive") is not default_mapping("pipedrive")


def test_a_blank_or_metric_key_listed_first_does_not_stop_the_others():
    mapping = {"usage": "u_{metric}", "mrr": "", "plan": "p", "name": "n"}
    assert apply_mapping(STATUS, mapping) == {
        "p": "growth",
        "n": "Acme",
        "u_api_calls": Decimal(850),
        "u_seats": Decimal(3),
    }


def test_a_metric_without_usage_is_sent_as_zero():
    status = {"usage": {"new_metric": {"included": Decimal(10)}}}
    properties = apply_mapping(status, {"usage": "u_{metric}", "usage_percent": "p_{metric}"})
    assert properties == {"u_new_metric": Decimal(0), "p_new_metric": None}
