"""Salesforce's wire formats read and written by the client, without a server.

``test_crm_salesforce`` drives the client against the fake CRM; these tests pin the
token request form, the OAuth settings refused, the request paths, the Account ids
recognised, the error texts shown in the delivery log and which error codes retry.
"""

import pytest
import requests
from crm_helpers import RefusingSession

from crm_sync_connector.core.clients import OAuthConfig, SalesforceClient, salesforce
from usage_billing_connector.core.delivery import http
from usage_billing_connector.core.delivery.http import Exchange


def auth(**overrides):
    values = {"token_url": "https://t.example.com", "client_id": "cid", "client_secret": "csecret"}
    values.update(overrides)
    return OAuthConfig(**values)


def test_the_client_credentials_form_carries_the_secret_and_no_refresh_token():
    assert auth().form() == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "csecret",
    }
    assert auth(client_secret="").form() == {"grant_type": "client_credentials", "client_id": "cid"}


def test_the_refresh_token_form_carries_the_refresh_token():
    config = auth(grant="refresh_token", refresh_token="rtok")
    assert config.form() == {
        "grant_type": "refresh_token",
        "client_id": "cid",
        "client_secret": "csecret",
        "refresh_token": "rtok",
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"grant": "password"},
         "grant must be one of ('client_credentials', 'refresh_token'), got 'password'"),
        ({"grant": "refresh_token"}, "the refresh_token grant needs a refresh token"),
        ({"token_url": ""}, "token_url and client_id are required"),
        ({"client_id": None}, "token_url and client_id are required"),
    ],
)  # fmt: skip
def test_unusable_oauth_settings_are_refused_saying_why(overrides, message):
    with pytest.raises(ValueError) as err:
        auth(**overrides)
    assert str(err.value) == message


def test_paths_use_the_api_version_and_quote_the_external_id():
    client = SalesforceClient("https://org.example.com/", auth(), api_version="60.0")
    assert client.api_version == "v60.0"
    assert client._data_path("/limits") == "/services/data/v60.0/limits"
    assert client._account_path("a/b c") == "/sobjects/Account/Tenant_Id__c/a%2Fb%20c"
    custom = SalesforceClient("https://o", auth(), external_id_field="Ref/X__c")
    assert custom.api_version == "v61.0"
    assert custom._account_path(7) == "/sobjects/Account/Ref%2FX__c/7"


def test_defaults_and_known_secrets():
    client = SalesforceClient("https://o", auth(grant="refresh_token", refresh_token="rtok"))
    assert client.external_id_field == "Tenant_Id__c"
    assert client.rate_limiter.rate == 10.0
    assert client.token_requests == 0
    assert client.secrets() == ("csecret", "rtok")
    client._remember({"access_token": "atok", "instance_url": "https://o"})
    assert client.secrets() == ("csecret", "rtok", "atok")
    assert SalesforceClient("https://o", auth(client_secret="")).secrets() == ()


@pytest.mark.parametrize(
    ("value", "account_id"),
    [
        ("001000000000001", True),
        ("001000000000001AAA", True),
        ("001Abc000000001", True),
        ("00100000000001", False),
        ("0010000000000011", False),
        ("003000000000001", False),
        ("001000000000001AAAA", False),
        ("acme", False),
        ("001-00000000001", False),
    ],
)
def test_account_ids_are_recognised_by_prefix_and_length(value, account_id):
    assert bool(salesforce.ACCOUNT_ID_RE.match(value)) is account_id


def exchange(status, payload, text=""):
    response = requests.Response()
    response.status_code = status
    response._content = text.encode()
    response.reason = "Reason"
    return Exchange(None, response=response, payload=payload)


CLIENT = SalesforceClient("https://o", auth())


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([{"errorCode": "INVALID_FIELD", "message": "No such column", "fields": ["Foo__c", 2]}],
         "INVALID_FIELD: No such column (fields: Foo__c, 2)"),
        ([{"errorCode": "A", "message": "one"}, "junk", {"errorCode": "B", "message": "two"}],
         "A: one; B: two"),
        ({"error": "invalid_grant", "error_description": "authentication failure"},
         "invalid_grant: authentication failure"),
        ([{"message": "no code", "fields": []}], "no code"),
        ([{"errorCode": "X"}], "X: "),
        ([], "raw"),
        ("text", "raw"),
    ],
)  # fmt: skip
def test_salesforce_errors_read_code_message_and_fields(payload, message):
    assert CLIENT.error_message(exchange(400, payload, "raw")) == message


@pytest.mark.parametrize(
    ("status", "payload", "retryable"),
    [
        (400, [{"errorCode": "UNABLE_TO_LOCK_ROW"}], True),
        (403, [{"errorCode": "REQUEST_LIMIT_EXCEEDED"}], True),
        (400, {"errorCode": "SERVER_UNAVAILABLE"}, True),
        (400, [{"errorCode": "INVALID_FIELD"}, {"errorCode": "UNABLE_TO_LOCK_ROW"}], True),
        (400, [{"errorCode": "INVALID_FIELD"}], False),
        (503, [{"errorCode": "INVALID_FIELD"}], True),
        (400, None, False),
    ],
)
def test_temporary_org_states_are_retried_whatever_the_status(status, payload, retryable):
    assert CLIENT.is_retryable_response(exchange(status, payload)) is retryable


def test_token_errors_say_what_the_token_endpoint_answered():
    assert CLIENT._token_error(exchange(200, {"token_type": "Bearer"})) == (
        "Salesforce token response has no access_token"
    )
    refused = exchange(400, {"error": "invalid_client", "error_description": "bad secret"})
    assert CLIENT._token_error(refused) == (
        "token request refused: HTTP 400: invalid_client: bad secret"
    )
    malformed = Exchange(None, response=exchange(200, None).response, payload=http._MALFORMED)
    assert CLIENT._token_error(malformed) is None
    assert CLIENT._token_error(Exchange(None, exception=OSError("down"))) is None


def test_the_client_uses_the_session_given():
    session = RefusingSession()
    client = SalesforceClient("https://o", auth(), session=session)
    result = client.test_connection()
    assert (result.ok, result.retryable) == (False, True)
    assert session.sent == [("POST", "https://t.example.com")]
