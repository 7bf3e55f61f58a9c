"""Playback's Prometheus metrics: HLS requests and bytes by what was asked for and how.

`kind` is playlist, segment or image; `access` is public (a bare URL, the cacheable kind) or
signed; `code` the HTTP status (304 is a conditional hit, 302 a presigned redirect). Requests a
CDN or shared cache answered never reach playback: hits ÷ (hits + these) is the cache ratio.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from aiohttp import web
from prometheus_client import Counter

HLS_REQUESTS = Counter(
    "vidmesh_playback_requests_total",
    "HLS requests answered, by kind, access and status code.",
    ["kind", "access", "code"],
)
HLS_BYTES = Counter(
    "vidmesh_playback_sent_bytes_total",
    "HLS body bytes sent (as declared by Content-Length), by kind and access.",
    ["kind", "access"],
)
_KINDS = {".m3u8": "playlist", ".ts": "segment", ".m4s": "segment", ".mp4": "segment"}


def record(request: web.Request, status: int, length: int | None) -> None:
    """Count one HLS answer (`length`: body bytes of a GET, when there was a body)."""
    kind = _KINDS.get(PurePosixPath(request.match_info.get("path", "")).suffix, "image")
    access = "signed" if request.query.get("token") else "public"
    HLS_REQUESTS.labels(kind, access, str(status)).inc()
    if length and request.method == "GET":
        HLS_BYTES.labels(kind, access).inc(length)
