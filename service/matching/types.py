"""The data the ranker works on: plain values, no database, no I/O.

The repositories build these from PostgreSQL rows; the ranker (``service.matching.rank``)
turns them into ranked suggestions. Keeping the maths on plain values lets it be unit-tested
and evaluated offline on the development set with exactly the code the service runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from models.members import DEFAULT_MAX_OPEN_REQUESTS
from service.embedding import Vector


class PackedVector:
    """A vector in pgvector's binary format (``vector_send``), decoded only when used: a question
    loads a hundred candidates' centroids and compares only those of the few it suggests.
    ``np.asarray(packed)`` decodes it."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __array__(
        self, dtype: npt.DTypeLike | None = None, copy: bool | None = None
    ) -> npt.NDArray[np.float32]:
        # A 2-byte dimension, 2 unused bytes, then big-endian float4 values.
        dimension = int.from_bytes(self.data[:2], "big")
        values = np.frombuffer(self.data, dtype=">f4", count=dimension, offset=4)
        return values.astype(dtype or np.float32)


class Passage(NamedTuple):
    """One topic-sized piece of a member's expertise, with its embedding (L2-normalized), or with
    its cosine similarity to the question already computed where the vectors live (PostgreSQL),
    which saves shipping every vector to the ranker. (A named tuple: a question loads about a
    thousand of them, and a tuple is built several times faster than a frozen dataclass.)"""

    text: str
    vector: Vector | None = None
    similarity: float | None = None
    # Whether the passage is a sentence rather than a window of several, when the store knows
    # (``passages.sentence_flags``); windows then come without their text, which nobody reads.
    sentence: bool | None = None
    # A passage of a shared outcome that names the member: the title of the question they
    # advised on (it counts in the dense score as a window does, and says so in the reasons).
    consulted_on: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A member who may be suggested (the hard rules have already been applied)."""

    member_id: str
    name: str
    municipality_id: str
    municipality: str
    state: str
    municipality_kind: str | None
    role: str
    tags: tuple[str, ...]
    passages: tuple[Passage, ...]
    open_requests: int = 0
    max_open_requests: int = DEFAULT_MAX_OPEN_REQUESTS
    # Bounded prior from accepted, helpful consultations, in [0, 1]; 0 when there is none.
    feedback_prior: float = 0.0
    # The normalized mean of the passage vectors, when the store computed it (near-duplicate
    # profiles are found by it); otherwise the ranker computes it from the passages' vectors.
    centroid: Vector | PackedVector | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """A consultation question as the ranker sees it, with the asker's context."""

    title: str
    body: str
    tags: tuple[str, ...]
    vector: Vector  # embedding of the question (embed_queries)
    asker_state: str | None = None
    asker_municipality_kind: str | None = None
    # The dense score a typical member of the network reaches for this question, when the
    # candidates are not the whole network (a large network's bounded retrieval); None: the
    # median over the candidates (``fit.typical_dense``).
    typical_dense: float | None = None

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.body}".strip()
