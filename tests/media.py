"""Test media made on the spot with ffmpeg's lavfi sources (nothing binary is checked in)."""

from __future__ import annotations

import subprocess
from pathlib import Path

TONE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


def clip(
    path: Path,
    *,
    size: str = "320x180",
    seconds: float = 2.0,
    rate: int = 25,
    audio: bool = True,
    vcodec: str = "libx264",
    extra: tuple[str, ...] = (),
    faststart: bool = True,
    rotate: int = 0,
) -> Path:
    """A test-pattern clip with a tone; options for the awkward cases."""
    if path.exists():
        return path
    if rotate:
        # ffmpeg 5.1 writes rotation metadata (a display matrix) only when stream-copying.
        upright = clip(path.with_name(f"upright-{path.name}"), size=size, seconds=seconds)
        _ffmpeg("-i", str(upright), "-c", "copy", "-metadata:s:v:0", f"rotate={rotate}", str(path))
        return path
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        inputs += [*TONE[:-1], f"{TONE[-1]}:duration={seconds}"]
    codec = ["-c:v", vcodec, "-pix_fmt", "yuv420p"] if vcodec == "libx264" else ["-c:v", vcodec]
    if vcodec == "libx264":
        codec += ["-preset", "ultrafast"]
    audio_codec = ["-c:a", "aac", "-b:a", "64k"] if audio and path.suffix != ".webm" else []
    flags = ["-movflags", "+faststart"] if faststart and path.suffix == ".mp4" else []
    _ffmpeg(*inputs, *codec, *audio_codec, *extra, *flags, "-shortest", str(path))
    return path


def audio_only(path: Path) -> Path:
    if not path.exists():
        _ffmpeg(*TONE[:-1], f"{TONE[-1]}:duration=2", "-c:a", "aac", str(path))
    return path


def truncated(source: Path, path: Path, keep: float = 0.6) -> Path:
    """The first `keep` of a file, as an interrupted copy would leave it."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path
