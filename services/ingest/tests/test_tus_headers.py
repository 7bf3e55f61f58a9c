"""tus header parsing: `Upload-Metadata` and `Upload-Checksum` as clients really send them."""

from __future__ import annotations

import base64
import hashlib

import pytest

from vidmesh.common.errors import InvalidArgument
from vidmesh.ingest.tus import TusHandler, parse_metadata


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_metadata_pairs_decode_and_a_bare_key_is_empty() -> None:
    header = f"filename {b64('clip.mp4')},title {b64('Été à Paris')}, is_confidential"
    assert parse_metadata(header) == {
        "filename": "clip.mp4",
        "title": "Été à Paris",
        "is_confidential": "",
    }


def test_empty_metadata_is_no_metadata() -> None:
    assert parse_metadata("") == {}
    assert parse_metadata(" , ,") == {}


@pytest.mark.parametrize(
    "value", ["not base64!", b64("x")[:-1], base64.b64encode(b"\xff").decode()]
)
def test_metadata_that_is_not_base64_text_is_refused_by_name(value: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_metadata(f"title {value}")
    assert caught.value.reason == "INVALID_HEADER"
    assert "'title'" in caught.value.message


def test_checksums_name_their_algorithm_and_carry_the_digest() -> None:
    digest = hashlib.sha256(b"abc").digest()
    hasher, expected = TusHandler._checksum(f"sha256 {base64.b64encode(digest).decode()}")
    hasher.update(b"abc")
    assert hasher.digest() == expected
    sha1, _ = TusHandler._checksum(f"sha1 {base64.b64encode(b'x' * 20).decode()}")
    assert sha1.name == "sha1"


def test_no_checksum_header_checks_nothing() -> None:
    assert TusHandler._checksum(None) == (None, b"")
    assert TusHandler._checksum("") == (None, b"")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("md5 AAAA", "UNSUPPORTED_CHECKSUM"),
        ("crc32", "UNSUPPORTED_CHECKSUM"),
        ("sha1 ***", "INVALID_HEADER"),
    ],
)
def test_unusable_checksums_are_refused(header: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        TusHandler._checksum(header)
    assert caught.value.reason == reason
