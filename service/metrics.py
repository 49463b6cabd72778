"""The service's Prometheus metrics (``GET /metrics``, api/routes/metrics.py).

Every label is a fixed word (a route template, a status class, a stage, an outcome), never an
id, a name or an address. With several workers, ``peerconsult serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before the workers start, so every worker
writes its samples there and a scrape of any worker adds all of them up (prometheus-client's
multiprocess mode); gauges of connections in use are summed over the live workers. Figures
that live in the database (e-mail waiting in the outbox) are read at each scrape.
"""

from __future__ import annotations

import os

from prometheus_client import Counter, Gauge, Histogram

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIRECTORY))


# Seconds: from a cached page (a few ms) to a slow import request.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_SECONDS = Histogram(
    "peerconsult_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and status class",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
STAGE_SECONDS = Histogram(
    "peerconsult_question_stage_duration_seconds",
    "Time spent in each stage of answering a question (embedding, candidates, ranking, …)",
    ["stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
QUESTIONS = Counter("peerconsult_questions_asked_total", "Questions asked")
INVITATIONS = Counter(
    "peerconsult_invitations_total",
    "Invitations by what became of them: sent, accepted, declined, withdrawn, expired",
    ["outcome"],
)
OFFERS = Counter(
    "peerconsult_offers_total",
    "Offers of help on open questions by what became of them: sent, accepted, declined, withdrawn",
    ["outcome"],
)
DIGESTS = Counter(
    "peerconsult_digests_total",
    "Digest e-mails by frequency: daily, weekly (those with nothing new are not sent)",
    ["frequency"],
)
EMAILS = Counter(
    "peerconsult_emails_total", "E-mail delivery attempts by outcome: sent, failed", ["outcome"]
)
FAILED_SIGN_INS = Counter(
    "peerconsult_failed_sign_ins_total",
    "Failed authentications (a wrong token or link), by interface: api, web",
    ["interface"],
)
HOUSEKEEPING_RUNS = Counter(
    "peerconsult_housekeeping_runs_total", "Housekeeping rounds done (by whichever worker)"
)
HOUSEKEEPING_ROWS = Counter(
    "peerconsult_housekeeping_rows_total",
    "Rows housekeeping expired or deleted, by kind",
    ["kind"],
)
POOL_IN_USE = Gauge(
    "peerconsult_db_pool_connections_in_use",
    "Database connections in use, summed over the live workers",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "peerconsult_db_pool_connections",
    "Database connections open, summed over the live workers",
    multiprocess_mode="livesum",
)


def status_class(status: int) -> str:
    return f"{status // 100}xx"
