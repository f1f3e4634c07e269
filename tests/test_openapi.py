import pytest

from usage_billing_connector.core.openapi import openapi_document

validator = pytest.importorskip("openapi_spec_validator")


def test_document_is_valid_openapi_3_1():
    validator.validate(openapi_document("http://localhost:8069"))


def test_every_public_endpoint_is_described():
    paths = openapi_document()["paths"]
    assert {"/usage_billing/v1/events", "/usage_billing/v1/health"} <= set(paths)
