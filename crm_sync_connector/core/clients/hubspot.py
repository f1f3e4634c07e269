"""HubSpot CRM v3 client: companies upserted by tenant, alerts as notes on companies.

Authentication is a private-app access token (``Authorization: Bearer``); it
cannot be refreshed, so a 401 is permanent.

Companies are upserted with the batch upsert endpoint keyed by a unique company
property holding the tenant id (``id_property``, default ``DEFAULT_ID_PROPERTY``;
it must be declared "unique" in HubSpot).  Replaying a batch therefore updates
the same companies instead of creating new ones.

An alert upserts its company, then attaches a note whose HTML body is built
here with every piece of text escaped (``note_html``).
"""

import html
from datetime import datetime, timezone
from decimal import Decimal

from .base import CrmClient, DeliveryResult, json_default

DEFAULT_BASE_URL = "https://api.hubapi.com"
DEFAULT_ID_PROPERTY = "tenant_id"
BATCH_LIMIT = 100
#: HubSpot-defined association type "note to company".
NOTE_TO_COMPANY = 190
#: Private apps may send 100 requests per 10 s (more on higher tiers); stay below.
DEFAULT_RATE_LIMIT = 9


def hubspot_value(value):
    """HubSpot property values are strings: ``"true"``/``"false"``, ``"a;b"`` multi-select."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal, str)):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return ";".join(hubspot_value(item) for item in value)  # multi-select values
    return json_default(value)


def hubspot_timestamp(moment=None):
    """ISO 8601 UTC with milliseconds, as HubSpot writes them."""
    moment = moment or datetime.now(timezone.utc)
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def note_html(subject, body):
    """The HTML body of an alert note: everything escaped, line breaks kept as ``<br>``."""
    lines = "<br>".join(html.escape(line) for line in str(body or "").splitlines())
    return f"<p><b>{html.escape(str(subject or ''))}</b></p><p>{lines}</p>"


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class HubSpotClient(CrmClient):
    """``push_updates``, ``push_alert``, ``test_connection``; below them
    ``upsert_companies`` and ``create_note``."""

    name = "hubspot"
    label = "HubSpot"
    batch_size = BATCH_LIMIT

    def __init__(
        self,
        base_url=DEFAULT_BASE_URL,
        token=None,
        id_property=DEFAULT_ID_PROPERTY,
        rate_limit=DEFAULT_RATE_LIMIT,
        *,
        timeout=None,
        session=None,
    ):
        super().__init__(base_url, timeout=timeout, rate_limit=rate_limit, session=session)
        if not token:
            raise ValueError("HubSpot access token is required")
        self._token = token
        self.id_property = id_property

    @classmethod
    def from_settings(cls, settings):
        return cls(
            settings.base_url or DEFAULT_BASE_URL,
            settings.credential("token"),
            settings.option("hubspot_id_property", DEFAULT_ID_PROPERTY),
            **cls.http_options(settings),
        )

    def secrets(self):
        return (self._token,)

    def _headers(self):
        return {"Authorization": f"Bearer {self._token}"}

    def _inputs(self, accounts):
        """Batch inputs, one per tenant; a tenant given twice keeps its last state."""
        latest = {}
        for account in accounts:
            tenant = str(account["tenant"])
            properties = {key: hubspot_value(v) for key, v in account["properties"].items()}
            properties[self.id_property] = tenant
            latest.pop(tenant, None)  # re-insert: order follows the newest occurrence
            latest[tenant] = properties
        return [
            {"idProperty": self.id_property, "id": tenant, "properties": properties}
            for tenant, properties in latest.items()
        ]

    def upsert_companies(self, accounts):
        """Create or update one company per tenant.

        ``accounts``: ``[{"tenant": "acme", "properties": {"name": "Acme", ...}}]``.
        Sent in batches of ``BATCH_LIMIT``; the first failing batch stops the
        delivery (the next ones would most likely fail the same way) and the
        result keeps the ids of the batches that succeeded.
        Result: ``external_ids`` = ``{tenant: company id}``.
        """
        attempts, external_ids, exchange = [], {}, None
        for chunk in _chunks(self._inputs(accounts), BATCH_LIMIT):
            exchange, failed = self._upsert_chunk(chunk, attempts, external_ids)
            if failed is not None:
                return failed
        if exchange is None:
            return DeliveryResult(ok=True)  # nothing to send
        return self.success(exchange, attempts, external_ids=external_ids)

    def push_updates(self, updates):
        """Batch upserts of ``BATCH_LIMIT`` companies; each batch's result is shared
        by its updates (a tenant given twice is sent once, with its last state).

        After a failing batch the next ones are not sent (they would most likely
        fail the same way); their updates get a retryable "not sent" result.
        """
        accounts = [{"tenant": item.tenant, "properties": item.properties} for item in updates]
        by_tenant, failed = {}, None
        for chunk in _chunks(self._inputs(accounts), BATCH_LIMIT):
            if failed is not None:
                result = _not_sent(failed)
            else:
                attempts, ids = [], {}
                exchange, failed = self._upsert_chunk(chunk, attempts, ids)
                result = failed or self.success(exchange, attempts, external_ids=ids)
            by_tenant.update(dict.fromkeys((item["id"] for item in chunk), result))
        return [by_tenant[str(update.tenant)] for update in updates]

    def push_alert(self, alert):
        """Upsert the company, then attach a note (escaped HTML) to it.

        ``remote_id`` is the note id, ``external_ids`` has the company id; the
        attempts are those of both calls.
        """
        account = {"tenant": alert.tenant, "properties": alert.properties}
        upserted = self.upsert_companies([account])
        if not upserted.ok:
            return upserted
        company_id = upserted.external_ids[str(alert.tenant)]
        note = self.create_note(company_id, note_html(alert.subject, alert.body))
        return self.chain(upserted, note)

    def _upsert_chunk(self, chunk, attempts, external_ids):
        """Send one batch, adding its attempt and company ids to the lists given.

        Returns ``(exchange, failed result or None)``.
        """
        url = self.url("/crm/v3/objects/companies/batch/upsert")
        body = {"inputs": chunk}
        exchange = self.request("POST", url, headers=self._headers(), json_body=body)
        attempts.append(exchange.attempt)
        if not exchange.succeeded:
            return exchange, self.failure(exchange, attempts, external_ids=external_ids)
        ids, problem = self._company_ids(exchange.json, chunk)
        external_ids.update(ids)
        if problem:
            retryable = exchange.status != 207  # 207: HubSpot rejected some inputs
            failed = self.failure(
                exchange, attempts, error=problem, retryable=retryable, external_ids=external_ids
            )
            return exchange, failed
        return exchange, None

    def _company_ids(self, body, chunk):
        """``({tenant: company id}, problem or None)`` from a batch response."""
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            return {}, "HubSpot batch response has no results list"
        ids = {}
        for position, record in enumerate(body["results"]):
            if not isinstance(record, dict):
                continue
            properties = record.get("properties") or {}
            tenant = properties.get(self.id_property)
            if tenant is None and len(body["results"]) == len(chunk):
                tenant = chunk[position]["id"]  # id property not echoed: same order as sent
            if tenant is not None and record.get("id") is not None:
                ids[str(tenant)] = str(record["id"])
        errors = [
            str(error.get("message", error)) if isinstance(error, dict) else str(error)
            for error in body.get("errors") or []
        ]
        missing = [item["id"] for item in chunk if item["id"] not in ids]
        if errors:
            return ids, "HubSpot rejected some companies: " + "; ".join(errors)
        if missing:
            return ids, f"HubSpot returned no company for tenants {', '.join(missing)}"
        return ids, None

    def create_note(self, company_id, body, timestamp=None):
        """Attach a note (HTML allowed) to a company; ``remote_id`` is the note id."""
        payload = {
            "properties": {"hs_note_body": body, "hs_timestamp": hubspot_timestamp(timestamp)},
            "associations": [
                {
                    "to": {"id": str(company_id)},
                    "types": [
                        {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": NOTE_TO_COMPANY,
                        }
                    ],
                }
            ],
        }
        url = self.url("/crm/v3/objects/notes")
        exchange = self.request("POST", url, headers=self._headers(), json_body=payload)
        note_id = (exchange.json or {}).get("id") if isinstance(exchange.json, dict) else None
        if not exchange.succeeded or note_id is None:
            return self.failure(exchange, [exchange.attempt])
        return self.success(exchange, [exchange.attempt], remote_id=str(note_id))

    def test_connection(self):
        """Cheapest authenticated read: one company."""
        url = self.url("/crm/v3/objects/companies")
        exchange = self.request("GET", url, headers=self._headers(), params={"limit": 1})
        if not exchange.succeeded:
            return self.failure(exchange, [exchange.attempt])
        return self.success(exchange, [exchange.attempt])

    def error_message(self, exchange):
        """HubSpot errors: ``{"status": "error", "message": ..., "category": ...}``."""
        body = exchange.json
        if isinstance(body, dict) and body.get("message"):
            category = body.get("category")
            return f"{category}: {body['message']}" if category else str(body["message"])
        return super().error_message(exchange)


def _not_sent(failed):
    """The result of updates left unsent after the batch ``failed``: retry them later."""
    return DeliveryResult(
        ok=False,
        retryable=True,
        retry_after=failed.retry_after,
        error=f"not sent: an earlier batch failed ({failed.error})",
    )
