"""Passages know whether they are a sentence or a window of several sentences.

``split_passages`` stores every sentence of a profile and every run of 2-3 sentences. Ranking
reads the sentences' texts only (the lexical document and the passage shown), and found them by
testing every passage of every candidate against every other (quadratic: about 1.6 ms per
question on 10,000 synthetic members when not cached), after receiving every window's text for
nothing. Passages are now written with the flag (``passages.sentence_flags``, the same rule), so
a question receives the sentences' texts only.

Passages written before have no flag (NULL, so adding the column rewrites nothing); the ranker
works it out for them from their texts, as before. ``peerconsult reindex`` writes them anew.

Revision ID: 0007_passage_sentences
Revises: 0006_rows_inline
Create Date: 2026-12-01 23:00
"""

from alembic import op

revision = "0007_passage_sentences"
down_revision = "0006_rows_inline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE passage ADD COLUMN sentence boolean")


def downgrade() -> None:
    op.execute("ALTER TABLE passage DROP COLUMN sentence")
