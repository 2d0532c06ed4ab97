"""`/cop edit` through the signed endpoint: the pre-filled modal, who may edit, name rules,
the channel told what changed, replays."""

from __future__ import annotations

import json

from bot.blocks import community as cb
from bot.blocks import profile as pb
from sandbox import slack_payloads as payloads
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import Community
from tests.helpers.endpoint import STAFF
from tests.helpers.records import new_community
from tests.helpers.slack import ack_text

CHANNEL = "CCOMM001"


def make(engine, **kw) -> int:
    with session_scope(engine) as s:
        values = dict(name="Survivorship", channel=CHANNEL, leader="U1", team=TEAM_ID)
        values.update(kw)
        return new_community(s, **values).id


def edit_state(name="Survivorship", mission="", description="", areas=()):
    state = {
        cb.NAME: {"value": payloads.input_value("plain_text_input", name)},
        cb.MISSION: {"value": payloads.input_value("plain_text_input", mission)},
        cb.DESCRIPTION: {"value": payloads.input_value("plain_text_input", description)},
        cb.AREAS: {"value": payloads.input_value("checkboxes", list(areas))},
    }
    return state


def submit(user, community_id, **kw):
    response = user.interact(
        payloads.view_submission_payload(
            pb.EDIT_CALLBACK,
            edit_state(**kw),
            user_id=user.user_id,
            private_metadata=json.dumps({"community": community_id}),
        )
    )
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def stored(engine, community_id):
    with session_scope(engine) as s:
        return s.get(Community, community_id)


def test_edit_opens_modal_prefilled_with_todays_values(as_user, engine, slack):
    cid = make(engine, mission="Better care.", areas=("practice",))
    as_user("U1").command("edit")
    [call] = slack.wait_for("views.open")
    view = call.json_arg("view")
    assert view["callback_id"] == pb.EDIT_CALLBACK
    assert json.loads(view["private_metadata"]) == {"community": cid}
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks[cb.NAME]["element"]["initial_value"] == "Survivorship"
    assert blocks[cb.MISSION]["element"]["initial_value"] == "Better care."
    assert "initial_value" not in blocks[cb.DESCRIPTION]["element"]
    assert [o["value"] for o in blocks[cb.AREAS]["element"]["initial_options"]] == ["practice"]


def test_members_and_outsiders_may_not_edit(as_user, engine, slack):
    make(engine)
    as_user("U1").reply("leaders <@U1>")
    as_user("U2").reply("join")
    for user in ("U2", "U3"):
        body = as_user(user).reply("edit")
        assert "Only the community's leaders and staff can edit the profile" in body["text"]
    assert slack.calls_to("views.open") == []


def test_staff_may_edit_and_forged_submission_by_member_is_refused(as_user, engine, slack):
    cid = make(engine)
    as_user(STAFF).command("edit")
    slack.wait_for("views.open")
    body = submit(as_user("U9"), cid, name="Hijacked")
    assert body["response_action"] == "errors"
    assert "Only the community's leaders and staff" in body["errors"][cb.NAME]
    assert stored(engine, cid).name == "Survivorship"


def test_save_normalises_name_and_tells_the_channel_what_changed(as_user, engine, slack):
    cid = make(engine, mission="Old mission")
    ana = as_user("U1")
    body = submit(
        ana,
        cid,
        name="  Cancer   <Survivorship>  ",
        mission="Old mission",
        description="We meet & learn",
        areas=("knowledge", "relationships"),
    )
    assert body == {}
    c = stored(engine, cid)
    assert c.name == "Cancer <Survivorship>"
    assert c.name_key == "cancer <survivorship>"
    assert c.description == "We meet & learn"
    assert c.purpose_areas == "relationships,knowledge"
    ana.settle()
    [post] = slack.wait_for("chat.postMessage", where=lambda x: x.args["channel"] == CHANNEL)
    text = ack_text({"text": post.args["text"], "blocks": post.json_arg("blocks")})
    assert (
        "updated the name, description and purpose areas of Cancer &lt;Survivorship&gt;"
        in (post.args["text"])
    )
    assert "(was Survivorship)" in text
    assert "We meet &amp; learn" in text
    assert "mission" not in post.args["text"]
    # the same submission again (a retry) changes nothing and tells nobody again
    assert submit(ana, cid, **_same()) == {}
    ana.settle()
    assert len(slack.calls_to("chat.postMessage")) == 1


def _same():
    return dict(
        name="Cancer <Survivorship>",
        mission="Old mission",
        description="We meet & learn",
        areas=("knowledge", "relationships"),
    )


def test_name_taken_by_another_community_is_a_field_error(as_user, engine, slack):
    cid = make(engine)
    make(engine, name="Informatics", channel="COTHER01", leader="U5")
    body = submit(as_user("U1"), cid, name="  INFORMATICS ")
    assert body["response_action"] == "errors"
    assert "A community named Informatics already exists" in body["errors"][cb.NAME]
    assert stored(engine, cid).name == "Survivorship"
    body = submit(as_user("U1"), cid, name="   ")
    assert body["errors"][cb.NAME] == "Give the community a name."
    body = submit(as_user("U1"), cid, name="x" * 81)
    assert "80 characters" in body["errors"][cb.NAME]
    as_user("U1").settle()
    assert slack.calls_to("chat.postMessage") == []


def test_malformed_or_unknown_community_in_metadata_is_refused(as_user, engine, slack):
    make(engine)
    user = as_user("U1")
    for meta in ("not json", json.dumps({"community": "1"}), json.dumps({"community": 999999})):
        response = user.interact(
            payloads.view_submission_payload(
                pb.EDIT_CALLBACK, edit_state(), user_id="U1", private_metadata=meta
            )
        )
        assert response.status_code == 200
        assert response.json()["response_action"] == "errors"
