"""Reading the media playlists ffmpeg writes in a task's scratch folder."""

from __future__ import annotations

from pathlib import Path

from vidmesh.transcoder.playlists import read_segments


def test_segments_come_with_their_durations_in_order(tmp_path: Path) -> None:
    playlist = tmp_path / "index.m3u8"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:3\n"
        "#EXTINF:4.000000,\nseg_00003.ts\n#EXTINF:3.966667,\nseg_00004.ts\n#EXT-X-ENDLIST\n"
    )
    assert read_segments(playlist) == [
        (4.0, tmp_path / "seg_00003.ts"),
        (3.966667, tmp_path / "seg_00004.ts"),
    ]


def test_a_playlist_still_being_written_lists_only_whole_entries(tmp_path: Path) -> None:
    playlist = tmp_path / "index.m3u8"
    playlist.write_text("#EXTM3U\n#EXTINF:4.0,\nseg_00000.ts\n#EXTINF:4.0,\n")
    assert read_segments(playlist) == [(4.0, tmp_path / "seg_00000.ts")]


def test_an_empty_playlist_has_no_segments(tmp_path: Path) -> None:
    playlist = tmp_path / "index.m3u8"
    playlist.write_text("#EXTM3U\n")
    assert read_segments(playlist) == []
