"""Joining and signing in: sign-in links, applications, question drafts.

* ``member``: when the last welcome e-mail went out (``welcomed_at``), when the member last
  signed in to the web interface (``signed_in_at``), and ``session_epoch``, which a member
  raises to end all their browser sessions.
* ``sign_in_link``: links e-mailed to a member (a welcome, or asked for on the sign-in page),
  stored only as the hash of their secret; a link ends when used, when a newer one is sent,
  or when the member's token is rotated; the member's erasure deletes them.
* ``application``: people who ask to join, with the profile they would have, until the
  coordinator decides; the confirmation of their address is a link, stored as a hash.
* ``outbox``: a message goes to a member or to an applicant (who is not a member yet).
* ``question_draft``: a question whose session ended while it was being written, kept until
  its author signs in again.

Only new tables and columns: nothing is rewritten, and the migration takes no time.

Revision ID: 0011_joining
Revises: 0010_denser_graph
Create Date: 2026-12-07 12:00
"""

from alembic import op

revision = "0011_joining"
down_revision = "0010_denser_graph"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE member
            ADD COLUMN welcomed_at timestamptz,
            ADD COLUMN signed_in_at timestamptz,
            ADD COLUMN session_epoch integer NOT NULL DEFAULT 0
        """
    )
    op.execute(
        """
        CREATE TABLE sign_in_link (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            member_id    uuid NOT NULL
                         CONSTRAINT sign_in_link_member_fkey REFERENCES member (id)
                         ON DELETE CASCADE,
            secret_hash  bytea NOT NULL CONSTRAINT sign_in_link_secret_key UNIQUE,
            purpose      text NOT NULL
                         CONSTRAINT sign_in_link_purpose_check
                         CHECK (purpose IN ('sign-in', 'welcome')),
            created_at   timestamptz NOT NULL DEFAULT now(),
            expires_at   timestamptz NOT NULL,
            ended_at     timestamptz
        )
        """
    )
    op.execute("CREATE INDEX sign_in_link_member_idx ON sign_in_link (member_id, created_at)")
    op.execute(
        """
        CREATE TABLE application (
            id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            name               text NOT NULL,
            email              text NOT NULL,
            municipality_name  text NOT NULL,
            municipality_state text NOT NULL,
            municipality_kind  text,
            role               text NOT NULL DEFAULT '',
            expertise          text NOT NULL,
            tags               text[] NOT NULL DEFAULT '{}',
            languages          text[] NOT NULL DEFAULT '{de}',
            message            text,
            status             text NOT NULL DEFAULT 'pending'
                               CONSTRAINT application_status_check
                               CHECK (status IN ('pending', 'approved', 'declined')),
            confirm_hash       bytea CONSTRAINT application_confirm_key UNIQUE,
            created_at         timestamptz NOT NULL DEFAULT now(),
            confirmed_at       timestamptz,
            decided_at         timestamptz,
            decline_reason     text,
            member_id          uuid
                               CONSTRAINT application_member_fkey REFERENCES member (id)
                               ON DELETE SET NULL
        )
        """
    )
    op.execute("CREATE INDEX application_status_idx ON application (status, created_at)")
    op.execute(
        """
        ALTER TABLE outbox
            ALTER COLUMN member_id DROP NOT NULL,
            ADD COLUMN application_id uuid
                CONSTRAINT outbox_application_fkey REFERENCES application (id)
                ON DELETE CASCADE,
            ADD CONSTRAINT outbox_addressee_check
                CHECK (member_id IS NOT NULL OR application_id IS NOT NULL)
        """
    )
    op.execute(
        """
        CREATE TABLE question_draft (
            id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            title       text NOT NULL,
            body        text NOT NULL,
            tags        text[] NOT NULL DEFAULT '{}',
            created_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS question_draft")
    op.execute("DELETE FROM outbox WHERE member_id IS NULL")
    op.execute(
        """
        ALTER TABLE outbox
            DROP CONSTRAINT outbox_addressee_check,
            DROP COLUMN application_id,
            ALTER COLUMN member_id SET NOT NULL
        """
    )
    op.execute("DROP TABLE IF EXISTS application")
    op.execute("DROP TABLE IF EXISTS sign_in_link")
    op.execute(
        """
        ALTER TABLE member
            DROP COLUMN welcomed_at,
            DROP COLUMN signed_in_at,
            DROP COLUMN session_epoch
        """
    )
