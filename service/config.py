"""Settings from the environment (see README, "Configuration")."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.embedding import DEFAULT_MODEL

MIN_ADMIN_TOKEN_LENGTH = 16


class Settings(BaseSettings):
    """Operator configuration; every field has an environment variable."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    # A streaming replica of it for reads that may lag by a second (candidate retrieval).
    read_database_url: str | None = Field(
        default=None, validation_alias="PEERCONSULT_READ_DATABASE_URL"
    )
    data_dir: Path = Field(default=Path("var/pgdata"), validation_alias="PEERCONSULT_DATA_DIR")
    admin_token: SecretStr | None = Field(default=None, validation_alias="PEERCONSULT_ADMIN_TOKEN")
    # Prometheus scrapes GET /metrics with this bearer token; unset, the route does not exist.
    metrics_token: SecretStr | None = Field(
        default=None, validation_alias="PEERCONSULT_METRICS_TOKEN"
    )
    embedding_model: str = Field(
        default=DEFAULT_MODEL, validation_alias="PEERCONSULT_EMBEDDING_MODEL"
    )
    # Threads for matrix work in each process; `serve --workers N` gives each worker its share
    # of the cores (oversubscribed cores make every embedding many times slower).
    embedding_threads: int | None = Field(
        default=None, ge=1, le=256, validation_alias="PEERCONSULT_EMBEDDING_THREADS"
    )
    max_body_bytes: int = Field(default=1_000_000, validation_alias="PEERCONSULT_MAX_BODY_BYTES")
    # Signs the web interface's session cookies; derived from the admin token when unset.
    session_secret: SecretStr | None = Field(
        default=None, validation_alias="PEERCONSULT_SESSION_SECRET"
    )
    smtp_url: SecretStr | None = Field(default=None, validation_alias="PEERCONSULT_SMTP_URL")
    # The address members open; every link in an e-mail leads under it. `peerconsult serve`
    # sets it to the address it listens on when it is not given.
    public_url: str | None = Field(default=None, validation_alias="PEERCONSULT_PUBLIC_URL")
    # The session cookie's Secure flag: "auto" sets it when the request came over https
    # (directly, or as a trusted proxy says) or the public address is https.
    cookie_secure: Literal["auto", "true", "false"] = Field(
        default="auto", validation_alias="PEERCONSULT_COOKIE_SECURE"
    )
    # Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (addresses or networks,
    # separated by commas; "*" for any): Uvicorn's forwarded-allow-ips.
    trusted_proxies: str = Field(default="", validation_alias="PEERCONSULT_TRUSTED_PROXIES")
    # How often each worker looks for e-mail to send (sign-in links wait at most this long).
    outbox_interval_seconds: float = Field(
        default=5.0, gt=0, le=3600, validation_alias="PEERCONSULT_OUTBOX_INTERVAL_SECONDS"
    )
    request_expiry_days: int = Field(
        default=14, ge=1, le=365, validation_alias="PEERCONSULT_REQUEST_EXPIRY_DAYS"
    )
    # Delivered (or given up) e-mail is deleted from the outbox after this many days.
    outbox_retention_days: int = Field(
        default=30, ge=1, le=3650, validation_alias="PEERCONSULT_OUTBOX_RETENTION_DAYS"
    )
    # Failed sign-ins (wrong tokens, links that do not work): this many from one client within
    # the window → 429 for wrong ones until the window has passed; valid ones always work.
    auth_failure_limit: int = Field(
        default=10, ge=1, validation_alias="PEERCONSULT_AUTH_FAILURE_LIMIT"
    )
    auth_failure_window_seconds: int = Field(
        default=300, ge=1, validation_alias="PEERCONSULT_AUTH_FAILURE_WINDOW_SECONDS"
    )
    # Asking for sign-in links and applying: this many from one client within the window (a
    # meeting of 60 people on one Wi-Fi asks for about as many in ten minutes).
    email_request_limit: int = Field(
        default=150, ge=1, validation_alias="PEERCONSULT_EMAIL_REQUEST_LIMIT"
    )
    email_request_window_seconds: int = Field(
        default=600, ge=1, validation_alias="PEERCONSULT_EMAIL_REQUEST_WINDOW_SECONDS"
    )
    migrate_on_start: bool = Field(default=True, validation_alias="PEERCONSULT_MIGRATE_ON_START")
    pool_size: int = Field(default=10, ge=1, le=200, validation_alias="PEERCONSULT_POOL_SIZE")

    @field_validator("public_url")
    @classmethod
    def _public_url_is_an_address(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError(
                "PEERCONSULT_PUBLIC_URL must be an http(s) address such as "
                "https://peerconsult.example.org"
            )
        return value.rstrip("/")

    @field_validator("cookie_secure", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url", "read_database_url", "smtp_url", mode="before")
    @classmethod
    def _empty_url_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("admin_token", "session_secret", "metrics_token", mode="before")
    @classmethod
    def _secret_is_strong(cls, value: object, info: ValidationInfo) -> object:
        if value is None or value == "":
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if len(text) < MIN_ADMIN_TOKEN_LENGTH:
            variable = {
                "admin_token": "PEERCONSULT_ADMIN_TOKEN",
                "session_secret": "PEERCONSULT_SESSION_SECRET",
                "metrics_token": "PEERCONSULT_METRICS_TOKEN",
            }[str(info.field_name)]
            raise ValueError(f"{variable} must be at least {MIN_ADMIN_TOKEN_LENGTH} characters")
        return value
