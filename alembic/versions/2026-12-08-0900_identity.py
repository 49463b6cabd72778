"""Identity: sessions on the server, budgets per action, sign-in links asked for behind a queue,
question drafts that belong to a member.

* ``web_session``: a browser session is a row, found by the hash of the secret its cookie
  carries; signing out ends the row, so a cookie copied before is signed out too. A member's
  session goes with the member (cascade); the coordinator's is bound to the admin token (an
  HMAC of it), so changing the token ends it. Replaces ``member.session_epoch``.
* ``rate_limit``: counts per action and key (a hashed client address, a hashed e-mail
  address), each action with its own budget: failed sign-ins, and asking for sign-in links or
  applying, which no longer count as failed sign-ins. Replaces ``auth_failure``.
* ``sign_in_request``: an address someone asked a sign-in link for, until the e-mail sender
  has looked it up (a second at most); the request itself does the same work for every
  address.
* ``question_draft.member_id``: a draft is kept only for the member whose session ended.

Existing browser sessions, failed-sign-in counts and drafts (a day old at most) end: members
sign in once more. The tables are new or small; the migration takes a moment at any size.

Revision ID: 0012_identity
Revises: 0011_joining
Create Date: 2026-12-08 09:00
"""

from alembic import op

revision = "0012_identity"
down_revision = "0011_joining"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE web_session (
            id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            secret_hash         bytea NOT NULL CONSTRAINT web_session_secret_key UNIQUE,
            member_id           uuid
                                CONSTRAINT web_session_member_fkey REFERENCES member (id)
                                ON DELETE CASCADE,
            -- the coordinator's session: an HMAC of the admin token it was started with
            coordinator_binding bytea,
            created_at          timestamptz NOT NULL DEFAULT now(),
            expires_at          timestamptz NOT NULL,
            ended_at            timestamptz,
            CONSTRAINT web_session_one_holder
                CHECK ((member_id IS NULL) <> (coordinator_binding IS NULL))
        )
        """
    )
    op.execute("CREATE INDEX web_session_member_idx ON web_session (member_id)")
    op.execute("ALTER TABLE member DROP COLUMN session_epoch")
    op.execute("DROP TABLE auth_failure")
    op.execute(
        """
        CREATE TABLE rate_limit (
            action        text NOT NULL,
            key           text NOT NULL,
            count         integer NOT NULL,
            window_start  timestamptz NOT NULL,
            blocked_until timestamptz,
            CONSTRAINT rate_limit_pkey PRIMARY KEY (action, key)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE sign_in_request (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            email       text NOT NULL,
            -- the page of this interface to open after signing in
            next_page   text,
            created_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("DELETE FROM question_draft")
    op.execute(
        """
        ALTER TABLE question_draft
            ADD COLUMN member_id uuid NOT NULL
                CONSTRAINT question_draft_member_fkey REFERENCES member (id) ON DELETE CASCADE
        """
    )
    op.execute("CREATE INDEX question_draft_member_idx ON question_draft (member_id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS question_draft_member_idx")
    op.execute("ALTER TABLE question_draft DROP COLUMN member_id")
    op.execute("DROP TABLE IF EXISTS sign_in_request")
    op.execute("DROP TABLE IF EXISTS rate_limit")
    op.execute(
        """
        CREATE TABLE auth_failure (
            client        text PRIMARY KEY,
            failures      integer NOT NULL,
            window_start  timestamptz NOT NULL,
            blocked_until timestamptz
        )
        """
    )
    op.execute("ALTER TABLE member ADD COLUMN session_epoch integer NOT NULL DEFAULT 0")
    op.execute("DROP TABLE IF EXISTS web_session")
