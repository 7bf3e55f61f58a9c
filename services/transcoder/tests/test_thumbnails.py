"""The storyboard of a long video picks every n-th keyframe (more segments than tiles)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from vidmesh.transcoder.command import storyboard_command


def test_a_storyboard_can_skip_keyframes(tmp_path: Path) -> None:
    playlist = tmp_path / "index.m3u8"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:d=12"),
            *("-c:v", "libx264", "-g", "10", "-f", "hls", "-hls_time", "1", str(playlist)),
        ],
        check=True,
        timeout=60,
    )
    sprite = tmp_path / "storyboard.jpg"
    argv = storyboard_command(
        playlist, sprite, every=3, columns=2, rows=2, tile_width=32, tile_height=24
    )
    subprocess.run(argv, check=True, capture_output=True, timeout=60)
    size = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-show_entries", "stream=width,height"),
            *("-of", "csv=p=0", str(sprite)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.decode()
    assert size.strip() == "64,48", "2x2 tiles of 32x24"
