"""The listeners' one guard (`bot.listeners.guard`) and the check it stands on
(`bot.services.access`): Bolt hands copbot's `Deps` to a guarded listener by name; an id
is checked in its own object's community; a refusal rolls the unit of work back, drops
what was queued and answers on the listener's surface; what is queued runs only after
the commit."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from slack_bolt.kwargs_injection import build_required_kwargs
from slack_bolt.request import BoltRequest
from slack_bolt.util.utils import get_arg_names_of_callable
from sqlmodel import Session, func, select

from bot.listeners import calls, guard
from bot.listeners.guard import Interaction, on_action, on_submission
from bot.services import CopError, access
from bot.services import evidence as evidence_log
from bot.services.permissions import Action
from storage.models import Evidence, HandledEvent
from tests.helpers.records import new_community


class Ack:
    """Bolt's ack, recorded: the answer is the last call's (as in Bolt)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def click(user: str | None = "U1", value: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "trigger_id": "1.2.trigger",
        "response_url": "",
        "actions": [{"action_id": "a", "value": value, "action_ts": "1.5"}],
    }
    if user:
        body["user"] = {"id": user}
    return body


def evidence_count(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Evidence)).one()


@pytest.fixture
def two_communities(session):
    """Community A (led by U1, channel C1) and B (led by U2, channel C2), a note in B."""
    a = new_community(session, name="A", channel="C1", leader="U1")
    b = new_community(session, name="B", channel="C2", leader="U2")
    note = evidence_log.add_note(session, b.id, "B's note", "U2")
    session.commit()
    return a, b, note


# ---- Bolt's injection ----------------------------------------------------------------------
def test_bolt_passes_the_deps_in_the_context_to_a_guarded_listener_by_name(deps):
    listener = calls.handle_retry
    names = get_arg_names_of_callable(listener)
    assert names == ["ack", "body", "client", "deps", "context"]  # the wrapper's own
    request = BoltRequest(body=click(), mode="socket_mode")
    request.context["deps"] = deps
    kwargs = build_required_kwargs(
        logger=logging.getLogger("test"),
        required_arg_names=names,
        request=request,
        response=None,
        this_func=listener,
        next_keys_required=False,
    )
    assert kwargs["deps"] is deps
    assert listener.__name__ == "handle_retry" and listener.__doc__.startswith("Retry")


# ---- the check: every id in its own community ----------------------------------------------
def test_an_id_is_checked_against_its_own_objects_community(deps, two_communities):
    a, b, note = two_communities
    with Session(deps.engine) as s:
        # U1 leads A, and the request may come from A's channel: B's note is still B's
        with pytest.raises(CopError) as refused:
            access.allowed(
                s,
                deps.actor("U1"),
                Evidence,
                str(note.id),
                Action.MANAGE_EVIDENCE,
                "remove evidence",
                missing="gone",
            )
        assert str(refused.value).startswith("Only ") and "remove evidence" in str(refused.value)
        row, community = access.allowed(
            s,
            deps.actor("U2"),
            Evidence,
            str(note.id),
            Action.MANAGE_EVIDENCE,
            "remove evidence",
            missing="gone",
        )
    assert (row.id, community.id) == (note.id, b.id)


@pytest.mark.parametrize("raw", ["", "abc", "-1", "0", "1.5", str(2**70), None, "{}"])
def test_a_malformed_id_gets_its_own_message_and_a_missing_one_another(deps, session, raw):
    with pytest.raises(CopError, match="^not an id$"):
        access.load(session, Evidence, raw, missing="gone", malformed="not an id")
    with pytest.raises(CopError, match="^gone$"):
        access.load(session, Evidence, raw, missing="gone")
    with pytest.raises(CopError, match="^gone$"):
        access.load(session, Evidence, "99999", missing="gone", malformed="not an id")


def test_the_refusal_names_who_may_or_says_what_it_was_given(deps, two_communities):
    _, b, _ = two_communities
    with Session(deps.engine) as s:
        with pytest.raises(CopError, match="^Nope.$"):
            access.community_allowing(s, deps.actor("U1"), b.id, Action.EDIT_PLAN, refusal="Nope.")
        with pytest.raises(CopError, match="^This community no longer exists.$"):
            access.community_allowing(s, deps.actor("U2"), 999999, Action.EDIT_PLAN, "x")
        assert access.community_allowing(s, deps.actor("U2"), b.id, Action.EDIT_PLAN).id == b.id


# ---- the guard: one unit of work, refusals in one place -----------------------------------
def test_a_refusal_rolls_back_drops_the_queued_work_and_answers_on_its_surface(
    deps, two_communities
):
    a, _, _ = two_communities
    ran: list[str] = []
    refused: list[str] = []

    @on_action(refuse=lambda i, e: refused.append(str(e)))
    def listener(i: Interaction) -> None:
        evidence_log.add_note(i.session, a.id, "written, then refused", i.user_id)
        i.session.flush()
        i.later(ran.append, "queued")
        i.open_view({"type": "modal"})
        raise CopError("No, and nothing changed.")

    ack = Ack()
    before = evidence_count(deps.engine)
    listener(ack, click(), None, deps, {})
    assert deps.background.wait_idle(5) and deps.views.wait_idle(5)
    assert ack.calls == [{}]  # a click is acked at once, whatever follows
    assert refused == ["No, and nothing changed."]
    assert ran == []
    assert evidence_count(deps.engine) == before == 1


def test_queued_work_runs_after_the_commit_and_sees_it(deps, two_communities):
    a, _, _ = two_communities
    seen: list[int] = []
    started = threading.Event()

    @on_action
    def listener(i: Interaction) -> None:
        evidence_log.add_note(i.session, a.id, "kept", i.user_id)
        i.later(lambda: (started.set(), seen.append(evidence_count(deps.engine))))

    listener(Ack(), click(), None, deps, {})
    assert started.wait(5) and deps.background.wait_idle(5)
    assert seen == [2]


def test_a_form_refusal_goes_on_the_field_named(deps, session):
    @on_submission("topic")
    def listener(i: Interaction) -> None:
        i.ack()  # an answer given before the refusal is replaced by it
        raise CopError("Give it a topic.")

    ack = Ack()
    body = {"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1"}}
    listener(ack, body, None, deps, {})
    assert ack.calls[-1] == {"response_action": "errors", "errors": {"topic": "Give it a topic."}}


def test_a_duplicate_is_answered_by_the_conflict_handler_after_the_rollback(deps, session):
    session.add(HandledEvent(event_id="E1"))
    session.commit()
    answered: list[str] = []

    def conflict(i: Interaction, error: Exception) -> None:
        answered.append(type(error).__name__)
        i.ack()

    @on_submission("x", conflict=conflict)
    def listener(i: Interaction) -> None:
        i.session.add(HandledEvent(event_id="E1"))

    listener(Ack(), {"user": {"id": "U1"}, "view": {}}, None, deps, {})
    assert answered == ["IntegrityError"]

    @on_submission("x")
    def unguarded(i: Interaction) -> None:
        i.session.add(HandledEvent(event_id="E1"))

    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        unguarded(Ack(), {"user": {"id": "U1"}, "view": {}}, None, deps, {})


def test_a_payload_that_names_no_one_is_refused_before_the_listener_runs(deps, session):
    ran: list[bool] = []
    refused: list[str] = []

    @on_action(refuse=lambda i, e: refused.append(str(e)))
    def listener(i: Interaction) -> None:
        ran.append(True)

    listener(Ack(), click(user=None), None, deps, {})
    assert ran == [] and refused == [guard.NO_ONE]
    listener(Ack(), click(), None, deps, {})
    assert ran == [True]
