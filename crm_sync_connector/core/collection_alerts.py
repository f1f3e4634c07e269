"""CRM alerts for collection problems: the text of each alert (plain data, no Odoo).

The facts the CRM already models (payment state, overdue amount, subscription
state) travel in account updates; a failed charge and a suspension also need
someone to act, so they raise an alert as well.
"""

ALERT_TYPES = ("invoice.payment_failed", "subscription.suspended")


def collection_alert(event_type, tenant, data):
    """``(subject, body)`` of the alert for a product event, ``None`` when it raises none."""
    if event_type == "invoice.payment_failed":
        invoice = data.get("invoice") or {}
        payment = data.get("payment") or {}
        subject = f"{tenant}: automatic charge failed for invoice {invoice.get('number')}"
        body = (
            f"Charging the saved payment method of {tenant} for invoice {invoice.get('number')} "
            f"({invoice.get('amount_residual')} {invoice.get('currency')}) failed: "
            f"{payment.get('error') or payment.get('state')}. Dunning retries it."
        )
        return subject, body
    if event_type == "subscription.suspended":
        reason = data.get("reason")
        invoice = data.get("invoice") or {}
        subject = f"{tenant}: subscription suspended ({reason})"
        body = f"The subscription of {tenant} was suspended ({reason})."
        if invoice:
            body += (
                f" Unpaid invoice {invoice.get('number')}: {invoice.get('amount_residual')} "
                f"{invoice.get('currency')}; paying it reactivates the subscription."
            )
        return subject, body
    return None
