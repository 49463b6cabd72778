"""The HNSW index holds the passages that are sentences, not the windows of 2-3 sentences.

In a large network the dense candidate channel takes the owners of the 50 passages nearest to
the question. Windows repeat sentences that are searched anyway: the nearest 50 were often a
member's sentence and the two windows around it, three places for one colleague. Searching the
sentences alone (and the passages written before migration 0007, which carry no flag) brought
better candidates: the judged development set inside 10,000 synthetic members gave nDCG@5 0.654
instead of 0.622 (Recall@10 0.680 / 0.667, MRR 0.811 / 0.775). The index then holds 45 % of the
rows and was built in 13.5 s instead of 47-54 s (docs/performance.md). The ranker still scores
every passage of every candidate, windows included.

The index is built here with memory for the rows it holds (about 3 kB a passage, as
``service/members/bulk.py`` sizes it), so in a large network this migration takes as long as a
build (minutes at 100,000 members). An old index that a bulk load set aside is forgotten with
its definition: the new one is built now.

Revision ID: 0009_sentence_index
Revises: 0008_member_terms
Create Date: 2026-12-02 16:00
"""

from alembic import op

revision = "0009_sentence_index"
down_revision = "0008_member_terms"
branch_labels = None
depends_on = None

_OLD = "passage_embedding_use_hnsw_idx"
_NEW = "passage_sentence_use_hnsw_idx"
_INDEX = """
    CREATE INDEX {name} ON passage
    USING hnsw ((embedding::vector(512)) vector_cosine_ops)
    WITH (m = 16, ef_construction = 64)
    WHERE {predicate}
"""
_ALL = "model = 'use-multilingual-v3'"
_SENTENCES = "model = 'use-multilingual-v3' AND sentence IS NOT FALSE"


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
    _build(_NEW, _SENTENCES)


def downgrade() -> None:
    op.execute(f"DELETE FROM deferred_index WHERE name = '{_NEW}'")
    op.execute(f"DROP INDEX IF EXISTS {_NEW}")
    _build(_OLD, _ALL)
