"""No encryption key nor master password in a deployment file that git would track."""

import fnmatch
import os
import re
from pathlib import Path, PurePosixPath

from .files import COMPOSE_FILE, environment, interpolate, services

FERNET_KEY_RE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}=")
#: A secret given a value anywhere in a line: an Odoo option (admin_passwd,
#: encryption_keys) or an environment variable named after one (ODOO_ADMIN_PASSWD,
#: CRM_SYNC_ENCRYPTION_KEYS); ``name = value``, ``name: value`` or ``name=value``,
#: indented, quoted, on a command line (``--admin_passwd=x``) or inside a string
#: (``printf '[options]\nadmin_passwd = x'``).  ``value`` is its first word.
SECRET_ASSIGNMENT_RE = re.compile(
    r"(?:(?<=\\[nt])|(?<![A-Za-z0-9\\]))(?P<name>(?:\w*_)?(?:admin_passwd|encryption_keys))"
    r"[\"']?[ \t]*[=:][ \t]*[\"']?(?P<value>[^\s\"',;]*)",
    re.IGNORECASE,
)
#: A value computed when the file is used: a command substitution, a format
#: placeholder (``%s``), or code (``os.environ[...]``, ``ENVIRON[...]``).
RUNTIME_VALUE_RE = re.compile(r"\$\(|`|%|[A-Za-z_][\w.]*[\[(]")
SECRET_ENV_RE = re.compile(r"(ADMIN_PASSWD|ENCRYPTION_KEYS)$")
EMPTY_REFERENCE_RE = re.compile(r"^\$\{\w+(:?-)?\}$")


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


def _committed(value):
    """Whether ``value`` is written in the file (not a reference filled in when run).

    A reference is empty once interpolated as compose would without .env
    (``${ODOO_ADMIN_PASSWD:-}``, ``$VAR``); one with a default commits the default.
    """
    if not value or RUNTIME_VALUE_RE.match(value):
        return False
    return bool(interpolate(value).strip())


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
            for match in SECRET_ASSIGNMENT_RE.finditer(line):
                if _committed(match["value"]):
                    problems.append(f"{rel}:{number}: {match['name']} is committed")
    for name, service in services(root).items():
        for key, value in environment(service).items():
            if SECRET_ENV_RE.search(key) and value and not EMPTY_REFERENCE_RE.match(str(value)):
                problems.append(
                    f"{COMPOSE_FILE}: service {name} gives {key} a value "
                    f"(only ${{{key}:-}}, the value coming from an untracked .env)"
                )
    return problems
