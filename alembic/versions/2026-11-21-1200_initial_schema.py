"""Municipalities, members, tags, expertise passages, questions and suggestions.

Revision ID: 0001_initial_schema
Revises:
Create Date: 2026-11-21 12:00
"""

from alembic import op

revision = "0001_initial_schema"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute(
        """
        CREATE TABLE municipality (
            id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            name        text NOT NULL,
            state       text NOT NULL,
            kind        text,
            -- identity: name and state, folded (case, umlauts, ß, separators)
            name_key    text NOT NULL,
            state_key   text NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT municipality_name_state_key UNIQUE (name_key, state_key)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE member (
            id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            municipality_id     uuid NOT NULL
                                CONSTRAINT member_municipality_fkey REFERENCES municipality (id),
            name                text NOT NULL,
            -- NULL only for imported members whose source had no address
            email               text,
            -- the id in an imported file, so importing it again updates instead of duplicating
            external_id         text CONSTRAINT member_external_id_key UNIQUE,
            role                text NOT NULL DEFAULT '',
            expertise           text NOT NULL,
            languages           text[] NOT NULL DEFAULT '{}',
            accepting_requests  boolean NOT NULL DEFAULT true,
            max_open_requests   integer NOT NULL DEFAULT 3
                                CONSTRAINT member_max_open_requests_range
                                CHECK (max_open_requests BETWEEN 0 AND 100),
            token_hash          bytea NOT NULL CONSTRAINT member_token_hash_key UNIQUE,
            created_at          timestamptz NOT NULL DEFAULT now(),
            updated_at          timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX member_email_key ON member (lower(email))")
    op.execute("CREATE INDEX member_municipality_idx ON member (municipality_id)")
    # Lexical candidate retrieval (German stemming) next to the vector search.
    op.execute(
        "CREATE INDEX member_expertise_fts_idx ON member "
        "USING gin (to_tsvector('german', expertise))"
    )
    op.execute(
        """
        CREATE TABLE member_tag (
            member_id   uuid NOT NULL
                        CONSTRAINT member_tag_member_fkey REFERENCES member (id) ON DELETE CASCADE,
            tag_key     text NOT NULL,
            tag         text NOT NULL,
            position    integer NOT NULL,
            CONSTRAINT member_tag_pkey PRIMARY KEY (member_id, tag_key)
        )
        """
    )
    op.execute("CREATE INDEX member_tag_key_idx ON member_tag (tag_key)")
    op.execute(
        """
        CREATE TABLE passage (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            member_id   uuid NOT NULL
                        CONSTRAINT passage_member_fkey REFERENCES member (id) ON DELETE CASCADE,
            position    integer NOT NULL,
            text        text NOT NULL,
            -- the embedding model that made the vector; vectors of different models never mix
            model       text NOT NULL,
            embedding   vector NOT NULL,
            CONSTRAINT passage_member_model_position_key UNIQUE (member_id, model, position)
        )
        """
    )
    op.execute("CREATE INDEX passage_model_idx ON passage (model)")
    op.execute(
        """
        CREATE TABLE question (
            id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            asker_id    uuid NOT NULL
                        CONSTRAINT question_asker_fkey REFERENCES member (id) ON DELETE CASCADE,
            title       text NOT NULL,
            body        text NOT NULL,
            tags        text[] NOT NULL DEFAULT '{}',
            created_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX question_asker_idx ON question (asker_id)")
    op.execute(
        """
        CREATE TABLE suggestion (
            question_id uuid NOT NULL
                        CONSTRAINT suggestion_question_fkey REFERENCES question (id)
                        ON DELETE CASCADE,
            member_id   uuid NOT NULL
                        CONSTRAINT suggestion_member_fkey REFERENCES member (id) ON DELETE CASCADE,
            rank        integer NOT NULL,
            score       real NOT NULL,
            reasons     jsonb NOT NULL DEFAULT '{}',
            model       text NOT NULL,
            -- 'asked': made when the question was posted (shown with the question);
            -- 'refreshed': first shown later through GET .../suggestions
            source      text NOT NULL DEFAULT 'asked'
                        CONSTRAINT suggestion_source_check CHECK (source IN ('asked', 'refreshed')),
            created_at  timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT suggestion_pkey PRIMARY KEY (question_id, member_id)
        )
        """
    )
    op.execute("CREATE INDEX suggestion_member_idx ON suggestion (member_id)")


def downgrade() -> None:
    for table in ("suggestion", "question", "passage", "member_tag", "member", "municipality"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
