"""Field checks shared by every door that takes user text, with the documented reasons."""

from __future__ import annotations

import uuid

from vidmesh.common.errors import InvalidArgument

TITLE_MAX = 200
DESCRIPTION_MAX = 5000


def require_text(value: str, field: str, *, max_length: int) -> str:
    """A stripped, non-empty string no longer than `max_length` characters."""
    stripped = value.strip()
    if not stripped:
        raise InvalidArgument("FIELD_REQUIRED", f"'{field}' is required.", field=field)
    return limit_text(stripped, field, max_length=max_length)


def limit_text(value: str, field: str, *, max_length: int) -> str:
    """`value` unchanged, unless it is longer than `max_length` characters."""
    if len(value) > max_length:
        raise InvalidArgument(
            "FIELD_TOO_LONG",
            f"'{field}' must be at most {max_length} characters.",
            field=field,
            metadata={"max_length": str(max_length)},
        )
    return value


def parse_uuid(value: str, field: str, reason: str) -> uuid.UUID:
    """A UUID from its text form, or INVALID_ARGUMENT with `reason`."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(reason, f"'{field}' is not a valid id.", field=field) from None
