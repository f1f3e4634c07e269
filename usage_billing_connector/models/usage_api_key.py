import re
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..core import rate_limit, signing, utc
from ..core.secrets_box import generate_secret, mask
from ..exceptions import RateLimitExceeded
from ..utils.params import get_int_param
from ..utils.secrets_config import secrets_box

SECTION = "usage_billing"
#: What a key id sent in ``X-Usage-Key`` may look like (printable ASCII): anything
#: else is unknown without a query (a NUL would not even reach PostgreSQL).
KEY_ID_RE = re.compile(r"^[\x21-\x7e]{1,128}\Z")


class UsageApiKey(models.Model):
    _name = "usage.api.key"
    _description = "Usage API Key"
    _order = "name"
    _check_company_auto = True

    name = fields.Char(required=True)
    key_id = fields.Char(
        string="Key ID",
        required=True,
        copy=False,
        index=True,
        default=lambda self: "key_" + generate_secret(12),
        help="Public identifier sent in the X-Usage-Key header.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)
    tenant_scope = fields.Selection(
        [("all", "All tenants of the company"), ("selected", "Selected tenants")],
        required=True,
        default="all",
    )
    tenant_ids = fields.Many2many("usage.tenant", string="Allowed tenants", check_company=True)
    rate_limit = fields.Integer(
        string="Requests per minute",
        help="0 uses the default from the settings.",
    )
    # Ciphertexts (Fernet): readable only by system administrators, and even they
    # only see ciphertext; the plaintext is shown once, when generated.
    secret_encrypted = fields.Char(copy=False, groups="base.group_system")
    previous_secret_encrypted = fields.Char(copy=False, groups="base.group_system")
    previous_secret_valid_until = fields.Datetime(
        copy=False, help="The previous secret still signs valid requests until then."
    )
    secret_hint = fields.Char(readonly=True, copy=False, help="Last characters of the secret.")
    last_used_at = fields.Datetime(compute="_compute_last_used_at")

    _key_id_uniq = models.Constraint("UNIQUE(key_id)", "The key ID must be unique.")

    def _compute_last_used_at(self):
        # Derived from the ingestion log rather than written on every request, so
        # concurrent requests of one key never contend on the key's row.
        last = dict(
            self.env["usage.ingest.log"]
            .sudo()
            ._read_group([("api_key_id", "in", self.ids)], ["api_key_id"], ["create_date:max"])
        )
        for key in self:
            key.last_used_at = last.get(key)

    def _store_secret(self, secret):
        self.ensure_one()
        # sudo: the ciphertext field is restricted to system administrators.
        self.sudo().write(
            {"secret_encrypted": secrets_box(SECTION).encrypt(secret), "secret_hint": mask(secret)}
        )

    def _set_secret(self, secret):
        """Install a known secret (demo data, migration from another system)."""
        self._store_secret(secret)

    def action_generate_secret(self, grace_hours=24):
        """Rotate: a new secret, shown once; the old one keeps working ``grace_hours``."""
        self.ensure_one()
        # sudo: moving the ciphertext to "previous" needs the restricted field.
        current = self.sudo().secret_encrypted
        if current:
            # sudo: the ciphertext field is restricted to system administrators.
            self.sudo().write(
                {
                    "previous_secret_encrypted": current,
                    "previous_secret_valid_until": fields.Datetime.now()
                    + timedelta(hours=grace_hours),
                }
            )
        secret = generate_secret()
        self._store_secret(secret)
        # The plaintext goes to the browser once and is never stored: no wizard
        # record (that would be a plaintext row in the database).
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._(
                    "Secret of %s: copy it now, it is not shown again", self.key_id
                ),
                "message": secret,
                "sticky": True,
                "type": "warning",
            },
        }

    def _valid_secrets(self, now):
        self.ensure_one()
        box = secrets_box(SECTION)
        key = self.sudo()  # sudo: decrypting is the one use of the ciphertext
        found = [box.decrypt(key.secret_encrypted)] if key.secret_encrypted else []
        valid_until = key.previous_secret_valid_until
        if key.previous_secret_encrypted and valid_until and valid_until > now:
            found.append(box.decrypt(key.previous_secret_encrypted))
        return found

    @api.model
    def _authenticate(self, key_id, signature_header, body, tolerance):
        """Return the active key whose secret signed ``body``, else raise SignatureError."""
        # sudo: called by the auth='none' endpoint before any user is known; the
        # caller proves who it is with the signature checked right below.
        key = None
        if key_id and KEY_ID_RE.match(key_id):
            # search_fetch: the secrets come with the search (one query less per request)
            key = self.sudo().search_fetch([("key_id", "=", key_id)], limit=1)
        if not key:
            raise signing.SignatureError("unknown_key", "Unknown or inactive API key.")
        secrets = key._valid_secrets(fields.Datetime.now())
        signing.verify(signature_header, body, secrets, time.time(), tolerance)
        return key

    def _check_rate_limit(self):
        """Count one request of this key; raise ``RateLimitExceeded`` past its limit."""
        self.ensure_one()
        limit = self.rate_limit or get_int_param(self.env, "rate_limit")
        if limit <= 0:
            return
        now = time.time()
        start = utc.from_unix(rate_limit.window_start(now))
        # sudo: the counter is technical (managers may only read it).
        count = self.env["usage.rate.counter"].sudo()._hit(self, start)
        if rate_limit.is_over_limit(count, limit):
            raise RateLimitExceeded(limit, rate_limit.retry_after(now))

    def _allowed_tenant_ids(self):
        """None when every tenant of the company is allowed."""
        self.ensure_one()
        return None if self.tenant_scope == "all" else frozenset(self.tenant_ids.ids)

    def action_revoke(self):
        for key in self:
            if not key.active:
                raise UserError(self.env._("Key %s is already revoked.", key.name))
        self.write({"active": False})
