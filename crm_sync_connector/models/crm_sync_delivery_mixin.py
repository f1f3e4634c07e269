"""How a backend sends: builds the core client and pushes outbox messages.

The payload of an ``update`` is computed here, at send time, from the tenant's
current state, so a retried or coalesced message always carries the newest
state.  Alerts carry the payload stored when they were detected.
"""

import logging

from odoo import _, fields, models
from odoo.addons.usage_billing_connector.core.delivery.redact import redact

from ..core import mapping as mapping_core
from ..core.clients import (
    DeliveryResult,
    HubSpotClient,
    OAuthConfig,
    SalesforceClient,
    WebhookClient,
    shared_rate_limiter,
)

_logger = logging.getLogger(__name__)


class CrmSyncDeliveryMixin(models.AbstractModel):
    """How ``crm.sync.backend`` talks to each CRM type; needs the backend's
    connection fields (``backend_type``, ``base_url``, ...) and credentials."""

    _name = "crm.sync.delivery.mixin"
    _description = "CRM Sync Delivery"

    # ------------------------------------------------------------------ clients

    def _rate_limiter(self):
        return shared_rate_limiter(("crm_sync", self.env.cr.dbname, self.id), self.rate_limit)

    def _client(self):
        """The core HTTP client of this backend, credentials decrypted now."""
        self.ensure_one()
        common = {"timeout": (5.0, self.timeout or 30.0), "rate_limit": self._rate_limiter()}
        if self.backend_type == "hubspot":
            return HubSpotClient(
                self.base_url,
                self._credential("token"),
                self.hubspot_id_property or "tenant_id",
                **common,
            )
        if self.backend_type == "salesforce":
            auth = OAuthConfig(
                token_url=self.sf_token_url,
                client_id=self.sf_client_id,
                client_secret=self._credential("client_secret") or "",
                refresh_token=self._credential("refresh_token"),
                grant=self.sf_grant or "client_credentials",
            )
            return SalesforceClient(
                self.base_url,
                auth,
                api_version=self.sf_api_version or "v61.0",
                external_id_field=self.sf_external_id_field or "Tenant_Id__c",
                load_token=self._load_access_token,
                save_token=self._save_access_token,
                **common,
            )
        if self.backend_type == "webhook":
            return WebhookClient(self.base_url, self._credential("webhook_secret"), **common)
        return None

    def _known_secrets(self):
        """Every decrypted credential, to redact errors that did not come from a client."""
        values = []
        for name in ("token", "client_secret", "refresh_token", "webhook_secret", "access_token"):
            try:
                values.append(self._credential(name))
            except Exception:
                continue
        return [value for value in values if value]

    def action_test_connection(self):
        self.ensure_one()
        if self.backend_type == "odoo":
            result = DeliveryResult(ok=True)
        else:
            result = self._safe_call(lambda client: client.test_connection())
        if result.ok:
            message, kind = _("Connection to %s works.", self.name), "success"
        else:
            message, kind = _("Connection failed: %s", result.error), "danger"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": kind, "sticky": not result.ok},
        }

    def _safe_call(self, operation):
        """Run ``operation(client)`` with a fresh client (closed afterwards);
        configuration errors (no credential, undecryptable value, ...) become a
        permanent failure instead of a crashed job."""
        try:
            with self._client() as client:
                return operation(client)
        except Exception as exc:
            _logger.info("CRM sync backend %s: %s", self.id, type(exc).__name__)
            error = redact(f"{type(exc).__name__}: {exc}", self._known_secrets())
            return DeliveryResult(ok=False, retryable=False, error=error)

    # ------------------------------------------------------------------ payloads

    def _properties(self, status):
        return mapping_core.apply_mapping(status, self._mapping_dict())

    # ------------------------------------------------------------------ push

    def _push(self, messages):
        """Send ``messages`` (all of this backend); ``[(messages, DeliveryResult)]``."""
        self.ensure_one()
        method = getattr(self, f"_push_{self.backend_type}")
        return method(messages)

    def _push_hubspot(self, messages):
        updates = messages.filtered(lambda m: m.kind == "update")
        outcome = []
        if updates:
            accounts = [
                {"tenant": m.tenant_id.external_id, "properties": self._properties(m._status())}
                for m in updates
            ]
            result = self._safe_call(lambda client: client.upsert_companies(accounts))
            outcome.append((updates, result))
        for alert in messages - updates:
            outcome.append(
                (alert, self._safe_call(lambda client, a=alert: self._hubspot_alert(client, a)))
            )
        return outcome

    def _hubspot_alert(self, client, alert):
        tenant = alert.tenant_id.external_id
        account = {"tenant": tenant, "properties": self._properties(alert._status())}
        upserted = client.upsert_companies([account])
        if not upserted.ok:
            return upserted
        body = f"<p><b>{alert.payload['subject']}</b></p><p>{alert.payload['body']}</p>"
        return client.create_note(upserted.external_ids[tenant], body)

    def _push_salesforce(self, messages):
        return [(m, self._safe_call(lambda c, m=m: self._salesforce_one(c, m))) for m in messages]

    def _salesforce_one(self, client, message):
        tenant = message.tenant_id.external_id
        upserted = client.upsert_account(tenant, self._properties(message._status()))
        if message.kind == "update" or not upserted.ok:
            return upserted
        account_id = upserted.external_ids.get(tenant) or tenant
        task = client.create_task(
            account_id, message.payload["subject"], message.payload["body"], Priority="High"
        )
        task.attempts = upserted.attempts + task.attempts
        return task

    def _push_webhook(self, messages):
        return [(m, self._safe_call(lambda c, m=m: self._webhook_one(c, m))) for m in messages]

    def _webhook_one(self, client, message):
        data = self._properties(message._status())
        event = "account.updated"
        if message.kind == "alert":
            event = "account.alert"
            data = {**message.payload, "account": data}
        return client.send(
            event,
            message.tenant_id.external_id,
            fields.Datetime.to_string(message.event_date) + "Z",
            data,
            idempotency_key=f"crm-sync-{message.id}-{message.revision}",
        )

    def _push_odoo(self, messages):
        outcome = []
        for message in messages:
            try:
                with self.env.cr.savepoint():
                    message.tenant_id.partner_id._crm_sync_apply(self, message)
                outcome.append((message, DeliveryResult(ok=True)))
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                outcome.append((message, DeliveryResult(ok=False, error=error)))
        return outcome
