"""Block Kit for polls: the modal, the channel message with its vote buttons and bars,
the results in the thread, and the answers a voter sees. No I/O.

What people typed (question, options) is escaped everywhere it lands in mrkdwn or the
fallback text. No voter's id is shown for an anonymous poll; named polls list voters only
through "Show votes".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.blocks import (
    clip,
    context,
    divider,
    escape,
    input_block,
    mention,
    message,
    plain,
    plural,
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


def _bar(count: int, total: int) -> str:
    filled = round(BAR_WIDTH * count / total) if total else 0
    return "█" * filled + "░" * (BAR_WIDTH - filled)


# ---- the modal -------------------------------------------------------------------------------
def poll_modal(community_id: int | None, choices: list[tuple[int, str]] | None) -> dict[str, Any]:
    """The form. `choices` (staff only) lists the communities the poll may go to."""
    blocks: list[dict[str, Any]] = []
    if choices:
        options = [{"text": plain(name, 75), "value": str(cid)} for cid, name in choices[:100]]
        element: dict[str, Any] = {
            "type": "multi_static_select",
            "options": options,
            "placeholder": plain("Communities"),
        }
        initial = [o for o in options if o["value"] == str(community_id)]
        if initial:
            element["initial_options"] = initial
        blocks.append(
            input_block(
                rules.TARGETS,
                "Ask in",
                element,
                hint="One poll per channel; the results show per community and in total.",
            )
        )
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
        input_block(
            rules.CHOICE,
            "Answers",
            {
                "type": "radio_buttons",
                "options": [
                    {"text": plain("One choice"), "value": "single"},
                    {"text": plain("Several choices"), "value": "multiple"},
                ],
                "initial_option": {"text": plain("One choice"), "value": "single"},
            },
        ),
        input_block(
            rules.LIMIT,
            "At most this many choices (several choices only)",
            {"type": "number_input", "is_decimal_allowed": False, "min_value": "1"},
            optional=True,
        ),
        input_block(
            rules.SETTINGS,
            "Settings",
            {
                "type": "checkboxes",
                "options": [
                    {
                        "text": plain("Anonymous: no one can see who voted for what"),
                        "value": "anonymous",
                    },
                    {"text": plain("Hide the results until the poll closes"), "value": "hidden"},
                    {"text": plain("Let members add options"), "value": "add"},
                ],
                "initial_options": [
                    {
                        "text": plain("Anonymous: no one can see who voted for what"),
                        "value": "anonymous",
                    }
                ],
            },
            optional=True,
        ),
        input_block(
            rules.CLOSES,
            "Closes at (your time zone)",
            {"type": "datetimepicker"},
            optional=True,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": CREATE_CALLBACK,
        "private_metadata": json.dumps({"community": community_id}),
        "title": plain("Ask a poll", 24),
        "submit": plain("Post", 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


def add_option_modal(poll_id: int, question: str, tag: str = "") -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ADD_OPTION_CALLBACK,
        "private_metadata": json.dumps({"poll": poll_id, "tag": tag}),
        "title": plain("Add an option", 24),
        "submit": plain("Add", 24),
        "blocks": [
            section(f"*{escape(question)}*"),
            input_block(
                ADD_OPTION,
                "Your option",
                {"type": "plain_text_input", "max_length": rules.MAX_OPTION},
            ),
        ],
    }


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
        count = t.counts.get(option.id, 0)
        text = f"*{escape(option.label)}*"
        if show_counts:
            share = f"{round(100 * count / total)}%" if total else "0%"
            text += f"\n`{_bar(count, total)}` {count} ({share})"
        block: dict[str, Any] = section(
            clip(text, 2900), block_id=f"poll-{poll.id}-opt-{option.id}"
        )
        if not closed:
            block["accessory"] = {
                "type": "button",
                "action_id": VOTE_ACTION,
                "text": plain("Vote", 75),
                "value": f"{poll.id}:{option.id}",
            }
        blocks.append(block)
    status = [plural(t.voters, "voter")]
    if closed and poll.closed_at:
        status.append(f"closed {when(poll.closed_at)}")
    elif poll.closes_at:
        status.append(f"closes {when(poll.closes_at)}")
    if not show_counts:
        status.append("results show when the poll closes")
    blocks.append(context(" · ".join(status)))
    if poll.anonymous:
        blocks.append(context(ANONYMITY_CLOSED if closed else ANONYMITY_NOTE))
    buttons = []
    if not closed and poll.members_add_options and len(t.options) < rules.MAX_OPTIONS:
        buttons.append(_button("Add an option", ADD_OPTION_ACTION, poll.id))
    if not poll.anonymous and show_counts:
        buttons.append(_button("Show votes", SHOW_VOTES_ACTION, poll.id))
    if not closed:
        close = _button("Close", CLOSE_ACTION, poll.id, style="danger")
        close["confirm"] = {
            "title": plain("Close this poll?", 100),
            "text": plain(
                "It takes no more votes, its message freezes and the results are posted "
                "in its thread."
                + (" Only the counts are kept: who voted is forgotten." if poll.anonymous else ""),
                300,
            ),
            "confirm": plain("Close the poll", 30),
            "deny": plain("Keep it open", 30),
            "style": "danger",
        }
        buttons.append(close)
    if buttons:
        blocks.append(
            {"type": "actions", "block_id": f"poll-{poll.id}-actions", "elements": buttons}
        )
    state = "closed poll" if closed else "Poll"
    fallback = f"{state} by {mention(poll.created_by)}: {question} ({plural(t.voters, 'voter')})"
    return message(clip(fallback, 3000), blocks)


def _button(label: str, action_id: str, poll_id: int, style: str | None = None) -> dict[str, Any]:
    button = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label, 75),
        "value": str(poll_id),
    }
    if style:
        button["style"] = style
    return button


def _tally_lines(t: rules.Tally) -> list[str]:
    total = sum(t.counts.values())
    ranked = sorted(t.options, key=lambda o: (-t.counts.get(o.id, 0), o.position))
    lines = []
    for option in ranked:
        count = t.counts.get(option.id, 0)
        share = f"{round(100 * count / total)}%" if total else "0%"
        lines.append(f"`{_bar(count, total)}` *{escape(option.label)}*: {count} ({share})")
    return lines


def _total_section(tallies: list[rules.Tally]) -> dict[str, Any]:
    """The total of a poll asked in several communities (every one of them closed)."""
    totals: dict[str, int] = {}
    for t in tallies:
        for option in t.options:
            totals[option.label] = totals.get(option.label, 0) + t.counts.get(option.id, 0)
    voters = sum(t.voters for t in tallies)
    all_votes = sum(totals.values())
    lines = [
        f"`{_bar(n, all_votes)}` *{escape(label)}*: {n}"
        for label, n in sorted(totals.items(), key=lambda kv: -kv[1])
    ]
    return section(clip(f"*In total* ({plural(voters, 'voter')}):\n" + "\n".join(lines), 2900))


def results_message(
    tallies: list[rules.Tally], this: rules.Tally, *, with_total: bool = False
) -> dict[str, Any]:
    """Posted in the poll's thread when it closes: its results, and for a poll asked in
    several communities, each closed community's voters (an open one's figures stay
    unseen, hidden results or not) and, `with_total`, the total of all of them."""
    question = escape(this.poll.question)
    blocks = [
        section(f":checkered_flag: *The poll closed.* {question}"),
        section("\n".join(_tally_lines(this)) + f"\n{plural(this.voters, 'voter')}"),
    ]
    if len(tallies) > 1:
        per = [
            f"*{escape(t.community.name)}*: "
            + (plural(t.voters, "voter") if t.poll.state == "closed" else "still open")
            for t in tallies[:20]
        ]
        if len(tallies) > 20:
            per.append(f"and {len(tallies) - 20} more")
        blocks.append(divider())
        blocks.append(
            section(
                f"Asked in {plural(len(tallies), 'community', 'communities')}:\n" + "\n".join(per)
            )
        )
        if with_total:
            blocks.append(_total_section(tallies))
        elif any(t.poll.state != "closed" for t in tallies):
            blocks.append(
                context("The total of all of them comes in this thread once each has closed.")
            )
    text = f"The poll closed: {question} ({plural(this.voters, 'voter')})"
    return message(clip(text, 3000), blocks)


def total_message(tallies: list[rules.Tally]) -> dict[str, Any]:
    """Posted in the thread of each poll of a group that closed before the last one."""
    question = escape(tallies[0].poll.question)
    head = f":checkered_flag: *All {len(tallies)} communities have closed* {question}"
    text = f"All {len(tallies)} communities have closed: {question}"
    return message(clip(text, 3000), [section(clip(head, 2900)), _total_section(tallies)])


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
                        "text": plain(clip(f"Take back “{labels[i]}”", 75), 75),
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
