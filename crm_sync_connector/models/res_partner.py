from datetime import datetime
from decimal import Decimal

from odoo import fields, models

from ..core.mapping import usage_summary

#: Fields the Odoo backend may write on partners: a mapping cannot touch others.
MAPPABLE_PREFIX = "crm_sync_"
LEAD_FIELDS = ("crm_sync_health_score", "crm_sync_health_label", "crm_sync_usage_summary")


class ResPartner(models.Model):
    _inherit = "res.partner"

    crm_sync_plan = fields.Char(string="Plan", readonly=True)
    crm_sync_subscription_state = fields.Char(string="Subscription", readonly=True)
    crm_sync_mrr = fields.Float(string="MRR", readonly=True)
    crm_sync_last_invoice = fields.Char(string="Last invoice", readonly=True)
    crm_sync_last_invoice_payment_state = fields.Char(string="Last invoice payment", readonly=True)
    crm_sync_overdue_amount = fields.Float(string="Overdue", readonly=True)
    crm_sync_credit_balance = fields.Float(string="Credit balance (synced)", readonly=True)
    crm_sync_credit_next_expiry = fields.Date(string="Credit expires on", readonly=True)
    crm_sync_health_score = fields.Integer(string="Health score", readonly=True)
    crm_sync_health_label = fields.Char(string="Health", readonly=True)
    crm_sync_health_reasons = fields.Char(string="Health reasons", readonly=True)
    crm_sync_usage_summary = fields.Text(string="Usage", readonly=True)
    crm_sync_date = fields.Datetime(string="Usage synced on", readonly=True)

    def _crm_sync_values(self, properties, status):
        """Mapped properties as values of this model's ``crm_sync_*`` fields."""
        values = {}
        for name, value in properties.items():
            field = self._fields.get(name)
            if not name.startswith(MAPPABLE_PREFIX) or field is None:
                continue
            if isinstance(value, Decimal):
                value = float(value)
            if field.type == "datetime" and isinstance(value, str):
                value = datetime.fromisoformat(value).replace(tzinfo=None)
            if field.type == "char" and value is not None:
                value = str(value)
            values[name] = value
        values["crm_sync_usage_summary"] = usage_summary(status)
        return values

    def _crm_sync_opportunity(self):
        self.ensure_one()
        return self.env["crm.lead"].search(
            [
                ("partner_id", "child_of", self.commercial_partner_id.id),
                ("type", "=", "opportunity"),
                ("probability", "<", 100),
                ("company_id", "in", (False, self.env.company.id)),
            ],
            order="create_date desc, id desc",
            limit=1,
        )

    def _crm_sync_update(self, backend, update):
        """The Odoo CRM "delivery" of an account update: partner and opportunity fields."""
        self.ensure_one()
        values = self._crm_sync_values(update.properties, update.status)
        self.write(values)
        opportunity = self._crm_sync_opportunity()
        if opportunity:
            opportunity.write({name: values.get(name) for name in LEAD_FIELDS if name in values})
        return opportunity

    def _crm_sync_alert(self, backend, alert):
        """An alert: the account update, then an activity for the salesperson."""
        opportunity = self._crm_sync_update(backend, alert)
        target = opportunity or self
        user = opportunity.user_id or backend.odoo_activity_user_id or self.env.user
        activity = target.activity_schedule(
            "mail.mail_activity_data_todo", summary=alert.subject, note=alert.body, user_id=user.id
        )
        return f"mail.activity,{activity.id}"
