"""Reading the compose stack as ``docker compose`` would: files, options, interpolation."""

import configparser
import re
import shlex
from pathlib import Path

import yaml

COMPOSE_FILE = "docker-compose.yml"
DOCKERFILE = "Dockerfile"
ODOO_CONF = "docker/odoo.conf"
START_SCRIPT = "docker/odoo-compose.sh"
ODOO, INIT, TESTS = "odoo", "init", "tests"
INTERPOLATION_RE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?+])([^}]*))?\}|\$(\w+)")


def load_compose(root):
    return yaml.safe_load((Path(root) / COMPOSE_FILE).read_text(encoding="utf-8")) or {}


def services(root):
    return load_compose(root).get("services") or {}


def interpolate(value):
    """Compose variable interpolation as run without .env: every default applies."""

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        if match.group(4):
            return ""
        operator, default = match.group(2), match.group(3)
        return default if operator in (":-", "-") else ""

    return INTERPOLATION_RE.sub(replace, str(value))


def command_args(value):
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    return [str(arg) for arg in value]


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def read_odoo_conf(root):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(Path(root) / ODOO_CONF, encoding="utf-8")
    return parser


def option(args, name):
    """Value of ``--name=value`` or ``--name value`` in ``args``, or None."""
    for index, arg in enumerate(args):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and index + 1 < len(args):
            return args[index + 1]
    return None


def shell_branch(root, label):
    """Text of the ``label)`` branch of the start script's case statement."""
    path = Path(root) / START_SCRIPT
    if not path.exists():
        return None
    match = re.search(
        rf"^\s*{re.escape(label)}\)\s*$(.*?)^\s*;;", path.read_text(encoding="utf-8"), re.M | re.S
    )
    return match.group(1) if match else None
