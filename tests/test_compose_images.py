"""The compose stack's images, checked without Docker.

Every base image names one release, each service builds its Dockerfile target,
and the runtime target pins what it installs and has no test tool. Each check of
tools/compose_checks.py reports its kind of breakage on a broken copy of the stack.
"""

import compose_checks
import pytest
from compose_helpers import edit, edit_compose, reported

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


# ------------------------------------------------------ the tours' browser


def test_pinned_google_chrome_in_the_test_target_passes(stack):
    assert compose_checks.check_test_browser(stack) == []


@pytest.mark.parametrize("package", ["chromium", "chromium-browser", "chromium=1:139.0"])
def test_snap_stub_chromium_in_the_test_target_is_reported(stack, package):
    # Ubuntu 24.04's chromium package only runs the snap, which a container cannot.
    edit(
        stack / "Dockerfile",
        "COPY requirements-test.txt",
        f"RUN apt-get update && apt-get install -y --no-install-recommends {package}\n"
        "COPY requirements-test.txt",
    )
    assert reported(compose_checks.check_test_browser(stack), "snap stub")


def test_test_target_without_chrome_is_reported(stack):
    text = (stack / "Dockerfile").read_text(encoding="utf-8")
    start = text.index("ARG CHROME_VERSION")
    end = text.index("COPY requirements-test.txt")
    (stack / "Dockerfile").write_text(text[:start] + text[end:], encoding="utf-8")
    assert reported(compose_checks.check_test_browser(stack), "installs no Chrome")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("ARG CHROME_VERSION=145.0.7632.116-1", "ARG CHROME_VERSION"),
        ("google-chrome-stable_${CHROME_VERSION}_amd64", "google-chrome-stable_current_amd64"),
    ],
)
def test_unpinned_chrome_is_reported(stack, old, new):
    edit(stack / "Dockerfile", old, new)
    assert reported(compose_checks.check_test_browser(stack), "is not pinned")


def test_unpinned_chrome_from_the_apt_repository_is_reported(stack):
    edit(
        stack / "Dockerfile",
        "COPY requirements-test.txt",
        "RUN apt-get install -y google-chrome-stable\nCOPY requirements-test.txt",
    )
    assert reported(compose_checks.check_test_browser(stack), "google-chrome-stable is not pinned")


def test_chrome_in_the_runtime_target_does_not_count(stack):
    # The tours run in the test target: a browser only in another stage is no use.
    edit(stack / "Dockerfile", "FROM runtime AS test", "FROM runtime AS chrome")
    edit(
        stack / "Dockerfile",
        "COPY requirements-test.txt",
        "FROM runtime AS test\nCOPY requirements-test.txt",
    )
    assert reported(compose_checks.check_test_browser(stack), "installs no Chrome")
