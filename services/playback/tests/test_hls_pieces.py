"""Playlist rewriting, byte ranges and object keys of the HLS listener."""

from __future__ import annotations

import pytest
from aiohttp import web

from vidmesh.common.errors import InvalidArgument
from vidmesh.common.layout import generation_prefix, published_key
from vidmesh.playback.hls import _byte_range, rewrite_playlist

MASTER = """#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360
360p/index.m3u8
#EXT-X-MEDIA:TYPE=SUBTITLES,URI="subs/en.m3u8"
"""


def test_every_uri_carries_the_token() -> None:
    rewritten = rewrite_playlist(MASTER, "a.b/c")
    assert "360p/index.m3u8?token=a.b%2Fc" in rewritten
    assert 'URI="subs/en.m3u8?token=a.b%2Fc"' in rewritten
    assert rewritten.startswith("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000")
    assert rewrite_playlist("seg.ts?x=1\n", "t") == "seg.ts?x=1&token=t\n"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 100)),
        ("bytes=100-", (100, 1000)),
        ("bytes=-10", (990, 1000)),
        ("bytes=900-5000", (900, 1000)),
    ],
)
def test_ranges(header: str, expected: tuple[int, int]) -> None:
    assert _byte_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=5-2", "bytes=-", "items=0-1", "bytes=0-1,5-6"]
)
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(web.HTTPRequestRangeNotSatisfiable):
        _byte_range(header, 1000)


def test_published_keys() -> None:
    prefix = generation_prefix("v", 2)
    assert prefix == "videos/v/generations/2"
    assert published_key(prefix, "poster.jpg") == "videos/v/generations/2/poster.jpg"
    assert published_key("p", "720p/seg_00001.ts") == "p/hls/720p/seg_00001.ts"
    with pytest.raises(InvalidArgument):
        published_key("p", "../../secret.ts")
