"""Dependencies: every requirement in pyproject.toml has an upper bound, and the CI lock
pins a version of each that its range allows."""

from __future__ import annotations

import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.helpers.paths import REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
LOCK = REPO_ROOT / "requirements" / "ci.lock"


def requirements() -> list[Requirement]:
    project = PYPROJECT["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        found += [Requirement(r) for r in extra if not r.startswith("copbot[")]
    return found


def build_requirements() -> list[Requirement]:
    return [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]


def pinned() -> dict[str, Version]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"not an exact pin: {line!r}"
        pins[canonicalize_name(name)] = Version(version)
    return pins


@pytest.mark.parametrize(
    "requirement",
    [*requirements(), *build_requirements()],
    ids=lambda r: r.name,
)
def test_every_requirement_has_an_upper_bound(requirement):
    operators = {spec.operator for spec in requirement.specifier}
    assert operators & {"<", "<=", "==", "~="}, f"{requirement} has no upper bound"


def test_the_lock_pins_every_requirement_within_its_range():
    pins = pinned()
    for requirement in requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in {LOCK.name}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{LOCK.name} pins {requirement.name}=={pins[name]}, outside {requirement}"
        )


def test_the_lock_is_used_by_ci():
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "-c requirements/ci.lock" in ci
