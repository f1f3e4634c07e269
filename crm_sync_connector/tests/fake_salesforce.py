"""The Salesforce part of the fake CRM.

``POST /services/oauth2/token`` (client-credentials and refresh-token grants),
then with a token it issued: ``PATCH|GET /services/data/<v>/sobjects/Account/<field>/<value>``,
``POST /services/data/<v>/sobjects/Task`` (``WhatId`` must be an Account),
``GET /services/data/<v>/limits``; every data response carries
``Sforce-Limit-Info: api-usage=N/M``.

State: ``sf_accounts`` (keyed by external id value), ``sf_tasks``,
``sf_token_requests``, ``sf_issued_tokens``, ``sf_api_used``.
A mixin of ``fake_crm_server.FakeCrmServer``, which owns the lock and the ids.
"""

import re
import secrets
import time
from urllib.parse import parse_qs, unquote

from .fake_crm_wire import Reply, json_or_none

SF_CLIENT_ID = "fake-sf-client-id"
SF_CLIENT_SECRET = "fake-sf-client-secret-0123456789"
SF_REFRESH_TOKEN = "fake-sf-refresh-token-0123456789"
TOKEN_PATH = "/services/oauth2/token"
SF_DATA_RE = re.compile(r"^/services/data/(v\d+\.\d+)(/.*)$")
_SF_ACCOUNT_RE = re.compile(r"^/sobjects/Account/([^/]+)/([^/]+)$")
_SF_FIELD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SESSION_EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def sf_error(status, code, message, fields=None):
    error = {"message": message, "errorCode": code}
    if fields:
        error["fields"] = fields
    return Reply(status, [error])


class FakeSalesforce:
    """Salesforce's OAuth token endpoint and REST sObject API, as far as the connector uses it."""

    SF_CLIENT_ID = SF_CLIENT_ID
    SF_CLIENT_SECRET = SF_CLIENT_SECRET
    SF_REFRESH_TOKEN = SF_REFRESH_TOKEN

    @property
    def token_url(self):
        return f"{self.url}{TOKEN_PATH}"

    def _reset_salesforce(self):
        self.sf_accounts = {}
        self.sf_tasks = []
        self.sf_issued_tokens = set()
        self.sf_token_requests = 0
        self.sf_api_used = 0

    def _sf_count_failed_call(self, record, headers):
        """Salesforce counts failed data calls too, and always says so (faulted answers)."""
        if SF_DATA_RE.match(record.path):
            with self._lock:
                self.sf_api_used += 1
                headers["Sforce-Limit-Info"] = f"api-usage={self.sf_api_used}/{self.sf_api_max}"

    def _sf_expire_token(self, record):
        """The ``expire_token`` fault: revoke the presented token, answer 401."""
        with self._lock:
            self.sf_issued_tokens.discard(self._presented_token(record))
        return Reply(401, SESSION_EXPIRED)

    def _sf_token(self, record):
        form = {k: v[0] for k, v in parse_qs(record.body.decode()).items()}
        with self._lock:
            self.sf_token_requests += 1
        grant = form.get("grant_type")
        if grant not in ("client_credentials", "refresh_token"):
            return Reply(400, {"error": "unsupported_grant_type", "error_description": grant})
        secret_ok = form.get("client_secret") == self.sf_client_secret
        if form.get("client_id") != self.sf_client_id or not secret_ok:
            return Reply(400, {"error": "invalid_client", "error_description": "invalid client"})
        if grant == "refresh_token" and form.get("refresh_token") != self.sf_refresh_token:
            return Reply(400, {"error": "invalid_grant", "error_description": "expired token"})
        token = "00DFAKE!" + secrets.token_urlsafe(24)
        with self._lock:
            self.sf_issued_tokens.add(token)
        body = {
            "access_token": token,
            "instance_url": self.url,
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
        }
        return Reply(200, body)

    def _presented_token(self, record):
        authorization = record.header("Authorization") or ""
        return authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else None

    def _salesforce(self, record, path):
        with self._lock:
            if self._presented_token(record) not in self.sf_issued_tokens:
                return Reply(401, SESSION_EXPIRED)
            self.sf_api_used += 1
            reply = self._sf_route(record, path)
            reply.headers["Sforce-Limit-Info"] = f"api-usage={self.sf_api_used}/{self.sf_api_max}"
            return reply

    def _sf_route(self, record, path):
        account = _SF_ACCOUNT_RE.match(path)
        if account and record.method == "PATCH":
            return self._sf_upsert(record, unquote(account.group(1)), unquote(account.group(2)))
        if account and record.method == "GET":
            return self._sf_get_account(unquote(account.group(2)))
        if (record.method, path) == ("POST", "/sobjects/Task"):
            return self._sf_task(record)
        if (record.method, path) == ("GET", "/limits"):
            remaining = self.sf_api_max - self.sf_api_used
            return Reply(
                200, {"DailyApiRequests": {"Max": self.sf_api_max, "Remaining": remaining}}
            )
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist")

    def _sf_upsert(self, record, field_name, value):
        fields = json_or_none(record.body, dict)
        if not fields and record.body != b"{}":
            return sf_error(400, "JSON_PARSER_ERROR", "The request body is not a JSON object")
        if field_name in fields:
            message = f"The external ID field {field_name} cannot be set in the request body"
            return sf_error(400, "INVALID_FIELD", message, [field_name])
        bad = [name for name in fields if not _SF_FIELD_RE.match(name)]
        if bad:
            return sf_error(400, "INVALID_FIELD", f"No such column '{bad[0]}' on Account", bad)
        account = self.sf_accounts.get(value)
        created = account is None
        if created:
            account = self.sf_accounts[value] = {"Id": self._new_id("001FAKE"), field_name: value}
        account.update(fields)
        if not created and self.sf_update_status == 204:
            return Reply(204)
        body = {"id": account["Id"], "success": True, "errors": [], "created": created}
        return Reply(201 if created else self.sf_update_status, body)

    def _sf_get_account(self, value):
        account = self.sf_accounts.get(value)
        if account is None:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        return Reply(200, {"attributes": {"type": "Account"}, **account})

    def _sf_task(self, record):
        fields = json_or_none(record.body, dict)
        account_ids = {account["Id"] for account in self.sf_accounts.values()}
        if fields.get("WhatId") not in account_ids:
            message = "What ID: id value of incorrect type"
            return sf_error(400, "FIELD_INTEGRITY_EXCEPTION", message, ["WhatId"])
        if not fields.get("Subject"):
            return sf_error(
                400, "REQUIRED_FIELD_MISSING", "Required fields are missing", ["Subject"]
            )
        task = {"Id": self._new_id("00TFAKE"), **fields}
        self.sf_tasks.append(task)
        return Reply(201, {"id": task["Id"], "success": True, "errors": []})
