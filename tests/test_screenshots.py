"""tools/screenshots.py: the screens it opens exist, and it finds Chromium's DevTools."""

import re

import screenshots
from conftest import ROOT


def test_every_screen_opens_an_action_that_exists():
    for screen in screenshots.SCREENS:
        addon, xml_id = screen.action.split(".")
        if addon not in ("usage_billing_connector", "crm_sync_connector"):
            continue  # Odoo's own (account's customer invoices)
        sources = "".join(p.read_text() for p in (ROOT / addon / "views").glob("*.xml"))
        assert re.search(rf'<record id="{xml_id}" model="ir.actions.act_window"', sources), (
            screen.name
        )


def test_the_readme_shows_every_screenshot():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for screen in screenshots.SCREENS:
        assert f"docs/screenshots/{screen.name}.png" in readme, screen.name
        assert (ROOT / "docs" / "screenshots" / f"{screen.name}.png").is_file(), screen.name


def test_devtools_url_is_read_from_chromiums_stderr():
    lines = [
        "[1202/080000.1:WARNING:...] something else\n",
        "\n",
        "DevTools listening on ws://127.0.0.1:40123/devtools/browser/0a-1b\n",
    ]
    assert screenshots.devtools_url(lines) == "ws://127.0.0.1:40123/devtools/browser/0a-1b"
    assert screenshots.devtools_url(lines[:2]) is None


def test_screen_url_is_odoo_19s_action_path():
    url = screenshots.screen_url("http://localhost:8069/", "mod.action_x", 7)
    assert url == "http://localhost:8069/odoo/action-mod.action_x/7"
    assert screenshots.screen_url("http://h", "mod.a") == "http://h/odoo/action-mod.a"
