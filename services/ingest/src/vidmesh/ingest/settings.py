"""Ingest settings (`VIDMESH_INGEST_*`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from vidmesh.common.config import ServerSettings
from vidmesh.common.ports import DEFAULT_PORTS, local_address


class IngestSettings(ServerSettings):
    model_config = SettingsConfigDict(env_prefix="VIDMESH_INGEST_", extra="ignore")

    port: int = Field(default=DEFAULT_PORTS.ingest, ge=0, le=65535)
    metrics_port: int = Field(default=DEFAULT_PORTS.ingest_metrics, ge=-1, le=65535)
    http_port: int = Field(default=DEFAULT_PORTS.ingest_http, ge=0, le=65535)
    gateway_address: str = local_address(DEFAULT_PORTS.gateway)
    spool_dir: Path = Path(".vidmesh/spool")
    max_size_bytes: int = Field(default=10 * 1024**3, ge=1)
    max_duration_seconds: float = Field(default=6 * 3600, gt=0)
    max_dimension: int = Field(default=7680, ge=16)
    max_pixels: int = Field(default=7680 * 4320, ge=256)
    upload_ttl_seconds: int = Field(default=24 * 3600, ge=1)
    maintenance_seconds: float = Field(
        default=2.0, gt=0, description="How often pending commits and reports are retried."
    )
    lease_renew_seconds: float = Field(
        default=60.0, gt=0, description="How often gateway hears which uploads are alive."
    )
    commit_wait_seconds: float = Field(
        default=10.0, ge=0, description="How long a request waits out an outage at commit."
    )
