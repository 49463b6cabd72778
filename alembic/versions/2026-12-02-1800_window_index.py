"""The HNSW index holds the windows of 2-3 sentences, and the sentences only of profiles that
have no window (one sentence).

In a large network the dense candidate channel takes the owners of the 50 passages nearest to
the question. A profile of two or more sentences has windows that hold every one of its
sentences, so searching its sentences as well repeats what the windows find. Searched
passages are flagged (``searched``), and the index holds only those: at 10,000 synthetic
members 49,608 of 89,391 passages, built in 18.3 s instead of 32.5 s, with recall@50 0.980
instead of 0.963 at the breadth in use (100 questions); the judged development set inside
that network gave nDCG@5 0.619 / Recall@10 0.687 / MRR 0.781 against 0.622 / 0.687 / 0.781
(docs/performance.md, "The vector index"). The ranker still scores every passage of a
candidate.

(An index over the sentences alone was tried before and reverted: sentences repeat across a
large network, and its recall fell to 0.88. Windows are nearly all distinct.)

Passages written before migration 0007 carry no sentence flag and stay searched. The index
is built here with memory for the rows it holds (about 3 kB a passage, as
``service/members/bulk.py`` sizes it), so in a large network this migration takes as long as
a build (minutes at 100,000 members). An old index that a bulk load set aside is forgotten
with its definition: the new one is built now.

Revision ID: 0009_window_index
Revises: 0008_member_terms
Create Date: 2026-12-02 18:00
"""

from alembic import op

revision = "0009_window_index"
down_revision = "0008_member_terms"
branch_labels = None
depends_on = None

_OLD = "passage_embedding_use_hnsw_idx"
_NEW = "passage_searched_use_hnsw_idx"
_INDEX = """
    CREATE INDEX {name} ON passage
    USING hnsw ((embedding::vector(512)) vector_cosine_ops)
    WITH (m = 16, ef_construction = 64)
    WHERE {predicate}
"""
_ALL = "model = 'use-multilingual-v3'"
_SEARCHED = "model = 'use-multilingual-v3' AND searched"


def _build(name: str, predicate: str) -> None:
    # Memory for the graph of the rows it will hold, 64 MB to 4 GB (service/members/bulk.py).
    op.execute(
        "SELECT set_config('maintenance_work_mem', "
        "greatest(64, least(4096, count(*) * 3 / 1024))::text || 'MB', true) "
        f"FROM passage WHERE {predicate}"
    )
    op.execute(_INDEX.format(name=name, predicate=predicate))


def upgrade() -> None:
    op.execute(f"DELETE FROM deferred_index WHERE name = '{_OLD}'")
    op.execute(f"DROP INDEX IF EXISTS {_OLD}")
    op.execute("ALTER TABLE passage ADD COLUMN searched boolean NOT NULL DEFAULT true")
    # A sentence of a profile that has windows (for the same model) is found through them.
    op.execute(
        """
        UPDATE passage p SET searched = false
        WHERE p.sentence AND EXISTS (
            SELECT 1 FROM passage w
            WHERE w.member_id = p.member_id AND w.model = p.model AND w.sentence = false
        )
        """
    )
    _build(_NEW, _SEARCHED)


def downgrade() -> None:
    op.execute(f"DELETE FROM deferred_index WHERE name = '{_NEW}'")
    op.execute(f"DROP INDEX IF EXISTS {_NEW}")
    op.execute("ALTER TABLE passage DROP COLUMN searched")
    _build(_OLD, _ALL)
