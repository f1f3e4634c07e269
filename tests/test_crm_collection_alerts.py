"""The CRM alert raised for a collection problem: what the account manager reads.

Checked through Odoo in ``crm_sync_connector/tests/test_collection_alerts``; here the
text of each alert is pinned from plain data, including what is said when a detail
is missing.
"""

import pytest

from crm_sync_connector.core.collection_alerts import ALERT_TYPES, collection_alert

INVOICE = {
    "number": "INV/2026/00042",
    "amount_residual": "120.00",
    "currency": "EUR",
}


def test_a_failed_charge_names_the_invoice_the_amount_and_the_reason():
    alert = collection_alert(
        "invoice.payment_failed",
        "acme",
        {"invoice": INVOICE, "payment": {"error": "card declined", "state": "error"}},
    )
    assert alert == (
        "acme: automatic charge failed for invoice INV/2026/00042",
        "Charging the saved payment method of acme for invoice INV/2026/00042 "
        "(120.00 EUR) failed: card declined. Dunning retries it.",
    )


def test_a_failed_charge_without_an_error_gives_the_payment_state():
    _subject, body = collection_alert(
        "invoice.payment_failed", "acme", {"invoice": INVOICE, "payment": {"state": "cancel"}}
    )
    assert body.endswith("failed: cancel. Dunning retries it.")


def test_a_failed_charge_with_nothing_known_still_raises_an_alert():
    assert collection_alert("invoice.payment_failed", "acme", {"invoice": None}) == (
        "acme: automatic charge failed for invoice None",
        "Charging the saved payment method of acme for invoice None (None None) failed: "
        "None. Dunning retries it.",
    )


def test_a_suspension_names_the_reason_and_the_invoice_that_reactivates_it():
    alert = collection_alert(
        "subscription.suspended", "acme", {"reason": "dunning", "invoice": INVOICE}
    )
    assert alert == (
        "acme: subscription suspended (dunning)",
        "The subscription of acme was suspended (dunning). Unpaid invoice INV/2026/00042: "
        "120.00 EUR; paying it reactivates the subscription.",
    )


def test_a_suspension_without_invoice_says_only_why():
    assert collection_alert("subscription.suspended", "acme", {"reason": "manual"}) == (
        "acme: subscription suspended (manual)",
        "The subscription of acme was suspended (manual).",
    )


@pytest.mark.parametrize("event_type", ["invoice.paid", "subscription.reactivated", ""])
def test_other_events_raise_no_alert(event_type):
    assert collection_alert(event_type, "acme", {"invoice": INVOICE}) is None


def test_every_alert_type_raises_an_alert():
    assert ALERT_TYPES == ("invoice.payment_failed", "subscription.suspended")
    for event_type in ALERT_TYPES:
        assert collection_alert(event_type, "acme", {}) is not None
