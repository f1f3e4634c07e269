// An admin finds an event quarantined because its tenant is unknown, maps the
// tenant to a customer, then reprocesses the event from the tenant's
// "Quarantined" button. Started by tests/test_tours.py, which creates the event.
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("usage_billing_quarantine_fix", {
    url: "/odoo/action-usage_billing_connector.usage_event_action_quarantine",
    steps: () => [
        {
            content: "The quarantine is grouped by reason: open 'Unknown tenant'",
            trigger: ".o_list_view .o_group_header:contains(Unknown tenant)",
            run: "click",
        },
        {
            content: "Open the event sent for initech-tour",
            trigger: ".o_data_row:contains(initech-tour) td[name=event_id]",
            run: "click",
        },
        {
            content: "It says why it waits",
            trigger:
                ".o_form_view .alert-warning:contains(No tenant with this external id)",
        },
        {
            content: "Go to the tenants",
            trigger: ".o_main_navbar .o_menu_sections button:contains(Configuration)",
            run: "click",
        },
        {
            trigger: ".o-dropdown--menu .dropdown-item:contains(Tenants)",
            run: "click",
        },
        {
            content: "Map a new tenant",
            trigger: ".o_list_view .o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=external_id] input",
            run: "edit initech-tour",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=partner_id] input",
            run: "edit Initech Tour",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains(Initech Tour)",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "Saved, the tenant counts its quarantined event: open it",
            trigger: "button.oe_stat_button:contains(Quarantined):contains(1)",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_group_header:contains(Unknown tenant)",
            run: "click",
        },
        {
            trigger: ".o_data_row:contains(initech-tour) td[name=event_id]",
            run: "click",
        },
        {
            content: "Reprocess it",
            trigger: ".o_form_statusbar button[name=action_reprocess]",
            run: "click",
        },
        {
            content: "1 of 1 events accepted",
            trigger: ".o_notification:contains(1 of 1 events accepted)",
        },
        {
            content: "The event is accepted",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Accepted)",
        },
    ],
});
