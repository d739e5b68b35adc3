"""Settings: embedded defaults, typed URLs, secrets never shown, placeholder secrets refused in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import Settings, redact_url


def test_defaults_are_the_embedded_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SAELAB_DATABASE_URL", "SAELAB_BROKER_URL", "SAELAB_S3_ENDPOINT", "SAELAB_ENV"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert s.embedded and s.broker is None and s.events is None
    assert s.database == "sqlite:///artifacts/saelab.db"
    assert s.s3_endpoint == "" and str(s.artifacts_dir) == "artifacts"


def test_environment_switches_to_distributed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAELAB_DATABASE_URL", "postgresql+psycopg://saelab:pw@db:5432/saelab")
    monkeypatch.setenv("SAELAB_BROKER_URL", "redis://redis:6379/0")
    monkeypatch.setenv("SAELAB_S3_ENDPOINT", "minio:9000")
    s = Settings()
    assert not s.embedded
    assert s.broker == "redis://redis:6379/0" and s.events == "redis://redis:6379/0"
    assert s.database_url.host == "db"


def test_empty_broker_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAELAB_BROKER_URL", "")
    assert Settings().embedded


def test_database_url_is_typed() -> None:
    with pytest.raises(ValidationError, match="database_url"):
        Settings(database_url="mysql://user@host/db")


def test_secrets_never_appear_in_repr_or_redacted_view() -> None:
    s = Settings(
        database_url="postgresql+psycopg://saelab:db-password-123@db/saelab",
        s3_secret_key="s3-secret-456",
        api_token="api-token-789",
    )
    shown = repr(s) + str(s) + str(s.redacted())
    for secret in ("db-password-123", "s3-secret-456", "api-token-789"):
        assert secret not in shown
    assert s.redacted()["database_url"] == "postgresql+psycopg://saelab:***@db/saelab"
    assert s.s3_secret_key.get_secret_value() == "s3-secret-456"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"api_token": "changeme"}, "SAELAB_API_TOKEN"),
        ({"api_token": ""}, "SAELAB_API_TOKEN"),
        ({"api_token": "a-real-token", "s3_endpoint": "minio:9000", "s3_access_key": "minioadmin",
          "s3_secret_key": "x" * 20}, "SAELAB_S3_ACCESS_KEY"),
        ({"api_token": "a-real-token", "database_url": "postgresql+psycopg://u:changeme@db/x"}, "SAELAB_DATABASE_URL"),
    ],
)  # fmt: skip
def test_production_refuses_placeholder_secrets(env: dict[str, str], named: str) -> None:
    with pytest.raises(ValidationError) as err:
        Settings(env="production", **env)
    assert named in str(err.value)
    assert "changeme" not in str(err.value) and "minioadmin" not in str(err.value)


def test_production_accepts_real_secrets() -> None:
    s = Settings(env="production", api_token="k3y-" + "z" * 30, s3_endpoint="minio:9000",
                 s3_access_key="svc-access", s3_secret_key="q" * 32)  # fmt: skip
    assert s.env == "production"


def test_redact_url_keeps_urls_without_password() -> None:
    assert redact_url("sqlite:///artifacts/saelab.db") == "sqlite:///artifacts/saelab.db"
    assert redact_url("redis://:pw@redis:6379/0") == "redis://:***@redis:6379/0"
