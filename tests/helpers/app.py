"""The application as tests configure it."""

from __future__ import annotations

from service.config import Settings

ADMIN_TOKEN = "test-coordinator-token-0123456789"
COORDINATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def make_settings(database_url: str | None = None, **overrides: object) -> Settings:
    """Settings for a test's application: the coordinator's token (unless another is given),
    no migrations at start (the test databases are migrated), anything else as given."""
    given: dict[str, object] = {"admin_token": ADMIN_TOKEN, **overrides}
    return Settings(
        database_url=database_url,
        migrate_on_start=False,
        **given,  # type: ignore[arg-type]
    )
