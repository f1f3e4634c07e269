"""The compose stack, checked without Docker: the repository passes, and what it exposes.

The static checks (tools/compose_checks.py) pass on the repository and each one
reports its kind of breakage on a broken copy (``stack``, tests/compose_helpers.py):
here no committed secret, no port beyond the loopback interface, nginx in
front of Odoo. The odoo and init services are checked in
test_compose_odoo_service.py, the images in test_compose_images.py and
docker/odoo-compose.sh in test_compose_start_script.py.
"""

import compose_checks
import pytest
from compose_helpers import edit, edit_compose, reported
from conftest import ROOT
from cryptography.fernet import Fernet

# --------------------------------------------------------------- repository


def test_repository_passes_every_compose_check():
    assert compose_checks.run_all(ROOT) == []


def test_copy_of_the_stack_passes_too(stack):
    assert compose_checks.run_all(stack) == []


def test_cli_exits_non_zero_on_a_problem(stack, capsys):
    edit(stack / "docker-compose.yml", "postgres:16.15", "postgres:16")
    assert compose_checks.main(["compose_checks.py", str(stack)]) == 1
    assert "postgres:16" in capsys.readouterr().out
    assert compose_checks.main(["compose_checks.py", str(ROOT)]) == 0


# ------------------------------------------------------------------ secrets


def test_fernet_key_in_the_odoo_configuration_is_reported(stack):
    key = Fernet.generate_key().decode()
    conf = stack / "docker" / "odoo.conf"
    conf.write_text(conf.read_text() + f"\n[usage_billing]\nencryption_keys = {key}\n")
    problems = compose_checks.check_committed_secrets(stack)
    assert reported(problems, "docker/odoo.conf:") and reported(problems, "a Fernet key")


def test_admin_passwd_in_the_odoo_configuration_is_reported(stack):
    edit(stack / "docker" / "odoo.conf", "[options]\n", "[options]\nadmin_passwd = admin\n")
    problems = compose_checks.check_committed_secrets(stack)
    assert reported(problems, "docker/odoo.conf:8: admin_passwd is committed")


@pytest.mark.parametrize(
    "name", [".env.production", "docker/secrets.env", "deploy/odoo.conf", "compose.override.yml"]
)
def test_key_in_any_deployment_file_is_reported(stack, name):
    (stack / name).parent.mkdir(exist_ok=True)
    (stack / name).write_text(f"CRM_SYNC_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n")
    assert reported(compose_checks.check_committed_secrets(stack), f"{name}:1: a Fernet key")


@pytest.mark.parametrize(
    ("name", "line", "secret"),
    [
        # indented, under a section
        ("deploy/odoo.conf", "[options]\n    admin_passwd = hunter2", "admin_passwd"),
        # key: value (YAML), outside the environment the compose check reads
        (
            "compose.override.yml",
            "services:\n  odoo:\n    environment:\n      ODOO_ADMIN_PASSWD: hunter2",
            "ODOO_ADMIN_PASSWD",
        ),
        ("docker/secrets.env", "export ODOO_ADMIN_PASSWD=hunter2", "ODOO_ADMIN_PASSWD"),
        # a key that is not shaped like a Fernet key is still a committed key
        (".env.production", "USAGE_BILLING_ENCRYPTION_KEYS='changeme'", "ENCRYPTION_KEYS"),
        # key = value inside a configuration string, or on a command line
        (
            "Dockerfile",
            "RUN printf '[options]\\nadmin_passwd = hunter2\\n' > /etc/odoo.conf",
            "admin_passwd",
        ),
        ("docker/odoo-compose.sh", 'exec odoo "--admin_passwd=hunter2"', "admin_passwd"),
        # a reference with a default commits the default
        ("deploy/odoo.conf", "admin_passwd = ${ODOO_ADMIN_PASSWD:-admin}", "admin_passwd"),
    ],
)
def test_secret_given_a_value_in_any_form_is_reported(stack, name, line, secret):
    path = stack / name
    path.parent.mkdir(exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(f"{text}\n{line}\n", encoding="utf-8")
    number = len(text.splitlines()) + len(line.splitlines()) + 1
    problems = compose_checks.check_committed_secrets(stack)
    assert reported(problems, f"{name}:{number}: ") and reported(problems, f"{secret} is committed")


@pytest.mark.parametrize(
    "line",
    [
        "admin_passwd = $ODOO_ADMIN_PASSWD",
        "ODOO_ADMIN_PASSWD: ${ODOO_ADMIN_PASSWD:-}",
        "ODOO_ADMIN_PASSWD=$(cat /run/secrets/odoo_admin_passwd)",
        "printf '[options]\\nadmin_passwd = %s\\n' \"$master_password\"",
        'config["crm_sync"] = {"encryption_keys": os.environ["CRM_SYNC_ENCRYPTION_KEYS"]}',
        "# never add admin_passwd here: it is generated",
    ],
)
def test_secret_filled_in_when_run_is_not_reported(stack, line):
    script = stack / "docker" / "odoo-compose.sh"
    script.write_text(script.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    assert compose_checks.check_committed_secrets(stack) == []


def test_untracked_env_file_is_not_reported(stack):
    # .env is in .gitignore: it is where your own secrets go.
    (stack / ".env").write_text(f"CRM_SYNC_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n")
    assert compose_checks.check_committed_secrets(stack) == []


@pytest.mark.parametrize("value", ["hunter2", "${ODOO_ADMIN_PASSWD:-admin}"])
def test_secret_value_in_the_compose_environment_is_reported(stack, value):
    edit_compose(stack, lambda s: s["odoo"]["environment"].update(ODOO_ADMIN_PASSWD=value))
    problems = compose_checks.check_committed_secrets(stack)
    assert reported(problems, "service odoo gives ODOO_ADMIN_PASSWD a value")


# -------------------------------------------------------------------- ports


@pytest.mark.parametrize(
    "ports",
    [
        ["8069:80"],
        ["0.0.0.0:8069:80"],
        ["80"],
        [80],
        ["${ODOO_BIND:-0.0.0.0}:8069:80"],
        [{"target": 80, "published": 8069}],
        [{"target": 80, "published": 8069, "host_ip": "0.0.0.0"}],
    ],
)
def test_port_published_beyond_localhost_is_reported(stack, ports):
    edit_compose(stack, lambda s: s["proxy"].update(ports=ports))
    problems = compose_checks.check_published_ports(stack)
    assert reported(problems, "service proxy publishes") and reported(problems, "not 127.0.0.1")


@pytest.mark.parametrize(
    "ports",
    [
        ["127.0.0.1:8069:80"],
        ["127.0.0.1:${ODOO_PORT:-8069}:80/tcp"],
        ["[::1]:8069:80"],
        [{"target": 80, "published": "8069", "host_ip": "127.0.0.1"}],
    ],
)
def test_port_published_on_localhost_passes(stack, ports):
    edit_compose(stack, lambda s: s["proxy"].update(ports=ports))
    assert compose_checks.check_published_ports(stack) == []


def test_odoo_publishing_its_own_port_is_reported(stack):
    edit_compose(stack, lambda s: s["odoo"].update(ports=["127.0.0.1:8072:8072"]))
    problems = compose_checks.check_published_ports(stack)
    assert reported(problems, "service odoo publishes ports itself")


def test_host_network_is_reported(stack):
    edit_compose(stack, lambda s: s["odoo"].update(network_mode="host"))
    assert reported(compose_checks.check_published_ports(stack), "uses the host network")


# ------------------------------------------------------------------- proxy


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("server odoo:8072 resolve;", "server odoo:8069 resolve;", "/websocket is not proxied"),
        ("proxy_pass http://odoochat;", "proxy_pass http://odoo;", "/websocket is not proxied"),
        ("proxy_set_header Upgrade $http_upgrade;", "", "does not pass the Upgrade header"),
        (
            "proxy_set_header Connection $connection_upgrade;",
            "",
            "does not pass Connection: upgrade",
        ),
        ("proxy_http_version 1.1;", "", "lacks proxy_http_version 1.1"),
        ("location /websocket {", "location /longpolling {", "no `location /websocket`"),
        ("server odoo:8069 resolve;", "server odoo:8072 resolve;", "location / is not proxied"),
        ("listen 80;", "listen 8080;", "publishes port 80, nginx listens"),
    ],
)
def test_broken_nginx_configuration_is_reported(stack, old, new, expected):
    edit(stack / "docker" / "nginx.conf", old, new)
    assert reported(compose_checks.check_proxy(stack), expected)


def test_proxy_mode_off_is_reported(stack):
    edit(stack / "docker" / "odoo.conf", "proxy_mode = True", "proxy_mode = False")
    assert reported(compose_checks.check_proxy(stack), "proxy_mode is not True")


def test_gevent_port_moved_without_nginx_is_reported(stack):
    edit(stack / "docker" / "odoo.conf", "gevent_port = 8072", "gevent_port = 8073")
    assert reported(compose_checks.check_proxy(stack), "/websocket is not proxied to port 8073")


def test_missing_proxy_service_is_reported(stack):
    edit_compose(stack, lambda s: s.pop("proxy"))
    assert compose_checks.check_proxy(stack) == ["docker-compose.yml: no nginx proxy service"]


def test_proxy_without_its_configuration_is_reported(stack):
    edit_compose(stack, lambda s: s["proxy"].update(volumes=[]))
    assert reported(compose_checks.check_proxy(stack), "mounts no nginx configuration")
