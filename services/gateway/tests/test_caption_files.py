"""Caption files rebuilt from their parsed cues: SRT to WebVTT, nothing but cues kept."""

from __future__ import annotations

import pytest

from vidmesh.common.errors import InvalidArgument
from vidmesh.gateway.captions import normalise, parse_language


def test_srt_with_windows_line_ends_becomes_clean_webvtt() -> None:
    srt = "\ufeff1\r\n00:00:01,000 --> 00:00:02,000\r\nOne\r\nline two\r\n\r\n"
    text, count = normalise(srt.encode())
    assert count == 1
    assert text == "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nOne\nline two\n"


def test_only_cues_survive() -> None:
    vtt = (
        "WEBVTT\n\nSTYLE\n::cue { color: red }\n\n00:00:00.000 --> 00:01:00.000 line:0\n<i>Hi</i>\n"
    )
    text, count = normalise(vtt.encode())
    assert count == 1
    assert "STYLE" not in text
    assert "color" not in text
    assert text.endswith("00:00:00.000 --> 00:01:00.000 line:0\n<i>Hi</i>\n")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe\x00W", "INVALID_ENCODING"),
        (b"WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nbackwards\n", "INVALID_CAPTIONS"),
        (b"1\n00:00:01,000 -> 00:00:02,000\nnot an arrow\n", "INVALID_CAPTIONS"),
    ],
)
def test_bad_files_are_refused_with_a_reason(content: bytes, reason: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        normalise(content)
    assert refused.value.reason == reason


@pytest.mark.parametrize("tag", ["en", "fr-CA", "zh-Hant-TW", "sgn-BE-FR"])
def test_language_tags_players_use_are_accepted(tag: str) -> None:
    assert parse_language(tag) == tag


@pytest.mark.parametrize("tag", ["", "e", "english language", "en_US", "x" * 40, 'en"'])
def test_other_tags_are_refused(tag: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_language(tag)
