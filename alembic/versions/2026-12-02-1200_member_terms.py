"""The words of each member's expertise, for a lexical candidate channel in large networks.

In a large network, candidates come from the owners of the passages nearest to the question
(a bounded number, through the HNSW index). On a broad topic, a hundred passages of colleagues
who work on it in general are nearer than the one profile that names the question's particular
subject. Measured with the judged development set inside 10,000 synthetic members
(``peerconsult evaluate --within 10000``): the nearest passages brought 27 of the 45 colleagues
judged helpful into the candidates, exact search as many as the index.

A second channel therefore brings in the members who share the question's *distinctive*
words. ``member_term`` holds each member's expertise as PostgreSQL's German full-text lexemes
(``to_tsvector('german', ...)``: stemmed, stop words removed), one row a distinct lexeme, keyed
by lexeme, so that whether a word of the question is distinctive is decided by reading at most
a bounded number of its holders from the B-tree. (A GIN index over a ``tsvector`` cannot stop
early: every query word's whole posting list is read, and common words are held by most of the
network. Migration 0003 dropped such an index for that reason.)

The rows are written with the member's passages (``replace_passages_of_many``), from the same
text, and go with the member (ON DELETE CASCADE).

Revision ID: 0008_member_terms
Revises: 0007_passage_sentences
Create Date: 2026-12-02 12:00
"""

from alembic import op

revision = "0008_member_terms"
down_revision = "0007_passage_sentences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE member_term (
            term       text NOT NULL,
            member_id  uuid NOT NULL
                       CONSTRAINT member_term_member_fkey REFERENCES member (id)
                       ON DELETE CASCADE,
            CONSTRAINT member_term_pkey PRIMARY KEY (term, member_id)
        )
        """
    )
    op.execute("CREATE INDEX member_term_member_idx ON member_term (member_id)")
    op.execute(
        """
        INSERT INTO member_term (term, member_id)
        SELECT term, m.id
        FROM member m, unnest(tsvector_to_array(to_tsvector('german', m.expertise))) AS term
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS member_term")
