"""Where the encryption keys come from: the Odoo configuration file, never the database.

A section named after the addon holds ``encryption_keys``; an environment variable
(``USAGE_BILLING_ENCRYPTION_KEYS``, ``CRM_SYNC_ENCRYPTION_KEYS``) overrides it, for
container platforms that inject secrets as variables.
"""

import configparser
import functools
import os

from odoo.tools import config

from ..core.secrets_box import SecretsBox


@functools.cache
def _file_section(path, section):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return dict(parser[section]) if parser.has_section(section) else {}


def secrets_box(section):
    value = os.environ.get(f"{section.upper()}_ENCRYPTION_KEYS")
    if not value and config.get("config"):
        value = _file_section(config["config"], section).get("encryption_keys")
    return SecretsBox.from_config_value(value)
