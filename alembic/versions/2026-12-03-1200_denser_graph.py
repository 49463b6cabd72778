"""The HNSW graph is built with ``ef_construction = 128`` (64 before), so a large network is
searched half as broadly for the same recall.

On 100,000 synthetic members (495,711 searched passages, 100 questions) the graph built with 64
gave recall@50 0.953 / 0.975 at breadth 200 (a question finding none of its 50 nearest on one
build) and needed 400 for 0.987-0.993; built with 128 it gives 0.986 at 200 and 0.989 at 250,
no question below 0.88, for 286 s of building instead of 200. Networks of 25,000 members or more
are now searched 250 wide (``service.db.HNSW_EF_SEARCH``), about 3 ms less a question at
100,000 (docs/performance.md, "The vector index"). Since a profile's passages are composed
from its sentences, an import has the time for the longer build (it runs at 1.4 times the raw
embedder's speed at 100,000 members).

The index is built anew with memory for the rows it holds (about 3 kB a passage, as
``service/members/bulk.py`` sizes it), so in a large network this migration takes as long as a
build (minutes at 100,000 members). A definition that a bulk load set aside is replaced.

Revision ID: 0010_denser_graph
Revises: 0009_window_index
Create Date: 2026-12-03 12:00
"""

from alembic import op

revision = "0010_denser_graph"
down_revision = "0009_window_index"
branch_labels = None
depends_on = None

_NAME = "passage_searched_use_hnsw_idx"
_INDEX = """
    CREATE INDEX {name} ON passage
    USING hnsw ((embedding::vector(512)) vector_cosine_ops)
    WITH (m = 16, ef_construction = {ef_construction})
    WHERE model = 'use-multilingual-v3' AND searched
"""


def _rebuild(ef_construction: int) -> None:
    op.execute(f"DELETE FROM deferred_index WHERE name = '{_NAME}'")
    op.execute(f"DROP INDEX IF EXISTS {_NAME}")
    # Memory for the graph of the rows it will hold, 64 MB to 4 GB (service/members/bulk.py).
    op.execute(
        "SELECT set_config('maintenance_work_mem', "
        "greatest(64, least(4096, count(*) * 3 / 1024))::text || 'MB', true) "
        "FROM passage WHERE model = 'use-multilingual-v3' AND searched"
    )
    op.execute(_INDEX.format(name=_NAME, ef_construction=ef_construction))


def upgrade() -> None:
    _rebuild(128)


def downgrade() -> None:
    _rebuild(64)
