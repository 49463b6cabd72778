"""Candidate retrieval at scale: an HNSW index over the default model's passage vectors.

The ``passage.embedding`` column holds vectors of any model (each row names its model), so the
HNSW index is an expression index over the default model's rows, cast to its dimension; the
retrieval query orders by the same expression. Other models are searched exactly (correct, and
fast enough for networks of thousands); an operator who switches models for a large network adds
an index of the same form for that model in a migration.

Each member's centroid (the mean of their passage vectors, per model) is kept beside the
passages, so ranking reads one vector per candidate instead of averaging all their passages.

The full-text index of migration 0001 goes: ranking the full-text matches of a question grows
with the network (every profile shares common words), so retrieval no longer uses it.

Revision ID: 0003_retrieval_indexes
Revises: 0002_consultation_requests
Create Date: 2026-11-21 14:00
"""

from alembic import op

revision = "0003_retrieval_indexes"
down_revision = "0002_consultation_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX passage_embedding_use_hnsw_idx ON passage
        USING hnsw ((embedding::vector(512)) vector_cosine_ops)
        WITH (m = 16, ef_construction = 64)
        WHERE model = 'use-multilingual-v3'
        """
    )
    op.execute("DROP INDEX IF EXISTS member_expertise_fts_idx")
    op.execute(
        """
        CREATE TABLE member_centroid (
            member_id  uuid NOT NULL
                       CONSTRAINT member_centroid_member_fkey REFERENCES member (id)
                       ON DELETE CASCADE,
            model      text NOT NULL,
            centroid   vector NOT NULL,
            CONSTRAINT member_centroid_pkey PRIMARY KEY (member_id, model)
        )
        """
    )
    op.execute(
        "INSERT INTO member_centroid (member_id, model, centroid) "
        "SELECT member_id, model, avg(embedding) FROM passage GROUP BY member_id, model"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS member_centroid")
    op.execute(
        "CREATE INDEX member_expertise_fts_idx ON member "
        "USING gin (to_tsvector('german', expertise))"
    )
    op.execute("DROP INDEX IF EXISTS passage_embedding_use_hnsw_idx")
