"""docker/odoo-compose.sh, the compose stack's start script, run without Docker.

Run with ``sh`` against a fake /entrypoint.sh and a fake psql, it generates the
secrets once and installs the demo database only when it is not initialised.
"""

import configparser
import os
import shutil
import stat
import subprocess
import sys

import pytest
from conftest import ROOT
from cryptography.fernet import Fernet

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
