"""Playback settings (`VIDMESH_PLAYBACK_*`)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from vidmesh.common.config import ServerSettings
from vidmesh.common.playback_links import PlaybackLinkSettings
from vidmesh.common.ports import DEFAULT_PORTS, local_address


class PlaybackSettings(ServerSettings, PlaybackLinkSettings):
    model_config = SettingsConfigDict(env_prefix="VIDMESH_PLAYBACK_", extra="ignore")

    port: int = Field(default=DEFAULT_PORTS.playback, ge=0, le=65535)
    metrics_port: int = Field(default=DEFAULT_PORTS.playback_metrics, ge=-1, le=65535)
    http_port: int = Field(default=DEFAULT_PORTS.playback_http, ge=0, le=65535)
    gateway_address: str = local_address(DEFAULT_PORTS.gateway)
    public_check_seconds: float = Field(
        default=5.0,
        gt=0,
        le=10,
        description=(
            "How long a video's public status is remembered: tokenless access to a video made "
            "private or deleted stops at the origin within this time."
        ),
    )
    public_playlist_max_age: int = Field(
        default=60,
        ge=1,
        le=3600,
        description=(
            "Cache lifetime of a READY public video's playlists and images at CDNs and shared "
            "caches: a video made private stops playing through them within this time."
        ),
    )
    redirect: Literal["", "presigned"] = Field(
        default="",
        description="`presigned`: with the S3 store, answer segment requests with a 302 to a "
        "presigned object URL instead of streaming them through playback.",
    )
    work_dir: Path = Field(
        default=Path(tempfile.gettempdir()) / "vidmesh-playback",
        description="Scratch space for remuxing downloads (a rung's segments, then its MP4).",
    )
