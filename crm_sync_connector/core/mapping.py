"""Field mapping: our status keys -> the CRM's property names.

``STATUS_KEYS`` are the keys of ``account_status.build_account_status``; the
per-metric keys ``usage`` and ``usage_percent`` are templates whose CRM name
contains ``{metric}`` (the metric code), one property per metric.

Defaults per backend type (``DEFAULT_MAPPINGS``) follow each CRM's naming
conventions: HubSpot internal names are lower snake case, Salesforce custom
fields end in ``__c``, the webhook keeps our keys and Odoo maps onto the
``crm_sync_*`` fields of the partner.  Administrators edit them per backend.
"""

from decimal import Decimal

STATUS_KEYS = (
    "name",
    "plan",
    "plan_name",
    "subscription_state",
    "mrr",
    "currency",
    "period_start",
    "period_end",
    "last_invoice_number",
    "last_invoice_amount",
    "last_invoice_state",
    "last_invoice_payment_state",
    "last_invoice_date",
    "overdue_amount",
    "credit_balance",
    "credit_next_expiry",
    "health_score",
    "health_label",
    "health_reasons",
    "synced_at",
)
METRIC_KEYS = ("usage", "usage_percent")

_HUBSPOT = {key: f"usage_{key}" for key in STATUS_KEYS}
_HUBSPOT.update(
    name="name",
    usage="usage_{metric}",
    usage_percent="usage_{metric}_pct",
)
_SALESFORCE = {
    key: "Usage_" + "_".join(p.capitalize() for p in key.split("_")) + "__c" for key in STATUS_KEYS
}
_SALESFORCE.update(
    name="Name",
    usage="Usage_{metric}__c",
    usage_percent="Usage_{metric}_Pct__c",
)
_WEBHOOK = {key: key for key in STATUS_KEYS}
_WEBHOOK.update(usage="usage_{metric}", usage_percent="usage_{metric}_percent")
_ODOO = {
    "plan_name": "crm_sync_plan",
    "subscription_state": "crm_sync_subscription_state",
    "mrr": "crm_sync_mrr",
    "last_invoice_number": "crm_sync_last_invoice",
    "last_invoice_payment_state": "crm_sync_last_invoice_payment_state",
    "overdue_amount": "crm_sync_overdue_amount",
    "credit_balance": "crm_sync_credit_balance",
    "credit_next_expiry": "crm_sync_credit_next_expiry",
    "health_score": "crm_sync_health_score",
    "health_label": "crm_sync_health_label",
    "health_reasons": "crm_sync_health_reasons",
    "synced_at": "crm_sync_date",
}

DEFAULT_MAPPINGS = {
    "hubspot": _HUBSPOT,
    "salesforce": _SALESFORCE,
    "webhook": _WEBHOOK,
    "odoo": _ODOO,
}


def default_mapping(backend_type):
    """``{our key: CRM name}`` defaults of a backend type (a copy); our own keys for a
    type without conventions of its own."""
    return dict(DEFAULT_MAPPINGS.get(backend_type, _WEBHOOK))


def _metric_name(template, code):
    return template.replace("{metric}", code)


def apply_mapping(status, mapping):
    """CRM properties from a status: only mapped keys, renamed; metrics expanded.

    ``mapping`` is ``{our key: CRM name}``; keys absent from it (or mapped to an
    empty name) are not sent.  Values are left as they are (Decimal, str, int,
    None): each client converts them to its wire format.
    """
    properties = {}
    for key, remote in mapping.items():
        if not remote or key in METRIC_KEYS:
            continue
        if key in status:
            properties[remote] = status[key]
    for code, usage in sorted((status.get("usage") or {}).items()):
        if mapping.get("usage"):
            properties[_metric_name(mapping["usage"], code)] = usage.get("used", Decimal(0))
        if mapping.get("usage_percent"):
            properties[_metric_name(mapping["usage_percent"], code)] = usage.get("percent")
    return properties


def usage_summary(status):
    """One line per metric, for CRMs without a property per metric (Odoo notes)."""
    lines = []
    for code, usage in sorted((status.get("usage") or {}).items()):
        line = f"{code}: {usage.get('used')}"
        if usage.get("included"):
            line += f" / {usage['included']} ({usage.get('percent')}%)"
        lines.append(line)
    return "\n".join(lines)
