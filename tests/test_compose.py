"""The compose stack, checked without Docker.

The static checks (tools/compose_checks.py) pass on the repository and each one
reports its kind of breakage on a broken copy; docker/odoo-compose.sh, run with
``sh`` against a fake /entrypoint.sh and a fake psql, generates the secrets once
and installs the demo database only when it is not initialised.
"""

import configparser
import os
import shutil
import stat
import subprocess
import sys

import compose_checks
import pytest
import yaml
from conftest import ROOT
from cryptography.fernet import Fernet

STACK_FILES = (
    "docker-compose.yml",
    "Dockerfile",
    ".gitignore",
    ".dockerignore",
    "requirements-test.txt",
    "docker",
)
HEALTH_URL = "http://localhost:8069/usage_billing/v1/health"


@pytest.fixture
def stack(tmp_path):
    for name in STACK_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy2(source, tmp_path / name)
    return tmp_path


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}: the mutation would test nothing"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def edit_compose(stack, change):
    path = stack / "docker-compose.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["services"])
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def reported(problems, fragment):
    return any(fragment in problem for problem in problems)


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


# ------------------------------------------------------- odoo serves only


@pytest.mark.parametrize(
    "command",
    [
        ["odoo-compose", "serve", "-i", "base"],
        ["odoo-compose", "serve", "--init=usage_billing_connector"],
        ["odoo-compose", "serve", "-u", "all"],
        ["odoo-compose", "serve", "--update=crm_sync_connector"],
        ["odoo-compose", "init"],
        "odoo --database=odoo -iusage_billing_connector --with-demo",
    ],
)
def test_odoo_command_installing_or_updating_is_reported(stack, command):
    edit_compose(stack, lambda s: s["odoo"].update(command=command))
    assert reported(compose_checks.check_odoo_serves_only(stack), "service odoo command has")


def test_serve_branch_of_the_start_script_installing_is_reported(stack):
    edit(
        stack / "docker" / "odoo-compose.sh",
        'exec "$ENTRYPOINT" odoo "$@"',
        'exec "$ENTRYPOINT" odoo --init=base "$@"',
    )
    problems = compose_checks.check_odoo_serves_only(stack)
    assert reported(problems, "the serve branch installs or updates modules")


# ------------------------------------------------------------------- init


def test_missing_init_service_is_reported(stack):
    def change(services):
        del services["init"]
        del services["odoo"]["depends_on"]["init"]

    edit_compose(stack, change)
    assert compose_checks.check_init_service(stack) == ["docker-compose.yml: no init service"]


def test_odoo_not_waiting_for_init_is_reported(stack):
    edit_compose(
        stack, lambda s: s["odoo"]["depends_on"].update(init={"condition": "service_started"})
    )
    assert reported(compose_checks.check_init_service(stack), "does not wait for init")


def test_restarting_init_service_is_reported(stack):
    edit_compose(stack, lambda s: s["init"].update(restart="unless-stopped"))
    assert reported(compose_checks.check_init_service(stack), "restarts (unless-stopped)")


def test_init_branch_without_demo_data_is_reported(stack):
    edit(stack / "docker" / "odoo-compose.sh", " --with-demo \\", " \\")
    assert reported(compose_checks.check_init_service(stack), "lacks '--with-demo'")


def test_init_command_that_does_not_stop_is_reported(stack):
    edit_compose(stack, lambda s: s["init"].update(command="odoo -d odoo --init=base --with-demo"))
    assert reported(compose_checks.check_init_service(stack), "does not install and stop")


# ------------------------------------------------------------- healthcheck


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        (
            ["CMD-SHELL", f"curl -fsS {HEALTH_URL} || curl -fsS http://localhost:8069/web/health"],
            "also requests http://localhost:8069/web/health",
        ),
        (["CMD-SHELL", f"curl -fsS {HEALTH_URL} || true"], "has a fallback"),
        (["CMD", "curl", "-fsS", "http://localhost:8069/web/health"], "does not request"),
        (["CMD", "curl", "-sS", HEALTH_URL], "is not `curl -f`"),
    ],
)
def test_weak_healthcheck_is_reported(stack, test, expected):
    edit_compose(stack, lambda s: s["odoo"]["healthcheck"].update(test=test))
    assert reported(compose_checks.check_healthcheck(stack), expected)


def test_disabled_healthcheck_is_reported(stack):
    edit_compose(stack, lambda s: s["odoo"].update(healthcheck={"disable": True}))
    assert reported(compose_checks.check_healthcheck(stack), "has no healthcheck")


# --------------------------------------------------------------- capacity


@pytest.mark.parametrize(
    ("old", "new"),
    [("channels = root:2", "channels = root:3"), ("workers = 3", "workers = 2")],
)
def test_job_capacity_not_below_workers_is_reported(stack, old, new):
    edit(stack / "docker" / "odoo.conf", old, new)
    assert reported(compose_checks.check_job_capacity(stack), ">= workers")


def test_channels_from_the_environment_count(stack):
    edit_compose(stack, lambda s: s["odoo"]["environment"].update(ODOO_QUEUE_JOB_CHANNELS="root:4"))
    assert reported(compose_checks.check_job_capacity(stack), "job capacity 4")


def test_single_worker_is_reported(stack):
    edit_compose(
        stack, lambda s: s["odoo"].update(command=["odoo-compose", "serve", "--workers=1"])
    )
    assert reported(compose_checks.check_job_capacity(stack), "multi-process server")


def test_channel_without_capacity_counts_as_one(stack):
    edit(stack / "docker" / "odoo.conf", "channels = root:2", "channels = root,root.crm_sync:1")
    assert compose_checks.check_job_capacity(stack) == []


def test_server_wide_modules_without_rpc_is_reported(stack):
    edit(stack / "docker" / "odoo.conf", "base,rpc,web,queue_job", "base,web,queue_job")
    problems = compose_checks.check_server_wide_modules(stack)
    assert problems == ["docker/odoo.conf: server_wide_modules lacks rpc"]


# -------------------------------------------------------------------- tags


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        ("docker-compose.yml", "postgres:16.15", "postgres:16"),
        ("docker-compose.yml", "postgres:16.15", "postgres"),
        ("docker-compose.yml", "nginx:1.30.5-alpine", "nginx:latest"),
        ("docker-compose.yml", "nginx:1.30.5-alpine", "nginx:1.30-alpine"),
        ("docker-compose.yml", "nginx:1.30.5-alpine", "nginx:stable-alpine"),
        ("Dockerfile", "odoo:19.0-20260908", "odoo:19.0"),
        ("Dockerfile", "odoo:19.0-20260908", "odoo:19"),
        ("Dockerfile", "odoo:19.0-20260908", "odoo"),
    ],
)
def test_floating_image_tag_is_reported(stack, path, old, new):
    edit(stack / path, old, new)
    assert reported(compose_checks.check_image_tags(stack), new)


@pytest.mark.parametrize(
    "image",
    ["postgres:16.15-bookworm", "postgres@sha256:" + "0" * 64, "docker.io/library/postgres:17.7"],
)
def test_image_naming_one_release_passes(stack, image):
    edit(stack / "docker-compose.yml", "postgres:16.15", image)
    assert compose_checks.check_image_tags(stack) == []


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


# ------------------------------------------------------ build targets, pins


@pytest.mark.parametrize(
    ("service", "target", "expected"),
    [
        ("tests", "runtime", "service tests builds target runtime, not test"),
        ("odoo", "test", "service odoo builds target test, not runtime"),
        ("init", None, "service init builds target None, not runtime"),
    ],
)
def test_wrong_build_target_is_reported(stack, service, target, expected):
    edit_compose(stack, lambda s: s[service].update(build={"context": ".", "target": target}))
    assert reported(compose_checks.check_build_targets(stack), expected)


def test_missing_test_stage_is_reported(stack):
    edit(stack / "Dockerfile", "FROM runtime AS test", "FROM runtime AS tests")
    assert reported(compose_checks.check_build_targets(stack), "Dockerfile: no `test` stage")


@pytest.mark.parametrize(
    "line",
    [
        "RUN pip3 install --no-cache-dir --break-system-packages pytest==8.3.5",
        "RUN pip3 install --break-system-packages hypothesis==6.100.0",
        "RUN pip3 install --break-system-packages -r /tmp/requirements-test.txt",
    ],
)
def test_test_tools_in_the_runtime_target_are_reported(stack, line):
    edit(stack / "Dockerfile", "USER odoo\n\nFROM runtime", f"{line}\nUSER odoo\n\nFROM runtime")
    assert reported(compose_checks.check_runtime_image(stack), "installs test tools")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("odoo-addon-queue-job==19.0.2.4.0.1", '"odoo-addon-queue-job>=19.0,<19.1"'),
        ("openupgradelib==3.13.7", "openupgradelib"),
        ("cssselect==1.6.0", "cssselect~=1.6"),
    ],
)
def test_unpinned_runtime_package_is_reported(stack, old, new):
    edit(stack / "Dockerfile", old, new)
    assert reported(compose_checks.check_runtime_image(stack), "is not pinned")


def test_test_tools_in_the_test_target_pass(stack):
    assert compose_checks.check_runtime_image(stack) == []
    assert "requirements-test.txt" in (stack / "Dockerfile").read_text()


# ------------------------------------------------------------ start script

needs_sh = pytest.mark.skipif(shutil.which("sh") is None, reason="no sh")
ADDONS = "usage_billing_connector,crm_sync_connector"
SECRETS = ("ODOO_ADMIN_PASSWD", "USAGE_BILLING_ENCRYPTION_KEYS", "CRM_SYNC_ENCRYPTION_KEYS")
FAKE_ENTRYPOINT = """#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_DIR/argv"
cp "$ODOO_RC" "$FAKE_DIR/effective.conf"
"""
FAKE_PSQL = """#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_DIR/psql.log"
case "$*" in
    *pg_database*) echo "${FAKE_DB_EXISTS:-1}" ;;
    *pg_tables*) echo 1 ;;
    *ir_module_module*) echo "${FAKE_INSTALLED:-2}" ;;
    *) echo 1 ;;
esac
"""


@pytest.fixture
def box(tmp_path):
    """A container's paths in a temporary directory, with fake entrypoint and psql."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("entrypoint.sh", FAKE_ENTRYPOINT), ("psql", FAKE_PSQL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    # The script calls python3, which must be one with cryptography (this one).
    (bin_dir / "python3").symlink_to(sys.executable)
    (tmp_path / "secrets").mkdir()
    return tmp_path


def run_script(box, *args, **env):
    base = {key: value for key, value in os.environ.items() if key not in SECRETS}
    base.update(
        PATH=f"{box / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        FAKE_DIR=str(box),
        ODOO_BASE_CONF=str(ROOT / "docker" / "odoo.conf"),
        ODOO_SECRETS_DIR=str(box / "secrets"),
        ODOO_ENTRYPOINT=str(box / "bin" / "entrypoint.sh"),
        ODOO_RC=str(box / "odoo.conf"),
        HOST="db",
        USER="odoo",
        PASSWORD="odoo",
    )
    base.update(env)
    command = ["sh", str(ROOT / "docker" / "odoo-compose.sh"), *args]
    return subprocess.run(command, env=base, capture_output=True, text=True, check=False)


def effective_config(box):
    parser = configparser.RawConfigParser()
    parser.read(box / "effective.conf")
    return parser


def stored(box):
    return {path.name: path.read_text().strip() for path in (box / "secrets").iterdir()}


@needs_sh
def test_first_start_generates_the_secrets_and_later_starts_keep_them(box):
    first = run_script(box, "serve")
    assert first.returncode == 0, first.stderr
    secrets = stored(box)
    assert sorted(secrets) == sorted(SECRETS)
    for name in SECRETS:
        mode = stat.S_IMODE((box / "secrets" / name).stat().st_mode)
        assert mode == 0o600, name
    Fernet(secrets["USAGE_BILLING_ENCRYPTION_KEYS"].encode())
    Fernet(secrets["CRM_SYNC_ENCRYPTION_KEYS"].encode())
    assert secrets["USAGE_BILLING_ENCRYPTION_KEYS"] != secrets["CRM_SYNC_ENCRYPTION_KEYS"]
    assert len(secrets["ODOO_ADMIN_PASSWD"]) >= 24
    assert "generated" in first.stderr

    config = effective_config(box)
    assert config.get("options", "admin_passwd") == secrets["ODOO_ADMIN_PASSWD"]
    assert config.get("usage_billing", "encryption_keys") == secrets[SECRETS[1]]
    assert config.get("crm_sync", "encryption_keys") == secrets[SECRETS[2]]
    assert config.get("queue_job", "channels") == "root:2"
    assert config.get("options", "proxy_mode") == "True"
    assert stat.S_IMODE((box / "odoo.conf").stat().st_mode) == 0o600
    assert (box / "argv").read_text().split() == ["odoo"]

    second = run_script(box, "serve", "--dev=xml")
    assert second.returncode == 0, second.stderr
    assert stored(box) == secrets
    assert "generated" not in second.stderr
    assert effective_config(box).get("options", "admin_passwd") == secrets["ODOO_ADMIN_PASSWD"]
    assert (box / "argv").read_text().split() == ["odoo", "--dev=xml"]


@needs_sh
def test_secrets_from_the_environment_are_used_and_nothing_is_generated(box):
    keys = [Fernet.generate_key().decode() for _ in range(3)]
    result = run_script(
        box,
        "serve",
        ODOO_ADMIN_PASSWD="my own master password",
        USAGE_BILLING_ENCRYPTION_KEYS=f"{keys[0]},{keys[1]}",
        CRM_SYNC_ENCRYPTION_KEYS=keys[2],
    )
    assert result.returncode == 0, result.stderr
    assert stored(box) == {}
    config = effective_config(box)
    assert config.get("options", "admin_passwd") == "my own master password"
    assert config.get("usage_billing", "encryption_keys") == f"{keys[0]},{keys[1]}"
    assert config.get("crm_sync", "encryption_keys") == keys[2]


@needs_sh
def test_environment_key_dropping_the_generated_one_warns(box):
    assert run_script(box, "serve").returncode == 0
    generated = stored(box)["CRM_SYNC_ENCRYPTION_KEYS"]
    new = Fernet.generate_key().decode()
    dropped = run_script(box, "serve", CRM_SYNC_ENCRYPTION_KEYS=new)
    assert dropped.returncode == 0 and "warning: CRM_SYNC_ENCRYPTION_KEYS" in dropped.stderr
    rotated = run_script(box, "serve", CRM_SYNC_ENCRYPTION_KEYS=f"{new}, {generated}")
    assert rotated.returncode == 0 and "warning" not in rotated.stderr


@needs_sh
@pytest.mark.parametrize("value", ["not-a-key", ","])
def test_invalid_key_in_the_environment_stops_the_start(box, value):
    result = run_script(box, "serve", USAGE_BILLING_ENCRYPTION_KEYS=value)
    assert result.returncode != 0
    assert "USAGE_BILLING_ENCRYPTION_KEYS is not a comma-separated list" in result.stderr
    assert not (box / "argv").exists()


@needs_sh
def test_base_configuration_holding_a_secret_is_refused(box, tmp_path):
    base = tmp_path / "base.conf"
    base.write_text((ROOT / "docker" / "odoo.conf").read_text() + "\n[crm_sync]\n")
    result = run_script(box, "serve", ODOO_BASE_CONF=str(base))
    assert result.returncode != 0 and "must not set admin_passwd" in result.stderr
    assert not (box / "argv").exists()


@needs_sh
def test_missing_secrets_volume_stops_the_start(box):
    result = run_script(box, "serve", ODOO_SECRETS_DIR=str(box / "absent"))
    assert result.returncode != 0 and "odoo-secrets volume" in result.stderr
    assert not (box / "argv").exists()


@needs_sh
def test_init_does_nothing_on_an_initialised_database(box):
    result = run_script(box, "init", FAKE_INSTALLED="2")
    assert result.returncode == 0, result.stderr
    assert "already installed" in result.stderr
    assert not (box / "argv").exists()
    assert "-h db -p 5432 -U odoo -d odoo" in (box / "psql.log").read_text()


@needs_sh
@pytest.mark.parametrize(
    ("exists", "installed"), [("0", "0"), ("1", "1")], ids=["no database", "half installed"]
)
def test_init_installs_the_demo_database_otherwise(box, exists, installed):
    result = run_script(box, "init", FAKE_DB_EXISTS=exists, FAKE_INSTALLED=installed)
    assert result.returncode == 0, result.stderr
    argv = (box / "argv").read_text().split()
    assert argv[0] == "odoo"
    assert f"--init={ADDONS}" in argv and "--with-demo" in argv and "--stop-after-init" in argv
    assert "--database=odoo" in argv


@needs_sh
def test_update_updates_and_stops(box):
    assert run_script(box, "update").returncode == 0
    argv = (box / "argv").read_text().split()
    assert f"--update={ADDONS}" in argv and "--stop-after-init" in argv


@needs_sh
def test_unknown_mode_is_refused(box):
    result = run_script(box, "install")
    assert result.returncode != 0 and "usage:" in result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="no shellcheck")
def test_start_script_passes_shellcheck():
    script = ROOT / "docker" / "odoo-compose.sh"
    result = subprocess.run(
        ["shellcheck", "-s", "sh", str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout
