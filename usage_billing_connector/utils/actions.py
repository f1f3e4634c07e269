"""Window actions the screens open: the list behind a figure, a record's form."""


def list_action(env, xmlid, domain, name=None, context=None, path=None):
    """Action ``xmlid`` showing ``domain`` under the title ``name`` (else its own), no create.

    Its own context is replaced by ``context``: a figure opens exactly its records,
    without the menu's default filters.  The web client titles an action
    (breadcrumb) with its ``display_name`` before its ``name``, and ``_for_xml_id``
    returns both: both are set, or the list would carry the generic title of ``xmlid``.
    ``path`` is the path of a server action that returns this same action: the
    web client puts it in the URL, so a reload or a new tab opens these records
    under this title; without it the URL names ``xmlid`` by id, which opens all
    its records under its own title.
    """
    action = env["ir.actions.act_window"]._for_xml_id(xmlid)
    name = name or action["name"]
    action.update(
        {
            "name": name,
            "display_name": name,
            "domain": domain,
            "context": {"create": False, **(context or {})},
            "target": "current",
        }
    )
    if path:
        action["path"] = path
    return action


def form_action(record):
    """Action opening ``record`` in its form."""
    record.ensure_one()
    return {
        "type": "ir.actions.act_window",
        "res_model": record._name,
        "res_id": record.id,
        "view_mode": "form",
        "views": [(False, "form")],
    }
