// Collections: the accountant finds the subscription dunning suspended in the
// dunning log, opens its overdue invoice, reads its dunning history and
// registers the customer's payment; the suspension is reversed.
// Started by tests/test_tours_demo.py on the demo data (wayne, 16 days overdue).
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("usage_billing_dunning_payment", {
    url: "/odoo/action-usage_billing_connector.usage_dunning_log_action",
    steps: () => [
        {
            content:
                "Dunning suspended a subscription for an unpaid invoice: open the invoice",
            trigger:
                ".o_list_view .o_data_row:contains(Subscription suspended) button[name=action_open_invoice]",
            run: "click",
        },
        {
            content: "The invoice's Dunning tab",
            trigger: ".o_notebook .nav-link:contains(Dunning)",
            run: "click",
        },
        {
            content: "tells what dunning did: overdue, reminder, suspension",
            trigger:
                ".o_field_widget[name=usage_dunning_log_ids]:contains(Became overdue):contains(Reminder sent):contains(Subscription suspended)",
        },
        {
            content: "The customer paid: register the payment",
            trigger: ".o_form_statusbar button[name=action_register_payment]",
            run: "click",
        },
        {
            trigger: ".modal button[name=action_create_payments]",
            run: "click",
        },
        {
            content: "Paid: the subscription is reactivated",
            trigger: ".o-mail-Message:contains(reactivated)",
        },
    ],
});
