"""Vectors stored in the row, not in TOAST.

A 512-dimensional vector takes 2,052 bytes, just over PostgreSQL's TOAST threshold, so under
pgvector's default storage (EXTERNAL) every passage vector lived out of line: ranking, which
computes the similarity of each candidate passage, paid a TOAST lookup per passage (measured on
10,000 synthetic members: 12.8 ms for a question's ~1,500 passages, 8.8 ms inline). MAIN keeps a
vector in its row whenever the row fits a page, and moves it out of line only when it must (very
large models), so no insert can fail for it. Existing rows are rewritten to move their vectors
inline.

Revision ID: 0005_vectors_inline
Revises: 0004_deferred_indexes
Create Date: 2026-11-21 16:00
"""

from alembic import op

revision = "0005_vectors_inline"
down_revision = "0004_deferred_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE passage ALTER COLUMN embedding SET STORAGE MAIN")
    op.execute("ALTER TABLE member_centroid ALTER COLUMN centroid SET STORAGE MAIN")
    # A value is stored anew only when it changes: through text and back, exactly (pgvector
    # prints floats in their shortest exact form).
    op.execute("UPDATE passage SET embedding = embedding::text::vector")
    op.execute("UPDATE member_centroid SET centroid = centroid::text::vector")


def downgrade() -> None:
    op.execute("ALTER TABLE passage ALTER COLUMN embedding SET STORAGE EXTERNAL")
    op.execute("ALTER TABLE member_centroid ALTER COLUMN centroid SET STORAGE EXTERNAL")
