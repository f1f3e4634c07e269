#!/usr/bin/env python3
"""Screenshots of the main screens for the README, taken from a running demo.

    python3 tools/screenshots.py --url http://localhost:8069 --db odoo \\
        --login admin --password admin [--out docs/screenshots]

Needs a running Odoo with both addons and their demo data, a Chromium binary
(Debian's ``chromium``; ``--chromium`` or ``CHROMIUM`` to choose another) and
the Python packages ``requests`` and ``websocket-client``. It logs in over
JSON-RPC, hands the session cookie to a headless Chromium driven through the
Chrome DevTools protocol, opens each screen of ``SCREENS`` (an action, or a
record of it found with ``search_read``), waits for its content and saves one
PNG per screen. Nothing is written to the database.
"""

import argparse
import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEVTOOLS_RE = re.compile(r"DevTools listening on (ws://\S+)")
#: Odoo's busy indicators: a screen is ready when its selector shows and these do not.
BUSY = ".o_loading_indicator, .o_view_sample_data, .o-mail-Chatter .o-mail-Thread-loading"


@dataclass(frozen=True)
class Screen:
    name: str  # PNG file name, without extension
    action: str  # xml id of the window action
    ready: str  # CSS selector that shows once the data is on screen
    record: tuple = ()  # (model, domain, order): open the first matching record
    clicks: tuple = ()  # CSS selectors clicked in turn once ready (e.g. expand a group)
    context: dict = field(default_factory=dict)


SCREENS = (
    Screen(
        "statement",
        "usage_billing_connector.usage_statement_action",
        ".o_form_view .o_field_widget[name=line_ids] td[name=breakdown]",
        record=("usage.statement", [("state", "=", "to_approve")], "amount_untaxed desc"),
    ),
    Screen(
        "statements",
        "usage_billing_connector.usage_statement_action",
        ".o_list_view .o_data_row",
        clicks=(".o_searchview_facet .o_facet_remove",),
    ),
    Screen(
        "invoice",
        "account.action_move_out_invoice_type",
        ".o_form_view .o_field_widget[name=invoice_line_ids] .o_data_row",
        record=("account.move", [("invoice_origin", "=like", "%")], "amount_untaxed desc"),
    ),
    Screen(
        "reconciliation",
        "usage_billing_connector.usage_reconciliation_action",
        ".o_list_view .o_data_row",
    ),
    Screen(
        "quarantine",
        "usage_billing_connector.usage_event_action_quarantine",
        ".o_list_view .o_group_header",
        clicks=(".o_list_view .o_group_header:not(.o_group_open)",) * 3,  # the demo's 3 reasons
    ),
    Screen(
        "subscription",
        "usage_billing_connector.usage_subscription_action",
        ".o_form_view .o_field_widget[name=plan_id]",
        record=("usage.subscription", [("state", "=", "active")], "id"),
    ),
    Screen(
        "crm_backend",
        "crm_sync_connector.crm_sync_backend_action",
        ".o_form_view .o_field_widget[name=backend_type]",
        record=("crm.sync.backend", [], "id"),
    ),
    Screen(
        "crm_messages",
        "crm_sync_connector.crm_sync_message_action",
        ".o_list_view .o_data_row",
        clicks=(".o_searchview_facet .o_facet_remove",),
    ),
)


def devtools_url(lines):
    """The browser's DevTools websocket URL from Chromium's stderr lines, or None."""
    for line in lines:
        match = DEVTOOLS_RE.search(line)
        if match:
            return match.group(1)
    return None


def screen_url(base, action, record_id=None):
    """Odoo 19's client URL of an action (``/odoo/action-<xml id>``), or of one record."""
    path = f"/odoo/action-{action}"
    return base.rstrip("/") + path + (f"/{record_id}" if record_id else "")


class Odoo:
    """A JSON-RPC session as the given user (the cookie goes to the browser)."""

    def __init__(self, url, db, login, password):
        import requests  # noqa: PLC0415 (a tool's dependency, not the test suite's)

        self.url = url.rstrip("/")
        self.http = requests.Session()
        self.call("/web/session/authenticate", db=db, login=login, password=password)
        self.session_id = self.http.cookies.get("session_id")

    def call(self, route, **params):
        response = self.http.post(
            self.url + route,
            json={"jsonrpc": "2.0", "method": "call", "params": params},
            timeout=60,
        )
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            raise RuntimeError(f"{route}: {body['error'].get('data', {}).get('message')}")
        return body["result"]

    def first_id(self, model, domain, order):
        found = self.call(
            f"/web/dataset/call_kw/{model}/search_read",
            model=model,
            method="search_read",
            args=[domain, ["id"]],
            kwargs={"limit": 1, "order": order},
        )
        return found[0]["id"] if found else None


class Chromium:
    """Headless Chromium, one page, driven through the DevTools protocol."""

    def __init__(self, binary, width, height):
        import websocket  # noqa: PLC0415 (websocket-client)

        self.profile = tempfile.mkdtemp(prefix="screenshots-chromium-")
        self.proc = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",  # root in a container has no user namespace sandbox
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen = []
        while (url := devtools_url(seen[-1:])) is None:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("Chromium exited before DevTools started:\n" + "".join(seen))
            seen.append(line)
        self.ids = itertools.count(1)
        browser = websocket.create_connection(url, suppress_origin=True)
        self.ws = browser
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        host = urlsplit(url).netloc
        self.ws = websocket.create_connection(
            f"ws://{host}/devtools/page/{target}", suppress_origin=True
        )
        browser.close()
        self.send("Page.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def send(self, method, **params):
        message_id = next(self.ids)
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, selector, timeout=60):
        """Wait until ``selector`` matches and Odoo shows no busy indicator."""
        check = (
            f"!!document.querySelector({json.dumps(selector)})"
            f" && !document.querySelector({json.dumps(BUSY)})"
        )
        deadline = time.monotonic() + timeout
        while not self.evaluate(check):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{selector} did not show within {timeout}s")
            time.sleep(0.25)

    def click(self, selector):
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", format="png")["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            shutil.rmtree(self.profile, ignore_errors=True)


def take(odoo, browser, screen, out, settle):
    record_id = None
    if screen.record:
        record_id = odoo.first_id(*screen.record)
        if record_id is None:
            return f"skipped {screen.name}: no {screen.record[0]} matches {screen.record[1]}"
    browser.send("Page.navigate", url=screen_url(odoo.url, screen.action, record_id))
    browser.wait_for(screen.ready)
    for selector in screen.clicks:
        browser.click(selector)
        time.sleep(settle)
        browser.wait_for(screen.ready)
    time.sleep(settle)  # animations, fonts, the chatter
    path = Path(out) / f"{screen.name}.png"
    browser.screenshot(path)
    return f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="odoo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default=os.environ.get("ODOO_PASSWORD", "admin"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    parser.add_argument("--width", type=int, default=1366)  # chatter below the form
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--settle", type=float, default=1.5, help="seconds before each shot")
    parser.add_argument("--only", nargs="*", help="screen names (default: all)")
    args = parser.parse_args(argv)

    binary = shutil.which(args.chromium)
    if not binary:
        print(f"no Chromium: {args.chromium!r} is not on PATH (apt-get install chromium)")
        return 2
    Path(args.out).mkdir(parents=True, exist_ok=True)
    odoo = Odoo(args.url, args.db, args.login, args.password)
    browser = Chromium(binary, args.width, args.height)
    failed = 0
    try:
        host = urlsplit(odoo.url).hostname
        browser.send("Network.setCookie", name="session_id", value=odoo.session_id, domain=host)
        for screen in SCREENS:
            if args.only and screen.name not in args.only:
                continue
            try:
                print(take(odoo, browser, screen, args.out, args.settle), flush=True)
            except (TimeoutError, RuntimeError) as exc:
                failed += 1
                print(f"FAILED {screen.name}: {exc}", flush=True)
    finally:
        browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
