"""The nginx proxy: /websocket to Odoo's gevent port, the rest to its HTTP port."""

import re
from pathlib import Path

from .files import COMPOSE_FILE, ODOO_CONF, interpolate, read_odoo_conf, services


def parse_nginx(text):
    """nginx configuration as a tree of (directive, [args], children or None)."""
    tokens = re.findall(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|#[^\n]*|[{};]|[^\s{};]+", text)
    tokens = [t[1:-1] if t[:1] in "\"'" else t for t in tokens if not t.startswith("#")]
    position = 0

    def block():
        nonlocal position
        items, words = [], []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == ";":
                items.append((words[0], words[1:], None))
                words = []
            elif token == "{":
                items.append((words[0], words[1:], block()))
                words = []
            elif token == "}":
                return items
            else:
                words.append(token)
        return items

    return block()


def _directives(tree, name):
    return [item for item in tree if item[0] == name]


def _proxy_ports(target, upstreams):
    """Ports a proxy_pass target reaches: {port, ...}, or None if unknown."""
    match = re.match(r"^https?://([^/:$]+)(?::(\d+))?(/.*)?$", target)
    if not match:
        return None
    host, port = match.group(1), match.group(2)
    if host in upstreams:
        ports = set()
        for server in upstreams[host]:
            address = server.rsplit(":", 1)
            ports.add(int(address[1]) if len(address) == 2 and address[1].isdigit() else 80)
        return ports
    return {int(port) if port else 80}


def check_proxy(root):
    """nginx routes /websocket to the gevent port and the rest to the HTTP port."""
    all_services = services(root)
    proxies = {
        name: service
        for name, service in all_services.items()
        if str(service.get("image", "")).split(":")[0].split("/")[-1] == "nginx"
    }
    if not proxies:
        return [f"{COMPOSE_FILE}: no nginx proxy service"]
    conf = read_odoo_conf(root)
    problems = []
    if conf.get("options", "proxy_mode", fallback="False").strip().lower() not in ("true", "1"):
        problems.append(f"{ODOO_CONF}: proxy_mode is not True (Odoo is behind nginx)")
    http_port = int(conf.get("options", "http_port", fallback="8069"))
    gevent_port = int(conf.get("options", "gevent_port", fallback="8072"))
    for name, service in proxies.items():
        sources = [
            str(volume).split(":")[0]
            for volume in service.get("volumes") or []
            if re.search(r":/etc/nginx/(conf\.d/[^:]+\.conf|templates/)", str(volume))
        ]
        if not sources or not (Path(root) / sources[0]).is_file():
            problems.append(f"{COMPOSE_FILE}: service {name} mounts no nginx configuration")
            continue
        where = sources[0].removeprefix("./")
        tree = parse_nginx((Path(root) / where).read_text(encoding="utf-8"))
        upstreams = {
            args[0]: [server[1][0] for server in _directives(children, "server")]
            for _, args, children in _directives(tree, "upstream")
        }
        servers = _directives(tree, "server")
        locations = {
            " ".join(args): children
            for _, _, server in servers
            for _, args, children in _directives(server, "location")
        }
        problems += _check_location(where, locations, "/websocket", gevent_port, upstreams, True)
        problems += _check_location(where, locations, "/", http_port, upstreams, False)
        listens = {
            int(args[0].rsplit(":", 1)[-1])
            for _, _, server in servers
            for _, args, _ in _directives(server, "listen")
            if args[0].rsplit(":", 1)[-1].isdigit()
        } or {80}
        for entry in service.get("ports") or []:
            target = entry.get("target") if isinstance(entry, dict) else None
            target = target or interpolate(entry).split("/")[0].rsplit(":", 1)[-1]
            if int(target) not in listens:
                problems.append(
                    f"{COMPOSE_FILE}: {name} publishes port {target}, nginx listens {listens}"
                )
    return problems


def _check_location(where, locations, path, port, upstreams, websocket):
    directives = locations.get(path)
    if directives is None:
        return [f"{where}: no `location {path}`"]
    problems = []
    targets = [args[0] for _, args, _ in _directives(directives, "proxy_pass")]
    ports = _proxy_ports(targets[0], upstreams) if targets else None
    if ports != {port}:
        problems.append(f"{where}: location {path} is not proxied to port {port} ({targets})")
    if websocket:
        headers = {
            args[0].lower(): args[1] for _, args, _ in _directives(directives, "proxy_set_header")
        }
        if headers.get("upgrade") != "$http_upgrade":
            problems.append(f"{where}: location {path} does not pass the Upgrade header")
        if headers.get("connection") not in ("$connection_upgrade", "upgrade", "Upgrade"):
            problems.append(f"{where}: location {path} does not pass Connection: upgrade")
        versions = [args for _, args, _ in _directives(directives, "proxy_http_version")]
        if versions != [["1.1"]]:
            problems.append(f"{where}: location {path} lacks proxy_http_version 1.1")
    return problems
