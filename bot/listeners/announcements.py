"""Announcements: `/cop announce` (staff only), its form and preview, and the Edit,
Delete (or Cancel) and Retry buttons of staff's App Home. Posting every copy happens
after the ack (`bot.flows.announcements`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from bot.blocks import announcements as blocks
from bot.blocks.community import message_for
from bot.deps import Deps
from bot.flows import announcement_edits as flows
from bot.flows import announcements as announcement_flows
from bot.listeners.common import CommandRequest
from bot.listeners.guard import Interaction, in_direct_message, on_action, on_submission
from bot.listeners.routes import Routes
from bot.services import CopError, people
from bot.services import announcements as rules
from bot.services import communities as svc
from bot.services.ids import object_id
from bot.services.permissions import Action, Actor, can, who_can
from bot.slack_client import post_message
from storage.models import Announcement, Community

route = Routes()

REFUSED = f"Only {who_can(Action.ANNOUNCE)} can post announcements; nothing was posted."


def _staff(actor: Actor) -> None:
    if not can(actor, Action.ANNOUNCE):
        raise CopError(REFUSED)


def _choices(session, team_id: str) -> list[tuple[int, str]]:
    return [(c.id, c.name) for c in svc.all_by_name(session) if c.team_id == team_id]


def cmd_announce(req: CommandRequest) -> None:
    _staff(req.actor)
    if req.args:
        raise CopError("`/cop announce` opens the form; write the text there.")
    here = svc.by_channel(req.session, req.team_id, req.channel_id)
    view = blocks.announce_modal(
        _choices(req.session, req.team_id), picked=[here.id] if here else None
    )
    req.open_view(view)


# ---- the form and its preview ------------------------------------------------------------------
def _zone(session, user_id: str, deps: Deps) -> str:
    person = people.get(session, user_id)
    return (person.tz if person and person.tz else None) or deps.settings.timezone


def _form_ids(i: Interaction) -> tuple[int | None, datetime | None]:
    """(the announcement being edited, the send time) of the form; CopError when the
    form came back damaged."""
    try:
        meta = json.loads(i.view.get("private_metadata") or "{}")
        meta = meta if isinstance(meta, dict) else {}
        editing = None
        if meta.get("announcement"):
            editing = object_id(meta["announcement"])
            if editing is None:
                raise ValueError("not an announcement id")
        send_at = i.values().get(rules.SEND_AT)
        return editing, datetime.fromtimestamp(int(send_at), UTC) if send_at else None
    except (ValueError, TypeError, OverflowError):
        raise CopError("The form came back damaged.") from None


@route.view(blocks.CREATE_CALLBACK)
@on_submission(rules.TEXT)
def handle_create(i: Interaction) -> None:
    """The announcement form: a new draft is previewed; an edit is saved and the
    posted copies follow after the ack."""
    _staff(i.actor)
    editing, send_at = _form_ids(i)
    for attempt in (1, 2):  # two first submissions at once: one insert wins, then update
        try:
            return _save_form(i, editing, send_at)
        except IntegrityError:
            if attempt == 2:
                raise


def _save_form(i: Interaction, editing: int | None, send_at: datetime | None) -> None:
    """Store the form (a new draft, or an edit) and answer: the preview, or errors."""
    values, user_id = i.values(), i.user_id
    mention = values.get(rules.MENTION) or "none"
    mention = "" if mention == "none" else mention
    pin = "pin" in (values.get(rules.OPTIONS) or [])
    try:
        with i.unit_of_work() as session:
            if editing is not None and rules.TARGETS not in values and rules.AREA not in values:
                communities = _sent_to(session, editing)  # a sent one keeps its channels
            else:
                communities = rules.targets(
                    session, i.team_id, values.get(rules.TARGETS) or [], values.get(rules.AREA)
                )
            draft, errors = rules.validate(
                values.get(rules.TEXT) or "", communities, mention, pin, send_at, i.deps.clock.now()
            )
            if i.form_errors(errors):
                return
            if editing is not None:
                state = rules.edit(session, editing, draft, i.deps.clock.now())
            else:
                zone = _zone(session, user_id, i.deps)
                source = f"view:{i.view.get('id')}"
                announcement = rules.draft_from_form(
                    session, i.team_id, draft, user_id, zone, source
                )
                preview = blocks.preview_view(announcement, [c.name for c in communities])
    except CopError as e:  # on the communities chosen, where the form's choice went wrong
        i.ack(response_action="errors", errors={rules.TARGETS: str(e)})
        return
    if editing is None:
        i.ack(response_action="push", view=preview)
        return
    i.ack()
    i.home_after(flows.after_edit, i.client, i.deps, editing, user_id, state)


def _sent_to(session, announcement_id: int) -> list[Community]:
    return [session.get(Community, c.community_id) for c in rules.copies(session, announcement_id)]


def _preview_refused(i: Interaction, error: CopError) -> None:
    i.ack()
    in_direct_message(i, error)


@route.view(blocks.PREVIEW_CALLBACK)
@on_submission(_preview_refused)
def handle_preview(i: Interaction) -> None:
    """Send (or schedule) from the preview."""
    _staff(i.actor)
    try:
        announcement_id = int(json.loads(i.view.get("private_metadata") or "{}")["announcement"])
    except (ValueError, TypeError, KeyError):
        raise CopError("That form is not one copbot knows.") from None
    now = i.deps.clock.now()
    state = rules.confirm(i.session, announcement_id, now)
    send_at = rules.load(i.session, announcement_id).send_at
    i.ack(response_action="clear")
    if state == "sending":
        i.later(announcement_flows.send, i.client, i.deps, announcement_id, now)
    elif state == "scheduled":
        text = (
            f"Scheduled: it goes out {blocks.when(send_at)}. Change or cancel it from "
            "copbot's Home tab until then."
        )
        i.later(post_message, i.client, i.user_id, message_for(text))


# ---- App Home buttons --------------------------------------------------------------------------
def _announcement(i: Interaction) -> Announcement:
    """The button's announcement, if the person may manage it."""
    _staff(i.actor)
    announcement_id = object_id(i.value)
    if announcement_id is None:
        raise CopError("That button is not an announcement copbot knows.")
    return rules.load(i.session, announcement_id)


@route.action(blocks.EDIT_ACTION)
@on_action(refuse=in_direct_message)
def handle_edit(i: Interaction) -> None:
    """Edit: the form, filled in with the announcement and where it went."""
    announcement = _announcement(i)
    picked = [c.community_id for c in rules.copies(i.session, announcement.id)]
    i.open_view(blocks.announce_modal(_choices(i.session, i.team_id), announcement, picked))


@route.action(blocks.DELETE_ACTION)
@on_action(refuse=in_direct_message)
def handle_delete(i: Interaction) -> None:
    """Delete (or Cancel): the copies are deleted after the ack."""
    announcement = _announcement(i)
    state = rules.cancel_or_delete(i.session, announcement.id)
    i.home_after(flows.after_delete, i.client, i.deps, announcement.id, i.user_id, state)


@route.action(blocks.RETRY_ACTION)
@on_action(refuse=in_direct_message)
def handle_retry(i: Interaction) -> None:
    """Retry: the copies that failed, after the ack."""
    announcement = _announcement(i)
    i.home_after(announcement_flows.retry, i.client, i.deps, announcement.id)


register = route.register
