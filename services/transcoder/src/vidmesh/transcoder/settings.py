"""Transcoder settings (`VIDMESH_TRANSCODER_*`)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from vidmesh.common.config import ServerSettings
from vidmesh.common.ports import DEFAULT_PORTS, local_address


class TranscoderSettings(ServerSettings):
    model_config = SettingsConfigDict(env_prefix="VIDMESH_TRANSCODER_", extra="ignore")

    port: int = Field(default=DEFAULT_PORTS.transcoder, ge=0, le=65535)
    metrics_port: int = Field(default=DEFAULT_PORTS.transcoder_metrics, ge=-1, le=65535)
    gateway_address: str = local_address(DEFAULT_PORTS.gateway)
    work_dir: Path = Path(".vidmesh/transcoder")
    worker_name: str = Field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    attempts: int = Field(default=3, ge=1, le=20)
    ack_wait_seconds: float = Field(default=60.0, ge=1)
    heartbeat_seconds: float = Field(default=10.0, gt=0)
    stall_seconds: float = Field(default=60.0, gt=0)
    backoff_seconds: float = Field(default=5.0, ge=0)
    progress_interval_seconds: float = Field(default=2.0, ge=0)
    preset: str = "veryfast"
    slots: int = Field(
        default=2, ge=1, le=16, description="Tasks one worker runs at once (urgent lane first)."
    )
    bulk_niceness: int = Field(
        default=19, ge=0, le=19, description="nice value of bulk chunk encodes (0: none)."
    )
    chunk_seconds: int = Field(
        default=32, ge=4, le=600, multiple_of=4, description="Length of chunks after the first."
    )
    reconcile_seconds: float = Field(
        default=60.0, gt=0, description="How often videos without a queued job are looked for."
    )
    stale_seconds: float = Field(
        default=600.0, gt=0, description="How long a waiting video is left alone before that."
    )
