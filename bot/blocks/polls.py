"""Block Kit for polls: the modal, the channel message with its vote buttons and bars,
and the answers a voter sees; the results in the thread are in `poll_results`. No I/O.

What people typed (question, options) is escaped everywhere it lands in mrkdwn or the
fallback text. No voter's id is shown for an anonymous poll; named polls list voters only
through "Show votes".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.blocks import (
    MAX_CONFIRM_BUTTON,
    MAX_CONFIRM_TEXT,
    MAX_CONFIRM_TITLE,
    MAX_FALLBACK_TEXT,
    MAX_OPTION_TEXT,
    choice,
    clip,
    context,
    escape,
    form,
    input_block,
    mention,
    message,
    plain,
    plural,
    radio_input,
    section,
)
from bot.services import poll_voting as voting
from bot.services import polls as rules

CREATE_CALLBACK = "poll_create"
ADD_OPTION_CALLBACK = "poll_add_option"
VOTE_ACTION = "poll_vote"
WITHDRAW_ACTION = "poll_withdraw"
CLOSE_ACTION = "poll_close"
SHOW_VOTES_ACTION = "poll_show_votes"
ADD_OPTION_ACTION = "poll_add_option_open"
ADD_OPTION = "poll_new_option"

USAGE = '`/cop poll "Question?" "Option A" "Option B"` (2 to 10 options, each in quotes)'
ANONYMITY_NOTE = (
    ":lock: Anonymous: no one (not staff, not the asker) can see who voted for what. "
    "While the poll is open copbot keeps one keyed hash per voter, to count one vote each "
    "and let you change it: someone holding both copbot's database and its secret key "
    "could tie votes to people until the close. At the close copbot keeps only the counts "
    "and forgets who voted, for good."
)
ANONYMITY_CLOSED = (
    ":lock: Anonymous: at the close copbot kept only the counts and forgot who voted. "
    "No one can tie a vote to a person, ever."
)
BAR_WIDTH = 12
MAX_NAMES = 100  # mentions listed per option (about 1,700 characters)


def when(at: datetime) -> str:
    """A time every reader sees in their own zone (UTC where Slack cannot)."""
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def bar(count: int, total: int) -> str:
    """A count's share of `total` as a bar of BAR_WIDTH blocks."""
    filled = round(BAR_WIDTH * count / total) if total else 0
    return "█" * filled + "░" * (BAR_WIDTH - filled)


# ---- the modal -------------------------------------------------------------------------------
def poll_modal(community_id: int | None, choices: list[tuple[int, str]] | None) -> dict[str, Any]:
    """The form. `choices` (staff only) lists the communities the poll may go to."""
    blocks = [_targets_input(community_id, choices)] if choices else []
    blocks += [
        input_block(
            rules.QUESTION,
            "Question",
            {"type": "plain_text_input", "max_length": rules.MAX_QUESTION},
        ),
        input_block(
            rules.OPTIONS,
            "Options, one per line",
            {"type": "plain_text_input", "multiline": True},
            hint="2 to 10 options, each up to 75 characters.",
        ),
        *_answers_inputs(),
        _settings_input(),
        input_block(
            rules.CLOSES,
            "Closes at (your time zone)",
            {"type": "datetimepicker"},
            optional=True,
        ),
    ]
    return form(
        CREATE_CALLBACK, "Ask a poll", "Post", blocks, json.dumps({"community": community_id})
    )


def _targets_input(community_id: int | None, choices: list[tuple[int, str]]) -> dict[str, Any]:
    """Staff's choice of communities, the one it was asked from chosen at first."""
    options = [choice(name, str(cid)) for cid, name in choices[:100]]
    element: dict[str, Any] = {
        "type": "multi_static_select",
        "options": options,
        "placeholder": plain("Communities"),
    }
    initial = [o for o in options if o["value"] == str(community_id)]
    if initial:
        element["initial_options"] = initial
    return input_block(
        rules.TARGETS,
        "Ask in",
        element,
        hint="One poll per channel; the results show per community and in total.",
    )


def _answers_inputs() -> list[dict[str, Any]]:
    """One choice or several, and at most how many."""
    return [
        radio_input(
            rules.CHOICE,
            "Answers",
            [
                {"text": plain("One choice"), "value": "single"},
                {"text": plain("Several choices"), "value": "multiple"},
            ],
        ),
        input_block(
            rules.LIMIT,
            "At most this many choices (several choices only)",
            {"type": "number_input", "is_decimal_allowed": False, "min_value": "1"},
            optional=True,
        ),
    ]


def _settings_input() -> dict[str, Any]:
    """Anonymous (ticked at first), results hidden until the close, members' options."""
    anonymous = {
        "text": plain("Anonymous: no one can see who voted for what"),
        "value": "anonymous",
    }
    return input_block(
        rules.SETTINGS,
        "Settings",
        {
            "type": "checkboxes",
            "options": [
                anonymous,
                {"text": plain("Hide the results until the poll closes"), "value": "hidden"},
                {"text": plain("Let members add options"), "value": "add"},
            ],
            "initial_options": [dict(anonymous)],
        },
        optional=True,
    )


def add_option_modal(poll_id: int, question: str, tag: str = "") -> dict[str, Any]:
    return form(
        ADD_OPTION_CALLBACK,
        "Add an option",
        "Add",
        [
            section(f"*{escape(question)}*"),
            input_block(
                ADD_OPTION,
                "Your option",
                {"type": "plain_text_input", "max_length": rules.MAX_OPTION},
            ),
        ],
        json.dumps({"poll": poll_id, "tag": tag}),
        close=None,
    )


# ---- the channel's message -------------------------------------------------------------------
def _kind_line(poll: Any) -> str:
    if not poll.multiple:
        kind = "One choice"
    elif poll.max_choices:
        kind = f"Up to {poll.max_choices} choices"
    else:
        kind = "Several choices"
    who = "Anonymous" if poll.anonymous else "Named: everyone can see the votes"
    return f"{kind} · {who}"


def poll_message(t: rules.Tally) -> dict[str, Any]:
    """The poll as its channel sees it: open with buttons, or frozen once closed."""
    poll = t.poll
    closed = poll.state == "closed"
    show_counts = poll.live_results or closed
    total = sum(t.counts.values())
    question = escape(poll.question)
    blocks = [
        section(f":bar_chart: *{question}*"),
        context(f"Asked by {mention(poll.created_by)} · {_kind_line(poll)}"),
    ]
    for option in t.options:
        count = t.counts.get(option.id, 0) if show_counts else None
        blocks.append(_option_block(poll, option, count, total))
    blocks.append(context(" · ".join(_status(t, show_counts))))
    if poll.anonymous:
        blocks.append(context(ANONYMITY_CLOSED if closed else ANONYMITY_NOTE))
    buttons = _poll_buttons(t, show_counts)
    if buttons:
        blocks.append(
            {"type": "actions", "block_id": f"poll-{poll.id}-actions", "elements": buttons}
        )
    state = "closed poll" if closed else "Poll"
    fallback = f"{state} by {mention(poll.created_by)}: {question} ({plural(t.voters, 'voter')})"
    return message(clip(fallback, MAX_FALLBACK_TEXT), blocks)


def _option_block(poll: Any, option: Any, count: int | None, total: int) -> dict[str, Any]:
    """An option with its bar and count (`count` None while the results are hidden), and
    its Vote button while the poll is open."""
    text = f"*{escape(option.label)}*"
    if count is not None:
        share = f"{round(100 * count / total)}%" if total else "0%"
        text += f"\n`{bar(count, total)}` {count} ({share})"
    block: dict[str, Any] = section(text, block_id=f"poll-{poll.id}-opt-{option.id}")
    if poll.state != "closed":
        block["accessory"] = {
            "type": "button",
            "action_id": VOTE_ACTION,
            "text": plain("Vote", MAX_OPTION_TEXT),
            "value": f"{poll.id}:{option.id}",
        }
    return block


def _status(t: rules.Tally, show_counts: bool) -> list[str]:
    """How many voted, when it closes or closed, and whether the results wait."""
    poll = t.poll
    status = [plural(t.voters, "voter")]
    if poll.state == "closed" and poll.closed_at:
        status.append(f"closed {when(poll.closed_at)}")
    elif poll.closes_at:
        status.append(f"closes {when(poll.closes_at)}")
    if not show_counts:
        status.append("results show when the poll closes")
    return status


def _poll_buttons(t: rules.Tally, show_counts: bool) -> list[dict[str, Any]]:
    """Add an option (when members may), Show votes (named polls) and Close (open polls)."""
    poll = t.poll
    closed = poll.state == "closed"
    buttons = []
    if not closed and poll.members_add_options and len(t.options) < rules.MAX_OPTIONS:
        buttons.append(_button("Add an option", ADD_OPTION_ACTION, poll.id))
    if not poll.anonymous and show_counts:
        buttons.append(_button("Show votes", SHOW_VOTES_ACTION, poll.id))
    if not closed:
        close = _button("Close", CLOSE_ACTION, poll.id, style="danger")
        close["confirm"] = {
            "title": plain("Close this poll?", MAX_CONFIRM_TITLE),
            "text": plain(
                "It takes no more votes, its message freezes and the results are posted "
                "in its thread."
                + (" Only the counts are kept: who voted is forgotten." if poll.anonymous else ""),
                MAX_CONFIRM_TEXT,
            ),
            "confirm": plain("Close the poll", MAX_CONFIRM_BUTTON),
            "deny": plain("Keep it open", MAX_CONFIRM_BUTTON),
            "style": "danger",
        }
        buttons.append(close)
    return buttons


def _button(label: str, action_id: str, poll_id: int, style: str | None = None) -> dict[str, Any]:
    button = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label, MAX_OPTION_TEXT),
        "value": str(poll_id),
    }
    if style:
        button["style"] = style
    return button


# ---- what one person sees --------------------------------------------------------------------
def vote_answer(result: voting.VoteResult, labels: dict[int, str]) -> dict[str, Any]:
    """The voter's own confirmation (ephemeral, through the action's response_url)."""
    poll = result.poll
    chosen = [f"*{escape(labels[i])}*" for i in result.chosen if i in labels]
    if result.outcome == "closed":
        at = poll.closed_at or poll.closes_at
        text = (
            f"This poll closed {when(at)}: it takes no more votes or changes."
            if at
            else "This poll is closed."
        )
    elif result.outcome == "limit":
        text = (
            f"You can choose at most {poll.max_choices}: you chose {', '.join(chosen)}. "
            "Take one back first."
        )
    elif result.outcome == "not_chosen":
        text = "You had not chosen that; nothing changed."
    elif chosen:
        verb = "Your vote is in" if result.outcome != "withdrawn" else "Changed"
        text = f"{verb}: {', '.join(chosen)}. You can change it until the poll closes."
    else:
        text = "You have no vote in this poll now."
    blocks = [section(text)]
    if chosen and result.outcome != "closed":
        blocks.append(
            {
                "type": "actions",
                "block_id": f"poll-{poll.id}-mine",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{WITHDRAW_ACTION}-{i}",
                        "text": plain(f"Take back “{labels[i]}”", MAX_OPTION_TEXT),
                        "value": f"{poll.id}:{i}",
                    }
                    for i in result.chosen[:5]
                    if i in labels
                ],
            }
        )
    if poll.anonymous:
        blocks.append(
            context(
                "Only you see this. Until the poll closes your vote is kept under a keyed "
                "hash, never your name; at the close only the counts are kept."
            )
        )
    return {"response_type": "ephemeral", "replace_original": False, **message(text, blocks)}


def votes_list(t: rules.Tally) -> dict[str, Any]:
    """Who voted for what, for a named poll: one section per option, so no mention is
    ever cut in half by a length limit."""
    blocks = [section(f"Votes on *{escape(t.poll.question)}*:")]
    for option in t.options:
        voters = (t.by_option or {}).get(option.id, [])
        names = ", ".join(mention(u) for u in voters[:MAX_NAMES]) or "no one"
        if len(voters) > MAX_NAMES:
            names += f" and {len(voters) - MAX_NAMES} more (`copbot export polls` has all)"
        blocks.append(section(f"*{escape(option.label)}* ({len(voters)}): {names}"))
    text = f"Votes on {escape(t.poll.question)}"
    return {"response_type": "ephemeral", "replace_original": False, **message(text, blocks)}


def note(text: str) -> dict[str, Any]:
    return {
        "response_type": "ephemeral",
        "replace_original": False,
        **message(text, [section(text)]),
    }


def home_lines(polls: list[Any], names: dict[int, str]) -> list[str]:
    """App Home: the open polls of a person's communities (no voters, no counts)."""
    out = []
    for poll in polls:
        closes = f", closes {when(poll.closes_at)}" if poll.closes_at else ""
        out.append(
            f"• *{escape(poll.question)}* in {escape(names.get(poll.community_id, '?'))}{closes}"
        )
    return out
