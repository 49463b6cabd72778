"""Passage rows kept whole in their page: texts out of TOAST too.

Migration 0005 kept 512-dimensional vectors in the row (MAIN storage). A passage row is then
about 2.3 kB, still over PostgreSQL's TOAST threshold (about 2 kB), so the toaster moved the
next candidate out of line: the passage text, whose storage is EXTENDED. Every read of a
passage's text or length became a TOAST lookup (measured on 10,000 synthetic members: a
question's ~1,500 candidate passages took 5.5 ms to score, 2.8 ms with the texts inline).

``toast_tuple_target`` tells the toaster to act only on rows above about 8 kB, which is a page:
passage and centroid rows stay whole, and a very long text or a large model's vector is still
compressed or moved out of line, so no insert can fail for it. Existing rows are rewritten
(``VACUUM FULL``, which also rebuilds the table's indexes; on a large network this takes
minutes, like ``peerconsult reindex``).

Revision ID: 0006_rows_inline
Revises: 0005_vectors_inline
Create Date: 2026-11-21 17:00
"""

from sqlalchemy import text

from alembic import op
from service.members.bulk import BUILD_MEMORY_PER_ROW_KB, MAX_BUILD_MEMORY_MB

revision = "0006_rows_inline"
down_revision = "0005_vectors_inline"
branch_labels = None
depends_on = None

# The largest value PostgreSQL accepts: the toaster starts only above a page's worth of row.
TOAST_TUPLE_TARGET = 8160


def upgrade() -> None:
    for table in ("passage", "member_centroid"):
        op.execute(f"ALTER TABLE {table} SET (toast_tuple_target = {TOAST_TUPLE_TARGET})")
    rows = op.get_bind().execute(text("SELECT count(*) FROM passage")).scalar_one()
    memory_mb = max(64, min(MAX_BUILD_MEMORY_MB, rows * BUILD_MEMORY_PER_ROW_KB // 1024))
    # VACUUM cannot run in a transaction; the ALTERs above commit first.
    with op.get_context().autocommit_block():
        # The HNSW index is rebuilt with the rewrite: its graph must fit in memory to build fast.
        op.execute(f"SET maintenance_work_mem = '{int(memory_mb)}MB'")
        op.execute("VACUUM FULL passage")
        op.execute("VACUUM FULL member_centroid")
        op.execute("RESET maintenance_work_mem")


def downgrade() -> None:
    for table in ("passage", "member_centroid"):
        op.execute(f"ALTER TABLE {table} RESET (toast_tuple_target)")
