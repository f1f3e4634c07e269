"""Regenerate ``<addon>/i18n/<addon>.pot`` of both addons with Odoo's own exporter.

Needs the Python that runs Odoo 19 (it installs nothing) and a database in which
both addons are installed, preferably without demo data::

    python3 -m odoo server -c ODOO_CONF -d DB \\
        -i usage_billing_connector,crm_sync_connector --stop-after-init
    python3 tools/export_pot.py -c ODOO_CONF -d DB

The configuration's ``addons_path`` must find the addons in this checkout: Odoo
reads the code's translatable strings from the module directory it finds, and
this script refuses to run otherwise.  Then it does what
``python3 -m odoo i18n export -c ODOO_CONF -d DB usage_billing_connector
crm_sync_connector`` does (``pot`` is that command's default language).
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ("usage_billing_connector", "crm_sync_connector")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--config", required=True, help="Odoo configuration file")
    parser.add_argument("-d", "--database", required=True, help="database with both addons")
    args = parser.parse_args(argv)

    try:
        from odoo import SUPERUSER_ID, api  # noqa: PLC0415
        from odoo.cli.i18n import I18n  # noqa: PLC0415
        from odoo.modules import get_module_path  # noqa: PLC0415
        from odoo.modules.registry import Registry  # noqa: PLC0415
        from odoo.tools import config  # noqa: PLC0415
    except ImportError:
        sys.exit("Odoo 19 is not importable by this Python: run this with the one that runs Odoo.")

    config.parse_config(["--no-http", "-c", args.config, "-d", args.database])
    for addon in ADDONS:
        found = get_module_path(addon, display_warning=False)
        if not found or Path(found).resolve() != ROOT / addon:
            sys.exit(
                f"addons_path of {args.config} finds {addon} in {found or 'no directory'}, "
                f"not in {ROOT}: put {ROOT} on it (before any other copy of the addons)."
            )
    with Registry(args.database).cursor(readonly=True) as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        installed = env["ir.module.module"].search(
            [("name", "in", ADDONS), ("state", "=", "installed")]
        )
        missing = sorted(set(ADDONS) - set(installed.mapped("name")))
    if missing:
        sys.exit(f"not installed in {args.database}: {', '.join(missing)}")
    # Writes <addon>/i18n/<addon>.pot for each addon.
    I18n().run(["export", "-c", args.config, "-d", args.database, *ADDONS])


if __name__ == "__main__":
    main()
