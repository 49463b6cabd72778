"""Ranking the eligible members for a consultation question.

``rank`` is pure: plain values in, suggestions out, no I/O. It is CPU work (a few milliseconds for
a hundred candidates); call it off the event loop. See docs/matching.md for how the components
were chosen and measured.

relevance = sigmoid(bias + w_dense * dense + w_lexical * lexical + w_tags * tags
                    + w_state * state_law_and_same_state + w_size * size_matters_and_similar)
score     = relevance * (1 + feedback_bonus * feedback_prior) * (1 - load_penalty * load)

* dense: cosine of the question vector with the member's passages, the mean of the two best
  passages (a long multi-topic profile is not diluted by its other topics, and one lucky passage
  counts less than a topic that two passages confirm);
* lexical: character n-gram TF-IDF of the question against the member's expertise, role and tags;
* tags: question tags found among the member's tags (damped for members with many tags, so tag
  stuffing does not pay), and the member's tags found in the question text;
* context: same Land when the question turns on state law, similar size when size matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from models.members import Municipality
from models.questions import Reasons, ScoreComponents, SuggestedMember, Suggestion
from service.matching import context, explain, fit, lexical
from service.matching.passages import sentence_flags
from service.matching.tags import clean_tag, normalize_tag, tag_in_text, text_tag_keys
from service.matching.types import Candidate, Passage, Query

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Weights:
    """The few parameters of the ranker. The component weights and `dense_top` were chosen on the
    development set by leave-one-question-out cross-validation over a small grid (dense fixed,
    the others relative to it; ``peerconsult evaluate DATA --offline --cv``), then scaled
    together with the bias by a logistic fit of "grade >= 2", so that relevance reads as a
    probability; see docs/matching.md."""

    dense: float = 9.5
    lexical: float = 18.0
    tags: float = 2.4
    tags_text: float = 0.5
    # Not fitted: the development set has no question on state law; same order as size.
    state: float = 0.95
    size: float = 0.95
    bias: float = -9.1
    # A member's dense value is the mean of this many best passage similarities.
    dense_top: int = 2
    # Members with more tags than this get their tag scores damped proportionally.
    tag_allowance: int = 8
    # Multiplicative: at most -15 % for a member at capacity, at most +5 % for the best prior.
    load_penalty: float = 0.15
    feedback_bonus: float = 0.05
    # Profiles at least this similar (passage centroid cosine) count as near-duplicates.
    duplicate_similarity: float = 0.97


DEFAULT_WEIGHTS = Weights()

# Feedback raises a member's prior only with evidence: a Bayesian average of the "helpful"
# ratings (1-5) shrunk towards the neutral 3 by this many pseudo-ratings, then mapped to [0, 1]
# (3 or worse: 0, 5: 1).
FEEDBACK_PSEUDO_RATINGS = 3.0


def feedback_prior(ratings: int, helpful_sum: int) -> float:
    """A member's prior from their accepted consultations' ratings, in [0, 1]."""
    if ratings <= 0:
        return 0.0
    shrunk = (helpful_sum + 3.0 * FEEDBACK_PSEUDO_RATINGS) / (ratings + FEEDBACK_PSEUDO_RATINGS)
    return min(1.0, max(0.0, (shrunk - 3.0) / 2.0))


@dataclass(slots=True)
class Components:
    """Per-candidate component scores for one question (arrays aligned with the candidates)."""

    dense: FloatArray
    lexical: FloatArray
    tags: FloatArray
    tags_text: FloatArray
    state: FloatArray  # 1 when the question turns on state law and the member shares the Land
    size: FloatArray  # 1 when size matters and the member's municipality is of similar size
    same_state: list[bool]
    similar_size: list[bool]
    best_passage: list[str | None]
    matched_tags: list[tuple[str, ...]]
    state_law: bool
    size_groups: set[context.SizeGroup] = field(default_factory=set)


def _atomic(passages: Sequence[Passage]) -> tuple[int, ...]:
    """Indexes of the sentences among a profile's passages, not the windows of several
    sentences that ``split_passages`` adds: as stored, or worked out from the texts."""
    if passages and all(passage.sentence is not None for passage in passages):
        return tuple(index for index, passage in enumerate(passages) if passage.sentence)
    return _atomic_texts(tuple(passage.text for passage in passages))


@lru_cache(maxsize=16384)
def _atomic_texts(texts: tuple[str, ...]) -> tuple[int, ...]:
    # Quadratic in a profile's passages: cached per profile (strings cache their hash, so the
    # key costs little).
    return tuple(index for index, sentence in enumerate(sentence_flags(texts)) if sentence)


def _similarities(query_vector: npt.NDArray[np.float32], candidate: Candidate) -> FloatArray | None:
    """Cosine of the question with each passage: as given by the store, or from the vectors."""
    passages = candidate.passages
    if not passages:
        return None
    given = [passage.similarity for passage in passages]
    if all(similarity is not None for similarity in given):
        return np.array(given, dtype=np.float64)
    vectors = [p.vector for p in passages]
    if not np.any(query_vector) or any(
        v is None or np.asarray(v).size != query_vector.size for v in vectors
    ):
        return None
    matrix = np.stack([np.asarray(v, dtype=np.float32).ravel() for v in vectors])
    return (matrix @ query_vector).astype(np.float64)


def _dense(
    query: Query,
    candidates: Sequence[Candidate],
    atomic: Sequence[Sequence[int]],
    top: int = DEFAULT_WEIGHTS.dense_top,
) -> tuple[FloatArray, list[str | None]]:
    """Each candidate's dense score and best sentence, computed on all candidates' passage
    similarities at once (one flat array, segment by segment)."""
    count = len(candidates)
    scores = np.zeros(count, dtype=np.float64)
    best: list[str | None] = [c.passages[0].text if c.passages else None for c in candidates]
    query_vector = np.asarray(query.vector, dtype=np.float32).ravel()
    given = [passage.similarity for candidate in candidates for passage in candidate.passages]
    if any(similarity is None for similarity in given):
        parts = [_similarities(query_vector, candidate) for candidate in candidates]
        known = [index for index, part in enumerate(parts) if part is not None]
        flat = np.concatenate([parts[index] for index in known]) if known else np.zeros(0)
    else:
        known = [index for index, candidate in enumerate(candidates) if candidate.passages]
        flat = np.array(given, dtype=np.float64)
    if not known:
        return scores, best
    sizes = np.array([len(candidates[index].passages) for index in known], dtype=np.int64)
    segment = np.repeat(np.arange(len(known)), sizes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    # The best passages decide: a long profile is not diluted by its other topics, and
    # passages of 2-3 sentences already pool a topic's context. The mean of the `top` best
    # (a sentence and a window around it, or two sentences of one topic) rewards a topic
    # the profile really covers over one passage that happens to match (docs/matching.md).
    top = max(1, top)
    order = np.lexsort((-flat, segment))  # by candidate, best first; ties in passage order
    taken = np.arange(len(flat)) - starts[segment] < top
    kept = np.minimum(sizes, top)
    sums = np.bincount(segment, weights=np.where(taken, flat[order], 0.0), minlength=len(known))
    scores[known] = sums / kept
    # The reason shown is the best sentence (not a window of several sentences).
    sentence = np.zeros(len(flat), dtype=bool)
    for position, index in enumerate(known):
        sentence[starts[position] + np.asarray(atomic[index], dtype=np.int64)] = True
    by_sentence = np.lexsort((-np.where(sentence, flat, -np.inf), segment))
    for position, index in enumerate(known):
        first = by_sentence[starts[position]]
        best[index] = candidates[index].passages[first - starts[position]].text
    return np.clip(np.nan_to_num(scores), 0.0, 1.0), best


def profile_text(candidate: Candidate, atomic: Sequence[int] | None = None) -> str:
    """What the lexical component reads of a member: expertise sentences, role and tags
    (``atomic``: the sentences' indexes, when already known)."""
    sentences = _atomic(candidate.passages) if atomic is None else atomic
    parts = [candidate.passages[index].text for index in sentences]
    parts.append(candidate.role)
    parts.extend(candidate.tags)
    return "\n".join(part for part in parts if part)


def query_text(query: Query) -> str:
    """What the lexical component reads of a question: title, body and tags."""
    return "\n".join([query.title, query.body, *query.tags]).strip()


def _lexical(
    query: Query, candidates: Sequence[Candidate], atomic: Sequence[Sequence[int]]
) -> FloatArray:
    if not candidates:
        return np.zeros(0, dtype=np.float64)
    return lexical.similarity(
        query_text(query),
        [
            profile_text(candidate, sentences)
            for candidate, sentences in zip(candidates, atomic, strict=True)
        ],
    )


@lru_cache(maxsize=16384)
def _tag_display(tags: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """A member's tags by normalized key (the first spelling of each key, cleaned for display);
    cached per tag list, since the same profiles are ranked again and again."""
    display: dict[str, str] = {}
    for tag in tags:
        key = normalize_tag(tag)
        if key and key not in display:
            display[key] = clean_tag(tag)
    return tuple(display.items())


def _tags(
    query: Query, candidates: Sequence[Candidate], weights: Weights
) -> tuple[FloatArray, FloatArray, list[tuple[str, ...]]]:
    """Two tag scores per candidate, both damped for members with many tags (tag stuffing):

    * coverage: the share of the question's tags the member has (by normalized key) or names in
      their role; question tags that no candidate has and no role names do not count;
    * in text: the share of the member's tags that occur in the question's text.
    """
    query_keys = {normalize_tag(tag) for tag in query.tags} - {""}
    text_keys = text_tag_keys(query.text)
    displays: list[dict[str, str]] = []
    role_hits: list[set[str]] = []
    for candidate in candidates:
        display = dict(_tag_display(candidate.tags))
        displays.append(display)
        role_keys = text_tag_keys(candidate.role) if query_keys else frozenset()
        role_hits.append({key for key in query_keys if tag_in_text(key, role_keys)})
    known = set().union(*displays, *role_hits) & query_keys if candidates else set()
    # Candidates share most of their tags: each distinct key is looked up in the text once.
    in_question = {key: tag_in_text(key, text_keys) for key in set().union(*displays)}
    coverage = np.zeros(len(candidates), dtype=np.float64)
    in_text = np.zeros(len(candidates), dtype=np.float64)
    matched: list[tuple[str, ...]] = []
    for index, display in enumerate(displays):
        damping = min(1.0, weights.tag_allowance / len(display)) if display else 1.0
        by_tag = {key for key in display if key in query_keys}
        by_text = {key for key in display if key not in by_tag and in_question[key]}
        if known:
            coverage[index] = damping * len(by_tag | role_hits[index]) / len(known)
        if display:
            in_text[index] = damping * min(1.0, len(by_text) / max(len(display), 4))
        # Shown: the tags the question names, and those that stand in its text as words and
        # say something particular (a tag found only inside a compound, or a generic one
        # such as "Gemeinde", counts for the score but reads as unrelated).
        shown = by_tag | {
            key for key in by_text if key in text_keys and not explain.is_generic(display[key])
        }
        matched.append(tuple(tag for key, tag in display.items() if key in shown))
    return coverage, in_text, matched


def components(
    query: Query, candidates: Sequence[Candidate], weights: Weights = DEFAULT_WEIGHTS
) -> Components:
    """Every component score of every candidate for one question."""
    atomic = [_atomic(candidate.passages) for candidate in candidates]
    # A shared outcome's sentence counts in the lexical score, but the sentence shown is the
    # member's own (the outcome says so in ``consulted_on``).
    own = [
        tuple(index for index in sentences if not candidate.passages[index].consulted_on)
        for candidate, sentences in zip(candidates, atomic, strict=True)
    ]
    dense, best_passage = _dense(query, candidates, own, weights.dense_top)
    lexical_scores = _lexical(query, candidates, atomic)
    tag_scores, tag_text_scores, matched = _tags(query, candidates, weights)
    state_law = context.asks_about_state_law(query.text)
    size_groups = context.size_cues(query.text)
    asker_group = context.size_group(query.asker_municipality_kind)
    target_groups = set(size_groups)
    if size_groups and asker_group is not None:
        target_groups.add(asker_group)
    same_state = [
        bool(query.asker_state) and candidate.state == query.asker_state for candidate in candidates
    ]
    groups = [context.size_group(candidate.municipality_kind) for candidate in candidates]
    similar_size = [
        group is not None and (group in target_groups or group == asker_group) for group in groups
    ]
    state = np.array([state_law and same for same in same_state], dtype=np.float64)
    size = np.array(
        [bool(size_groups) and group in target_groups for group in groups], dtype=np.float64
    )
    return Components(
        dense=dense,
        lexical=lexical_scores,
        tags=tag_scores,
        tags_text=tag_text_scores,
        state=state,
        size=size,
        same_state=same_state,
        similar_size=similar_size,
        best_passage=best_passage,
        matched_tags=matched,
        state_law=state_law,
        size_groups=size_groups,
    )


def relevance(parts: Components, weights: Weights = DEFAULT_WEIGHTS) -> FloatArray:
    """Relevance in [0, 1] from the component scores."""
    logits = (
        weights.bias
        + weights.dense * parts.dense
        + weights.lexical * parts.lexical
        + weights.tags * parts.tags
        + weights.tags_text * parts.tags_text
        + weights.state * parts.state
        + weights.size * parts.size
    )
    return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float64)


def _centroid(candidate: Candidate) -> npt.NDArray[np.float32] | None:
    if candidate.centroid is not None:
        given = np.asarray(candidate.centroid, dtype=np.float32).ravel()
        norm = float(np.linalg.norm(given))
        return None if norm == 0 else (given / norm).astype(np.float32)
    vectors = [p.vector for p in candidate.passages if p.vector is not None]
    if not vectors:
        return None
    mean = np.mean([np.asarray(v, dtype=np.float32).ravel() for v in vectors], 0)
    norm = float(np.linalg.norm(mean))
    return None if norm == 0 else (mean / norm).astype(np.float32)


def _is_duplicate(
    centroid: npt.NDArray[np.float32] | None,
    chosen: list[npt.NDArray[np.float32]],
    threshold: float,
) -> bool:
    return centroid is not None and any(
        c.shape == centroid.shape and float(c @ centroid) >= threshold for c in chosen
    )


def _context_phrases(parts: Components, index: int) -> list[str]:
    phrases: list[str] = []
    if parts.state[index] > 0:
        phrases.append("gleiches Bundesland (Landesrecht)")
    if parts.size[index] > 0:
        phrases.append("ähnliche Gemeindegröße")
    return phrases


def select(
    candidates: Sequence[Candidate],
    scores: FloatArray,
    *,
    limit: int,
    per_municipality: int = 1,
    duplicate_similarity: float = DEFAULT_WEIGHTS.duplicate_similarity,
) -> tuple[list[int], set[int]]:
    """The indexes of the candidates to show, best first, and those of them that were moved down
    as near-duplicates: by score (ties by member id), at most `per_municipality` per
    municipality (0: no cap), near-duplicate profiles after all others."""
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], candidates[i].member_id))

    per_place: dict[str, int] = {}
    chosen: list[int] = []
    deferred: list[int] = []
    centroids: list[npt.NDArray[np.float32]] = []
    for index in order:
        candidate = candidates[index]
        if per_municipality > 0 and per_place.get(candidate.municipality_id, 0) >= per_municipality:
            continue
        centroid = _centroid(candidate)
        if _is_duplicate(centroid, centroids, duplicate_similarity):
            deferred.append(index)
            continue
        per_place[candidate.municipality_id] = per_place.get(candidate.municipality_id, 0) + 1
        chosen.append(index)
        if centroid is not None:
            centroids.append(centroid)
        if len(chosen) >= limit:
            break
    moved: set[int] = set()
    for index in deferred:
        if len(chosen) >= limit:
            break
        municipality_id = candidates[index].municipality_id
        if per_municipality > 0 and per_place.get(municipality_id, 0) >= per_municipality:
            continue
        per_place[municipality_id] = per_place.get(municipality_id, 0) + 1
        chosen.append(index)
        moved.add(index)
    return chosen, moved


@dataclass(frozen=True, slots=True)
class Ranking:
    """The suggestions for a question, and how well its best candidate fits it at least partly
    (``fit.Fits.coverage``; below ``fit.FIT_MODEL.covered_from``: a gap). ``coverage`` is over
    every candidate, not only those shown."""

    suggestions: list[Suggestion]
    coverage: float
    # With ``ranked(audience=N)``: every candidate who fits at least partly with a probability
    # of ``fit.FitModel.reaches_from``, best fitting first, at most N: whom an open question is
    # shown to.
    audience: list[Suggestion] = field(default_factory=list)
    # The dense score of the network's typical member the fits were judged against.
    typical_dense: float = fit.DEFAULT_TYPICAL_DENSE


def rank(
    query: Query,
    candidates: Sequence[Candidate],
    *,
    limit: int,
    per_municipality: int = 1,
    weights: Weights | None = None,
) -> list[Suggestion]:
    """The best `limit` candidates for a question, best first, each with a score in [0, 1] and
    reasons; at most `per_municipality` per municipality, near-duplicate profiles after others."""
    return ranked(
        query, candidates, limit=limit, per_municipality=per_municipality, weights=weights
    ).suggestions


def ranked(
    query: Query,
    candidates: Sequence[Candidate],
    *,
    limit: int,
    per_municipality: int = 1,
    weights: Weights | None = None,
    audience: int = 0,
) -> Ranking:
    """``rank``, with the question's coverage, and (``audience`` > 0) who fits it."""
    if not candidates:
        return Ranking([], 0.0, typical_dense=query.typical_dense or fit.DEFAULT_TYPICAL_DENSE)
    weights = weights or DEFAULT_WEIGHTS
    parts = components(query, candidates, weights)
    relevant = relevance(parts, weights)
    typical = fit.typical_dense(parts.dense) if query.typical_dense is None else query.typical_dense
    fitting = fit.fits(relevant, parts.dense, typical)
    load = np.array(
        [
            min(1.0, max(0.0, c.open_requests / c.max_open_requests))
            if c.max_open_requests > 0
            else 1.0
            for c in candidates
        ],
        dtype=np.float64,
    )
    prior = np.array([min(1.0, max(0.0, c.feedback_prior)) for c in candidates], dtype=np.float64)
    scores = relevant * (1.0 + weights.feedback_bonus * prior) * (1.0 - weights.load_penalty * load)
    scores = np.clip(np.nan_to_num(scores, nan=0.0), 0.0, 1.0)

    def suggestion(index: int, score: float, *, near_duplicate: bool = False) -> Suggestion:
        candidate = candidates[index]
        # Rounded as stored, so that the fit read back with the question is the fit shown now.
        partly = round(float(fitting.partly[index]), 4)
        clearly = round(float(fitting.clearly[index]), 4)
        return Suggestion(
            member=_suggested_member(candidate),
            score=round(score, 6),
            fit=fit.fit_of(partly, clearly),
            reasons=Reasons(
                matched_tags=list(parts.matched_tags[index]),
                passage=_standalone(candidate, parts.best_passage[index]),
                same_state=parts.same_state[index],
                similar_size=parts.similar_size[index],
                context=_context_phrases(parts, index),
                near_duplicate=near_duplicate,
                consulted_on=_consulted_on(candidate, weights.dense_top),
                components=ScoreComponents(
                    dense=round(float(parts.dense[index]), 4),
                    lexical=round(float(parts.lexical[index]), 4),
                    tags=round(float(parts.tags[index]), 4),
                    tags_in_text=round(float(parts.tags_text[index]), 4),
                    relevance=round(float(relevant[index]), 4),
                    load=round(float(load[index]), 4),
                    feedback_prior=round(float(prior[index]), 4),
                    fits_partly=partly,
                    fits_clearly=clearly,
                ),
            ),
        )

    chosen, deferred_set = (
        select(
            candidates,
            scores,
            limit=limit,
            per_municipality=per_municipality,
            duplicate_similarity=weights.duplicate_similarity,
        )
        if limit > 0
        else ([], set())
    )
    suggestions: list[Suggestion] = []
    shown_ceiling = 1.0
    for index in chosen:
        # A near-duplicate moved down the list shows a score no higher than those above it, so
        # scores read best first, as the order does.
        shown = min(float(scores[index]), shown_ceiling)
        shown_ceiling = shown
        suggestions.append(suggestion(index, shown, near_duplicate=index in deferred_set))
    reached = [
        index
        for index in np.argsort(-fitting.partly, kind="stable")[: max(0, audience)]
        if fitting.partly[index] >= fit.FIT_MODEL.reaches_from
    ]
    return Ranking(
        suggestions,
        fitting.coverage(),
        [suggestion(int(index), float(fitting.partly[index])) for index in reached],
        typical,
    )


def _consulted_on(candidate: Candidate, top: int) -> list[str]:
    """The questions whose shared outcomes name the candidate and are among the ``top``
    passages that make their dense score."""
    passages = candidate.passages
    if not any(passage.consulted_on for passage in passages):
        return []
    best = sorted(range(len(passages)), key=lambda i: -(passages[i].similarity or 0.0))
    return list(
        dict.fromkeys(
            title for i in best[: max(1, top)] if (title := passages[i].consulted_on) is not None
        )
    )


def _standalone(candidate: Candidate, sentence: str | None) -> str | None:
    """The best sentence as shown: with the sentence before it when it leans on that one
    ("Sie regelt …"; ``explain.standalone``)."""
    if sentence is None or not explain.leans_on_previous(sentence):
        return sentence
    sentences = [candidate.passages[index].text for index in _atomic(candidate.passages)]
    if sentence not in sentences:
        return sentence
    return explain.standalone(sentences, sentences.index(sentence))


def _suggested_member(candidate: Candidate) -> SuggestedMember:
    return SuggestedMember(
        id=candidate.member_id,
        name=candidate.name,
        municipality=Municipality(
            id=candidate.municipality_id,
            name=candidate.municipality,
            state=candidate.state,
            kind=candidate.municipality_kind,
        ),
        role=candidate.role,
        tags=list(candidate.tags),
    )
