// The accountant opens the statement waiting for approval, reads its tier
// breakdown, approves it and opens the draft invoice it made.
// Started by tests/test_tours.py, which creates the statement.
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("usage_billing_statement_approval", {
    url: "/odoo/action-usage_billing_connector.usage_statement_action",
    steps: () => [
        {
            content: "The statements to approve are listed; open Globex's",
            trigger: ".o_list_view .o_data_row:contains(Globex Tour) td[name=name]",
            run: "click",
        },
        {
            content: "The statement waits for approval",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(To approve)",
        },
        {
            content: "Its usage line shows the first tier",
            trigger:
                ".o_field_widget[name=line_ids] td[name=breakdown]:contains(1,000 × 0.10 = 100.00)",
        },
        {
            content: "and the second one",
            trigger:
                ".o_field_widget[name=line_ids] td[name=breakdown]:contains(500 × 0.05 = 25.00)",
        },
        {
            content: "Approve",
            trigger: ".o_form_statusbar button[name=action_approve]",
            run: "click",
        },
        {
            content: "The statement is approved",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Approved)",
        },
        {
            content: "Open the invoice the approval drafted",
            trigger: "button[name=action_view_invoice]",
            run: "click",
        },
        {
            content: "A draft customer invoice for Globex",
            trigger:
                ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Draft)",
        },
        {
            content: "whose usage line carries the same tier arithmetic",
            trigger:
                ".o_field_widget[name=invoice_line_ids]:contains(500 × 0.05 = 25.00)",
        },
        {
            content: "billed to the statement's customer",
            trigger: ".o_field_widget[name=partner_id] input:value(Globex Tour)",
        },
    ],
});
