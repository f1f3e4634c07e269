"""Credentials of a backend: encrypted at rest, write-only in the UI.

Each credential has three fields:

* ``<name>_encrypted``: the Fernet token stored in the database (keys come from
  the ``[crm_sync]`` section of the Odoo configuration file, never the DB);
  readable by the ORM only for system administrators;
* ``<name>_hint``: the mask shown in the form (``••••abcd``);
* ``<name>``: a non-stored field whose inverse encrypts what the user typed;
  it always reads empty, so the plaintext never travels back to a browser.

``_credential(name)`` decrypts, only when a request is about to be sent.
"""

from odoo import fields, models
from odoo.addons.usage_billing_connector.core.secrets_box import mask
from odoo.addons.usage_billing_connector.utils.secrets_config import secrets_box

SECTION = "crm_sync"
CREDENTIALS = ("token", "client_secret", "refresh_token", "webhook_secret")


def _input_field(string, credential, help_text):
    return fields.Char(
        string=string,
        compute="_compute_credential_inputs",
        inverse=f"_inverse_{credential}",
        store=False,
        copy=False,
        help=help_text + " Write-only: it is encrypted on save and never shown again.",
    )


class CrmSyncCredentialsMixin(models.AbstractModel):
    """Encrypted credentials of ``crm.sync.backend`` (see the module docstring)."""

    _name = "crm.sync.credentials.mixin"
    _description = "CRM Sync Encrypted Credentials"

    token = _input_field("Access token", "token", "HubSpot private-app access token.")
    client_secret = _input_field("Client secret", "client_secret", "Salesforce OAuth secret.")
    refresh_token = _input_field(
        "Refresh token", "refresh_token", "Salesforce refresh token (refresh-token grant)."
    )
    webhook_secret = _input_field(
        "Signing secret", "webhook_secret", "Shared secret of the webhook signature."
    )

    token_encrypted = fields.Char(copy=False, groups="base.group_system")
    client_secret_encrypted = fields.Char(copy=False, groups="base.group_system")
    refresh_token_encrypted = fields.Char(copy=False, groups="base.group_system")
    webhook_secret_encrypted = fields.Char(copy=False, groups="base.group_system")
    #: Salesforce access token cache shared by all workers (encrypted too).
    access_token_encrypted = fields.Char(copy=False, groups="base.group_system")

    token_hint = fields.Char(string="Stored token", readonly=True, copy=False)
    client_secret_hint = fields.Char(string="Stored client secret", readonly=True, copy=False)
    refresh_token_hint = fields.Char(string="Stored refresh token", readonly=True, copy=False)
    webhook_secret_hint = fields.Char(string="Stored signing secret", readonly=True, copy=False)

    def _compute_credential_inputs(self):
        for backend in self:
            for name in CREDENTIALS:
                backend[name] = False

    def _store_credential(self, name):
        box = secrets_box(SECTION)
        for backend in self:
            value = (backend[name] or "").strip()
            if not value:
                continue  # an empty input keeps the stored credential
            # sudo: the *_encrypted columns are restricted to system administrators
            # so that no other user can read even the ciphertext through the ORM;
            # CRM Sync managers may still replace a credential they cannot read.
            backend.sudo().write(
                {
                    f"{name}_encrypted": box.encrypt(value),
                    f"{name}_hint": mask(value),
                    **({"access_token_encrypted": False} if name != "webhook_secret" else {}),
                }
            )
        # The typed value must not stay readable in this transaction's cache either.
        self.invalidate_recordset([name])

    def _inverse_token(self):
        self._store_credential("token")

    def _inverse_client_secret(self):
        self._store_credential("client_secret")

    def _inverse_refresh_token(self):
        self._store_credential("refresh_token")

    def _inverse_webhook_secret(self):
        self._store_credential("webhook_secret")

    def _credential(self, name):
        """Decrypted credential, ``None`` when unset; only call right before sending."""
        self.ensure_one()
        # sudo: reading the ciphertext column (restricted to system administrators)
        # is needed to send; the plaintext stays in this process's memory.
        token = self.sudo()[f"{name}_encrypted"]
        return secrets_box(SECTION).decrypt(token) if token else None

    def _load_access_token(self):
        cached = self._credential("access_token")
        return {"access_token": cached} if cached else None

    def _save_access_token(self, token):
        # sudo: see _credential; the cache is written by the delivery job.
        self.sudo().access_token_encrypted = secrets_box(SECTION).encrypt(token["access_token"])

    def action_rotate_credentials(self):
        """Re-encrypt every stored credential with the newest configured key."""
        box = secrets_box(SECTION)
        names = (*CREDENTIALS, "access_token")
        # sudo: see _credential.
        for backend in self.sudo():
            values = {
                f"{name}_encrypted": box.rotate(backend[f"{name}_encrypted"])
                for name in names
                if backend[f"{name}_encrypted"]
            }
            backend.write(values)
