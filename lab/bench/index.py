"""The vector index against exact search: the passages candidate retrieval finds nearest to a
question, through the HNSW index (``NEAREST_INDEXED``, the fragment the service's retrieval
uses) or by exact search, for the recall that ``peerconsult bench`` reports."""

from __future__ import annotations

import re

import numpy as np

from service.db import Connection
from service.embedding import Vector
from service.questions.retrieval import INDEXED_MODEL, NEAREST_EXACT, NEAREST_INDEXED

_NEAREST = """
SELECT p.id, p.embedding <=> $2 AS distance FROM passage p
WHERE {order}
LIMIT $3
"""


def _statement(fragment: str) -> str:
    """A fragment of the retrieval statements (model $2, question vector $3) in a statement
    of its own: model $1, question vector $2, how many $3."""
    return _NEAREST.format(
        order=re.sub(r"\$([23])", lambda found: f"${int(found.group(1)) - 1}", fragment)
    )


NEAREST_PASSAGES = _statement(NEAREST_INDEXED)
NEAREST_PASSAGES_EXACT = _statement(NEAREST_EXACT)


async def nearest_passages(
    conn: Connection, *, model: str, query_vector: Vector, limit: int
) -> list[tuple[int, float]]:
    """(id, cosine distance) of the searched passages nearest to the query, by the ordering
    that candidate retrieval uses."""
    records = await conn.fetch(
        NEAREST_PASSAGES if model == INDEXED_MODEL else NEAREST_PASSAGES_EXACT,
        model,
        np.asarray(query_vector, dtype=np.float32),
        limit,
    )
    return [(record["id"], float(record["distance"])) for record in records]
