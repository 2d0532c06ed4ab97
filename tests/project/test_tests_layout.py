"""The tests mirror the code: tests/unit/<package>/ for one package of the code, tests/http/
for signed requests through the endpoint, tests/browser/ for Chromium, tests/project/ for
whole-project checks; what test modules share lives in tests/helpers/, and no test module
imports another."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers.paths import REPO_ROOT, TESTS

PLACES = ("unit", "http", "browser", "project")
NOT_CODE = {"__pycache__"}


def _python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def _is_test_module(path: Path) -> bool:
    return path.name.startswith("test_") or path.name.endswith("_test.py")


def _test_modules() -> list[Path]:
    return [p for p in _python_files() if _is_test_module(p)]


def _imported_modules(path: Path) -> list[str]:
    """Every module `path` imports, relative imports resolved against its package."""
    package = path.relative_to(REPO_ROOT).parent.parts
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            found.append(base)
            # `from tests.x import test_y` names a module too
            found.extend(f"{base}.{alias.name}" for alias in node.names)
    return found


def _names_a_test_module(module: str) -> bool:
    parts = module.split(".")
    if parts[0] != "tests":
        return False
    return any(part.startswith("test_") or part == "conftest" for part in parts[1:])


def test_every_test_module_sits_in_one_of_the_places():
    modules = _test_modules()
    assert len(modules) > 50, "the tests were found"
    misplaced = [
        str(p.relative_to(TESTS))
        for p in modules
        if len(p.relative_to(TESTS).parts) < 2 or p.relative_to(TESTS).parts[0] not in PLACES
    ]
    assert misplaced == [], f"test modules outside tests/{{{','.join(PLACES)}}}/"


def test_every_folder_of_tests_is_a_package():
    """Test modules are imported by their full name (tests.unit.bot.blocks.test_calls), so
    two modules may share a base name in different folders."""
    folders = {p.parent for p in _python_files()}
    assert TESTS / "unit" in folders
    missing = sorted(
        str(f.relative_to(REPO_ROOT)) for f in folders if not (f / "__init__.py").exists()
    )
    assert missing == []


def test_no_test_module_imports_another():
    imports = {p: _imported_modules(p) for p in _python_files()}
    assert any("tests.helpers.endpoint" in found for found in imports.values()), "imports were read"
    offenders = sorted(
        f"{p.relative_to(REPO_ROOT)} imports {module}"
        for p, found in imports.items()
        for module in found
        if _names_a_test_module(module)
    )
    assert offenders == [], "move what is shared into tests/helpers/"


def test_unit_folders_name_packages_of_the_code():
    unit = TESTS / "unit"
    folders = [f for f in unit.rglob("*") if f.is_dir() and not NOT_CODE.intersection(f.parts)]
    assert folders, "tests/unit/ has folders"
    unknown = sorted(
        str(f.relative_to(TESTS))
        for f in folders
        if not any((REPO_ROOT / f.relative_to(unit)).glob("*.py"))
    )
    assert unknown == [], "a folder under tests/unit/ names no folder of the code"
