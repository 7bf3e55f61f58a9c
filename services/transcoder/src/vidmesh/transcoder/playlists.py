"""Reading the media playlists ffmpeg writes in a task's scratch folder."""

from __future__ import annotations

from pathlib import Path


def read_segments(playlist: Path) -> list[tuple[float, Path]]:
    """(duration, file) of every segment of a media playlist."""
    segments = []
    duration = None
    for line in playlist.read_text().splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            segments.append((duration, playlist.parent / line))
            duration = None
    return segments
