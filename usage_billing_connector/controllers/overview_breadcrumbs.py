"""The overview's breadcrumb when it is restored from a URL (a reload, a new tab).

``/odoo/usage-billing-overview/<company>/<figure>``: the web client's router adds,
before the overview record, a level for its action's multi-record view, and asks
``load_breadcrumbs`` to name it.  The overview has no such view (one record per
company, opened in its form), so Odoo names that level ``None`` and the client shows
it as "Unnamed".  Answering it without a name, as Odoo answers a level that cannot
be shown, makes the client drop it: the breadcrumb reads "Overview / <figure>", as
when the figure was opened by a click.
"""

from odoo.addons.web.controllers.action import Action
from odoo.http import route

OVERVIEW_PATH = "usage-billing-overview"


class OverviewBreadcrumbs(Action):
    @route()
    def load_breadcrumbs(self, actions):
        results = super().load_breadcrumbs(actions)
        for action, result in zip(actions, results, strict=True):
            if (
                action.get("action") == OVERVIEW_PATH
                and not action.get("resId")
                and result.get("display_name", "") is None
            ):
                result.pop("display_name")
        return results
