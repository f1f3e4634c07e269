// Corrections: the accountant lists the corrections of invoiced periods, opens
// the one re-rating wayne's disputed month, reads it and approves it; the
// approval drafts a credit note of the original invoice.
// Started by tests/test_tours_demo.py on the demo data.
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("usage_billing_correction_approval", {
    url: "/odoo/action-usage_billing_connector.usage_statement_action",
    steps: () => [
        {
            content:
                "Statements open on those to approve: show the corrections instead",
            trigger: ".o_searchview_facet:contains(To approve)",
            run: "hover && click .o_searchview_facet:contains(To approve) .o_facet_remove",
        },
        {
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            trigger: ".o_filter_menu .o_menu_item:contains(Corrections)",
            run: "click",
        },
        {
            content: "wayne's disputed month, and only corrections",
            trigger:
                ".o_list_view:has(.o_data_row:contains(Wayne)):not(:has(.o_data_row:contains(Acme)))",
        },
        {
            trigger: ".o_data_row:contains(Wayne) td[name=name]",
            run: "click",
        },
        {
            content: "It corrects the invoiced statement, and says why",
            trigger: ".o_field_widget[name=correction_reason]:contains(dispute)",
        },
        {
            trigger: ".o_field_widget[name=correction_of_id] a",
        },
        {
            content: "API calls re-rated at the agreed price: 25.00 less",
            trigger: ".o_field_widget[name=line_ids] td[name=amount]:contains(-25.00)",
        },
        {
            content: "Approve",
            trigger: ".o_form_statusbar button[name=action_approve]",
            run: "click",
        },
        {
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Approved)",
        },
        {
            content: "Open the credit note the approval drafted",
            trigger: "button[name=action_view_invoice]",
            run: "click",
        },
        {
            content: "A draft credit note",
            trigger:
                ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Draft)",
        },
        {
            content: "for wayne",
            trigger: ".o_field_widget[name=partner_id] input:value(Wayne)",
        },
        {
            trigger: ".o_notebook .nav-link:contains(Other Info)",
            run: "click",
        },
        {
            content: "referring to the invoice it corrects, with the reason",
            trigger: ".o_field_widget[name=ref] input:value(Correction of)",
        },
    ],
});
