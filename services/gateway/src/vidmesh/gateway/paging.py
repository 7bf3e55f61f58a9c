"""Opaque AIP-158 page tokens for keyset paging on (created_at, id), newest first, or on
(rank, created_at, id) for search results, best match first.

A token carries the last item's sort key and a fingerprint of the query; reusing it with other
filters is INVALID_ARGUMENT, as AIP-158 asks. Keyset paging gives no duplicates and no gaps
even while videos are added between pages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from vidmesh.common.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Cursor:
    created_at: datetime
    video_id: uuid.UUID
    # The search rank of the last item (search listings only); floats survive JSON exactly.
    rank: float | None = None


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument(
            "INVALID_PAGE_SIZE", "'page_size' must not be negative.", field="page_size"
        )
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def encode_token(cursor: Cursor, query: str) -> str:
    payload: dict[str, object] = {
        "c": cursor.created_at.isoformat(),
        "i": str(cursor.video_id),
        "q": query,
    }
    if cursor.rank is not None:
        payload["r"] = cursor.rank
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, query: str) -> Cursor | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        rank = payload.get("r")
        if rank is not None and not isinstance(rank, int | float):
            raise TypeError("rank")
        cursor = Cursor(
            datetime.fromisoformat(payload["c"]),
            uuid.UUID(payload["i"]),
            None if rank is None else float(rank),
        )
        matches = payload["q"] == query
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidArgument(
            "INVALID_PAGE_TOKEN", "'page_token' is not valid.", field="page_token"
        ) from None
    if not matches:
        raise InvalidArgument(
            "INVALID_PAGE_TOKEN",
            "'page_token' belongs to a listing with other filters.",
            field="page_token",
        )
    return cursor
