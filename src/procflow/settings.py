"""Runtime configuration, read from `PROCFLOW_*` environment variables."""

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from procflow.rate_policy import parse_policy, storage_uri


class Settings(BaseSettings):
    """Everything an operator can tune; defaults suit a single self-hosted node."""

    model_config = SettingsConfigDict(env_prefix="PROCFLOW_", extra="ignore", populate_by_name=True)

    database_url: str = "sqlite:///./procflow.db"
    # How long a write waits for another transaction's lock before answering 503
    # (SQLite's busy timeout; PostgreSQL's lock_timeout). PROCFLOW_SQLITE_BUSY_TIMEOUT_MS,
    # its name before it served PostgreSQL too, is still read (deprecated).
    lock_timeout_ms: int = Field(
        default=5000,
        ge=0,
        validation_alias=AliasChoices(
            "PROCFLOW_LOCK_TIMEOUT_MS", "PROCFLOW_SQLITE_BUSY_TIMEOUT_MS"
        ),
    )
    # SQLite WAL checkpoints run on a background thread this often (0: inline, in whichever
    # request's COMMIT crosses SQLite's threshold, as SQLite does by default).
    sqlite_checkpoint_ms: int = Field(default=50, ge=0, le=60_000)
    # SQLite reads the database file through a memory map of up to this size (0: with
    # read() calls). It is address space, not memory: pages stay in the OS cache.
    sqlite_mmap_mb: int = Field(default=1024, ge=0, le=1024 * 1024)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_json_depth: int = Field(default=32, ge=2)
    database_echo: bool = False
    auth_cache_seconds: float = Field(default=2.0, ge=0, le=300)
    # Safe writes: `If-Match` is honoured whenever sent; this makes it mandatory (428).
    require_if_match: bool = False
    # Idempotency keys: how long a first response is kept for replay.
    idempotency_ttl_hours: float = Field(default=24.0, ge=24.0)
    # Rate limiting: off by default; "tallyfy" mimics Tallyfy's published limits.
    rate_limit: str = "off"
    rate_limit_storage: str = "memory://"
    # Input limits (OWASP API4): arrays and strings in request bodies, page size.
    max_array_items: int = Field(default=1000, ge=1)
    max_string_chars: int = Field(default=100_000, ge=1)
    max_page_size: int = Field(default=100, ge=1)
    # Whole lists (`without_pagination=true`, `pagination=false`, `/users-list`,
    # `/guests-list`): at most this many items per request, so no request does unbounded work.
    max_unpaged_items: int = Field(default=200, ge=1)
    # What one client may hold of `procflow serve` (docs/api.md "Limits and hostile input"):
    # a request head must arrive within header_read_timeout_seconds (408), a body within
    # body_read_timeout_seconds of the request's start (408); an idle keep-alive connection
    # closes after keep_alive_timeout_seconds; a head holds at most max_header_bytes (431);
    # past max_connections (all clients) or max_connections_per_client (one address), new
    # connections get 503. 0 turns a connection ceiling off.
    header_read_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    body_read_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    keep_alive_timeout_seconds: int = Field(default=5, ge=1, le=3600)
    max_header_bytes: int = Field(default=64 * 1024, ge=4096)
    max_connections: int = Field(default=1000, ge=0)
    max_connections_per_client: int = Field(default=100, ge=0)
    # Bulk update: how many runs one `POST /runs/bulk-update` may change.
    max_bulk_items: int = Field(default=100, ge=1)
    # Webhooks (docs/webhooks.md): `procflow serve` runs a delivery worker unless
    # webhook_worker is false (then run `procflow worker` elsewhere). Outbound requests never
    # reach loopback, link-local or private addresses unless webhook_allow_private is true.
    webhook_worker: bool = True
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    webhook_max_attempts: int = Field(default=10, ge=1, le=100)
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0, le=3600)
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0, le=7 * 24 * 3600)
    webhook_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    webhook_concurrency: int = Field(default=16, ge=1, le=256)
    # E-mail (docs/email.md): sent through smtp_url (unset: written to the log instead),
    # from email_from, with links under public_url; `procflow serve` runs the mail worker
    # and reminder scheduler unless email_worker is false.
    smtp_url: str = ""
    email_from: str = "procflow@localhost"
    public_url: str = "http://127.0.0.1:8000"
    email_worker: bool = True
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    reminder_interval_seconds: float = Field(default=60.0, gt=0, le=24 * 3600)
    # Retention (docs/webhooks.md, "Retention"): events whose webhooks and e-mails are all
    # finished, and sent or failed e-mails, are deleted once older than this many days
    # (0: kept forever); one worker at a time prunes, at most once per interval.
    event_retention_days: int = Field(default=30, ge=0, le=36500)
    event_prune_interval_seconds: float = Field(default=3600.0, gt=0, le=7 * 24 * 3600)
    # Uploaded files (docs/files.md): the largest file accepted (413 above it; Tallyfy's
    # own limit is 100 MiB), and where the bytes live: a directory, or an S3-compatible
    # bucket (needs the `procflow[s3]` extra; credentials from boto3's usual sources).
    max_file_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    files_backend: Literal["directory", "s3"] = "directory"
    files_dir: str = "./procflow-files"
    files_s3_bucket: str = ""
    files_s3_prefix: str = ""
    files_s3_endpoint_url: str = ""
    files_s3_region: str = ""
    # The orphan sweeper leaves bytes younger than this alone: an upload in flight writes
    # its bytes before its row commits.
    files_sweep_grace_seconds: int = Field(default=3600, ge=0)
    # Operations (docs/deploy.md): log lines as text or JSON, each with its request id;
    # one access-log line per request; Prometheus metrics at /metrics.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = False
    metrics: bool = True
    # `procflow serve`: on SIGTERM (or Ctrl+C) requests in progress get this long to finish.
    shutdown_timeout_seconds: int = Field(default=30, ge=0, le=3600)
    # PostgreSQL only (docs/deploy.md): each worker waits for the database on this many
    # threads (0: on its event loop, one request at a time); its pool keeps
    # database_pool_size connections, opens up to database_pool_overflow more, and a request
    # that finds none free within database_pool_timeout_seconds gets 503.
    database_threads: int = Field(default=16, ge=0, le=256)
    database_pool_size: int = Field(default=16, ge=1, le=256)
    database_pool_overflow: int = Field(default=4, ge=0, le=256)
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    # `procflow serve`: worker processes on the one port (--workers overrides it).
    workers: int = Field(default=1, ge=1, le=64)

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit_spec(cls, value: str) -> str:
        parse_policy(value)  # see procflow.rate_policy and docs/api.md "Rate limiting"
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _rate_limit_store(cls, value: str) -> str:
        storage_uri(value)
        return value

    @model_validator(mode="after")
    def _bucket_named(self) -> "Settings":
        if self.files_backend == "s3" and not self.files_s3_bucket:
            raise ValueError("PROCFLOW_FILES_BACKEND=s3 needs PROCFLOW_FILES_S3_BUCKET")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
