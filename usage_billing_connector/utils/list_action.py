"""The list behind a figure: a window action narrowed to the records the figure counts."""


def list_action(env, xmlid, domain, name=None, context=None):
    """The window action ``xmlid`` showing only ``domain``, titled ``name`` (else its own).

    Its own context is replaced by ``context``: a figure opens exactly its records,
    without the menu's default filters, and nothing is created from there.
    """
    action = env["ir.actions.act_window"]._for_xml_id(xmlid)
    action.update(
        {
            "domain": domain,
            "context": {"create": False, **(context or {})},
            "name": name or action["name"],
            "target": "current",
        }
    )
    return action
