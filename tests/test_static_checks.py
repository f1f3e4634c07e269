"""The static checks pass on the repository and catch each kind of breakage."""

import shutil

import pytest
import static_checks
from conftest import ROOT


@pytest.fixture
def repo_copy(tmp_path):
    for addon in static_checks.find_addons(ROOT):
        shutil.copytree(addon, tmp_path / addon.name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_repository_passes_every_static_check():
    assert static_checks.run_all(ROOT) == []


def test_both_addons_are_found():
    names = [addon.name for addon in static_checks.find_addons(ROOT)]
    assert names == ["crm_sync_connector", "usage_billing_connector"]


def test_broken_view_xml_is_reported(repo_copy):
    view = repo_copy / "usage_billing_connector" / "views" / "usage_billing_menus.xml"
    view.write_text(view.read_text().replace("</odoo>", "<menuitem id='x'>\n</odoo>"))
    problems = static_checks.run_all(repo_copy)
    assert any("usage_billing_menus.xml: XML does not parse" in p for p in problems)


def test_manifest_that_does_not_parse_is_reported(repo_copy):
    manifest = repo_copy / "crm_sync_connector" / "__manifest__.py"
    manifest.write_text(manifest.read_text().replace('"name":', '"name"'))
    problems = static_checks.run_all(repo_copy)
    assert any("crm_sync_connector/__manifest__.py: does not parse" in p for p in problems)


def test_manifest_missing_key_bad_version_and_missing_file_are_reported(repo_copy):
    manifest = repo_copy / "crm_sync_connector" / "__manifest__.py"
    text = manifest.read_text().replace('"license": "LGPL-3",', "")
    text = text.replace('"19.0.1.0.0"', '"18.0.1.0.0"')
    text = text.replace('"data": [', '"data": ["views/missing.xml",')
    manifest.write_text(text)
    problems = static_checks.check_manifests(repo_copy)
    assert "crm_sync_connector/__manifest__.py: missing key 'license'" in problems
    assert "crm_sync_connector/__manifest__.py: version '18.0.1.0.0' is not 19.0.x.y.z" in problems
    assert (
        "crm_sync_connector/__manifest__.py: data file 'views/missing.xml' does not exist"
        in problems
    )


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "access_x,x,model_no_such_model,group_usage_billing_user,1,0,0,0",
            "model 'model_no_such_model' does not exist in usage_billing_connector",
        ),
        (
            "access_x,x,model_usage_tenant,group_nobody,1,0,0,0",
            "group 'group_nobody' does not exist in usage_billing_connector",
        ),
        (
            "access_x,x,model_usage_tenant,usage_billing_connector.group_nobody,1,0,0,0",
            "group 'usage_billing_connector.group_nobody' does not exist",
        ),
        ("access_x,x,model_usage_tenant,,1,0,2,0", "perm_create must be 0 or 1"),
        ("access_x,x,model_usage_tenant", "expected 8 columns"),
    ],
)
def test_bad_access_csv_row_is_reported(repo_copy, row, expected):
    csv_path = repo_copy / "usage_billing_connector" / "security" / "ir.model.access.csv"
    (repo_copy / "usage_billing_connector" / "models" / "usage_tenant.py").write_text(
        "class T:\n    _name = 'usage.tenant'\n"
    )
    csv_path.write_text(csv_path.read_text() + row + "\n")
    problems = static_checks.check_access_csv(repo_copy)
    assert any(expected in p for p in problems), problems


def test_test_command_fails_when_static_check_fails(repo_copy, capsys):
    (repo_copy / "crm_sync_connector" / "__manifest__.py").write_text("{")
    assert static_checks.main(["static_checks", str(repo_copy)]) == 1
    assert "does not parse" in capsys.readouterr().out
