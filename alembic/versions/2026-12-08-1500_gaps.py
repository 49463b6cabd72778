"""Gaps a coordinator can trust: how well a question's best candidate fitted it, and whom the
coordinator asked to help with a gap.

* ``question.coverage``: the probability that the best candidate fits the question at least
  partly when it was asked (``service/matching/fit.py``); below the calibrated threshold the
  question is a gap. NULL for questions asked before: their asker sees no decision, and the
  insights score them against the network as it is now.
* ``gap_contact``: a colleague the coordinator wrote to about a gap question, and when; erased
  with the question or the colleague.

A new nullable column (no rewrite) and a small table: the migration takes a moment at any size.

Revision ID: 0014_gaps
Revises: 0013_everyday_use
Create Date: 2026-12-08 15:00
"""

from alembic import op

revision = "0014_gaps"
down_revision = "0013_everyday_use"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE question ADD COLUMN coverage real")
    op.execute(
        """
        CREATE TABLE gap_contact (
            question_id  uuid NOT NULL
                         CONSTRAINT gap_contact_question_fkey REFERENCES question (id)
                         ON DELETE CASCADE,
            member_id    uuid NOT NULL
                         CONSTRAINT gap_contact_member_fkey REFERENCES member (id)
                         ON DELETE CASCADE,
            contacted_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT gap_contact_pkey PRIMARY KEY (question_id, member_id)
        )
        """
    )
    op.execute("CREATE INDEX gap_contact_member_idx ON gap_contact (member_id)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS gap_contact")
    op.execute("ALTER TABLE question DROP COLUMN IF EXISTS coverage")
