"""Settings shared by every service, read from `VIDMESH_*` environment variables.

Shared names (`VIDMESH_DATABASE_URL`, `VIDMESH_NATS_URL`, `VIDMESH_STORAGE_URL`, `VIDMESH_JWT_*`)
are read the same way everywhere; each service adds its own `VIDMESH_<SERVICE>_*` settings by
subclassing `ServerSettings`.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Configuration every service reads with the same names."""

    model_config = SettingsConfigDict(env_prefix="VIDMESH_", extra="ignore")

    database_url: str = "postgresql+psycopg://vidmesh@127.0.0.1:5432/vidmesh"
    nats_url: str = "nats://127.0.0.1:4222"
    storage_url: str = "file://./.vidmesh/storage"
    jwt_secret: SecretStr = Field(min_length=32)
    jwt_issuer: str = "vidmesh"
    jwt_access_ttl_seconds: int = Field(default=900, ge=30, le=900)
    playback_signing_keys: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "Comma-separated `key_id=secret` pairs for playback URL tokens: the first signs, "
            "every one verifies, so a new key is put first and the old one kept until its "
            "tokens expire. Empty: one key `primary`, the JWT secret."
        ),
    )
    log_level: str = "INFO"


class ServerSettings(BaseSettings):
    """Where a gRPC service listens and how long it drains; subclass per service."""

    model_config = SettingsConfigDict(env_prefix="VIDMESH_SERVER_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    grace_seconds: float = Field(default=10.0, ge=0)
    metrics_port: int = Field(
        default=0,
        ge=-1,
        le=65535,
        description="Port of the Prometheus `/metrics` listener (0: any free port, -1: none).",
    )
    reuse_port: bool = Field(
        default=False,
        description="Share the ports with other processes of the same service (SO_REUSEPORT).",
    )
