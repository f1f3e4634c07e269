// Prepaid credit: a billing administrator grants acme a promotional credit,
// says why, confirms it and reads the new balance on the tenant.
// Started by tests/test_tours_demo.py on the demo data.
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("usage_billing_credit_grant", {
    url: "/odoo/action-usage_billing_connector.usage_tenant_action",
    steps: () => [
        {
            content: "Open the tenant acme",
            trigger: ".o_list_view .o_data_row:contains(Acme) td[name=external_id]",
            run: "click",
        },
        {
            content: "Its prepaid credit",
            trigger: ".o_notebook .nav-link:contains(Prepaid credit)",
            run: "click",
        },
        {
            content: "No credit yet",
            trigger: ".o_field_widget[name=credit_balance]:contains(0.00)",
        },
        {
            content: "Grant free credit",
            trigger: "button[name=action_grant_credits]",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=amount] input",
            run: "edit 30",
        },
        {
            content: "A promotional credit says why",
            trigger: ".o_form_view .o_field_widget[name=reason] textarea",
            run: "edit Apology for the API outage",
        },
        {
            content: "Confirm it",
            trigger: ".o_form_statusbar button[name=action_confirm]",
            run: "click",
        },
        {
            content: "It is available at once",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Available)",
        },
        {
            content: "Back to the tenant",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(acme)",
            run: "click",
        },
        {
            trigger: ".o_notebook .nav-link:contains(Prepaid credit)",
            run: "click",
        },
        {
            content: "The balance holds the credit",
            trigger: ".o_field_widget[name=credit_balance]:contains(30.00)",
        },
        {
            trigger:
                ".o_field_widget[name=credit_grant_ids] .o_data_row:contains(30.00)",
        },
    ],
});
