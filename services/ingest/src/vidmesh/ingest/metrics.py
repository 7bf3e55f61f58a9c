"""Ingest's Prometheus metrics: uploads started, committed and rejected, and bytes received.

`kind` is `one_shot` (a single call: gRPC client streaming or REST PUT) or `resumable` (tus,
resumable gRPC sessions); `reason` is the machine reason the uploader was given.
"""

from __future__ import annotations

from prometheus_client import Counter

UPLOADS_STARTED = Counter(
    "vidmesh_uploads_started_total", "Uploads that began receiving bytes.", ["kind"]
)
UPLOADS_COMMITTED = Counter(
    "vidmesh_uploads_committed_total",
    "Uploads whose original was stored and whose transcode was queued.",
    ["kind"],
)
UPLOADS_REJECTED = Counter(
    "vidmesh_uploads_rejected_total",
    "Uploads refused or abandoned, by the reason given (TOO_LARGE, UNSUPPORTED_MEDIA, ...).",
    ["reason"],
)
UPLOAD_BYTES = Counter("vidmesh_upload_received_bytes_total", "Upload bytes stored in the spool.")


def kind(resumable: bool) -> str:
    return "resumable" if resumable else "one_shot"
