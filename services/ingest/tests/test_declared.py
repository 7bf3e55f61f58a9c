"""What a client declares before it sends bytes: the same checks for the three doors."""

from __future__ import annotations

import pytest

from vidmesh.common.errors import InvalidArgument
from vidmesh.ingest.intake import Declared, check_declared

SHA = "A" * 64


def test_a_good_declaration_is_kept_with_its_hash_in_lower_case() -> None:
    checked = check_declared(Declared(title="  A trip ", size_bytes=10, sha256=f" {SHA} "))
    assert checked.sha256 == "a" * 64
    assert checked.size_bytes == 10
    assert checked.title == "A trip"


@pytest.mark.parametrize(
    ("declared", "reason"),
    [
        (Declared(title="", size_bytes=1), "FIELD_REQUIRED"),
        (Declared(title="   ", size_bytes=1), "FIELD_REQUIRED"),
        (Declared(title="x" * 201, size_bytes=1), "FIELD_TOO_LONG"),
        (Declared(title="t", size_bytes=-1), "INVALID_SIZE"),
        (Declared(title="t", size_bytes=2**63), "INVALID_SIZE"),
        (Declared(title="t", size_bytes=1, sha256="abc"), "INVALID_SHA256"),
        (Declared(title="t", size_bytes=1, sha256="g" * 64), "INVALID_SHA256"),
        (Declared(title="t", size_bytes=1, filename="a\x00b"), "INVALID_CHARACTERS"),
        (Declared(title="t", size_bytes=1, request_id="r" * 65), "FIELD_TOO_LONG"),
    ],
)
def test_bad_declarations_are_refused_with_a_reason(declared: Declared, reason: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_declared(declared)
    assert caught.value.reason == reason
