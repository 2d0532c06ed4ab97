"""Anonymous polls forget who voted when they close: counts kept on the poll and its
options, vote rows without ids (keyed by poll, voter and option; SQLite stores them in
that key's order), vote clicks remembered by a key that names neither the voter nor the
choice, and the check value of the secret that keys an anonymous poll's voters.

Closed polls are brought to that state here: their counts are kept and the vote rows of
the anonymous ones deleted. Remembered button clicks of the old kind (keyed by the user
and the button's value) are deleted: they only guarded against replays for a day.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete="CASCADE")


def upgrade() -> None:
    with op.batch_alter_table("poll") as batch:
        batch.add_column(sa.Column("voter_count", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("total_posted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("key_check", sa.String(16), nullable=True))
    with op.batch_alter_table("poll_option") as batch:
        batch.add_column(sa.Column("votes", sa.Integer(), nullable=True))

    op.drop_index("ix_poll_vote_option", table_name="poll_vote")
    op.rename_table("poll_vote", "poll_vote_old")
    op.create_table(
        "poll_vote",
        sa.Column("poll_id", sa.Integer(), _fk("poll"), primary_key=True, autoincrement=False),
        sa.Column("voter", sa.String(64), primary_key=True),
        sa.Column(
            "option_id", sa.Integer(), _fk("poll_option"), primary_key=True, autoincrement=False
        ),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO poll_vote (poll_id, voter, option_id) "
        "SELECT poll_id, voter, option_id FROM poll_vote_old ORDER BY poll_id, voter, option_id"
    )
    op.drop_table("poll_vote_old")
    op.create_index("ix_poll_vote_option", "poll_vote", ["option_id"])

    op.create_table(
        "poll_click",
        sa.Column("click_key", sa.String(64), primary_key=True),
        sa.Column("poll_id", sa.Integer(), _fk("poll"), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_poll_click_poll_id", "poll_click", ["poll_id"])

    # closed polls keep their counts; the anonymous ones forget their voters
    op.execute(
        "UPDATE poll_option SET votes = (SELECT count(*) FROM poll_vote "
        "WHERE poll_vote.option_id = poll_option.id) "
        "WHERE poll_id IN (SELECT id FROM poll WHERE state = 'closed')"
    )
    op.execute(
        "UPDATE poll SET voter_count = (SELECT count(DISTINCT voter) FROM poll_vote "
        "WHERE poll_vote.poll_id = poll.id) WHERE state = 'closed'"
    )
    op.execute(
        "DELETE FROM poll_vote WHERE poll_id IN "
        "(SELECT id FROM poll WHERE state = 'closed' AND anonymous)"
    )
    op.execute("DELETE FROM handled_request WHERE kind = 'block_actions'")


def downgrade() -> None:
    op.drop_index("ix_poll_click_poll_id", table_name="poll_click")
    op.drop_table("poll_click")
    op.drop_index("ix_poll_vote_option", table_name="poll_vote")
    op.rename_table("poll_vote", "poll_vote_new")
    op.create_table(
        "poll_vote",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("poll_id", sa.Integer(), _fk("poll"), nullable=False),
        sa.Column("option_id", sa.Integer(), _fk("poll_option"), nullable=False),
        sa.Column("voter", sa.String(64), nullable=False),
        sa.UniqueConstraint("poll_id", "voter", "option_id", name="uq_poll_vote"),
    )
    op.execute(
        "INSERT INTO poll_vote (poll_id, option_id, voter) "
        "SELECT poll_id, option_id, voter FROM poll_vote_new"
    )
    op.drop_table("poll_vote_new")
    op.create_index("ix_poll_vote_option", "poll_vote", ["option_id"])
    with op.batch_alter_table("poll_option") as batch:
        batch.drop_column("votes")
    with op.batch_alter_table("poll") as batch:
        batch.drop_column("key_check")
        batch.drop_column("total_posted")
        batch.drop_column("voter_count")
