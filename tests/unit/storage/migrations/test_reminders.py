"""Migration 0007 carries existing reminders and nudge series over from key strings to
typed columns, and back on downgrade."""

from __future__ import annotations

from sqlalchemy import text

from storage import db

ROWS = [
    # id, kind, target, call_id, milestone_id, recipient
    (1, "call_day", "call:1:s2", 1, None, None),
    (2, "call_day", "call:1:s2:dm:U5", 1, None, "U5"),
    (3, "call_followup", "call:1:s2:host", 1, None, "U1"),
    (4, "milestone", "milestone:1:to:U1", None, 1, "U1"),
    (5, "agenda_due", "agenda_due:community:1:2027:to:U1", None, None, "U1"),
    (6, "plan_nudge", "plan_nudge:community:1:to:U1", None, None, "U1"),
]


def _fill_0005(engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO community (id, team_id, name, name_key, slack_channel_id, mission,"
                " description, purpose_areas, created_by, created_at, calendar_token,"
                " call_reminders, roster_version) VALUES (1, 'T', 'C', 'c', 'C1', '', '', '',"
                " 'U1', '2027-01-01 00:00:00', 'tok', 'week,day,hour', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO call (id, uid, community_id, start_at, duration_minutes, timezone,"
                " topic, agenda, host_user_id, kind, status, meeting_state, sequence,"
                " needs_planning, created_by, created_at, updated_at) VALUES (1, 'u', 1,"
                " '2027-03-01 17:00:00', 60, 'UTC', 'T', '', 'U1', 'community', 'scheduled',"
                " 'none', 2, 0, 'U1', '2027-01-01 00:00:00', '2027-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO milestone (id, community_id, kind, title, due_at, created_by,"
                " created_at) VALUES (1, 1, 'guide', 'Guide', '2027-02-01 09:00:00', 'U1',"
                " '2027-01-01 00:00:00')"
            )
        )
        for rid, kind, target, call_id, milestone_id, recipient in ROWS:
            conn.execute(
                text(
                    "INSERT INTO reminder (id, kind, target, due_at, expires_at, community_id,"
                    " call_id, milestone_id, recipient, state, attempts) VALUES (:id, :kind,"
                    " :target, '2027-02-01 09:00:00', '2027-02-08 09:00:00', 1, :call,"
                    " :milestone, :recipient, 'pending', 0)"
                ),
                {
                    "id": rid,
                    "kind": kind,
                    "target": target,
                    "call": call_id,
                    "milestone": milestone_id,
                    "recipient": recipient,
                },
            )
        conn.execute(
            text(
                "INSERT INTO nudge_series (series, done_at, snoozed_until, updated_by) VALUES"
                " ('agenda_due:community:1:2027', '2027-02-02 00:00:00', NULL, 'U1'),"
                " ('milestone:1', NULL, '2027-02-09 00:00:00', 'U2')"
            )
        )


def test_existing_reminders_and_series_get_typed_fields_and_back(tmp_path):
    url = f"sqlite:///{tmp_path}/m.db"
    db.upgrade(url, "0005")
    engine = db.get_engine(url)
    _fill_0005(engine)
    db.upgrade(url, "0007")
    with engine.connect() as conn:
        series = {
            row.id: row
            for row in conn.execute(
                text(
                    "SELECT id, kind, community_id, milestone_id, year, done_at, updated_by"
                    " FROM nudge_series"
                )
            )
        }
        reminders = {
            row.id: row
            for row in conn.execute(text("SELECT id, call_sequence, series_id FROM reminder"))
        }
    assert [reminders[i].call_sequence for i in (1, 2, 3)] == [2, 2, 2]
    milestone, agenda, plan = (series[reminders[i].series_id] for i in (4, 5, 6))
    assert (milestone.kind, milestone.community_id, milestone.milestone_id) == ("milestone", 1, 1)
    assert milestone.updated_by == "U2"
    assert (agenda.kind, agenda.year, agenda.done_at is not None) == ("agenda_due", 2027, True)
    assert (plan.kind, plan.community_id, plan.year) == ("plan_nudge", 1, None)
    db.downgrade(url, "0005")
    with engine.connect() as conn:
        targets = dict(conn.execute(text("SELECT id, target FROM reminder")).all())
        kept = dict(conn.execute(text("SELECT series, updated_by FROM nudge_series")).all())
    assert targets == {rid: target for rid, _k, target, *_ in ROWS}
    assert kept == {  # the plan's series came into being for its reminder: kept, unanswered
        "agenda_due:community:1:2027": "U1",
        "milestone:1": "U2",
        "plan_nudge:community:1": None,
    }
