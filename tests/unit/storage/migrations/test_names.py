"""Migration 0008 recomputes name keys with the normalisation names now get, keeping the
older of two communities that turn out to look the same as it was."""

from __future__ import annotations

from sqlalchemy import text

from storage import db


def test_existing_names_get_normalised_keys(tmp_path):
    url = f"sqlite:///{tmp_path}/n.db"
    db.upgrade(url, "0005")
    engine = db.get_engine(url)
    rows = [
        (1, "Ｏｎｃｏ\u200b care", "ｏｎｃｏ\u200b care"),
        (2, "Survivorship", "survivorship"),
        (3, "Surviv\u200borship", "surviv\u200borship"),  # looks like 2
    ]
    with engine.begin() as conn:
        for cid, name, key in rows:
            conn.execute(
                text(
                    "INSERT INTO community (id, team_id, name, name_key, slack_channel_id, "
                    "mission, description, purpose_areas, created_by, created_at, "
                    "calendar_token, call_reminders, roster_version) VALUES (:id, 'T', :name, "
                    ":key, :ch, '', '', '', 'U1', '2026-01-01 00:00:00', :tok, 'week', 0)"
                ),
                {"id": cid, "name": name, "key": key, "ch": f"C{cid}", "tok": f"t{cid}"},
            )
    db.upgrade(url)
    with engine.connect() as conn:
        got = dict(conn.execute(text("SELECT id, name_key FROM community")).all())
        names = dict(conn.execute(text("SELECT id, name FROM community")).all())
    assert got[1] == "onco care" and names[1] == "Onco care"
    assert got[2] == "survivorship"
    assert got[3] == "surviv\u200borship"  # kept: the normalised key is taken by 2
