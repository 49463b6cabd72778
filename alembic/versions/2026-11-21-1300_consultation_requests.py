"""Consultation requests, feedback, the e-mail outbox and failed-authentication counters.

Revision ID: 0002_consultation_requests
Revises: 0001_initial_schema
Create Date: 2026-11-21 13:00
"""

from alembic import op

revision = "0002_consultation_requests"
down_revision = "0001_initial_schema"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE consultation_request (
            id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            question_id  uuid NOT NULL
                         CONSTRAINT consultation_request_question_fkey REFERENCES question (id)
                         ON DELETE CASCADE,
            asker_id     uuid NOT NULL
                         CONSTRAINT consultation_request_asker_fkey REFERENCES member (id)
                         ON DELETE CASCADE,
            peer_id      uuid NOT NULL
                         CONSTRAINT consultation_request_peer_fkey REFERENCES member (id)
                         ON DELETE CASCADE,
            status       text NOT NULL DEFAULT 'pending'
                         CONSTRAINT consultation_request_status_check
                         CHECK (status IN ('pending', 'accepted', 'declined', 'withdrawn',
                                           'expired')),
            message      text,
            created_at   timestamptz NOT NULL DEFAULT now(),
            expires_at   timestamptz NOT NULL,
            responded_at timestamptz,
            CONSTRAINT consultation_request_question_peer_key UNIQUE (question_id, peer_id),
            CONSTRAINT consultation_request_not_self CHECK (asker_id <> peer_id)
        )
        """
    )
    op.execute(
        "CREATE INDEX consultation_request_peer_idx ON consultation_request (peer_id, status)"
    )
    op.execute(
        "CREATE INDEX consultation_request_asker_idx ON consultation_request (asker_id, status)"
    )
    op.execute(
        "CREATE INDEX consultation_request_pending_idx ON consultation_request (expires_at) "
        "WHERE status = 'pending'"
    )
    op.execute(
        """
        CREATE TABLE feedback (
            request_id  uuid PRIMARY KEY
                        CONSTRAINT feedback_request_fkey REFERENCES consultation_request (id)
                        ON DELETE CASCADE,
            helpful     smallint NOT NULL
                        CONSTRAINT feedback_helpful_range CHECK (helpful BETWEEN 1 AND 5),
            comment     text,
            created_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    # A member's load: invitations still waiting for an answer, and accepted consultations that
    # are under way (no feedback yet, accepted within the last 30 days). One definition, used by
    # the matching rules and the capacity check alike.
    op.execute(
        """
        CREATE VIEW member_open_requests AS
        SELECT r.peer_id AS member_id, count(*)::int AS open_requests
        FROM consultation_request r
        WHERE (r.status = 'pending' AND r.expires_at > now())
           OR (r.status = 'accepted'
               AND r.responded_at > now() - interval '30 days'
               AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = r.id))
        GROUP BY r.peer_id
        """
    )
    op.execute(
        """
        CREATE TABLE outbox (
            id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            -- the member the message is addressed to: erasing them erases their mail too
            member_id        uuid NOT NULL
                             CONSTRAINT outbox_member_fkey REFERENCES member (id)
                             ON DELETE CASCADE,
            request_id       uuid
                             CONSTRAINT outbox_request_fkey REFERENCES consultation_request (id)
                             ON DELETE CASCADE,
            kind             text NOT NULL,
            recipient        text NOT NULL,
            subject          text NOT NULL,
            body             text NOT NULL,
            created_at       timestamptz NOT NULL DEFAULT now(),
            attempts         integer NOT NULL DEFAULT 0,
            next_attempt_at  timestamptz NOT NULL DEFAULT now(),
            sent_at          timestamptz,
            last_error       text
        )
        """
    )
    op.execute("CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE sent_at IS NULL")
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


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS member_open_requests")
    for table in ("auth_failure", "outbox", "feedback", "consultation_request"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
