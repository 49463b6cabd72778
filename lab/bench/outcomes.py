"""``POST /v1/questions`` with the network's memory filled: as many shared outcomes as half the
members (50,000 at 100,000), each embedded (two passages, copied from the network's own
passage vectors, so they lie where real texts lie) and naming one helper, against the same
questions asked just before they were added (``runner.run_size``: two server runs back to back,
the ratio is the figure).

An outcome costs a question twice: its named helpers join the candidates (the nearest shared
outcomes through their HNSW index) and read their outcome passages, and the related outcomes are
found through the same index and scored."""

from __future__ import annotations

import time

from service.db import Connection

SHARE_OF_MEMBERS = 0.5

# $1 outcomes on the first questions by id (the synthetic questions of the insights), each
# with a helper of another municipality whose accepted request names them.
_OUTCOMES = """
WITH numbered AS (SELECT id, municipality_id, row_number() OVER (ORDER BY id) - 1 AS n
                  FROM member),
     size AS (SELECT count(*) AS members FROM member),
     chosen AS (
         SELECT q.id, q.asker_id, q.title, q.body, row_number() OVER (ORDER BY q.id) AS n
         FROM question q ORDER BY q.id LIMIT $1
     ),
     written AS (
         INSERT INTO outcome (question_id, text, shared, words)
         SELECT chosen.id,
                'Wir haben gemeinsam geklärt, wie ' || chosen.title || ' gelingt: erst die '
                || 'Beteiligten, dann der Rat.', true,
                to_tsvector('german', chosen.title || ' ' || chosen.body)
         FROM chosen
         RETURNING question_id
     )
INSERT INTO consultation_request (question_id, asker_id, peer_id, status, kind, named,
                                  created_at, expires_at, responded_at)
SELECT chosen.id, chosen.asker_id, helper.id, 'accepted', 'invitation', true,
       now() - interval '20 days', now() - interval '6 days', now() - interval '19 days'
FROM chosen, size
JOIN numbered helper ON true
WHERE helper.n = (chosen.n * 7919 + 1) % size.members AND helper.id <> chosen.asker_id
ON CONFLICT DO NOTHING
"""
# Two passages per outcome, from the network's passage vectors of the model $1.
_PASSAGES = """
WITH vectors AS (
    SELECT embedding, row_number() OVER (ORDER BY id) - 1 AS k FROM passage WHERE model = $1
), total AS (SELECT count(*) AS passages FROM vectors),
chosen AS (SELECT question_id, row_number() OVER (ORDER BY question_id) AS n FROM outcome)
INSERT INTO outcome_passage (question_id, position, model, embedding)
SELECT chosen.question_id, position, $1, vectors.embedding
FROM chosen, total, generate_series(0, 1) AS position
JOIN vectors ON true
WHERE vectors.k = (chosen.n * 2 + position) * 7 % total.passages
"""


async def fill(conn: Connection, members: int, *, model: str) -> tuple[int, float]:
    """Add the shared outcomes; how many, and the seconds it took (the index grows with them)."""
    wanted = max(1, round(members * SHARE_OF_MEMBERS))
    started = time.perf_counter()
    # Bulk writes, minutes long at 100,000 members (every passage goes into the HNSW index):
    # beyond the service's per-statement timeout.
    await conn.execute(_OUTCOMES, wanted, timeout=None)
    await conn.execute(_PASSAGES, model, timeout=None)
    await conn.execute("ANALYZE", timeout=None)
    count: int = await conn.fetchval("SELECT count(*) FROM outcome WHERE shared")
    return count, time.perf_counter() - started
