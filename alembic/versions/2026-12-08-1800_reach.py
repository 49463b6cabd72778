"""The network's reach: open questions shown to the colleagues who fit them, offers of help, and
digest e-mails.

* ``question.open``, ``question.opened_at``: an open question is shown to every colleague who
  fits it (``question_audience``, computed when it is opened: who, how well, and why).
* ``consultation_request.kind``: an ``invitation`` (the asker asks a colleague) or an ``offer``
  (a colleague offers help on an open question; the asker answers it); kept in
  ``erased_request`` too, for the insights' request flow.
* ``member.digest``, ``member.digest_sent_at``: how often a member gets the digest e-mail
  (``weekly`` by default), and when they last got one.
* ``digest_run``: per member and period, that the period's digest went out, written in the same
  transaction as the e-mail: a digest goes out once per period however many workers or machines
  run. ``digest_period``: the periods whose scheduled digests are all done.
* ``server_key`` 'unsubscribe': the key that signs a digest's one-click unsubscribe link.
* ``outbox.headers``: extra e-mail headers (a digest's ``List-Unsubscribe``).

New columns with constant defaults (no rewrite) and new tables: a moment at any size.

Revision ID: 0015_reach
Revises: 0014_gaps
Create Date: 2026-12-08 18:00
"""

from alembic import op

revision = "0015_reach"
down_revision = "0014_gaps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE question ADD COLUMN open boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE question ADD COLUMN opened_at timestamptz")
    op.execute("CREATE INDEX question_open_idx ON question (opened_at) WHERE open")
    op.execute(
        """
        CREATE TABLE question_audience (
            question_id uuid NOT NULL
                        CONSTRAINT question_audience_question_fkey REFERENCES question (id)
                        ON DELETE CASCADE,
            member_id   uuid NOT NULL
                        CONSTRAINT question_audience_member_fkey REFERENCES member (id)
                        ON DELETE CASCADE,
            score       real NOT NULL,
            reasons     jsonb NOT NULL DEFAULT '{}',
            created_at  timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT question_audience_pkey PRIMARY KEY (question_id, member_id)
        )
        """
    )
    op.execute("CREATE INDEX question_audience_member_idx ON question_audience (member_id)")
    op.execute("CREATE INDEX question_audience_created_idx ON question_audience (created_at)")
    op.execute(
        "ALTER TABLE consultation_request ADD COLUMN kind text NOT NULL DEFAULT 'invitation' "
        "CONSTRAINT consultation_request_kind_check CHECK (kind IN ('invitation', 'offer'))"
    )
    op.execute(
        "ALTER TABLE erased_request ADD COLUMN kind text NOT NULL DEFAULT 'invitation' "
        "CONSTRAINT erased_request_kind_check CHECK (kind IN ('invitation', 'offer'))"
    )
    op.execute(
        "ALTER TABLE member ADD COLUMN digest text NOT NULL DEFAULT 'weekly' "
        "CONSTRAINT member_digest_check CHECK (digest IN ('daily', 'weekly', 'never'))"
    )
    op.execute("ALTER TABLE member ADD COLUMN digest_sent_at timestamptz")
    op.execute(
        """
        CREATE TABLE digest_run (
            member_id  uuid NOT NULL
                       CONSTRAINT digest_run_member_fkey REFERENCES member (id) ON DELETE CASCADE,
            period     text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT digest_run_pkey PRIMARY KEY (member_id, period)
        )
        """
    )
    op.execute(
        "CREATE TABLE digest_period (period text PRIMARY KEY, "
        "completed_at timestamptz NOT NULL DEFAULT now())"
    )
    op.execute(
        """
        INSERT INTO server_key (name, key)
        VALUES ('unsubscribe', sha256(convert_to(gen_random_uuid()::text
                                                 || gen_random_uuid()::text
                                                 || clock_timestamp()::text, 'UTF8')))
        ON CONFLICT (name) DO NOTHING
        """
    )
    op.execute("ALTER TABLE outbox ADD COLUMN headers jsonb NOT NULL DEFAULT '{}'")


def downgrade() -> None:
    op.execute("ALTER TABLE outbox DROP COLUMN IF EXISTS headers")
    op.execute("DELETE FROM server_key WHERE name = 'unsubscribe'")
    op.execute("DROP TABLE IF EXISTS digest_period")
    op.execute("DROP TABLE IF EXISTS digest_run")
    op.execute("ALTER TABLE member DROP COLUMN IF EXISTS digest_sent_at")
    op.execute("ALTER TABLE member DROP COLUMN IF EXISTS digest")
    op.execute("ALTER TABLE erased_request DROP COLUMN IF EXISTS kind")
    op.execute("ALTER TABLE consultation_request DROP COLUMN IF EXISTS kind")
    op.execute("DROP TABLE IF EXISTS question_audience")
    op.execute("DROP INDEX IF EXISTS question_open_idx")
    op.execute("ALTER TABLE question DROP COLUMN IF EXISTS opened_at")
    op.execute("ALTER TABLE question DROP COLUMN IF EXISTS open")
