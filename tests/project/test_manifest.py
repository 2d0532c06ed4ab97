"""app_manifest.yml against Slack's manifest schema, and the scopes the code needs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.slack_client import EXTRA_SCOPES, SCOPES_BY_METHOD, SDK_HELPERS
from sandbox.slack_standin import SlackSpec
from tests.helpers.paths import REPO_ROOT, SPECS

MANIFEST = yaml.safe_load((REPO_ROOT / "app_manifest.yml").read_text())
CLIENT_CALL = re.compile(r"\bclient\.([a-z]+_[A-Za-z0-9_]+)\b")


def _schema() -> dict:
    return json.loads((SPECS / "manifest.schema.1.0.0.json").read_text())


def test_manifest_fits_slacks_schema():
    schema = _schema()
    jsonschema.validate(MANIFEST, schema)


def test_schema_check_is_real():
    """The schema rejects the published invalid example, so passing it means something."""
    schema = _schema()
    invalid = json.loads((SPECS / "example.v1.invalid.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(invalid, schema)


def test_manifest_has_command_home_interactivity_and_events():
    [cop] = MANIFEST["features"]["slash_commands"]
    assert cop["command"] == "/cop"
    assert "help" in cop["usage_hint"] and cop["should_escape"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert "display_name" in MANIFEST["features"]["bot_user"]


def _methods_called_in_code() -> set[str]:
    methods = set()
    for path in (REPO_ROOT / "bot").rglob("*.py"):
        for name in CLIENT_CALL.findall(path.read_text()):
            family, _, rest = name.partition("_")
            method = f"{family}.{rest}"
            methods.update(SDK_HELPERS.get(method, (method,)))
    return methods


def test_every_method_the_code_calls_is_known_and_in_the_spec():
    called = _methods_called_in_code()
    assert {"chat.postMessage", "views.open", "views.publish", "users.info"} <= called
    assert called <= set(SCOPES_BY_METHOD), called - set(SCOPES_BY_METHOD)
    spec = SlackSpec()
    for method in SCOPES_BY_METHOD:
        assert method in spec.methods, method  # the 2020 spec, or NEWER_METHODS


def test_scopes_agree_with_the_spec_where_it_is_current():
    spec = SlackSpec()
    # the 2020 spec names channels:write for conversations.join (bot tokens use
    # channels:join) and lists several scopes for conversations.open; the files upload
    # methods are newer than the spec
    outdated = {
        "conversations.info",
        "conversations.members",
        "conversations.join",
        "conversations.open",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    }
    for method, scope in SCOPES_BY_METHOD.items():
        if method not in outdated:
            assert spec.scope_of(method) == scope, method


def test_manifest_declares_exactly_the_scopes_the_code_needs():
    needed = {SCOPES_BY_METHOD[m] for m in _methods_called_in_code()} - {None}
    needed |= set(EXTRA_SCOPES)
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed


def test_app_code_handles_every_subscribed_event():
    source = "\n".join(p.read_text() for p in Path(REPO_ROOT / "bot/listeners").glob("*.py"))
    for event in MANIFEST["settings"]["event_subscriptions"]["bot_events"]:
        assert f'route.event("{event}")' in source


def test_the_usage_hint_lists_every_subcommand():
    from bot.blocks.help import NAMES

    [cop] = MANIFEST["features"]["slash_commands"]
    words = set(re.findall(r"[a-z]+", cop["usage_hint"]))
    assert words >= NAMES, sorted(NAMES - words)


def test_no_scope_is_asked_for_that_the_code_does_not_use():
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    # emails are read for one thing only: matching a call's Zoom participants to Slack
    assert {m for m, scope in SCOPES_BY_METHOD.items() if scope == "users:read.email"} == {
        "users.lookupByEmail"
    }
    callers = [
        p.relative_to(REPO_ROOT).as_posix()
        for p in (REPO_ROOT / "bot").rglob("*.py")
        if "users_lookupByEmail" in p.read_text()
    ]
    assert callers == ["bot/flows/after_call/attendance.py"]
    assert "users:read.email" in scopes
    assert {"files:write", "im:write"} <= scopes  # the plan export: a file in a DM
