"""Salesforce REST client: Accounts upserted by tenant external id, alerts as Tasks on them.

Authentication: OAuth 2.0 against the org's token endpoint, either the
client-credentials flow (connected app with a run-as user) or the refresh-token
flow.  The access token is kept in memory and, through the optional
``load_token``/``save_token`` callbacks, in a shared cache (the Odoo side stores
it encrypted so every worker reuses it instead of asking for a new one per job).
On 401 the token is refreshed once and the request replayed once; a second 401
is permanent.

Accounts are upserted with ``PATCH .../sobjects/Account/<external id field>/<tenant>``
so replays update the same Account (201 created, 200 or 204 updated).  Tasks
have no external id: a Task whose response was lost may be created twice on
retry, which is acceptable for alerts and cheaper than a lookup per Task.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import wraps
from urllib.parse import quote

from .base import CrmClient

DEFAULT_API_VERSION = "v61.0"
DEFAULT_EXTERNAL_ID_FIELD = "Tenant_Id__c"
DEFAULT_GRANT = "client_credentials"
DEFAULT_RATE_LIMIT = 10
GRANTS = (DEFAULT_GRANT, "refresh_token")
#: Error codes that describe a temporary state of the org, not a bad request.
RETRYABLE_ERROR_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE"}
)
#: Account ids have key prefix 001 and are 15 (case-sensitive) or 18 characters long.
ACCOUNT_ID_RE = re.compile(r"^001[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")


@dataclass(frozen=True)
class OAuthConfig:
    """Where and how to get an access token; secrets are hidden from ``repr``."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    grant: str = DEFAULT_GRANT

    def __post_init__(self):
        if self.grant not in GRANTS:
            raise ValueError(f"grant must be one of {GRANTS}, got {self.grant!r}")
        if self.grant == "refresh_token" and not self.refresh_token:
            raise ValueError("the refresh_token grant needs a refresh token")
        if not self.token_url or not self.client_id:
            raise ValueError("token_url and client_id are required")

    def form(self):
        """The form-encoded body of the token request."""
        form = {"grant_type": self.grant, "client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        if self.grant == "refresh_token":
            form["refresh_token"] = self.refresh_token
        return form


class _Abort(Exception):
    """Stops an operation with a ready result (e.g. no token could be obtained)."""

    def __init__(self, result):
        super().__init__(result.error)
        self.result = result


def salesforce_value(value):
    """Decimals as JSON numbers: Salesforce number and currency fields refuse strings.

    A float keeps 15 significant digits, exact for any amount a currency field holds.
    """
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _delivery(method):
    """Turn an ``_Abort`` raised anywhere inside an operation into its result."""

    @wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except _Abort as abort:
            return abort.result

    return wrapper


class SalesforceClient(CrmClient):
    """``push_updates``, ``push_alert``, ``test_connection``; below them
    ``upsert_account``, ``find_account_id`` and ``create_task``."""

    name = "salesforce"
    label = "Salesforce"

    def __init__(
        self,
        base_url,
        auth,
        *,
        api_version=DEFAULT_API_VERSION,
        external_id_field=DEFAULT_EXTERNAL_ID_FIELD,
        load_token=None,
        save_token=None,
        rate_limit=DEFAULT_RATE_LIMIT,
        timeout=None,
        session=None,
    ):
        super().__init__(base_url, timeout=timeout, rate_limit=rate_limit, session=session)
        self.auth = auth
        self.api_version = api_version if api_version.startswith("v") else f"v{api_version}"
        self.external_id_field = external_id_field
        self._load_token = load_token
        self._save_token = save_token
        self._token = None
        self._seen_tokens = set()
        #: Token requests made by this client (monitoring, tests).
        self.token_requests = 0

    @classmethod
    def from_settings(cls, settings):
        auth = OAuthConfig(
            token_url=settings.option("sf_token_url"),
            client_id=settings.option("sf_client_id"),
            client_secret=settings.credential("client_secret") or "",
            refresh_token=settings.credential("refresh_token"),
            grant=settings.option("sf_grant", DEFAULT_GRANT),
        )
        return cls(
            settings.base_url,
            auth,
            api_version=settings.option("sf_api_version", DEFAULT_API_VERSION),
            external_id_field=settings.option("sf_external_id_field", DEFAULT_EXTERNAL_ID_FIELD),
            load_token=settings.load_token,
            save_token=settings.save_token,
            **cls.http_options(settings),
        )

    def secrets(self):
        known = [self.auth.client_secret, self.auth.refresh_token, *self._seen_tokens]
        return tuple(secret for secret in known if secret)

    # -- token ------------------------------------------------------------

    def _remember(self, token):
        self._token = token
        self._seen_tokens.add(token["access_token"])
        return token

    def _current_token(self, attempts):
        if self._token is None and self._load_token is not None:
            cached = self._load_token()
            if isinstance(cached, dict) and cached.get("access_token"):
                token = {"access_token": cached["access_token"]}
                token["instance_url"] = cached.get("instance_url") or self.base_url
                self._remember(token)
        return self._token or self._fetch_token(attempts)

    def _fetch_token(self, attempts):
        """Ask the token endpoint; raises ``_Abort`` with the failure when it refuses."""
        self.token_requests += 1
        self._token = None
        exchange = self.request("POST", self.auth.token_url, data=self.auth.form())
        attempts.append(exchange.attempt)
        body = exchange.json if isinstance(exchange.json, dict) else {}
        if not exchange.succeeded or not body.get("access_token"):
            raise _Abort(self.failure(exchange, attempts, error=self._token_error(exchange)))
        token = {
            "access_token": body["access_token"],
            "instance_url": body.get("instance_url") or self.base_url,
        }
        self._remember(token)
        if self._save_token is not None:
            self._save_token(dict(token))
        return token

    def _token_error(self, exchange):
        if exchange.succeeded:
            return "Salesforce token response has no access_token"
        if exchange.exception is not None or exchange.malformed:
            return None  # the default message says it
        return f"token request refused: HTTP {exchange.status}: {self.error_message(exchange)}"

    # -- requests -----------------------------------------------------------

    def _data_path(self, path):
        return f"/services/data/{self.api_version}{path}"

    def _call(self, method, path, attempts, **kwargs):
        """Authorized exchange; on 401 refresh the token once and replay once."""
        token = self._current_token(attempts)
        exchange = self._send_with(token, method, path, **kwargs)
        attempts.append(exchange.attempt)
        if exchange.status == 401:
            token = self._fetch_token(attempts)
            exchange = self._send_with(token, method, path, **kwargs)
            attempts.append(exchange.attempt)
        return exchange

    def _send_with(self, token, method, path, **kwargs):
        base = token["instance_url"].rstrip("/")
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        return self.request(method, base + self._data_path(path), headers=headers, **kwargs)

    def _account_path(self, tenant):
        field_name = quote(self.external_id_field, safe="")
        return f"/sobjects/Account/{field_name}/{quote(str(tenant), safe='')}"

    # -- interface -------------------------------------------------------------

    def push_updates(self, updates):
        """One Account upsert per update."""
        return [self.upsert_account(update.tenant, update.properties) for update in updates]

    def push_alert(self, alert):
        """Upsert the Account, then create a high-priority Task on it.

        A failed upsert is the result; otherwise a new result with the attempts
        of both calls, ``external_ids`` of the upsert and ``remote_id`` = Task Id.
        """
        upserted = self.upsert_account(alert.tenant, alert.properties)
        if not upserted.ok:
            return upserted
        account_id = upserted.external_ids.get(str(alert.tenant)) or alert.tenant
        task = self.create_task(account_id, alert.subject, alert.body, Priority="High")
        return self.chain(upserted, task)

    # -- operations -------------------------------------------------------------

    @_delivery
    def upsert_account(self, tenant, fields):
        """Create or update the Account whose external id field is ``tenant``.

        The external id field is taken from the URL, never from ``fields``
        (Salesforce rejects it in the body).  ``external_ids`` = ``{tenant: Account Id}``;
        a 204 (API versions before 46.0 answer updates without a body) costs one
        lookup to learn the id.
        """
        body = {
            key: salesforce_value(value)
            for key, value in fields.items()
            if key != self.external_id_field
        }
        attempts = []
        exchange = self._call("PATCH", self._account_path(tenant), attempts, json_body=body)
        if not exchange.succeeded:
            return self.failure(exchange, attempts)
        if exchange.status == 204:
            return self._with_looked_up_id(tenant, exchange, attempts)
        account_id = exchange.json.get("id") if isinstance(exchange.json, dict) else None
        if not account_id:
            return self.failure(exchange, attempts)
        return self.success(exchange, attempts, external_ids={str(tenant): account_id})

    def _with_looked_up_id(self, tenant, upsert_exchange, attempts):
        account_id, lookup = self._lookup(tenant, attempts)
        if account_id is None:
            # The update did happen; only the id is unknown: report success without it.
            return self.success(upsert_exchange, attempts)
        return self.success(lookup, attempts, external_ids={str(tenant): account_id})

    def _lookup(self, tenant, attempts):
        exchange = self._call("GET", self._account_path(tenant), attempts, params={"fields": "Id"})
        body = exchange.json if isinstance(exchange.json, dict) else {}
        return (body.get("Id") if exchange.succeeded else None), exchange

    @_delivery
    def find_account_id(self, tenant):
        """The Account Id of a tenant: ``external_ids`` = ``{tenant: Id}``; 404 when none."""
        attempts = []
        account_id, exchange = self._lookup(tenant, attempts)
        if account_id is None:
            return self.failure(exchange, attempts)
        return self.success(exchange, attempts, external_ids={str(tenant): account_id})

    @_delivery
    def create_task(self, account_id_or_tenant, subject, description, **extra_fields):
        """Create a Task on an Account; ``remote_id`` is the Task Id.

        ``account_id_or_tenant`` is used as the Account Id when it looks like one
        (``001`` + 12 or 15 characters), otherwise it is a tenant looked up by the
        external id field.  ``extra_fields`` (``Priority``, ``ActivityDate``, ...)
        are sent as they are.
        """
        attempts = []
        what_id = str(account_id_or_tenant)
        if not ACCOUNT_ID_RE.match(what_id):
            what_id, lookup = self._lookup(account_id_or_tenant, attempts)
            if what_id is None:
                return self.failure(lookup, attempts)
        body = {"WhatId": what_id, "Subject": subject, "Description": description}
        body.update({"Status": "Not Started", **extra_fields})
        exchange = self._call("POST", "/sobjects/Task", attempts, json_body=body)
        task_id = exchange.json.get("id") if isinstance(exchange.json, dict) else None
        if not exchange.succeeded or not task_id:
            return self.failure(exchange, attempts)
        return self.success(exchange, attempts, remote_id=task_id)

    @_delivery
    def test_connection(self):
        """Token plus an authorized read of the org limits."""
        attempts = []
        exchange = self._call("GET", "/limits", attempts)
        if not exchange.succeeded:
            return self.failure(exchange, attempts)
        return self.success(exchange, attempts)

    # -- errors -------------------------------------------------------------

    @staticmethod
    def _error_items(exchange):
        body = exchange.json
        if isinstance(body, dict):
            body = [body]
        if not isinstance(body, list):
            return []
        return [item for item in body if isinstance(item, dict)]

    def error_message(self, exchange):
        """Salesforce errors: ``[{"errorCode": ..., "message": ..., "fields": [...]}]``."""
        messages = []
        for item in self._error_items(exchange):
            code = item.get("errorCode") or item.get("error")
            text = item.get("message") or item.get("error_description") or ""
            fields = item.get("fields")
            message = f"{code}: {text}" if code else str(text)
            if fields:
                message += f" (fields: {', '.join(map(str, fields))})"
            messages.append(message)
        return "; ".join(messages) or super().error_message(exchange)

    def is_retryable_response(self, exchange):
        codes = {item.get("errorCode") for item in self._error_items(exchange)}
        return bool(codes & RETRYABLE_ERROR_CODES) or super().is_retryable_response(exchange)
