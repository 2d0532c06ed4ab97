"""The documents a new user reads: .env.example and the README's Quick start."""

from __future__ import annotations

import re

from bot.config import ENV_VARS, Settings
from tests.helpers.paths import REPO_ROOT


def test_env_example_lists_every_variable_with_a_comment():
    lines = (REPO_ROOT / ".env.example").read_text().splitlines()
    names = [line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z_]+=", line)]
    assert sorted(names) == sorted(ENV_VARS)
    for i, line in enumerate(lines):
        if re.match(r"^[A-Z_]+=", line):
            above = lines[i - 1]
            assert above.startswith("#") or re.match(r"^[A-Z_]+=", above), line


def test_env_example_as_is_is_valid_configuration():
    values = {}
    for line in (REPO_ROOT / ".env.example").read_text().splitlines():
        if re.match(r"^[A-Z_]+=", line):
            name, value = line.split("=", 1)
            values[name] = value
    settings = Settings.from_mapping(values)
    assert settings.database_url == "sqlite:///copbot.db"


def test_every_variable_is_read_by_settings():
    source = (REPO_ROOT / "bot" / "config" / "__init__.py").read_text()
    for name in ENV_VARS:
        assert f'get("{name}")' in source, name


def test_quick_start_has_exactly_two_commands():
    readme = (REPO_ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = quick.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2
    assert commands[0].endswith("copbot sandbox --demo")
    assert "'.[sandbox]'" in commands[0]
    assert commands[1].endswith("pytest")


def test_readme_scope_list_is_the_manifest_s():
    import yaml

    manifest = yaml.safe_load((REPO_ROOT / "app_manifest.yml").read_text())
    readme = (REPO_ROOT / "README.md").read_text()
    paragraph = readme.split("The manifest asks for", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"`([a-z]+(?::[a-z.]+)?)`", paragraph)) - {"/cop"}
    assert named == set(manifest["oauth_config"]["scopes"]["bot"])


def test_every_path_in_the_readme_layout_exists():
    readme = (REPO_ROOT / "README.md").read_text()
    after = readme.split("- How the code is laid out.", 1)[1]
    section = after.split("- Tests mirror the code", 1)[0]
    block = section.split("```", 2)[1]
    named = set(re.findall(r"\b((?:bot|integrations|storage|sandbox)/[\w/]*(?:\.py)?)", section))
    assert len(named) >= 15 and "bot/listeners/" in block
    missing = sorted(p for p in named if not (REPO_ROOT / p.rstrip("/")).exists())
    assert missing == []
