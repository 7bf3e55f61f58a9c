"""Text and number checks shared by every door."""

from __future__ import annotations

import pytest

from vidmesh.common.errors import InvalidArgument
from vidmesh.common.validation import (
    limit_text,
    parse_byte_count,
    require_text,
    without_control_characters,
)


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "esc\x1b[31m", "del\x7f", "\x0b"])
def test_control_characters_are_refused_with_their_field(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        limit_text(text, "title", max_length=200)
    assert (caught.value.reason, caught.value.field) == ("INVALID_CHARACTERS", "title")


def test_ordinary_whitespace_and_unicode_pass() -> None:
    assert limit_text("line one\nline two\r\n\ttabbed", "d", max_length=100).startswith("line")
    assert require_text("  Été à Zürich 🎬 ", "title", max_length=200) == "Été à Zürich 🎬"


def test_tool_output_is_cleaned_for_messages() -> None:
    assert without_control_characters("\x1b[31merror\x1b[0m: bad\x00") == " [31merror [0m: bad "


@pytest.mark.parametrize("value", ["", "-1", "1e3", " 12", "²", "١٢", "9" * 20, str(2**63), "0x10"])
def test_byte_counts_are_ascii_digits_within_int64(value: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_byte_count(value, "Upload-Length")
    assert caught.value.reason == "INVALID_HEADER"


def test_byte_counts() -> None:
    assert parse_byte_count("0", "x") == 0
    assert parse_byte_count(str(2**63 - 1), "x") == 2**63 - 1
