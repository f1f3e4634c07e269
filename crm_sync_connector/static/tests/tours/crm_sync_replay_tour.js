// An admin opens the dead CRM messages, reads why one died and replays it.
// Started by tests/test_tours.py, which kills the message.
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("crm_sync_replay_dead_message", {
    url: "/odoo/action-crm_sync_connector.crm_sync_message_action",
    steps: () => [
        {
            content: "Dead messages are listed first; open acme's",
            trigger: ".o_list_view .o_data_row:contains(acme) td[name=backend_id]",
            run: "click",
        },
        {
            content: "It is dead",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Dead)",
        },
        {
            content: "and says why",
            trigger: ".o_field_widget[name=last_error]:contains(could not be reached)",
        },
        {
            content: "Replay it",
            trigger: ".o_form_statusbar button[name=action_replay]",
            run: "click",
        },
        {
            content: "It is pending again, queued for delivery",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Pending)",
        },
        {
            trigger: ".o_field_widget[name=attempt_count]:contains(0)",
        },
    ],
});
