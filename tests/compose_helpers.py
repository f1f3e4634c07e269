"""A copy of the compose stack to break, for the tests of tools/compose_checks.py.

The ``stack`` fixture (registered by conftest.py) copies the files the static
checks read into a temporary directory; ``edit`` and ``edit_compose`` break one
thing in it, ``reported`` finds the problem a check gave for it.
"""

import shutil

import pytest
import yaml
from conftest import ROOT

STACK_FILES = (
    "docker-compose.yml",
    "Dockerfile",
    ".gitignore",
    ".dockerignore",
    "requirements-test.txt",
    "docker",
)


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
