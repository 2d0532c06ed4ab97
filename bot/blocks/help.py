"""The `/cop` subcommands, each with a usage line and one line of help, and the help message."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from bot.blocks import context, header, message, section


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("help", "/cop help", "List these commands."),
    Subcommand("new", "/cop new", "Create a community for a channel; you become its first leader."),
    Subcommand(
        "plan",
        "/cop plan [N | show | publish | export]",
        "Work through the seven-section planning tool with your co-leader.",
    ),
    Subcommand("leaders", "/cop leaders [@a @b]", "Show the leaders, or set them (at most two)."),
    Subcommand("join", "/cop join [#channel]", "Join this channel's community (or the one named)."),
    Subcommand(
        "leave", "/cop leave [#channel]", "Leave this channel's community (or the one named)."
    ),
    Subcommand("members", "/cop members", "List the community's leaders and members."),
    Subcommand("edit", "/cop edit", "Change the name, mission, description and purpose areas."),
    Subcommand(
        "schedule", "/cop schedule", "Schedule a community call; it becomes a Zoom meeting."
    ),
    Subcommand("calls", "/cop calls", "Upcoming calls with join links, in your own time zone."),
    Subcommand(
        "remind",
        "/cop remind [dm | channel | off | community week day hour]",
        "Get call reminders by direct message too; leaders choose the channel's reminders.",
    ),
    Subcommand(
        "announce", "/cop announce", "Staff: post an announcement to one or all communities."
    ),
    Subcommand(
        "poll",
        '/cop poll ["Question?" "A" "B" …]',
        "Leaders and staff: ask a question; members vote with one click.",
    ),
    Subcommand(
        "onsite",
        "/cop onsite [meeting | assign | move | free #channel]",
        "The community's two-hour block at the Annual Meeting; staff assign rooms.",
    ),
    Subcommand(
        "report",
        "/cop report [export | status]",
        "Write and submit the annual progress report; export it as a file.",
    ),
    Subcommand(
        "agenda",
        "/cop agenda [show | status]",
        "Write and submit the onsite meeting agenda (due in early May).",
    ),
    Subcommand(
        "year",
        "/cop year [next | 2027]",
        "Start from the sample August-May year of calls and milestones.",
    ),
    Subcommand(
        "evidence",
        "/cop evidence [note | list | remove N]",
        "The community's evidence log; the message shortcut Save as evidence adds a message.",
    ),
    Subcommand(
        "share",
        "/cop share URL [note] [date:YYYY-MM-DD] [region:Name] | digest on|off",
        "Share a learning opportunity with the community.",
    ),
    Subcommand(
        "resources",
        "/cop resources [status]",
        "Guides and guidelines, the community's recordings and slides.",
    ),
)

NAMES = frozenset(s.name for s in SUBCOMMANDS)


def help_lines(built: Collection[str]) -> list[str]:
    lines = []
    for sub in SUBCOMMANDS:
        soon = "" if sub.name in built else " _(coming soon)_"
        lines.append(f"`{sub.usage}` {sub.summary}{soon}")
    return lines


def help_message(built: Collection[str], intro: str | None = None) -> dict[str, Any]:
    """The ephemeral help: every subcommand with one line each."""
    lines = help_lines(built)
    blocks = []
    if intro:
        blocks.append(section(intro))
    blocks += [
        header("copbot: your Community of Practice in Slack"),
        section("\n".join(lines)),
        context(
            "Run these in your community's channel. Leaders plan and schedule; "
            "members join, get reminders and answer polls."
        ),
    ]
    text = (
        (intro + "\n\n" if intro else "")
        + "copbot commands:\n"
        + "\n".join(line.replace(" _(coming soon)_", " (coming soon)") for line in lines)
    )
    return {"response_type": "ephemeral", **message(text, blocks)}
