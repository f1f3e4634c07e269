"""The Schemathesis signing hook signs exactly what ``requests`` puts on the wire."""

import pytest
import requests
import schemathesis_hooks

from usage_billing_connector.core import signing

NOW = 1_767_225_600


def prepared(method, url, headers, **kwargs):
    request = requests.Request(method, url, headers=headers, **kwargs).prepare()
    return schemathesis_hooks.UsageSignature("k1", "s3cret", clock=lambda: NOW)(request)


def verified(request, signed):
    header = request.headers[schemathesis_hooks.SIGNATURE_HEADER]
    return signing.verify(header, signed, ["s3cret"], now=NOW, tolerance=300)


def test_a_body_is_signed_byte_for_byte_and_the_key_replaced():
    headers = {"X-Usage-Key": "generated junk", "X-Usage-Signature": "junk"}
    request = prepared("POST", "http://h/usage_billing/v1/events", headers, json={"events": []})
    assert request.headers["X-Usage-Key"] == "k1"
    assert verified(request, request.body).timestamp == NOW


def test_a_request_without_body_is_signed_over_method_and_target():
    headers = {"X-Usage-Key": "x", "X-Usage-Signature": "x"}
    request = prepared("get", "http://h/usage_billing/v1/x", headers, params={"since": "2026-01"})
    verified(request, b"GET /usage_billing/v1/x?since=2026-01")
    with pytest.raises(signing.SignatureError):
        verified(request, b"GET /usage_billing/v1/x")


def test_headers_left_out_on_purpose_stay_out():
    request = prepared("POST", "http://h/e", {"X-Usage-Signature": "x"}, data=b"{}")
    assert "X-Usage-Key" not in request.headers
    verified(request, b"{}")
    request = prepared("POST", "http://h/e", {"X-Usage-Key": "x"}, data=b"{}")
    assert "X-Usage-Signature" not in request.headers


def test_the_secret_comes_from_the_environment():
    with pytest.raises(RuntimeError):
        schemathesis_hooks.from_environment({})
    auth = schemathesis_hooks.from_environment({"USAGE_SECRET": "s"})
    assert (auth.key_id, auth.secret) == ("demo-key", "s")
