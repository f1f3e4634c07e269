"""What the stack publishes on the host: the loopback interface only, Odoo via the proxy."""

from .files import COMPOSE_FILE, ODOO, interpolate, services

LOOPBACK = {"127.0.0.1", "::1"}


def _port_host_ip(entry):
    """Host address a ports entry listens on ('' = every interface)."""
    if isinstance(entry, dict):
        return interpolate(entry.get("host_ip", ""))
    spec = interpolate(entry).split("/", 1)[0]
    if spec.startswith("["):
        return spec[1 : spec.index("]")]
    parts = spec.split(":")
    return parts[0] if len(parts) == 3 else ""


def check_published_ports(root):
    """Every published port on the loopback interface; Odoo reached through the proxy."""
    problems = []
    for name, service in services(root).items():
        if service.get("network_mode") == "host":
            problems.append(f"{COMPOSE_FILE}: service {name} uses the host network")
        for entry in service.get("ports") or []:
            host_ip = _port_host_ip(entry)
            if host_ip not in LOOPBACK:
                problems.append(
                    f"{COMPOSE_FILE}: service {name} publishes {entry!r} on "
                    f"{host_ip or 'every interface'}, not 127.0.0.1"
                )
    if (services(root).get(ODOO) or {}).get("ports"):
        problems.append(f"{COMPOSE_FILE}: service {ODOO} publishes ports itself (use the proxy)")
    return problems
