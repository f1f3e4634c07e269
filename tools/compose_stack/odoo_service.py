"""The odoo and init services: serve only, install once, health, job capacity, modules."""

import re
import shlex

from .files import (
    COMPOSE_FILE,
    INIT,
    ODOO,
    ODOO_CONF,
    START_SCRIPT,
    command_args,
    environment,
    interpolate,
    option,
    read_odoo_conf,
    services,
    shell_branch,
)

HEALTH_PATH = "/usage_billing/v1/health"
REQUIRED_SERVER_WIDE = ("base", "rpc", "web", "queue_job")
INSTALL_OPTION_RE = re.compile(r"^(-[iu].*|--(init|update)(=.*)?)$")
URL_RE = re.compile(r"https?://[^\s'\"|;&)]+")


def check_odoo_serves_only(root):
    """The long-running odoo service never installs nor updates modules."""
    service = services(root).get(ODOO)
    if not service:
        return [f"{COMPOSE_FILE}: no {ODOO} service"]
    problems = []
    args = command_args(service.get("entrypoint")) + command_args(service.get("command"))
    for arg in args:
        if INSTALL_OPTION_RE.match(arg) or arg in ("init", "update"):
            problems.append(f"{COMPOSE_FILE}: service {ODOO} command has {arg!r}")
    if "odoo-compose" in args:
        branch = shell_branch(root, "serve")
        if branch is None:
            problems.append(f"{START_SCRIPT}: no serve) branch")
        elif re.search(r"(^|\s)(-i|-u|--init|--update)(\s|=|$)", branch):
            problems.append(f"{START_SCRIPT}: the serve branch installs or updates modules")
    return problems


def check_init_service(root):
    """A one-shot init service installs the demo database; odoo starts after it."""
    all_services = services(root)
    service = all_services.get(INIT)
    if not service:
        return [f"{COMPOSE_FILE}: no {INIT} service"]
    problems = []
    if service.get("restart") not in (None, "no"):
        problems.append(f"{COMPOSE_FILE}: service {INIT} restarts ({service['restart']})")
    args = command_args(service.get("command"))
    if args[:2] == ["odoo-compose", "init"]:
        branch = shell_branch(root, "init") or ""
        for needed in ("--init=", "--with-demo", "--stop-after-init", "exit 0"):
            if needed not in branch:
                problems.append(f"{START_SCRIPT}: the init branch lacks {needed!r}")
    elif not ({"--stop-after-init", "--with-demo"} <= set(args) and option(args, "init")):
        problems.append(f"{COMPOSE_FILE}: service {INIT} does not install and stop")
    depends = (all_services.get(ODOO) or {}).get("depends_on") or {}
    condition = depends.get(INIT, {}).get("condition") if isinstance(depends, dict) else None
    if condition != "service_completed_successfully":
        problems.append(
            f"{COMPOSE_FILE}: service {ODOO} does not wait for {INIT} "
            "(depends_on condition: service_completed_successfully)"
        )
    return problems


def check_healthcheck(root):
    """The odoo healthcheck is the addon's route and nothing else."""
    healthcheck = (services(root).get(ODOO) or {}).get("healthcheck")
    if not healthcheck or healthcheck.get("disable"):
        return [f"{COMPOSE_FILE}: service {ODOO} has no healthcheck"]
    test = healthcheck.get("test")
    text = test if isinstance(test, str) else " ".join(str(part) for part in test or [])
    problems = []
    urls = URL_RE.findall(text)
    if not any(url.endswith(HEALTH_PATH) for url in urls):
        problems.append(f"{COMPOSE_FILE}: the {ODOO} healthcheck does not request {HEALTH_PATH}")
    problems += [
        f"{COMPOSE_FILE}: the {ODOO} healthcheck also requests {url}"
        for url in urls
        if not url.endswith(HEALTH_PATH)
    ]
    if "||" in text:
        problems.append(f"{COMPOSE_FILE}: the {ODOO} healthcheck has a fallback (||)")
    words = shlex.split(text)
    if "curl" not in words or not any(
        word == "--fail" or re.match(r"^-[a-zA-Z]*f[a-zA-Z]*$", word) for word in words
    ):
        problems.append(
            f"{COMPOSE_FILE}: the {ODOO} healthcheck is not `curl -f` (HTTP errors pass)"
        )
    return problems


def _root_capacity(channels):
    """Capacity of queue_job's root channel for a channels string (1 by default)."""
    for entry in re.split(r"[,\n]", channels):
        parts = [part.strip() for part in entry.split(":")]
        if parts[0] == "root":
            return int(parts[1]) if len(parts) > 1 and parts[1] else 1
    return 1


def check_job_capacity(root):
    """queue_job runs fewer jobs at once than there are HTTP workers."""
    service = services(root).get(ODOO) or {}
    conf = read_odoo_conf(root)
    args = command_args(service.get("command"))
    workers = int(option(args, "workers") or conf.get("options", "workers", fallback="0"))
    channels = interpolate(environment(service).get("ODOO_QUEUE_JOB_CHANNELS") or "")
    channels = channels or conf.get("queue_job", "channels", fallback="root:1")
    capacity = _root_capacity(channels)
    if workers < 2:
        return [f"{ODOO_CONF}: workers = {workers}; queue_job needs the multi-process server"]
    if capacity >= workers:
        return [
            f"{ODOO_CONF}: job capacity {capacity} (channels {channels!r}) >= workers {workers}: "
            "jobs run through the HTTP workers and could take them all"
        ]
    return []


def check_server_wide_modules(root):
    """queue_job is loaded server-wide, and rpc still is."""
    service = services(root).get(ODOO) or {}
    loaded = option(command_args(service.get("command")), "load")
    loaded = loaded or read_odoo_conf(root).get("options", "server_wide_modules", fallback="")
    modules = {module.strip() for module in loaded.split(",")}
    return [
        f"{ODOO_CONF}: server_wide_modules lacks {module}"
        for module in REQUIRED_SERVER_WIDE
        if module not in modules
    ]
