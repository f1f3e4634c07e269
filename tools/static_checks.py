"""Static checks of the addons that need no Odoo.

Each check returns a list of human-readable problems; an empty list means the
check passed.  ``python3 tools/static_checks.py [ROOT]`` prints them and exits
non-zero when there is any.
"""

import ast
import csv
import re
import sys
from pathlib import Path
from xml.etree import ElementTree

REQUIRED_MANIFEST_KEYS = ("name", "version", "license", "depends", "author", "installable")
ALLOWED_LICENSES = {"LGPL-3", "AGPL-3", "GPL-3", "OPL-1", "OEEL-1", "Other proprietary"}
VERSION_RE = re.compile(r"^19\.0\.\d+\.\d+\.\d+$")
ACCESS_HEADER = [
    "id",
    "name",
    "model_id:id",
    "group_id:id",
    "perm_read",
    "perm_write",
    "perm_create",
    "perm_unlink",
]
MODEL_NAME_RE = re.compile(r"""^\s*_name\s*=\s*['"]([\w.]+)['"]""", re.MULTILINE)


def find_addons(root):
    """Directories directly under ``root`` that hold an ``__manifest__.py``."""
    return sorted(p.parent for p in Path(root).glob("*/__manifest__.py"))


def read_manifest(addon):
    return ast.literal_eval((addon / "__manifest__.py").read_text(encoding="utf-8"))


def check_manifests(root):
    problems = []
    for addon in find_addons(root):
        where = f"{addon.name}/__manifest__.py"
        try:
            manifest = read_manifest(addon)
        except (SyntaxError, ValueError) as exc:
            problems.append(f"{where}: does not parse: {exc}")
            continue
        if not isinstance(manifest, dict):
            problems.append(f"{where}: is not a dict")
            continue
        problems += [
            f"{where}: missing key {key!r}" for key in REQUIRED_MANIFEST_KEYS if key not in manifest
        ]
        if "version" in manifest and not VERSION_RE.match(str(manifest["version"])):
            problems.append(f"{where}: version {manifest['version']!r} is not 19.0.x.y.z")
        if "license" in manifest and manifest["license"] not in ALLOWED_LICENSES:
            problems.append(f"{where}: license {manifest['license']!r} is not allowed")
        for key in ("data", "demo"):
            for rel in manifest.get(key, []):
                if not (addon / rel).is_file():
                    problems.append(f"{where}: {key} file {rel!r} does not exist")
    return problems


def check_xml_files(root):
    problems = []
    for addon in find_addons(root):
        for path in sorted(addon.rglob("*.xml")):
            try:
                ElementTree.parse(path)
            except ElementTree.ParseError as exc:
                problems.append(f"{path.relative_to(root)}: XML does not parse: {exc}")
    return problems


def _models_defined(addon):
    models = set()
    for path in addon.rglob("*.py"):
        models.update(MODEL_NAME_RE.findall(path.read_text(encoding="utf-8")))
    return models


def _xml_ids_defined(addon, model):
    ids = set()
    for path in addon.rglob("*.xml"):
        try:
            tree = ElementTree.parse(path)
        except ElementTree.ParseError:
            continue  # reported by check_xml_files
        ids.update(rec.get("id") for rec in tree.iter("record") if rec.get("model") == model)
    return ids


def _model_xml_id(model_name):
    return "model_" + model_name.replace(".", "_")


def check_access_csv(root):
    """Every access row points at a model and a group that exist.

    References to our own addons are resolved against their sources; references
    to other modules (``base.group_user``) cannot be resolved without Odoo and
    are only checked for the ``module.name`` form.
    """
    addons = {addon.name: addon for addon in find_addons(root)}
    models = {name: {_model_xml_id(m) for m in _models_defined(a)} for name, a in addons.items()}
    groups = {name: _xml_ids_defined(a, "res.groups") for name, a in addons.items()}
    problems = []
    for name, addon in addons.items():
        for path in sorted(addon.rglob("ir.model.access.csv")):
            where = path.relative_to(root)
            with path.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.reader(handle))
            if not rows or rows[0] != ACCESS_HEADER:
                problems.append(f"{where}: header must be {','.join(ACCESS_HEADER)}")
                continue
            seen = set()
            for lineno, row in enumerate(rows[1:], start=2):
                if not row:
                    continue
                if len(row) != len(ACCESS_HEADER):
                    problems.append(f"{where}:{lineno}: expected {len(ACCESS_HEADER)} columns")
                    continue
                rule = dict(zip(ACCESS_HEADER, row, strict=True))
                if rule["id"] in seen:
                    problems.append(f"{where}:{lineno}: duplicate id {rule['id']!r}")
                seen.add(rule["id"])
                problems += _check_reference(
                    where, lineno, "model", rule["model_id:id"], name, models
                )
                if rule["group_id:id"]:
                    problems += _check_reference(
                        where, lineno, "group", rule["group_id:id"], name, groups
                    )
                for perm in ACCESS_HEADER[4:]:
                    if rule[perm] not in ("0", "1"):
                        problems.append(f"{where}:{lineno}: {perm} must be 0 or 1")
    return problems


def _check_reference(where, lineno, kind, ref, current_addon, known):
    module, _, xml_id = ref.rpartition(".")
    module = module or current_addon
    if module not in known:
        return [] if "." in ref else [f"{where}:{lineno}: {kind} {ref!r} not found"]
    if xml_id not in known[module]:
        return [f"{where}:{lineno}: {kind} {ref!r} does not exist in {module}"]
    return []


def run_all(root):
    return check_manifests(root) + check_xml_files(root) + check_access_csv(root)


def main(argv):
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parent.parent)
    problems = run_all(root)
    for problem in problems:
        print(problem)
    print(f"static checks: {len(problems)} problem(s) in {len(find_addons(root))} addon(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
