// Webhooks: next to the demo's endpoint (one dead delivery to replay), an
// administrator registers the product platform's endpoint, is told when an
// event type is misspelt, and saves its signing secret, which is shown masked
// from then on. Started by tests/test_tours_demo.py.
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("usage_billing_webhook_endpoint", {
    url: "/odoo/action-usage_billing_connector.usage_webhook_endpoint_action",
    steps: () => [
        {
            content: "The demo's endpoint is listed, with its dead delivery",
            trigger:
                ".o_data_row:has(td[name=name]:contains(demo)):has(td[name=dead_count]:text(1))",
        },
        {
            content: "New endpoint",
            trigger: ".o_control_panel .o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Product platform",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=url] input",
            run: "edit https://platform.example.com/hooks/usage",
        },
        {
            content: "Subscribe to two event types, one misspelt",
            trigger: ".o_form_view .o_field_widget[name=event_types] input",
            run: "edit invoice.paid,subscription.suspend",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=secret] input",
            run: "edit whsec-tour-0123456789",
        },
        {
            trigger: ".o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "The misspelt type is refused, with the known ones",
            trigger: ".modal:contains(Unknown event type(s): subscription.suspend)",
        },
        {
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Fix it",
            trigger: ".o_form_view .o_field_widget[name=event_types] input",
            run: "edit invoice.paid,subscription.suspended",
        },
        {
            trigger: ".o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "Saved: the secret is write-only, shown masked",
            trigger: ".o_form_view .o_field_widget[name=secret_hint]:contains(6789)",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=secret] input:empty",
        },
    ],
});
