// Operations at a glance: from Usage Billing → Overview, the statements to
// approve open the list behind the figure; the accountant approves one and the
// overview counts one less; the quarantine backlog opens its events by reason.
// Back through the breadcrumb, the overview is named "Overview" and the app
// keeps its menus. Started by tests/test_tours_demo.py on the demo data.
import {registry} from "@web/core/registry";

/** The navbar shows the Usage Billing app with its menus. */
const appMenusShown = {
    content: "The navbar shows the app and its menus",
    trigger:
        ".o_main_navbar:has(.o_menu_brand:text(Usage Billing)) .o_menu_sections [data-menu-xmlid='usage_billing_connector.menu_usage_billing_billing']",
};

registry.category("web_tour.tours").add("usage_billing_overview_drilldown", {
    // The overview's own URL (a bookmark, a reload): the app is found from it.
    url: "/odoo/usage-billing-overview",
    steps: () => [
        {
            content: "The overview is titled as its menu",
            trigger: ".o_breadcrumb .active:text(Overview)",
        },
        appMenusShown,
        {
            content: "Two statements wait for approval: open them",
            trigger:
                "button[name=action_open_to_approve]:has(.o_stat_text:contains(Statements to approve)) .o_stat_value:text(2)",
            run: "click",
        },
        {
            content:
                "The list behind the figure: initech's and wayne's, not the approved ones",
            trigger:
                ".o_list_view:has(.o_data_row:contains(Initech)):has(.o_data_row:contains(Wayne)):not(:has(.o_data_row:contains(Acme)))",
        },
        {
            content: "titled as the figure",
            trigger: ".o_breadcrumb .active:contains(Statements to approve)",
        },
        {
            content: "Open initech's statement",
            trigger: ".o_data_row:contains(Initech) td[name=name]",
            run: "click",
        },
        {
            content: "Approve it",
            trigger: ".o_form_statusbar button[name=action_approve]",
            run: "click",
        },
        {
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Approved)",
        },
        appMenusShown,
        {
            content: "Back to the overview, named as such in the breadcrumb",
            trigger: ".o_breadcrumb .breadcrumb-item:first-child a:text(Overview)",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb .active:text(Overview)",
        },
        appMenusShown,
        {
            content: "One statement left to approve",
            trigger:
                "button[name=action_open_to_approve]:has(.o_stat_text:contains(Statements to approve)) .o_stat_value:text(1)",
        },
        {
            content: "The quarantine by reason: open the events of an unknown tenant",
            trigger:
                ".o_field_widget[name=quarantine_reason_ids] .o_data_row:contains(Unknown tenant) button[name=action_open_events]",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb .active:contains(Quarantine: Unknown tenant)",
        },
        {
            content: "hooli's events, and only those",
            trigger:
                ".o_list_view:has(.o_data_row:contains(hooli)):not(:has(.o_data_row:contains(gpu_hours)))",
        },
    ],
});

// A new tab (a link, a bookmark): nothing in the tab's session storage says which
// app the URL belongs to. Started by tests/test_tours_demo.py on the menu's action
// by XML id and by id: the overview shows, in its app, with the app's menus.
// No url: the tour would go there first, from the address under test.
registry.category("web_tour.tours").add("usage_billing_overview_new_tab", {
    steps: () => [
        {
            content: "The overview, titled as its menu",
            trigger: ".o_breadcrumb .active:text(Overview)",
        },
        {
            trigger: "button[name=action_open_to_approve] .o_stat_value:text(2)",
        },
        appMenusShown,
    ],
});

// A figure's list opened from its URL in a new tab: the figure's records under
// the figure's name, in the app, back to the overview through the breadcrumb.
registry.category("web_tour.tours").add("usage_billing_overview_figure_new_tab", {
    steps: () => [
        {
            content: "titled as the figure",
            trigger: ".o_breadcrumb .active:contains(Statements to approve)",
        },
        {
            content: "initech's and wayne's, not the approved ones",
            trigger:
                ".o_list_view:has(.o_data_row:contains(Initech)):has(.o_data_row:contains(Wayne)):not(:has(.o_data_row:contains(Acme)))",
        },
        appMenusShown,
        {
            // Restored from the URL, the crumbs also hold the overview's action as a
            // list level of its own, which has no list: "Unnamed / Overview / ...".
            content: "back to the overview through the breadcrumb",
            trigger: ".o_breadcrumb .breadcrumb-item a:text(Overview)",
        },
    ],
});
