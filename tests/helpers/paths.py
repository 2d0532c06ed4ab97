"""Paths the tests read or write, independent of where a test module sits."""

from __future__ import annotations

import os
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
REPO_ROOT = TESTS.parent
SPECS = TESTS / "specs"  # copies of the reference files the tests need
# the shared reference files: ../shared beside the checkout (as in CI), or COPBOT_SHARED
SHARED_SPECS = Path(os.environ.get("COPBOT_SHARED") or REPO_ROOT.parent / "shared") / "specs"
ARTIFACTS = TESTS / "artifacts"  # the browser tests' screenshots
