from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..core.mapping import default_mapping
from .crm_sync_message import BATCH_SIZE

BACKEND_TYPES = [
    ("hubspot", "HubSpot"),
    ("salesforce", "Salesforce"),
    ("webhook", "Signed webhook"),
    ("odoo", "Odoo CRM"),
]
ROOT_CHANNEL_XMLID = "crm_sync_connector.queue_job_channel_crm_sync"


class CrmSyncBackend(models.Model):
    """A CRM that receives account status; several may be active at once."""

    _name = "crm.sync.backend"
    _inherit = ["crm.sync.credentials.mixin", "crm.sync.delivery.mixin"]
    _description = "CRM Sync Backend"
    _order = "sequence, name"
    _check_company_auto = True

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
    timeout = fields.Float(default=30.0, help="Read timeout of every request, in seconds.")
    max_attempts = fields.Integer(
        default=8, help="Deliveries failing this many times become dead letters."
    )
    # HubSpot
    hubspot_id_property = fields.Char(
        string="Tenant property",
        default="tenant_id",
        help="Unique company property holding the tenant id (upsert key).",
    )
    # Salesforce
    sf_token_url = fields.Char(string="Token URL")
    sf_client_id = fields.Char(string="Client ID")
    sf_grant = fields.Selection(
        [("client_credentials", "Client credentials"), ("refresh_token", "Refresh token")],
        string="OAuth grant",
        default="client_credentials",
    )
    sf_api_version = fields.Char(string="API version", default="v61.0")
    sf_external_id_field = fields.Char(string="External ID field", default="Tenant_Id__c")
    # Odoo CRM
    odoo_activity_user_id = fields.Many2one(
        "res.users",
        string="Alert activities for",
        help="Who gets alert activities when the opportunity has no salesperson.",
    )

    mapping_ids = fields.One2many("crm.sync.field.mapping", "backend_id", string="Field mapping")
    channel_id = fields.Many2one("queue.job.channel", readonly=True, copy=False)
    message_ids = fields.One2many("crm.sync.message", "backend_id")
    pending_count = fields.Integer(compute="_compute_counts")
    dead_count = fields.Integer(compute="_compute_counts")

    _name_company_uniq = models.Constraint(
        "UNIQUE(company_id, name)", "A backend name is unique per company."
    )
    _max_attempts_positive = models.Constraint(
        "CHECK(max_attempts > 0)", "The number of attempts must be positive."
    )
    _rate_limit_positive = models.Constraint(
        "CHECK(rate_limit > 0)", "The rate limit must be positive."
    )

    def _compute_counts(self):
        groups = self.env["crm.sync.message"]._read_group(
            [("backend_id", "in", self.ids), ("state", "in", ("pending", "dead"))],
            ["backend_id", "state"],
            ["__count"],
        )
        counts = {(backend.id, state): count for backend, state, count in groups}
        for backend in self:
            backend.pending_count = counts.get((backend.id, "pending"), 0)
            backend.dead_count = counts.get((backend.id, "dead"), 0)

    @api.constrains("backend_type", "base_url", "sf_token_url", "sf_client_id")
    def _check_connection_settings(self):
        for backend in self:
            if (
                backend.backend_type in ("hubspot", "salesforce", "webhook")
                and not backend.base_url
            ):
                raise ValidationError(_("Backend %s needs a base URL.", backend.name))
            if backend.backend_type == "salesforce" and not (
                backend.sf_token_url and backend.sf_client_id
            ):
                raise ValidationError(
                    _("Salesforce backend %s needs a token URL and a client ID.", backend.name)
                )

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        for backend in backends:
            if not backend.mapping_ids:
                backend._reset_mapping()
            backend._ensure_channel()
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

    def _ensure_channel(self):
        """One queue_job channel per backend (``root.crm_sync.<id>``): a slow or
        rate-limited CRM does not hold up the others."""
        root = self.env.ref(ROOT_CHANNEL_XMLID)
        for backend in self.filtered(lambda b: not b.channel_id):
            # sudo: queue.job.channel is writable by system admins only; the
            # channel is technical plumbing created for a backend the user may create.
            channel = (
                self.env["queue.job.channel"]
                .sudo()
                .create({"name": str(backend.id), "parent_id": root.id})
            )
            backend.channel_id = channel

    @property
    def _channel_name(self):
        self.ensure_one()
        return f"root.crm_sync.{self.id}"

    def _mapping_dict(self):
        self.ensure_one()
        return {m.key: m.remote_name for m in self.mapping_ids if m.active}

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_sync_connector.crm_sync_message_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"search_default_filter_dead": 1}
        return action

    def action_replay_dead(self):
        """Replay every dead message of the selected backends."""
        dead = self.env["crm.sync.message"].search(
            [("backend_id", "in", self.ids), ("state", "=", "dead")]
        )
        if dead:
            dead.action_replay()
        return True

    # ------------------------------------------------------------------ full refresh

    @api.model
    def _cron_full_refresh(self):
        """Daily: an update of every tenant with a subscription to every active backend.

        HubSpot messages are delivered ``BATCH_SIZE`` per job and request; the
        other CRMs have no batch upsert and get one job per message.
        """
        messages_model = self.env["crm.sync.message"]
        for backend in self.search([]):
            tenants = (
                self.env["usage.subscription"]
                .search([("company_id", "=", backend.company_id.id)])
                .tenant_id
            )
            new = messages_model.browse()
            for tenant in tenants:
                new |= messages_model._enqueue(backend, tenant, schedule=False)
            backend._schedule_batches(new)
        return True

    def _schedule_batches(self, messages):
        self.ensure_one()
        size = BATCH_SIZE if self.backend_type == "hubspot" else 1
        for start in range(0, len(messages), size):
            messages[start : start + size]._delay()._deliver()
