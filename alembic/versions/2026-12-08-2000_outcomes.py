"""The network remembers: what came out of a consultation.

* ``outcome``: what the asker recorded once a request of the question was accepted (one per
  question, editable), whether it is shared with every member, and its words (with the
  question's) for a search by words.
* ``outcome_passage``: a shared outcome's embeddings (the question with its outcome, and the
  outcome alone), made once when it is written; searched through a partial HNSW index for the
  default model, and read in matching as passages of its named helpers' profiles. An outcome
  that is not shared has none.
* ``consultation_request.named``: whether the colleague of an accepted request appears by name
  on the question's shared outcome (default: not); ``consultation_request.reminded_at``: when
  the asker was reminded to give feedback and record the outcome.

New columns with constant defaults (no rewrite) and new tables: a moment at any size.

Revision ID: 0016_outcomes
Revises: 0015_reach
Create Date: 2026-12-08 20:00
"""

from alembic import op

revision = "0016_outcomes"
down_revision = "0015_reach"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE outcome (
            question_id uuid PRIMARY KEY
                        CONSTRAINT outcome_question_fkey REFERENCES question (id)
                        ON DELETE CASCADE,
            text        text NOT NULL,
            shared      boolean NOT NULL DEFAULT false,
            -- the words of the question and its outcome (German), for a search by words
            words       tsvector NOT NULL DEFAULT ''::tsvector,
            created_at  timestamptz NOT NULL DEFAULT now(),
            updated_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX outcome_shared_idx ON outcome (updated_at) WHERE shared")
    op.execute("CREATE INDEX outcome_words_idx ON outcome USING gin (words) WHERE shared")
    op.execute(
        """
        CREATE TABLE outcome_passage (
            question_id uuid NOT NULL
                        CONSTRAINT outcome_passage_outcome_fkey REFERENCES outcome (question_id)
                        ON DELETE CASCADE,
            position    smallint NOT NULL,
            model       text NOT NULL,
            embedding   vector NOT NULL,
            CONSTRAINT outcome_passage_pkey PRIMARY KEY (question_id, model, position)
        )
        """
    )
    op.execute("ALTER TABLE outcome_passage ALTER COLUMN embedding SET STORAGE MAIN")
    op.execute(
        """
        CREATE INDEX outcome_passage_use_hnsw_idx ON outcome_passage
        USING hnsw ((embedding::vector(512)) vector_cosine_ops)
        WITH (m = 16, ef_construction = 128)
        WHERE model = 'use-multilingual-v3'
        """
    )
    op.execute("ALTER TABLE consultation_request ADD COLUMN named boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE consultation_request ADD COLUMN reminded_at timestamptz")
    # The named helpers of a question: its accepted requests whose colleague chose to be named.
    op.execute(
        "CREATE INDEX consultation_request_named_idx ON consultation_request (question_id) "
        "WHERE named AND status = 'accepted'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS consultation_request_named_idx")
    op.execute("ALTER TABLE consultation_request DROP COLUMN IF EXISTS reminded_at")
    op.execute("ALTER TABLE consultation_request DROP COLUMN IF EXISTS named")
    op.execute("DROP TABLE IF EXISTS outcome_passage")
    op.execute("DROP TABLE IF EXISTS outcome")
