"""The reference files bundled with copbot are the shared originals, byte for byte.

The originals live in ../shared beside the checkout (or where COPBOT_SHARED says). Without
them the comparison skips, saying so; with COPBOT_REQUIRE_SHARED=1 (set by CI, where
they are always there) their absence fails instead, so the check cannot skip unnoticed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox.slack_standin import SPEC_PATH
from tests.helpers.paths import SHARED_SPECS, SPECS

COPIES = [
    (SPEC_PATH, "slack_web_openapi_v2.json"),
    (SPECS / "manifest.schema.1.0.0.json", "slack_manifest_schema/manifest.schema.1.0.0.json"),
    (SPECS / "example.v1.invalid.json", "slack_manifest_schema/example.v1.invalid.json"),
    (SPECS / "slack_signing_vector.json", "slack_signing_vector.json"),
]
SEEDS = SHARED_SPECS.parent / "seeds"


def original(path: Path) -> Path:
    """`path` if it exists; else a skip (or a failure when the originals are required)."""
    if path.exists():
        return path
    reason = f"{path} is not beside this checkout (set COPBOT_SHARED to the shared folder)"
    if os.environ.get("COPBOT_REQUIRE_SHARED") == "1":
        pytest.fail(f"COPBOT_REQUIRE_SHARED=1 but {reason}")
    pytest.skip(reason)


def test_planning_tool_seed_copy_matches():
    originals = sorted(original(SEEDS).glob("001_*.txt"))
    assert originals, f"no 001_*.txt seed in {SEEDS}"
    assert (SPECS / "seed_planning_tool.txt").read_bytes() == originals[0].read_bytes()


@pytest.mark.parametrize(("copy", "name"), COPIES, ids=[c[1] for c in COPIES])
def test_copy_matches_the_shared_original(copy, name):
    assert copy.read_bytes() == original(SHARED_SPECS / name).read_bytes()
