"""The reference files bundled with copbot are the shared originals, byte for byte."""

from __future__ import annotations

import pytest

from sandbox.slack_standin import SPEC_PATH
from tests.conftest import SHARED_SPECS, SPECS

COPIES = [
    (SPEC_PATH, "slack_web_openapi_v2.json"),
    (SPECS / "manifest.schema.1.0.0.json", "slack_manifest_schema/manifest.schema.1.0.0.json"),
    (SPECS / "example.v1.invalid.json", "slack_manifest_schema/example.v1.invalid.json"),
    (SPECS / "slack_signing_vector.json", "slack_signing_vector.json"),
]
SEEDS = SHARED_SPECS.parent / "seeds"


def test_planning_tool_seed_copy_matches():
    originals = sorted(SEEDS.glob("001_*.txt")) if SEEDS.exists() else []
    if not originals:
        pytest.skip("the seeds are not beside this checkout")
    assert (SPECS / "seed_planning_tool.txt").read_bytes() == originals[0].read_bytes()


@pytest.mark.parametrize(("copy", "original"), COPIES, ids=[c[1] for c in COPIES])
def test_copy_matches_the_shared_original(copy, original):
    shared = SHARED_SPECS / original
    if not shared.exists():
        pytest.skip(f"{shared} is not beside this checkout")
    assert copy.read_bytes() == shared.read_bytes()
