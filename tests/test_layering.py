"""Production code never imports the sandbox: a production install needs neither the
stand-ins, their specs nor jsonschema."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ("bot", "integrations", "storage")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_production_packages_never_import_the_sandbox_or_jsonschema():
    offenders = []
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            for module in _imported_modules(path):
                top = module.split(".")[0]
                if top in ("sandbox", "jsonschema"):
                    offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_the_scan_sees_sandbox_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom sandbox.slack_standin import SlackStandIn\n")
    assert "sandbox.slack_standin" in _imported_modules(sample)


def test_jsonschema_is_only_in_the_sandbox_extra():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("jsonschema") for d in project["dependencies"])
    assert any(d.startswith("jsonschema") for d in project["optional-dependencies"]["sandbox"])
