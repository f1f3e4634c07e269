"""The Dockerfile: pinned base images, the build targets, a runtime image without test tools."""

import re
from pathlib import Path

from .files import COMPOSE_FILE, DOCKERFILE, INIT, ODOO, TESTS, interpolate, services

TEST_TOOLS_RE = re.compile(r"\b(pytest|hypothesis|ruff)\b|requirements-test")
PINNED_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[\w,-]+\])?==[\w.+!-]+$")

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


# Ubuntu 24.04 (the odoo:19.0 image) packages these browsers as stubs that install
# and run the snap: snaps do not run in a container, so the tours would not run.
SNAP_STUB_BROWSERS = {"chromium", "chromium-browser"}
CHROME_DEB_RE = re.compile(r"google-chrome-stable_(?P<version>\S+?)_amd64\.deb")
ARG_RE = re.compile(r"^ARG\s+(?P<name>\w+)=(?P<value>\S+)$", re.IGNORECASE)


def _with_build_args(instructions):
    """The RUN instructions, with ``${NAME}``/``$NAME`` of ARGs that have a default replaced."""
    args, runs = {}, []
    for instruction in instructions:
        match = ARG_RE.match(instruction)
        if match:
            args[match["name"]] = match["value"].strip("\"'")
        elif instruction.upper().startswith("RUN"):
            for name, value in args.items():
                instruction = instruction.replace("${" + name + "}", value)
                instruction = re.sub(rf"\${name}\b", value, instruction)
            runs.append(instruction)
    return runs


def _apt_packages(instruction):
    """Package arguments of the apt(-get) installs of a RUN instruction."""
    packages = []
    for command in re.split(r"&&|;|\|\|", instruction):
        words = [word.strip("\"'") for word in command.split()]
        for index, word in enumerate(words[:-1]):
            if word.split("/")[-1] in ("apt", "apt-get") and words[index + 1] == "install":
                packages += [arg for arg in words[index + 2 :] if not arg.startswith("-")]
    return packages


def check_test_browser(root):
    """The test target has a browser that runs in a container, in one pinned version."""
    runs = _with_build_args(stage_chain(dockerfile_stages(root), "test"))
    problems = []
    chrome = False
    for instruction in runs:
        for package in _apt_packages(instruction):
            name, _, version = package.partition("=")
            if name in SNAP_STUB_BROWSERS:
                problems.append(
                    f"{DOCKERFILE}: the test target installs {name}, a snap stub on Ubuntu "
                    "24.04 that does not run in a container: install google-chrome-stable"
                )
            elif name == "google-chrome-stable":
                chrome = True
                if not version or "*" in version:
                    problems.append(f"{DOCKERFILE}: google-chrome-stable is not pinned")
        for match in CHROME_DEB_RE.finditer(instruction):
            chrome = True
            if match["version"] == "current" or "$" in match["version"]:
                problems.append(f"{DOCKERFILE}: {match[0]} is not pinned")
    if not chrome:
        problems.append(f"{DOCKERFILE}: the test target installs no Chrome: the tours cannot run")
    return problems
