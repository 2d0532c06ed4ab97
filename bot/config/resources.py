"""The organisation's resources file (`COPBOT_RESOURCES`; the shipped example by default):
best-practice guides and social media and marketing guidelines, read once at start-up.

A file that is missing or malformed raises ResourcesError whose message is one line
naming the file and the line, so start-up can stop with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.text import safe_url

EXAMPLE = Path(__file__).resolve().parent.parent / "resources_example.yaml"


class ResourcesError(ValueError):
    """The resources file cannot be used; one line naming the file and the line."""


@dataclass(frozen=True)
class Item:
    title: str
    url: str
    description: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    items: tuple[Item, ...]
    guidelines: bool = False


def _fail(path: Path, node: yaml.Node | None, problem: str) -> ResourcesError:
    line = f" line {node.start_mark.line + 1}" if node is not None else ""
    return ResourcesError(f"{path}{line}: {problem}")


def _mapping(path: Path, node: yaml.Node, what: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise _fail(path, node, f"{what} should be a mapping of keys to values")
    return {k.value: v for k, v in node.value}


def _text(path: Path, parent: dict[str, yaml.Node], key: str, at: yaml.Node, *, needed=True):
    node = parent.get(key)
    if node is None:
        if needed:
            raise _fail(path, at, f"`{key}` is missing")
        return ""
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise _fail(path, node, f"`{key}` should be text")
    return str(node.value).strip()


def load(path: str | Path | None = None) -> tuple[Section, ...]:
    """The sections of the resources file at `path` (default: the shipped example)."""
    path = Path(path) if path else EXAMPLE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ResourcesError(f"{path}: cannot be read ({e.strerror or type(e).__name__})") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f" line {mark.line + 1}" if mark else ""
        raise ResourcesError(f"{path}{line}: not valid YAML ({e.problem})") from None
    if root is None:
        raise ResourcesError(f"{path}: the file is empty; it needs `sections:`")
    top = _mapping(path, root, "the file")
    sections_node = top.get("sections")
    if not isinstance(sections_node, yaml.SequenceNode) or not sections_node.value:
        raise _fail(path, sections_node or root, "`sections` should be a list of sections")
    sections = []
    for snode in sections_node.value:
        s = _mapping(path, snode, "a section")
        title = _text(path, s, "title", snode)
        items_node = s.get("items")
        if not isinstance(items_node, yaml.SequenceNode) or not items_node.value:
            raise _fail(path, items_node or snode, f"section {title!r} needs a list of `items`")
        items = []
        for inode in items_node.value:
            i = _mapping(path, inode, "an item")
            url = _text(path, i, "url", inode)
            if safe_url(url) is None:
                raise _fail(path, i["url"], f"{url[:60]!r} is not an http(s) link")
            items.append(
                Item(
                    _text(path, i, "title", inode),
                    url,
                    _text(path, i, "description", inode, needed=False),
                )
            )
        flag = s.get("guidelines")
        guidelines = isinstance(flag, yaml.ScalarNode) and flag.value.lower() == "true"
        sections.append(Section(title, tuple(items), guidelines))
    return tuple(sections)
