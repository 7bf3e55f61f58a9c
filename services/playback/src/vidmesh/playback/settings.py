"""Playback settings (`VIDMESH_PLAYBACK_*`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from vidmesh.common.config import ServerSettings


class PlaybackSettings(ServerSettings):
    model_config = SettingsConfigDict(env_prefix="VIDMESH_PLAYBACK_", extra="ignore")

    port: int = Field(default=50053, ge=0, le=65535)
    http_port: int = Field(default=8053, ge=0, le=65535)
    gateway_address: str = "127.0.0.1:50051"
    token_ttl_seconds: int = Field(default=3600, ge=30, le=24 * 3600)
    base_url: str = Field(default="", description="Prefix of HLS URLs, e.g. https://cdn.example")
