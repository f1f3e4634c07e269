"""Static checks of the docker compose stack, for a machine without Docker.

What ``docker compose up`` runs must be right by construction: these checks read
docker-compose.yml, the Dockerfile, docker/odoo.conf, docker/nginx.conf and
docker/odoo-compose.sh. Each check takes the repository root and returns a list
of human-readable problems; an empty list means it passed.
``python3 tools/compose_checks.py [ROOT]`` prints them and exits non-zero when
there is any.
"""

import configparser
import fnmatch
import os
import re
import shlex
import sys
from pathlib import Path, PurePosixPath

import yaml

COMPOSE_FILE = "docker-compose.yml"
DOCKERFILE = "Dockerfile"
ODOO_CONF = "docker/odoo.conf"
START_SCRIPT = "docker/odoo-compose.sh"
ODOO, INIT, TESTS = "odoo", "init", "tests"
HEALTH_PATH = "/usage_billing/v1/health"
LOOPBACK = {"127.0.0.1", "::1"}
REQUIRED_SERVER_WIDE = ("base", "rpc", "web", "queue_job")

FERNET_KEY_RE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}=")
ADMIN_PASSWD_RE = re.compile(r"^\s*admin_passwd\s*[=:]\s*\S")
SECRET_ENV_RE = re.compile(r"(ADMIN_PASSWD|ENCRYPTION_KEYS)$")
EMPTY_REFERENCE_RE = re.compile(r"^\$\{\w+(:?-)?\}$")
INSTALL_OPTION_RE = re.compile(r"^(-[iu].*|--(init|update)(=.*)?)$")
TEST_TOOLS_RE = re.compile(r"\b(pytest|hypothesis|ruff)\b|requirements-test")
PINNED_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[\w,-]+\])?==[\w.+!-]+$")
URL_RE = re.compile(r"https?://[^\s'\"|;&)]+")
INTERPOLATION_RE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?+])([^}]*))?\}|\$(\w+)")

# Tags that name one release. odoo:19.0 and odoo:19 move to each new dated
# build; postgres:16 and nginx:1.30 to each new minor or patch release.
TAG_PATTERNS = {
    "odoo": re.compile(r"^\d+\.0-\d{8}$"),
    "postgres": re.compile(r"^\d+\.\d+(-[a-z0-9.]+)?$"),
    "nginx": re.compile(r"^\d+\.\d+\.\d+(-[a-z0-9.-]+)?$"),
}
GENERIC_TAG_RE = re.compile(r"^v?\d+\.\d+")

# pip options followed by a value (the value is not a requirement).
PIP_VALUE_OPTIONS = {
    "-c",
    "--constraint",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--cache-dir",
}


# ----------------------------------------------------------------- reading


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


def dockerfile_stages(root):
    """[(name, base, [instruction text, ...])] of the Dockerfile, in order."""
    stages = []
    logical = ""
    for raw in (Path(root) / DOCKERFILE).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        logical += line[:-1] + " " if line.endswith("\\") else line
        if line.endswith("\\"):
            continue
        words = logical.split()
        if words[0].upper() == "FROM":
            args = [word for word in words[1:] if not word.startswith("--")]
            name = args[2] if len(args) >= 3 and args[1].upper() == "AS" else None
            stages.append((name, args[0], []))
        elif stages:
            stages[-1][2].append(logical)
        logical = ""
    return stages


def stage_chain(stages, name):
    """Instructions of stage ``name`` and of the stages it is built FROM."""
    by_name = {stage[0]: stage for stage in stages if stage[0]}
    instructions = []
    while name in by_name:
        _, base, own = by_name.pop(name)
        instructions = own + instructions
        name = base
    return instructions


def _gitignore_patterns(root):
    path = Path(root) / ".gitignore"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "!"))]


def _ignored(rel, is_dir, patterns):
    for pattern in patterns:
        dir_only = pattern.endswith("/")
        if dir_only and not is_dir:
            continue
        bare = pattern.strip("/")
        if "/" in pattern.rstrip("/"):
            if fnmatch.fnmatch(rel, bare):
                return True
        elif fnmatch.fnmatch(PurePosixPath(rel).name, bare):
            return True
    return False


def repository_files(root):
    """Relative paths of the files git would track (.gitignore honoured, no .git)."""
    root = Path(root)
    patterns = _gitignore_patterns(root)
    found = []
    for directory, dirnames, filenames in os.walk(root):
        rel_dir = Path(directory).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(
            d for d in dirnames if d != ".git" and not _ignored(rel_dir + d, True, patterns)
        )
        found += [
            rel_dir + f for f in sorted(filenames) if not _ignored(rel_dir + f, False, patterns)
        ]
    return found


def _is_deployment_file(rel):
    path = PurePosixPath(rel)
    name = path.name
    return (
        path.parts[0] == "docker"
        or name.startswith(("Dockerfile", ".env"))
        or ("compose" in name and path.suffix in (".yml", ".yaml"))
        or path.suffix in (".conf", ".env", ".ini", ".cfg")
    )


# ---------------------------------------------------------------- nginx


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


# ---------------------------------------------------------------- checks


def check_committed_secrets(root):
    """No encryption key nor master password in a deployment file git would track."""
    problems = []
    for rel in repository_files(root):
        if not _is_deployment_file(rel):
            continue
        try:
            text = (Path(root) / rel).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if FERNET_KEY_RE.search(line):
                problems.append(f"{rel}:{number}: a Fernet key is committed")
            if ADMIN_PASSWD_RE.search(line):
                problems.append(f"{rel}:{number}: admin_passwd is committed")
    for name, service in services(root).items():
        for key, value in environment(service).items():
            if SECRET_ENV_RE.search(key) and value and not EMPTY_REFERENCE_RE.match(str(value)):
                problems.append(
                    f"{COMPOSE_FILE}: service {name} gives {key} a value "
                    f"(only ${{{key}:-}}, the value coming from an untracked .env)"
                )
    return problems


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


def _floating(reference):
    """Why an image reference floats, or None when it names one release."""
    if "@sha256:" in reference:
        return None
    name, _, tag = reference.split("/")[-1].partition(":")
    if not tag:
        return "no tag (latest)"
    if tag == "latest":
        return "latest"
    pattern = TAG_PATTERNS.get(name, GENERIC_TAG_RE)
    return None if pattern.match(tag) else f"tag {tag} is not one release"


def check_image_tags(root):
    """Every base image names one release."""
    problems = []
    for name, service in services(root).items():
        if service.get("image") and not service.get("build"):
            reason = _floating(interpolate(service["image"]))
            if reason:
                problems.append(
                    f"{COMPOSE_FILE}: service {name} image {service['image']}: {reason}"
                )
    stages = dockerfile_stages(root)
    stage_names = {stage[0] for stage in stages}
    for _, base, _ in stages:
        if base not in stage_names:
            reason = _floating(base)
            if reason:
                problems.append(f"{DOCKERFILE}: FROM {base}: {reason}")
    return problems


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


def check_build_targets(root):
    """odoo and init run the runtime target; the tests service the test target."""
    stages = {stage[0] for stage in dockerfile_stages(root)}
    problems = [
        f"{DOCKERFILE}: no `{name}` stage" for name in ("runtime", "test") if name not in stages
    ]
    expected = {ODOO: "runtime", INIT: "runtime", TESTS: "test"}
    for name, target in expected.items():
        build = (services(root).get(name) or {}).get("build")
        actual = build.get("target") if isinstance(build, dict) else None
        if actual != target:
            problems.append(f"{COMPOSE_FILE}: service {name} builds target {actual}, not {target}")
    return problems


def _pip_requirements(instruction):
    """Requirement arguments of the pip installs of a RUN instruction ("-r" for a file)."""
    requirements = []
    for command in re.split(r"&&|;|\|\|", instruction):
        words = [word.strip("\"'") for word in command.split()]
        for index, word in enumerate(words[:-1]):
            if re.match(r"^pip3?$", word.split("/")[-1]) and words[index + 1] == "install":
                skip = False
                for arg in words[index + 2 :]:
                    if skip:
                        skip = False
                    elif arg in ("-r", "--requirement"):
                        requirements.append("-r")
                        skip = True
                    elif arg in PIP_VALUE_OPTIONS:
                        skip = True
                    elif not arg.startswith("-"):
                        requirements.append(arg)
    return requirements


def check_runtime_image(root):
    """The runtime target has no test tool, and pins what it installs."""
    problems = []
    for instruction in stage_chain(dockerfile_stages(root), "runtime"):
        if TEST_TOOLS_RE.search(instruction):
            problems.append(f"{DOCKERFILE}: the runtime target installs test tools: {instruction}")
        if not instruction.upper().startswith("RUN"):
            continue
        for requirement in _pip_requirements(instruction):
            if requirement == "-r":
                problems.append(f"{DOCKERFILE}: the runtime target installs a requirements file")
            elif not PINNED_RE.match(requirement):
                problems.append(f"{DOCKERFILE}: {requirement} is not pinned (name==version)")
    return problems


CHECKS = (
    check_committed_secrets,
    check_published_ports,
    check_odoo_serves_only,
    check_init_service,
    check_healthcheck,
    check_job_capacity,
    check_server_wide_modules,
    check_image_tags,
    check_proxy,
    check_build_targets,
    check_runtime_image,
)


def run_all(root):
    return [problem for check in CHECKS for problem in check(root)]


def main(argv):
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    problems = run_all(root)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
