"""Register settings from `GATE_` environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".riskgate")


def default_database_url() -> str:
    """The project-local SQLite file `.riskgate/register.db`, relative to the working directory."""
    return f"sqlite:///{DEFAULT_DATA_DIR / 'register.db'}"


class Settings(BaseSettings):
    """Where the register lives and how the service behaves; every field is `GATE_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="GATE_", frozen=True, extra="ignore")

    database_url: str = default_database_url()
    spool_dir: Path = DEFAULT_DATA_DIR / "spool"
    secret_key: str | None = None
    # An upload as sent and once gzip-decoded; ~650 bytes a finding: 256 MiB holds ~400k.
    max_upload_bytes: int = 256 * 1024 * 1024
    busy_timeout_seconds: float = 30.0
    # PostgreSQL connections per service process: workers × (pool + overflow) must stay under
    # the server's max_connections.
    db_pool_size: Annotated[int, Field(ge=1, le=200)] = 5
    db_max_overflow: Annotated[int, Field(ge=0, le=200)] = 5
    # Behind HTTPS (a TLS-terminating proxy) set GATE_SECURE_COOKIES=true: the session cookie
    # then carries `Secure` and is never sent over plain HTTP.
    secure_cookies: bool = False
    # Uploaded run times are the CI runner's claim: refuse those further in the future than
    # this clock skew, or older than this many days (a late spool replay fits comfortably).
    max_clock_skew_seconds: int = Field(default=300, ge=0, le=86_400)
    max_run_age_days: int = Field(default=365, ge=1, le=36_500)
    # Rendered pages are reused while the register's data is unchanged, at most this long
    # (bounds staleness after writes made behind the register's back); 0 turns caching off.
    page_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Form posts (the pages) are small: a bulk triage of 2,000 ids is ~30 KB.
    max_form_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Failed sign-ins and unknown API tokens per client before 429, and over how long.
    auth_failure_limit: int = Field(default=10, ge=1, le=100_000)
    auth_failure_window_seconds: int = Field(default=300, ge=1, le=86_400)


def load_settings(*, database_url: str | None = None) -> Settings:
    """Settings from the environment, with an explicit `--database` taking precedence."""
    settings = Settings()
    if database_url:
        return settings.model_copy(update={"database_url": database_url})
    return settings
