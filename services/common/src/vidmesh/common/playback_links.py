"""Playback URLs as players and caches see them, built the same way by gateway and playback.

A public video's URLs are bare (`/hls/<video_id>/master.m3u8`): the same for every viewer, so a
CDN or shared cache serves them all from one copy. Every other video's URLs carry a short-lived
playback token bound to the video, its ladder and the viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vidmesh.common.tokens import TokenCodec

ANONYMOUS_VIEWER = "anonymous"


class PlaybackLinkSettings(BaseSettings):
    """Where HLS is served from and how long a playback token lives (`VIDMESH_PLAYBACK_*`)."""

    model_config = SettingsConfigDict(env_prefix="VIDMESH_PLAYBACK_", extra="ignore")

    token_ttl_seconds: int = Field(default=3600, ge=30, le=24 * 3600)
    base_url: str = Field(default="", description="Prefix of HLS URLs, e.g. https://cdn.example")


@dataclass(frozen=True, slots=True)
class PlaybackGrant:
    """The URLs of one video for one viewer: `token` is empty for a public video."""

    base: str
    token: str
    expire_time: datetime | None

    def url(self, path: str) -> str:
        """The URL of `path` (`master.m3u8`, `poster.jpg`) of the video."""
        return f"{self.base}/{path}" + (f"?token={self.token}" if self.token else "")


class PlaybackLinks:
    """Signs playback URLs for the viewers who may use them."""

    def __init__(self, codec: TokenCodec, settings: PlaybackLinkSettings | None = None) -> None:
        chosen = settings or PlaybackLinkSettings()
        self._codec = codec
        self._base = chosen.base_url.rstrip("/")
        self._ttl = timedelta(seconds=chosen.token_ttl_seconds)

    def grant(
        self, video_id: str, media_prefix: str, viewer: str | None, *, public: bool
    ) -> PlaybackGrant:
        """Bare URLs for a public video; otherwise URLs signed for `viewer` (None: anonymous)."""
        base = f"{self._base}/hls/{video_id}"
        if public:
            return PlaybackGrant(base=base, token="", expire_time=None)
        issued = self._codec.issue_playback(
            video_id, media_prefix, viewer or ANONYMOUS_VIEWER, self._ttl
        )
        return PlaybackGrant(base=base, token=issued.token, expire_time=issued.expire_time)
