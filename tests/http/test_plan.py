"""The planning conversation through the signed endpoint, against the Slack stand-in:
open, answer each section, close midway, resume, review, publish twice, export."""

from __future__ import annotations

import json

import pytest

from bot.blocks import plan as pb
from bot.blocks.limits import check_view
from bot.services import plans
from bot.services.plan_export import to_markdown
from bot.services.planning_tool import SECTIONS, section
from sandbox import slack_payloads as payloads
from storage.db import session_scope
from storage.models import Community
from tests.helpers.communities import CHANNEL, create_community, people
from tests.helpers.endpoint import STAFF


@pytest.fixture
def leader(as_user, slack):
    people(slack, "U1", "U2")
    ana = as_user("U1")
    create_community(ana, mission="Better follow-up care.")
    ana.settle()
    ana.reply("leaders <@U1> <@U2>")
    ana.settle()
    slack.reset()
    return ana


def dump(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def answers_state(number: int, prefix: str = "Answer") -> dict:
    state = {}
    for q in section(number).questions:
        if q.kind == "areas":
            value = payloads.input_value("checkboxes", ["relationships", "practice"])
        else:
            value = payloads.input_value("plain_text_input", f"{prefix}: {q.key}")
        state[q.key] = {"value": value}
    return state


def submit_section(user, community_id: int, number: int, state: dict) -> dict:
    payload = payloads.view_submission_payload(
        pb.SECTION_CALLBACK,
        state,
        user_id=user.user_id,
        private_metadata=pb.metadata(community_id, number),
    )
    response = user.interact(payload)
    assert response.status_code == 200, response.text
    body = response.json() if response.content else {}
    if "view" in body:
        assert check_view(body["view"]) == []
    return body


def load_plan(engine):
    with session_scope(engine) as s:
        community = s.exec(__import__("sqlmodel").select(Community)).one()
        return plans.load(s, community)


def opened_view(slack, count=1):
    call = slack.wait_for("views.open", count=count)[count - 1]
    return call.json_arg("view")


def test_a_leader_walks_the_plan_closes_midway_resumes_and_publishes(leader, slack, engine):
    leader.command("plan")
    view = opened_view(slack)
    assert view["callback_id"] == pb.SECTION_CALLBACK
    text = dump(view)
    assert "Section 1 of 7 · Purpose" in text
    assert "0 of 7 sections complete" in text
    statement = next(b for b in view["blocks"] if b.get("block_id") == "purpose.statement")
    assert statement["element"]["initial_value"] == "Better follow-up care."
    community_id, number = pb.read_metadata(view)
    assert number == 1

    # Save & next through sections 1 and 2: each answer lands, the next section shows
    body = submit_section(leader, community_id, 1, answers_state(1))
    assert body["response_action"] == "update"
    assert "Section 2 of 7 · Membership" in dump(body["view"])
    assert "1 of 7 sections complete" in dump(body["view"])
    body = submit_section(leader, community_id, 2, answers_state(2))
    assert "Section 3 of 7 · Leadership" in dump(body["view"])

    # in section 3, type two answers and press Save & close
    partial = dict(list(answers_state(3).items())[:2])
    click = payloads.block_action_payload(
        pb.SAVE_CLOSE_ACTION, "3", user_id="U1", view=body["view"], state_values=partial
    )
    assert leader.interact(click).status_code == 200
    [update] = slack.wait_for("views.update")
    assert update.args["view_id"] == "V0000001" and update.args["hash"]
    saved = dump(update.json_arg("view"))
    assert "Saved *3. Leadership*" in saved and "2 of 7 sections complete" in saved
    plan = load_plan(engine)
    assert plan.answered_in(3) == 2

    # the co-leader resumes where it stopped
    co = leader.__class__(leader.endpoint, slack, "U2", CHANNEL)
    co.command("plan")
    view = opened_view(slack, 2)
    assert "Section 3 of 7 · Leadership" in dump(view)
    roles = next(b for b in view["blocks"] if b.get("block_id") == "leadership.roles")
    assert roles["element"]["initial_value"] == "Answer: leadership.roles"

    for n in range(3, 8):
        body = submit_section(co, community_id, n, answers_state(n, "Co"))
    assert body["response_action"] == "update"
    review = body["view"]
    assert review["callback_id"] == pb.REVIEW_CALLBACK
    assert "7 of 7 sections complete" in dump(review)
    plan = load_plan(engine)
    assert plan.answers["leadership.roles"].updated_by == "U2"
    assert plan.answers["purpose.interest"].updated_by == "U1"

    # publish from the review modal
    response = co.interact(
        payloads.view_submission_payload(
            pb.REVIEW_CALLBACK, {}, user_id="U2", private_metadata=review["private_metadata"]
        )
    )
    assert response.status_code == 200
    co.settle()
    posted = slack.calls_to("chat.postMessage")
    plan_posts = [c for c in posted if c.args["channel"] == CHANNEL]
    assert plan_posts and all(c.json_arg("blocks") for c in plan_posts)
    headers = [
        b["text"]["text"] for c in plan_posts for b in c.json_arg("blocks") if b["type"] == "header"
    ]
    assert [h for h in headers if h[0].isdigit()] == [f"{s.number}. {s.title}" for s in SECTIONS]
    assert any(c.args["channel"] == "U2" and "Published the plan" in c.args["text"] for c in posted)

    first_ts = load_plan(engine).published_ts
    assert len(first_ts) == len(plan_posts)

    # publishing again updates the same messages instead of posting new ones
    slack.reset()
    leader.reply("plan publish")
    leader.settle()
    updates = slack.calls_to("chat.update")
    assert [c.args["ts"] for c in updates] == list(first_ts)
    assert [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL] == []
    [said] = slack.wait_for("response_url")
    assert said.args["text"].startswith("Updated the plan posted in <#CCOMM001>")


def test_back_saves_and_goes_to_the_previous_section(leader, slack, engine):
    leader.command("plan 4")
    view = opened_view(slack)
    assert "Section 4 of 7 · Norms" in dump(view)
    community_id, _ = pb.read_metadata(view)
    state = {"norms.voice": {"value": payloads.input_value("plain_text_input", "Rotate roles")}}
    leader.interact(
        payloads.block_action_payload(
            pb.BACK_ACTION, "4", user_id="U1", view=view, state_values=state
        )
    )
    [update] = slack.wait_for("views.update")
    assert "Section 3 of 7 · Leadership" in dump(update.json_arg("view"))
    assert load_plan(engine).answer("norms.voice") == "Rotate roles"


def test_an_over_long_answer_is_an_error_on_its_field_and_the_rest_is_saved(leader, slack, engine):
    community_id = load_plan(engine).community.id
    state = answers_state(2)
    state["membership.size"] = {"value": payloads.input_value("plain_text_input", "x" * 3001)}
    body = submit_section(leader, community_id, 2, state)
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == ["membership.size"]
    plan = load_plan(engine)
    assert plan.answered_in(2) == 4 and plan.answer("membership.size") == ""


def test_plan_section_numbers_out_of_range(leader, slack):
    body = leader.reply("plan 9")
    assert "sections 1 to 7" in body["text"]
    assert slack.calls_to("views.open") == []
    assert "I don't know `/cop plan dance`" in leader.reply("plan dance")["text"]


def test_a_member_sees_the_plan_read_only_and_who_the_leaders_are(leader, as_user, slack, engine):
    community_id = load_plan(engine).community.id
    submit_section(leader, community_id, 1, answers_state(1))
    bob = as_user("U5")
    bob.reply("join")
    body = bob.reply("plan")
    assert "Only leaders and staff can edit it; ask <@U1> and <@U2>" in body["text"]
    assert "Answer: purpose.interest" in dump(body["blocks"])
    assert slack.calls_to("views.open") == []
    assert "Only the community's leaders and staff can publish" in bob.reply("plan publish")["text"]
    # and a forged submission from a member changes nothing
    body = submit_section(bob, community_id, 2, answers_state(2, "Forged"))
    assert body["response_action"] == "update"
    assert "Only the community's leaders and staff can edit this plan" in dump(body["view"])
    assert load_plan(engine).answered_in(2) == 0


def test_staff_can_edit_any_plan(leader, as_user, slack):
    as_user(STAFF).command("plan 2")
    assert "Section 2 of 7" in dump(opened_view(slack))


def test_plan_in_a_channel_without_a_community(as_user):
    body = as_user("U1").reply("plan", channel_id="CEMPTY01")
    assert "no community yet" in body["text"] and "/cop new" in body["text"]


def test_show_has_progress_and_every_section(leader, engine):
    community_id = load_plan(engine).community.id
    submit_section(leader, community_id, 5, answers_state(5))
    body = leader.reply("plan show")
    assert "1 of 7 sections complete" in dump(body["blocks"])
    text = dump(body["blocks"])
    for s in SECTIONS:
        assert f"{s.number}. {s.title}" in text
    assert "_Not answered yet._" in text


def test_long_answers_publish_as_several_messages_within_limits(leader, slack, engine):
    community_id = load_plan(engine).community.id
    for n in range(1, 8):
        state = {}
        for q in section(n).questions:
            if q.kind == "areas":
                state[q.key] = {"value": payloads.input_value("checkboxes", ["projects"])}
            else:
                state[q.key] = {"value": payloads.input_value("plain_text_input", "w " * 1500)}
        submit_section(leader, community_id, n, state)
    leader.reply("plan publish")
    leader.settle()
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert len(posts) > 1
    assert all("(part " in c.args["text"] for c in posts)
    # the stand-in holds each against Block Kit's limits; the slack fixture asserts none broke


def test_export_sends_the_markdown_as_a_file(leader, slack, engine):
    community_id = load_plan(engine).community.id
    submit_section(leader, community_id, 1, answers_state(1))
    body = leader.reply("plan export")
    assert "Markdown file" in body["text"]
    leader.settle()
    [opened] = slack.calls_to("conversations.open")
    assert opened.args["users"] == "U1"
    [complete] = slack.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "D1"
    [asked] = slack.calls_to("files.getUploadURLExternal")
    assert asked.args["filename"] == "early-career-oncologists-plan.md"
    file_id = json.loads(complete.args["files"])[0]["id"]
    assert slack.uploaded(file_id) == to_markdown(load_plan(engine))


def test_publish_into_a_channel_the_bot_is_not_in(leader, slack):
    slack.fail("chat.postMessage", "not_in_channel")
    leader.reply("plan publish")
    leader.settle()
    [said] = slack.wait_for("response_url")
    assert "not_in_channel" in said.args["text"] and "/invite @copbot" in said.args["text"]


# ---- two leaders at once -------------------------------------------------------------------
def test_two_leaders_answering_the_same_section_at_once_both_keep_their_answers(
    leader, as_user, slack, engine
):
    community_id = load_plan(engine).community.id
    questions = section(4).questions
    submit_section(leader, community_id, 4, answers_state(4, "Old"))
    co = as_user("U2")
    leader.command("plan 4")
    co.command("plan 4")
    first, second = (c.json_arg("view") for c in slack.wait_for("views.open", count=2))

    def state(own: int, new: str) -> dict:
        # each modal sends every input as shown; this leader changed only question `own`
        return {
            q.key: {
                "value": payloads.input_value(
                    "plain_text_input", new if i == own else f"Old: {q.key}"
                )
            }
            for i, q in enumerate(questions)
        }

    def submit(user, view, own, new):
        payload = payloads.view_submission_payload(
            pb.SECTION_CALLBACK,
            state(own, new),
            user_id=user.user_id,
            private_metadata=view["private_metadata"],
        )
        return user.interact(payload).json()

    # both modals were open at once: Ben saves first, then Ana's modal (still showing the
    # old text of Ben's question) is saved
    assert submit(co, second, 1, "Ben's answer")["response_action"] == "update"
    assert submit(leader, first, 0, "Ana's answer")["response_action"] == "update"
    plan = load_plan(engine)
    # Ana's save did not put back the old text of Ben's answer
    assert plan.answer(questions[0].key) == "Ana's answer"
    assert plan.answer(questions[1].key) == "Ben's answer"
    assert plan.answers[questions[1].key].updated_by == "U2"
    assert plan.answer(questions[2].key) == f"Old: {questions[2].key}"
    assert plan.answers[questions[2].key].updated_by == "U1"


def test_two_leaders_publishing_at_once_post_the_plan_once(leader, as_user, slack, engine):
    import threading

    community_id = load_plan(engine).community.id
    submit_section(leader, community_id, 1, answers_state(1))
    co = as_user("U2")
    barrier = threading.Barrier(2)
    said = {}

    def publish(user):
        barrier.wait()
        said[user.user_id] = user.reply("plan publish")["text"]

    threads = [threading.Thread(target=publish, args=(u,)) for u in (leader, co)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    leader.settle()
    # one claims the publication; the other is told it is under way or, when the first
    # had already finished, updates the same messages: never a second copy
    assert all("Publishing" in t or "is being published" in t for t in said.values()), said
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert len(posts) == len(load_plan(engine).published_ts) >= 1
    # once it is done, publishing again is allowed (and updates the same messages)
    slack.reset()
    assert "Publishing" in leader.reply("plan publish")["text"]
    leader.settle()
    assert len(slack.calls_to("chat.update")) == len(posts)


# ---- the longest plan within Slack's limits --------------------------------------------------
def fill_every_answer(leader, engine, text: str) -> int:
    community_id = load_plan(engine).community.id
    for n in range(1, 8):
        state = {}
        for q in section(n).questions:
            if q.kind == "areas":
                value = payloads.input_value("checkboxes", ["projects", "knowledge"])
            else:
                value = payloads.input_value("plain_text_input", text)
            state[q.key] = {"value": value}
        assert submit_section(leader, community_id, n, state)["response_action"] == "update"
    return community_id


def test_the_longest_plan_publishes_in_seven_messages_within_limits(leader, slack, engine):
    from bot.services.planning_tool import MAX_ANSWER_LENGTH

    fill_every_answer(leader, engine, ("word " * MAX_ANSWER_LENGTH)[:MAX_ANSWER_LENGTH])
    leader.reply("plan publish")
    leader.settle()
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    # 27 answers of 3,000 characters (and the areas) are about 83,000 characters of text:
    # seven messages of at most 12,000
    assert len(posts) == 7
    for i, call in enumerate(posts, start=1):
        blocks = call.json_arg("blocks")
        assert len(blocks) <= 50
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
        assert sum(len(b.get("text", {}).get("text", "")) for b in blocks) <= pb.MESSAGE_TEXT_BUDGET
        assert f"(part {i} of 7)" in call.args["text"]
    # every word is there, in order
    published = "".join(
        b["text"]["text"] for c in posts for b in c.json_arg("blocks") if b["type"] == "section"
    )
    assert published.count("word") == 27 * (MAX_ANSWER_LENGTH // 5)
    [told] = slack.wait_for("response_url")
    assert "(7 messages)" in told.args["text"]


def test_plan_show_of_the_longest_plan_uses_the_response_url_at_most_four_times(
    leader, as_user, slack, engine
):
    from bot.services.planning_tool import MAX_ANSWER_LENGTH

    fill_every_answer(leader, engine, "&<>" * (MAX_ANSWER_LENGTH // 3))
    slack.reset()
    body = leader.reply("plan show")
    leader.settle()
    follow_ups = slack.calls_to("response_url")
    assert 1 <= len(follow_ups) <= 4  # with the ack, five messages at most
    shown = [body, *(c.args for c in follow_ups)]
    text = dump([m["blocks"] for m in shown])
    assert "shortened here; `/cop plan export` has them in full" in text
    for s in SECTIONS:
        assert f"{s.number}. {s.title}" in text
    for message in shown:
        assert len(message["blocks"]) <= 50
        size = sum(len(b.get("text", {}).get("text", "")) for b in message["blocks"])
        assert size <= pb.MESSAGE_TEXT_BUDGET
    # a member's read-only view opens with who to ask, within the same limits
    slack.reset()
    body = as_user("U5").reply("plan")
    leader.settle()
    follow_ups = slack.calls_to("response_url")
    assert 1 <= len(follow_ups) <= 4
    assert "Only leaders and staff can edit it" in body["blocks"][0]["text"]["text"]
    for message in [body, *(c.args for c in follow_ups)]:
        size = sum(len(b.get("text", {}).get("text", "")) for b in message["blocks"])
        assert size <= pb.MESSAGE_TEXT_BUDGET and len(message["blocks"]) <= 50


# ---- forged or stale modals ------------------------------------------------------------------
@pytest.mark.parametrize(
    "metadata",
    [
        "",
        "not json",
        "[]",
        '{"community": "1", "section": 1}',
        '{"community": 1, "section": 99}',
        '{"community": 1, "section": 2, "shown": "x"}',
    ],
)
def test_a_malformed_plan_form_gets_a_clear_message_not_a_500(leader, engine, metadata):
    response = leader.interact(
        payloads.view_submission_payload(
            pb.SECTION_CALLBACK, answers_state(2), user_id="U1", private_metadata=metadata
        )
    )
    assert response.status_code == 200
    assert "not one I can read" in dump(response.json()["view"])
    assert load_plan(engine).answered_in(2) == 0
    response = leader.interact(
        payloads.view_submission_payload(
            pb.REVIEW_CALLBACK, {}, user_id="U1", private_metadata=metadata
        )
    )
    assert response.status_code == 200 and "not one I can read" in dump(response.json())


def test_a_malformed_plan_button_gets_a_clear_message(leader, slack, engine):
    view = {"type": "modal", "callback_id": pb.SECTION_CALLBACK, "private_metadata": "{oops"}
    click = payloads.block_action_payload(
        pb.SAVE_CLOSE_ACTION, "3", user_id="U1", view=view, state_values=answers_state(3)
    )
    assert leader.interact(click).status_code == 200
    [update] = slack.wait_for("views.update")
    assert "not one I can read" in dump(update.json_arg("view"))
    assert load_plan(engine).answered_in(3) == 0


def test_a_leader_cannot_write_another_communitys_plan_by_forging_its_id(
    leader, as_user, slack, engine
):
    from tests.helpers.communities import people

    people(slack, "U5")
    mallory = as_user("U5", "CMALLORY")
    create_community(mallory, name="Mallory's", channel="CMALLORY")
    victim = load_plan(engine).community.id if False else None
    with session_scope(engine) as s:
        ids = {c.slack_channel_id: c.id for c in s.exec(__import__("sqlmodel").select(Community))}
    victim = ids[CHANNEL]
    body = submit_section(mallory, victim, 2, answers_state(2, "Forged"))
    assert body["response_action"] == "update"
    assert "Only the community's leaders and staff can edit this plan" in dump(body["view"])
    with session_scope(engine) as s:
        assert plans.load(s, s.get(Community, victim)).answered_in(2) == 0
    response = mallory.interact(
        payloads.view_submission_payload(
            pb.REVIEW_CALLBACK, {}, user_id="U5", private_metadata=pb.metadata(victim, 7)
        )
    )
    assert "Only the community's leaders and staff" in dump(response.json())
    mallory.settle()
    assert [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL] == []


# ---- answers never act -----------------------------------------------------------------------
def test_hostile_answers_are_published_and_shown_as_typed(leader, slack, engine):
    from tests.helpers.slack import HOSTILE, assert_inert

    fill_every_answer(leader, engine, HOSTILE)
    slack.reset()
    assert_inert(leader.reply("plan show"))
    leader.reply("plan publish")
    leader.settle()
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert posts
    for call in posts:
        assert_inert({"text": call.args["text"], "blocks": call.json_arg("blocks")})
    assert "&lt;!channel&gt;" in dump(posts[0].json_arg("blocks"))


def test_a_hostile_community_name_stays_inert_in_every_plan_message(as_user, slack, engine):
    from tests.helpers.communities import people
    from tests.helpers.slack import HOSTILE, assert_inert

    people(slack, "U1")
    ana = as_user("U1")
    create_community(ana, name=HOSTILE, mission=HOSTILE)
    ana.settle()
    slack.reset()
    assert_inert(ana.reply("plan show"))
    assert_inert(as_user("U5").reply("plan"))  # a non-member's read-only view
    assert_inert(as_user("U5").reply("plan publish"))
    ana.reply("plan publish")
    ana.reply("plan export")
    ana.settle()
    for call in slack.calls_to("chat.postMessage"):
        assert_inert({"text": call.args["text"], "blocks": call.json_arg("blocks")})
    for call in slack.calls_to("response_url"):
        assert_inert(call.args)
    [upload] = slack.calls_to("files.completeUploadExternal")
    assert_inert({"text": upload.args["initial_comment"]})
