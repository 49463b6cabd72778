"""Indexes set aside during a bulk load, kept until they are built again.

A bulk import drops the HNSW indexes on ``passage`` and builds them once at the end: building a
graph in memory is several times cheaper than inserting tens of thousands of rows into it one
by one. The definition of each dropped index is kept here, in the transaction that drops it, so
an import that dies half-way leaves the definition behind for the next import, ``peerconsult
migrate`` or server start to build (``service/members/bulk.py``).

Revision ID: 0004_deferred_indexes
Revises: 0003_retrieval_indexes
Create Date: 2026-11-21 15:00
"""

from alembic import op

revision = "0004_deferred_indexes"
down_revision = "0003_retrieval_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE deferred_index (
            name        text PRIMARY KEY,
            definition  text NOT NULL,
            deferred_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    # Indexes still deferred are built before their definitions go.
    op.execute(
        """
        DO $$
        DECLARE d record;
        BEGIN
            FOR d IN SELECT definition FROM deferred_index LOOP
                EXECUTE d.definition;
            END LOOP;
        END $$
        """
    )
    op.execute("DROP TABLE deferred_index")
