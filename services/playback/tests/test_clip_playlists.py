"""Clip playlists cut from a video's final playlists: which segments, where the clip starts."""

from __future__ import annotations

from vidmesh.playback.clip_playlists import clip_master, cut_media

MEDIA = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-START:TIME-OFFSET=0
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:1.000000,
a1/seg_00000.ts
#EXTINF:4.000000,
a1/seg_00001.ts
#EXTINF:4.000000,
b2/seg_00002.ts
#EXTINF:2.500000,
b2/seg_00003.ts
#EXT-X-ENDLIST
"""


def segments(playlist: str) -> list[str]:
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def test_a_cut_keeps_the_segments_the_range_overlaps_and_starts_inside_them() -> None:
    cut = cut_media(MEDIA, "720p", 3.5, 6.0)
    assert segments(cut.playlist) == [
        "../../../720p/a1/seg_00001.ts",
        "../../../720p/b2/seg_00002.ts",
    ]
    assert (cut.start, cut.end) == (2.5, 5.0)
    lines = cut.playlist.splitlines()
    assert "#EXT-X-MEDIA-SEQUENCE:1" in lines
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines
    assert "#EXT-X-START:TIME-OFFSET=2.500,PRECISE=YES" in lines
    assert lines[-1] == "#EXT-X-ENDLIST"
    assert "#EXT-X-START:TIME-OFFSET=0" not in lines
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" not in lines
    assert lines.count("#EXT-X-TARGETDURATION:4") == 1


def test_a_range_on_segment_boundaries_takes_no_neighbour() -> None:
    cut = cut_media(MEDIA, "audio", 1.0, 5.0)
    assert segments(cut.playlist) == ["../../../audio/a1/seg_00001.ts"]
    assert (cut.start, cut.end) == (0.0, 4.0)
    whole = cut_media(MEDIA, "audio", 0.0, 11.5)
    assert len(segments(whole.playlist)) == 4
    assert whole.end == 11.5


def test_the_clip_master_drops_iframe_playlists_and_keeps_the_rest() -> None:
    master = (
        "#EXTM3U\n"
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",URI="audio/index.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO="audio"\n720p/index.m3u8\n'
        '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="720p/iframes.m3u8"\n'
    )
    cut = clip_master(master)
    assert "iframes" not in cut
    assert "720p/index.m3u8" in cut
    assert "audio/index.m3u8" in cut
