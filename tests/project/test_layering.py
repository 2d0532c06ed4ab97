"""Production code never imports the sandbox: a production install needs neither the
stand-ins, their specs nor jsonschema."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers.paths import REPO_ROOT

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
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            for module in _imported_modules(path):
                top = module.split(".")[0]
                if top in ("sandbox", "jsonschema"):
                    offenders.append(f"{path.relative_to(REPO_ROOT)} imports {module}")
    assert offenders == []


def test_the_scan_sees_sandbox_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom sandbox.slack_standin import SlackStandIn\n")
    assert "sandbox.slack_standin" in _imported_modules(sample)


def test_jsonschema_is_only_in_the_sandbox_extra():
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("jsonschema") for d in project["dependencies"])
    assert any(d.startswith("jsonschema") for d in project["optional-dependencies"]["sandbox"])


# ---- the floors: imports only point down (ARCHITECTURE.md, "Floors") ----------------

PROJECT = ("bot", "integrations", "storage", "sandbox")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    candidate = REPO_ROOT.joinpath(*name.split("."))
    return candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file()


def _project_imports(path: Path) -> set[str]:
    """The copbot modules `path` imports, wherever in the file (relative imports
    resolved; `from pkg import mod` names the module when it is one)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            # `from pkg import mod` imports the module; `from mod import name` the module
            names = [
                f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base
                for alias in node.names
            ]
        else:
            continue
        found.update(n for n in names if n.split(".")[0] in PROJECT and _is_module(n))
    return found


def _production_files() -> list[Path]:
    return [
        path
        for package in PRODUCTION
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _project_imports(p) for p in _production_files()}


# (importer prefix, imported prefix): an arrow that would run up a floor or sideways
FORBIDDEN = (
    ("bot.services", "bot.blocks"),
    ("bot.services", "bot.listeners"),
    ("bot.services", "bot.flows"),
    ("bot.services", "bot.slack_client"),
    ("bot.blocks", "bot.listeners"),
    ("bot.blocks", "bot.flows"),
    ("bot.blocks", "bot.slack_client"),
    ("bot.flows", "bot.listeners"),
    ("bot.flows", "bot.webhooks"),
    ("bot.listeners", "bot.webhooks"),
    ("bot.webhooks", "bot.listeners"),
    ("integrations", "bot"),
    ("storage", "bot"),
    ("storage", "integrations"),
    ("bot.text", "bot."),
    ("bot.zones", "bot."),
    ("bot.config", "bot.services"),
    ("bot.config", "storage"),
)
# the wiring sits on top: each may be imported only by those above it
WIRING = {
    "bot.cli": ("bot.cli",),
    "bot.server": ("bot.cli", "bot.server"),
    "bot.app": ("bot.cli", "bot.server", "bot.app"),
    "bot.scheduler": ("bot.cli", "bot.server", "bot.scheduler"),
}


def _under(module: str, prefix: str) -> bool:
    return module == prefix.rstrip(".") or module.startswith(prefix.rstrip(".") + ".")


def arrows_up(graph: dict[str, set[str]]) -> list[str]:
    wrong = set()
    for importer, imported in graph.items():
        for target in imported:
            for low, high in FORBIDDEN:
                if _under(importer, low) and _under(target, high) and not _under(target, low):
                    wrong.add(f"{importer} imports {target}")
            for wiring, above in WIRING.items():
                if _under(target, wiring) and not any(_under(importer, a) for a in above):
                    wrong.add(f"{importer} imports {target} (the wiring)")
    return sorted(wrong)


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Modules that import each other in a loop (Tarjan's strongly connected parts)."""
    modules = {m: {t for t in ts if t in graph and t != m} for m, ts in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for t in modules[m]:
            if t not in index:
                visit(t)
                low[m] = min(low[m], low[t])
            elif t in on_stack:
                low[m] = min(low[m], index[t])
        if low[m] == index[m]:
            part = []
            while True:
                t = stack.pop()
                on_stack.discard(t)
                part.append(t)
                if t == m:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for m in sorted(modules):
        if m not in index:
            visit(m)
    return found


def test_imports_only_point_down():
    assert arrows_up(_graph()) == []


def test_no_module_imports_itself_back_through_others():
    assert circles(_graph()) == []


def test_the_floor_checks_see_an_arrow_up_and_a_circle():
    graph = {
        "bot.services.calls": {"bot.blocks", "bot.services.reports"},
        "bot.services.reports": {"bot.services.calls"},
        "integrations.zoom": {"bot.config"},
        "bot.flows.calls": {"bot.cli"},
    }
    assert arrows_up(graph) == [
        "bot.flows.calls imports bot.cli (the wiring)",
        "bot.services.calls imports bot.blocks",
        "integrations.zoom imports bot.config",
    ]
    assert circles(graph) == [["bot.services.calls", "bot.services.reports"]]


def test_the_import_scan_reads_imports_inside_functions_and_names_modules():
    found = _project_imports(REPO_ROOT / "bot" / "cli" / "__init__.py")
    assert "bot.ops.error_reports" in found  # imported inside _setup_logging
    assert {"bot.cli.doctor", "bot.cli.run", "storage.db"} <= found  # from pkg import mod
    assert "bot.cli" not in found


def test_only_the_sandbox_bench_and_tests_import_the_sandbox():
    for path in _production_files():
        assert not any(_under(m, "sandbox") for m in _project_imports(path)), path
