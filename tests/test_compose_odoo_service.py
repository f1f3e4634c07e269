"""The compose stack's odoo and init services, checked without Docker.

odoo serves only (never installs nor updates), a one-shot init service installs
the demo database first, the healthcheck is the addon's route, queue_job cannot
take every HTTP worker and is loaded server-wide. Each check of
tools/compose_checks.py reports its kind of breakage on a broken copy of the stack.
"""

import compose_checks
import pytest
from compose_helpers import edit, edit_compose, reported

HEALTH_URL = "http://localhost:8069/usage_billing/v1/health"


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
