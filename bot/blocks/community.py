"""Block Kit for communities: the new-community modal, rosters, announcements, App Home."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.blocks import (
    MAX_CONFIRM_BUTTON,
    MAX_CONFIRM_TEXT,
    MAX_CONFIRM_TITLE,
    MAX_HOME_BLOCKS,
    Block,
    channel_link,
    clip,
    context,
    divider,
    escape,
    form,
    header,
    input_block,
    join_words,
    mention,
    message,
    pack_sections,
    plain,
    plural,
    section,
)
from bot.services.communities import CommunitySummary, RosterEntry
from storage.models import (
    MAX_NAME_LENGTH,
    MAX_TEXT_LENGTH,
    PURPOSE_AREA_LABELS,
    Community,
    PurposeArea,
    Role,
)

NEW_COMMUNITY_CALLBACK = "community_new"
LEADERS_CONFIRM_ACTION = "leaders_confirm"
# block ids of the new-community modal; each input's action id is "value"
NAME, MISSION, DESCRIPTION, AREAS, CHANNEL, LEADER = (
    "name",
    "mission",
    "description",
    "areas",
    "channel",
    "leader",
)


def new_community_modal(channel_id: str, creator: str, *, staff: bool) -> dict[str, Any]:
    """The `/cop new` modal; staff also choose the first leader."""
    blocks = [*_name_and_channel_inputs(channel_id), *_purpose_inputs()]
    if staff:
        blocks.append(
            input_block(
                LEADER,
                "First leader",
                {"type": "users_select", "initial_user": creator},
                hint="Staff may create a community for someone else to lead.",
            )
        )
    return form(
        NEW_COMMUNITY_CALLBACK,
        "New community",
        "Create",
        blocks,
        json.dumps({"channel": channel_id}),
    )


def _name_and_channel_inputs(channel_id: str) -> list[Block]:
    """The community's name, and its channel (the one the command came from, at first)."""
    return [
        input_block(
            NAME,
            "Community name",
            {
                "type": "plain_text_input",
                "max_length": MAX_NAME_LENGTH,
                "placeholder": plain("e.g. Early-career oncologists"),
            },
        ),
        input_block(
            CHANNEL,
            "Channel",
            {
                "type": "conversations_select",
                "default_to_current_conversation": True,
                "initial_conversation": channel_id,
                "filter": {"include": ["public", "private"], "exclude_bot_users": True},
            },
            hint="The community's home: calls, reminders and the plan are posted here.",
        ),
    ]


def _purpose_inputs() -> list[Block]:
    """Mission, description and purpose areas, each optional."""
    area_options = [{"text": plain(PURPOSE_AREA_LABELS[a]), "value": a.value} for a in PurposeArea]
    return [
        input_block(
            MISSION,
            "Mission statement",
            {"type": "plain_text_input", "multiline": True, "max_length": MAX_TEXT_LENGTH},
            optional=True,
            hint="Why this community exists, in a sentence or two.",
        ),
        input_block(
            DESCRIPTION,
            "Description",
            {"type": "plain_text_input", "multiline": True, "max_length": MAX_TEXT_LENGTH},
            optional=True,
            hint="Who it is for and what members do together.",
        ),
        input_block(
            AREAS,
            "Purpose areas",
            {"type": "checkboxes", "options": area_options},
            optional=True,
            hint="The kinds of activity the community is organised around.",
        ),
    ]


def _role_word(role: Role) -> str:
    return "Leader" if role == Role.LEADER else "Member"


def roster_message(community: Community, entries: Sequence[RosterEntry]) -> dict[str, Any]:
    leaders = [e.user_id for e in entries if e.role == Role.LEADER]
    members = [e.user_id for e in entries if e.role == Role.MEMBER]
    name = escape(community.name)
    blocks: list[Block] = [header(f"{community.name}: {plural(len(entries), 'person', 'people')}")]
    blocks.append(
        section(
            f"*Leaders ({len(leaders)})*\n" + (", ".join(map(mention, leaders)) or "_none yet_")
        )
    )
    if members:
        # a section holds 3,000 characters: about 190 mentions; longer rosters continue
        chunk: list[str] = []
        first = True
        for uid in members:
            chunk.append(mention(uid))
            if len(chunk) == 150:
                blocks.append(_members_section(chunk, len(members), first))
                chunk, first = [], False
        if chunk:
            blocks.append(_members_section(chunk, len(members), first))
    else:
        blocks.append(section("*Members (0)*\nNo members yet. Anyone can join with `/cop join`."))
    led = join_words(list(map(mention, leaders)))
    text = f"{name}: {plural(len(leaders), 'leader')} and {plural(len(members), 'member')}. " + (
        f"Led by {led}." if led else "It has no leader yet."
    )
    return {"response_type": "ephemeral", **message(text, blocks)}


def _members_section(chunk: list[str], total: int, first: bool) -> Block:
    title = f"*Members ({total})*\n" if first else ""
    return section(title + ", ".join(chunk))


def leaders_message(community: Community, leaders: Sequence[str]) -> dict[str, Any]:
    who = join_words([mention(u) for u in leaders])
    name = escape(community.name)
    text = f"{name} is led by {who}." if who else f"{name} has no leader yet."
    blocks = [
        section(f"*{name}* is led by {who}." if who else f"*{name}* has no leader yet."),
        context("Leaders and staff can change them with `/cop leaders @a @b` (at most two)."),
    ]
    return {"response_type": "ephemeral", **message(text, blocks)}


def leaders_sentence(community: Community, leaders: Sequence[str]) -> str:
    """ "<@U1> is now the leader of *X*" / "<@U1> and <@U2> are now the leaders of *X*"."""
    who = join_words([mention(u) for u in leaders])
    name = escape(community.name)
    if len(leaders) == 1:
        return f"{who} is now the leader of *{name}*"
    return f"{who} are now the leaders of *{name}*"


def leaders_changed_announcement(
    community: Community, leaders: Sequence[str], changed_by: str
) -> dict[str, Any]:
    text = f"{leaders_sentence(community, leaders)} (set by {mention(changed_by)})."
    blocks = [section(f":busts_in_silhouette: {text}")]
    return message(text.replace("*", ""), blocks)


def leaders_confirm_message(
    community: Community, leaders: Sequence[str], note: str
) -> dict[str, Any]:
    """Asks a leader who would step down by this change to confirm it with a button."""
    name = escape(community.name)
    who = join_words([mention(u) for u in leaders])
    text = (
        f"{note} Afterwards {who} {'leads' if len(leaders) == 1 else 'lead'} *{name}* "
        "and you stay on as a member. Step down?"
    )
    button = {
        "type": "button",
        "action_id": LEADERS_CONFIRM_ACTION,
        "text": plain("Step down"),
        "style": "danger",
        "value": json.dumps({"community": community.id, "leaders": list(leaders)}),
        "confirm": {
            "title": plain("Step down as leader?", MAX_CONFIRM_TITLE),
            "text": plain(
                f"You will be a member of {community.name}, no longer a leader.", MAX_CONFIRM_TEXT
            ),
            "confirm": plain("Step down", MAX_CONFIRM_BUTTON),
            "deny": plain("Stay a leader", MAX_CONFIRM_BUTTON),
        },
    }
    blocks = [
        section(text),
        {"type": "actions", "elements": [button]},
        context("Nothing changes unless you press the button."),
    ]
    return {"response_type": "ephemeral", **message(text.replace("*", ""), blocks)}


def welcome_announcement(community: Community, leader: str) -> dict[str, Any]:
    name = escape(community.name)
    lines = [f":seedling: *{name}* is now a Community of Practice, led by {mention(leader)}."]
    if community.mission:
        lines.append(f"> {clip(escape(community.mission), 2800)}")
    if community.areas:
        lines.append("Purpose: " + ", ".join(PURPOSE_AREA_LABELS[a] for a in community.areas) + ".")
    lines.append("Join with `/cop join`; see who is here with `/cop members`.")
    text = f"{name} is now a Community of Practice, led by {mention(leader)}. Join with /cop join."
    return message(text, [section("\n".join(lines))])


def _calls_note(counts: dict[int, int] | None, community_id: int, year: str) -> str:
    if counts is None or community_id not in counts:
        return ""
    n = counts[community_id]
    if n < 3:
        return (
            f" · {plural(n, 'community call')} in {year} :warning: "
            f"the year needs at least 3 (and at most 6)"
        )
    return f" · {plural(n, 'community call')} in {year} (3 to 6 planned)"


def home_view(
    viewer: str,
    mine: Sequence[CommunitySummary],
    everyone: Sequence[CommunitySummary] | None,
    *,
    call_counts: dict[int, int] | None = None,
    year: str = "",
    reminder_problems: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The App Home tab: the viewer's communities; for staff, every community too.
    Leaders and staff see how many community calls the program year has, with a warning
    under three."""
    blocks: list[Block] = [header("Your communities")]
    if mine:
        for s in mine:
            blocks.append(
                section(
                    f"*{escape(s.community.name)}* in "
                    f"{channel_link(s.community.slack_channel_id)}\n"
                    f"{_role_word(s.role)} · {plural(s.leader_count, 'leader')}, "
                    f"{plural(s.member_count, 'person', 'people')} in all"
                    + (
                        _calls_note(call_counts, s.community.id, year)
                        if s.role == Role.LEADER
                        else ""
                    )
                )
            )
    else:
        blocks.append(
            section(
                "You are not in a community yet. In a community's channel, `/cop join` makes you a "
                "member; `/cop new` starts a new one."
            )
        )
    if everyone is not None:
        blocks += [divider(), header(f"All communities ({len(everyone)})")]
        if not everyone:
            blocks.append(section("No communities yet. Create the first with `/cop new`."))
        lines = [
            f"• *{escape(s.community.name)}* in {channel_link(s.community.slack_channel_id)}: "
            f"{plural(s.leader_count, 'leader')} (at most 2), "
            f"{plural(s.member_count, 'person', 'people')} in all"
            + (" :warning: no leader" if s.leader_count == 0 else "")
            + _calls_note(call_counts, s.community.id, year)
            for s in everyone
        ]
        room = MAX_HOME_BLOCKS - len(blocks) - 2  # the reminders' problems and the help line
        blocks += pack_sections("", lines, room, "community", "communities")
    if reminder_problems:
        blocks += pack_sections(
            "*Reminders that could not be sent, or were missed while copbot was down*",
            [f"• {escape(p)}" for p in reminder_problems],
            1,
            "reminder",
        )
    blocks.append(context("`/cop help` lists every command."))
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}


NO_COMMUNITY_TEXT = (
    "This channel has no community yet. Create one here with `/cop new`, "
    "or join one elsewhere with `/cop join #channel`."
)


def ephemeral(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", **message_for(text)}


def message_for(text: str) -> dict[str, Any]:
    """A one-section message with its plain-text fallback."""
    return message(text, [section(text)])
