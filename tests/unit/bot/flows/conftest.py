"""Fixtures the flows' tests share: a Slack client on the stand-in and copbot's Deps as
`copbot serve` builds them (the Zoom stand-in as conferencing)."""

from __future__ import annotations

import pytest

from bot.deps import Deps
from bot.slack_client import make_web_client


@pytest.fixture
def client(settings):
    return make_web_client(settings)


@pytest.fixture
def live(settings):
    return Deps.create(settings)
