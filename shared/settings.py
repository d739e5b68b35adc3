"""Process settings from SAELAB_* environment variables: database, broker, artifact store, secrets.

One pydantic-settings object describes where a process finds its services. The defaults are the embedded mode
(a SQLite file and a local artifact directory under ``artifacts/``, no broker = in-process worker); setting
``SAELAB_DATABASE_URL``, ``SAELAB_BROKER_URL`` and ``SAELAB_S3_ENDPOINT`` switches to the distributed mode.
Secrets are ``SecretStr`` (never printed, never logged; ``redacted()`` is the loggable view) and placeholder
secrets are refused when ``SAELAB_ENV=production``. Services may subclass ``Settings`` to add their own fields.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AnyUrl, Field, SecretStr, UrlConstraints, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DatabaseUrl = Annotated[
    AnyUrl,
    UrlConstraints(allowed_schemes=["sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"]),
]
BrokerUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["redis", "rediss", "memory"])]

PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "changethis", "secret", "password", "minioadmin", "admin", "test", "saelab"}
)
"""Values refused for any secret when SAELAB_ENV=production (compared case-insensitively)."""


class Settings(BaseSettings):
    """Where this process finds its database, broker and artifact store (env prefix ``SAELAB_``)."""

    model_config = SettingsConfigDict(
        env_prefix="SAELAB_",
        extra="ignore",
        validate_default=True,
        use_attribute_docstrings=True,
        hide_input_in_errors=True,  # a validation error must never print a secret
    )

    env: Literal["development", "production"] = "development"
    """Deployment environment; ``production`` refuses placeholder secrets."""
    database_url: DatabaseUrl = AnyUrl("sqlite:///artifacts/saelab.db")
    """SQLAlchemy URL: ``sqlite:///path.db`` (embedded) or ``postgresql+psycopg://user:pw@host:5432/db``."""
    broker_url: BrokerUrl | None = None
    """Celery broker (``redis://host:6379/0``); empty = the embedded in-process worker."""
    events_url: BrokerUrl | None = None
    """Redis for live events (pub/sub); empty = the broker URL when it is Redis, else in-process."""
    artifacts_dir: Path = Path("artifacts")
    """Local artifact directory: the store itself when no S3 endpoint is set, else the workers' cache."""
    data_roots: Annotated[tuple[Path, ...] | None, NoDecode] = None
    """Folders under which an API submission may name server-side files (corpus, model, GGUF file, import
    sources), separated by ``:`` (``os.pathsep``). Unset: the artifact directory and the shared data directory in
    embedded mode, none in distributed mode. Set but empty: none (every server path refused)."""
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    """Addresses or networks (comma-separated, ``10.0.0.0/8``) of reverse proxies whose ``X-Forwarded-For`` the
    gateway believes when it tells clients apart (rate limits); empty = the header is never believed."""
    s3_endpoint: str = ""
    """S3 endpoint ``host:port`` (no scheme); empty = the local directory store."""
    s3_access_key: SecretStr = SecretStr("")
    """S3 access key."""
    s3_secret_key: SecretStr = SecretStr("")
    """S3 secret key."""
    s3_bucket: str = "saelab"
    """Bucket holding every artifact (created when missing)."""
    s3_secure: bool = False
    """Use HTTPS for S3."""
    s3_region: str | None = None
    """S3 region (None = the server's default)."""
    api_token: SecretStr = SecretStr("")
    """Bearer token required by the gateway's mutations."""
    progress_interval: float = Field(default=1.0, ge=0)
    """Seconds between progress writes of one job to the database (live events follow the same rate)."""
    heartbeat_interval: float = Field(default=3.0, gt=0)
    """Seconds between heartbeats of a running job."""
    heartbeat_timeout: float = Field(default=15.0, gt=0)
    """A running job without a heartbeat for this long is considered lost (requeued or failed). With the default
    sweep (a third of this), a lost job is requeued within 20 s of its worker's death."""
    reaper_interval: float = Field(default=0.0, ge=0)
    """Seconds between a worker's sweeps for lost jobs (0 = a third of the heartbeat timeout)."""
    max_attempts: int = Field(default=3, ge=1)
    """Deliveries of one job before a lost or transiently failing job is failed for good."""
    retry_backoff: float = Field(default=2.0, gt=0)
    """Base seconds of the exponential backoff between retries of transient errors."""
    explainer_base_url: str = ""
    """OpenAI-compatible endpoint of the LLM explainer (``https://api.openai.com/v1``, ``http://127.0.0.1:8000/v1``);
    empty = no LLM explainer configured."""
    explainer_model: str = ""
    """Model name the explainer asks that endpoint for (``gpt-4o-mini``, a local model's id)."""
    explainer_api_key: SecretStr = SecretStr("")
    """Bearer key of the explainer endpoint (empty for local servers); never logged, never returned."""
    explainer_timeout: float = Field(default=60.0, gt=0, le=3600)
    """Seconds one chat-completions request may take before it counts as failed (and is retried)."""
    broker_visibility_timeout: int = Field(default=60, ge=1)
    """Seconds before an unacknowledged task (its worker died) is redelivered by the Redis broker. Short on
    purpose: a redelivered message whose job is still running elsewhere (fresh heartbeat) or already finished is
    dropped at once, so a long task is never run twice, and nothing stays stranded in the broker."""
    broker_restore_interval: int = Field(default=10, ge=1)
    """Seconds between the worker's sweeps for unacknowledged tasks past their visibility timeout."""

    @field_validator("broker_url", "events_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        for part in value or ():
            ipaddress.ip_network(part, strict=False)  # a ValueError names the bad entry
        return value

    @field_validator("data_roots", mode="before")
    @classmethod
    def _split_roots(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(Path(part.strip()) for part in value.split(os.pathsep) if part.strip())
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.heartbeat_timeout <= self.heartbeat_interval:
            raise ValueError("heartbeat_timeout: must be longer than heartbeat_interval")
        if self.env == "production":
            self._refuse_placeholders()
        return self

    def _refuse_placeholders(self) -> None:
        secrets = {"SAELAB_API_TOKEN": self.api_token}
        if self.s3_endpoint:
            secrets |= {
                "SAELAB_S3_ACCESS_KEY": self.s3_access_key,
                "SAELAB_S3_SECRET_KEY": self.s3_secret_key,
            }
        for name, secret in secrets.items():
            if secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError(
                    f"{name}: a placeholder or empty secret is not allowed when SAELAB_ENV=production"
                )
        password = self.database_url.password
        if password is not None and password.lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "SAELAB_DATABASE_URL: a placeholder password is not allowed when SAELAB_ENV=production"
            )

    # ----------------------------------------------------------------------------------------------------------
    # Derived views
    # ----------------------------------------------------------------------------------------------------------

    @property
    def embedded(self) -> bool:
        """True when no broker is set: tasks run on the in-process worker."""
        return self.broker_url is None

    @property
    def database(self) -> str:
        """The database URL as a plain string for SQLAlchemy (contains the password: never log it)."""
        return str(self.database_url)

    @property
    def broker(self) -> str | None:
        """The broker URL as a plain string, or None in embedded mode."""
        return None if self.broker_url is None else str(self.broker_url)

    @property
    def events(self) -> str | None:
        """Redis URL for live events, or None for the in-process bus."""
        if self.events_url is not None:
            return str(self.events_url)
        if self.broker_url is not None and self.broker_url.scheme in ("redis", "rediss"):
            return str(self.broker_url)
        return None

    def redacted(self) -> dict[str, Any]:
        """Every setting with secrets and URL passwords masked: the only form that may be logged."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "**********" if value.get_secret_value() else ""
            elif isinstance(value, AnyUrl):
                value = redact_url(str(value))
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = [str(part) for part in value]
            out[name] = value
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.redacted()!r})"

    __str__ = __repr__


def redact_url(url: str) -> str:
    """``scheme://user:secret@host/db`` -> ``scheme://user:***@host/db`` (URLs without a password unchanged)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    auth, _, host = rest.rpartition("@")
    user, colon, _ = auth.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once (``get_settings.cache_clear()`` re-reads)."""
    return Settings()
