"""Field checks shared by every door that takes user text, with the documented reasons."""

from __future__ import annotations

import re
import uuid

from vidmesh.common.errors import InvalidArgument

TITLE_MAX = 200
DESCRIPTION_MAX = 5000


# C0 controls but tab, newline and carriage return, plus DEL: PostgreSQL refuses NUL in text, and
# none of these belong in a title, a name, an address or a header value.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def find_control_character(value: str) -> bool:
    """Whether `value` holds a control character that no text field accepts."""
    return _CONTROL.search(value) is not None


def without_control_characters(value: str) -> str:
    """`value` with control characters replaced by spaces (for tool output in messages)."""
    return _CONTROL.sub(" ", value)


def require_text(value: str, field: str, *, max_length: int) -> str:
    """A stripped, non-empty string no longer than `max_length` characters."""
    stripped = value.strip()
    if not stripped:
        raise InvalidArgument("FIELD_REQUIRED", f"'{field}' is required.", field=field)
    return limit_text(stripped, field, max_length=max_length)


def limit_text(value: str, field: str, *, max_length: int) -> str:
    """`value` unchanged, unless it is too long or holds control characters (such as NUL)."""
    if find_control_character(value):
        raise InvalidArgument(
            "INVALID_CHARACTERS",
            f"'{field}' contains a control character (such as NUL); remove it.",
            field=field,
        )
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


_BYTE_COUNT = re.compile(r"[0-9]{1,19}")
INT64_MAX = 2**63 - 1


def parse_byte_count(value: str, field: str) -> int:
    """A byte count from a header: ASCII digits only, within int64 (what protobuf carries)."""
    if not _BYTE_COUNT.fullmatch(value) or int(value) > INT64_MAX:
        raise InvalidArgument(
            "INVALID_HEADER", f"'{field}' must be a byte count (ASCII digits).", field=field
        )
    return int(value)
