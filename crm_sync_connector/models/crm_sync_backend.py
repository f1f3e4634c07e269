import logging

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..adapters import OdooCrmClient
from ..core.clients import (
    CLIENTS,
    DEFAULT_API_VERSION,
    DEFAULT_EXTERNAL_ID_FIELD,
    DEFAULT_GRANT,
    DEFAULT_ID_PROPERTY,
    DEFAULT_READ_TIMEOUT,
    ClientSettings,
    DeliveryResult,
    shared_rate_limiter,
)
from ..core.mapping import default_mapping
from ..core.usage_core import delivery_redact

_logger = logging.getLogger(__name__)

#: backend type -> client class: the HTTP clients of the core, and Odoo CRM.
#: A new CRM is one client class (``core.clients.base.CrmClient``) and one line here.
ADAPTERS = {**CLIENTS, "odoo": OdooCrmClient}
BACKEND_TYPES = [(backend_type, client.label) for backend_type, client in ADAPTERS.items()]
#: Backend-specific settings handed to the clients (``ClientSettings.options``).
OPTION_FIELDS = (
    "hubspot_id_property",
    "sf_token_url",
    "sf_client_id",
    "sf_grant",
    "sf_api_version",
    "sf_external_id_field",
)


class CrmSyncBackend(models.Model):
    """A CRM that receives account status; several may be active at once."""

    _name = "crm.sync.backend"
    _inherit = ["crm.sync.credentials.mixin", "usage.outbox.destination"]
    _description = "CRM Sync Backend"
    _order = "sequence, name"
    _check_company_auto = True

    _outbox_message_model = "crm.sync.message"
    _outbox_root_channel = "crm_sync_connector.queue_job_channel_crm_sync"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    backend_type = fields.Selection(BACKEND_TYPES, required=True, default="hubspot")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    base_url = fields.Char(
        string="Base URL",
        help="HubSpot: https://api.hubapi.com; Salesforce: the instance URL "
        "(https://<domain>.my.salesforce.com); webhook: the receiver's URL.",
    )
    rate_limit = fields.Float(
        default=5.0, help="Requests per second sent to this CRM, shared by all jobs of a worker."
    )
    timeout = fields.Float(
        default=DEFAULT_READ_TIMEOUT, help="Read timeout of every request, in seconds."
    )
    # HubSpot
    hubspot_id_property = fields.Char(
        string="Tenant property",
        default=DEFAULT_ID_PROPERTY,
        help="Unique company property holding the tenant id (upsert key).",
    )
    # Salesforce
    sf_token_url = fields.Char(string="Token URL")
    sf_client_id = fields.Char(string="Client ID")
    sf_grant = fields.Selection(
        [("client_credentials", "Client credentials"), ("refresh_token", "Refresh token")],
        string="OAuth grant",
        default=DEFAULT_GRANT,
    )
    sf_api_version = fields.Char(string="API version", default=DEFAULT_API_VERSION)
    sf_external_id_field = fields.Char(
        string="External ID field", default=DEFAULT_EXTERNAL_ID_FIELD
    )
    # Odoo CRM
    odoo_activity_user_id = fields.Many2one(
        "res.users",
        string="Alert activities for",
        help="Who gets alert activities when the opportunity has no salesperson.",
    )

    mapping_ids = fields.One2many("crm.sync.field.mapping", "backend_id", string="Field mapping")
    message_ids = fields.One2many("crm.sync.message", "backend_id")

    _name_company_uniq = models.Constraint(
        "UNIQUE(company_id, name)", "A backend name is unique per company."
    )
    _rate_limit_positive = models.Constraint(
        "CHECK(rate_limit > 0)", "The rate limit must be positive."
    )

    @api.constrains("backend_type", "base_url", "sf_token_url", "sf_client_id")
    def _check_connection_settings(self):
        for backend in self:
            if backend.backend_type != "odoo" and not backend.base_url:
                raise ValidationError(self.env._("Backend %s needs a base URL.", backend.name))
            if backend.backend_type == "salesforce" and not (
                backend.sf_token_url and backend.sf_client_id
            ):
                raise ValidationError(
                    self.env._(
                        "Salesforce backend %s needs a token URL and a client ID.", backend.name
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends.filtered(lambda b: not b.mapping_ids)._reset_mapping()
        return backends

    def _reset_mapping(self):
        """Replace the field mapping by the defaults of the backend type."""
        for backend in self:
            backend.mapping_ids.unlink()
            self.env["crm.sync.field.mapping"].create(
                [
                    {"backend_id": backend.id, "key": key, "remote_name": remote}
                    for key, remote in default_mapping(backend.backend_type).items()
                ]
            )

    def action_reset_mapping(self):
        self._reset_mapping()

    def _mapping_dict(self):
        self.ensure_one()
        return {m.key: m.remote_name for m in self.mapping_ids if m.active}

    # ------------------------------------------------------------------ client

    def _client(self):
        """This backend's client, credentials decrypted now (``ADAPTERS``)."""
        self.ensure_one()
        settings = ClientSettings(
            base_url=self.base_url,
            timeout=self.timeout,
            rate_limit=shared_rate_limiter(
                ("crm_sync", self.env.cr.dbname, self.id), self.rate_limit
            ),
            credential=self._credential,
            options={name: self[name] for name in OPTION_FIELDS},
            load_token=self._load_access_token,
            save_token=self._save_access_token,
            record=self,
        )
        return ADAPTERS[self.backend_type].from_settings(settings)

    def _outbox_batch_size(self):
        return ADAPTERS[self.backend_type].batch_size

    def _known_secrets(self):
        """Every decrypted credential, to redact errors that did not come from a client."""
        values = []
        for name in ("token", "client_secret", "refresh_token", "webhook_secret", "access_token"):
            try:
                values.append(self._credential(name))
            except Exception:
                continue
        return [value for value in values if value]

    def _configuration_failure(self, exc):
        """A client that cannot be built or crashed: a permanent, redacted failure."""
        _logger.info("CRM sync backend %s: %s", self.id, type(exc).__name__)
        error = delivery_redact.redact(f"{type(exc).__name__}: {exc}", self._known_secrets())
        return DeliveryResult(ok=False, retryable=False, error=error)

    def action_test_connection(self):
        self.ensure_one()
        try:
            with self._client() as client:
                result = client.test_connection()
        except Exception as exc:
            result = self._configuration_failure(exc)
        if result.ok:
            message, kind = self.env._("Connection to %s works.", self.name), "success"
        else:
            message, kind = self.env._("Connection failed: %s", result.error), "danger"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": kind, "sticky": not result.ok},
        }

    # ------------------------------------------------------------------ push

    def _outbox_push(self, messages):
        """Send ``messages`` (all of this backend): ``[(messages, DeliveryResult)]``.

        The statuses of every tenant of the batch are computed once, here, at
        send time; the client gets plain data.
        """
        self.ensure_one()
        statuses = messages.tenant_id._crm_account_statuses()
        mapping = self._mapping_dict()
        updates = messages.filtered(lambda m: m.kind == "update")
        outcome = []
        try:
            with self._client() as client:
                if updates:
                    results = client.push_updates(
                        [m._account_update(statuses, mapping) for m in updates]
                    )
                    outcome += _grouped(updates, results)
                for alert in messages - updates:
                    outcome.append((alert, client.push_alert(alert._alert(statuses, mapping))))
        except Exception as exc:
            sent = self.env["crm.sync.message"].union(*(group for group, _r in outcome))
            outcome.append((messages - sent, self._configuration_failure(exc)))
        return outcome

    # ------------------------------------------------------------------ full refresh

    @api.model
    def _cron_full_refresh(self):
        """Daily: an update of every tenant with a subscription to every active backend.

        One outbox statement per backend, then jobs of the client's batch size
        (HubSpot: 100 tenants per job and request).
        """
        messages = self.env["crm.sync.message"]
        for backend in self.search([]):  # pylint: disable=no-search-all
            tenants = (
                self.env["usage.subscription"]
                .search([("company_id", "=", backend.company_id.id)])
                .tenant_id
            )
            messages._enqueue(backend, tenants, schedule=False)._schedule()
        return True


def _grouped(messages, results):
    """``[(messages, result)]``: the messages that share one result object, together."""
    groups = {}
    for message, result in zip(messages, results, strict=True):
        groups.setdefault(id(result), [messages.browse(), result])[0] |= message
    return [(group, result) for group, result in groups.values()]
