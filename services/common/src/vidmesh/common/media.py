"""What a media file is, according to ffprobe (run as an asyncio subprocess)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from vidmesh.common.tracing import child_span


class ProbeFailed(Exception):
    """ffprobe could not read the file; `detail` is the end of its error output."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class VideoStream:
    codec: str
    width: int
    height: int
    rotation: int
    frame_rate: float
    avg_frame_rate: float
    pixel_format: str
    frame_count: int | None
    duration: float = 0.0

    @property
    def display_width(self) -> int:
        return self.height if self.rotation % 180 else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation % 180 else self.height


@dataclass(frozen=True, slots=True)
class MediaInfo:
    container: str
    duration: float
    size: int
    video: VideoStream | None
    audio_codecs: tuple[str, ...] = ()
    audio_channels: int = 0
    codecs: tuple[str, ...] = field(default=())
    start_time: float = 0.0

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_codecs)


def _rate(text: str | None) -> float:
    try:
        value = Fraction(text or "0")
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(value)


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list", []) or []:
        if "rotation" in side:
            return int(float(side["rotation"])) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    return int(tag) % 360 if tag else 0


def parse_probe(report: dict[str, Any]) -> MediaInfo:
    """Turn ffprobe's JSON into a MediaInfo."""
    streams = report.get("streams", [])
    fmt = report.get("format", {})
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    video = None
    if videos:
        first = videos[0]
        frames = first.get("nb_read_packets") or first.get("nb_frames")
        video = VideoStream(
            codec=str(first.get("codec_name", "")),
            width=int(first.get("width") or 0),
            height=int(first.get("height") or 0),
            rotation=_rotation(first),
            frame_rate=_rate(first.get("r_frame_rate")),
            avg_frame_rate=_rate(first.get("avg_frame_rate")),
            pixel_format=str(first.get("pix_fmt", "")),
            frame_count=int(frames) if frames not in (None, "", "N/A") else None,
            duration=float(first.get("duration") or 0.0),
        )
    duration = float(fmt.get("duration") or 0.0)
    if not duration and videos:
        duration = float(videos[0].get("duration") or 0.0)
    return MediaInfo(
        container=str(fmt.get("format_name", "")),
        duration=duration,
        size=int(fmt.get("size") or 0),
        video=video,
        audio_codecs=tuple(str(a.get("codec_name", "")) for a in audios),
        audio_channels=int(audios[0].get("channels") or 0) if audios else 0,
        codecs=tuple(str(s.get("codec_name", "")) for s in streams if s.get("codec_name")),
        start_time=float(fmt.get("start_time") or 0.0),
    )


async def run_ffprobe(path: Path | str, *extra: str, show: bool = True) -> dict[str, Any]:
    """ffprobe's JSON report on `path` (a span of the current trace); bound it with
    `probe_deadline`, which kills ffprobe when it passes."""
    with child_span("ffprobe"):
        return await _probe(path, extra, show)


@contextlib.asynccontextmanager
async def probe_deadline(seconds: float) -> AsyncIterator[None]:
    """Probes that take longer than `seconds` fail as `ProbeFailed`: a file ffprobe cannot
    read in time is treated like one it cannot read at all."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise ProbeFailed("ffprobe timed out") from None


async def _probe(path: Path | str, extra: tuple[str, ...], show: bool) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        "ffprobe",
        "-v",
        "error",
        "-print_format",
        "json",
        *(("-show_format", "-show_streams") if show else ()),
        *extra,
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await finish_or_kill(process)
    if process.returncode != 0:
        raise ProbeFailed(err.decode(errors="replace").strip()[-500:] or "ffprobe failed")
    try:
        report: dict[str, Any] = json.loads(out)
    except json.JSONDecodeError:
        raise ProbeFailed("ffprobe printed no report") from None
    return report


async def finish_or_kill(process: asyncio.subprocess.Process) -> tuple[bytes, bytes]:
    """`communicate()`, killing the child when the wait is cancelled (a caller's deadline, a
    shutdown), so no ffmpeg or ffprobe outlives the request that started it."""
    try:
        return await process.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await asyncio.shield(process.wait())
        raise


async def run_ffmpeg_once(argv: list[str], *, what: str) -> None:
    """A short ffmpeg run that makes one file (a remux, a frame), as a span of the current
    trace; OSError with ffmpeg's last words when it fails. Callers bound it with
    `asyncio.timeout` (ffmpeg is killed when it passes). Long encodes with progress are the
    transcoder's."""
    with child_span(f"ffmpeg {what}"):
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        _, errors = await finish_or_kill(process)
    if process.returncode != 0:
        raise OSError(f"ffmpeg {what} failed: {errors.decode(errors='replace')[-500:]}")


async def measure_video_duration(path: Path | str) -> float:
    """End of the last video packet, for files whose header states no duration."""
    async with probe_deadline(600.0):
        report = await run_ffprobe(
            path,
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts_time,duration_time",
            show=False,
        )
    start, end = float("inf"), 0.0
    for packet in report.get("packets", []):
        try:
            at = float(packet["pts_time"])
            end = max(end, at + float(packet.get("duration_time") or 0))
        except (KeyError, ValueError):
            continue
        start = min(start, at)
    return max(0.0, end - start) if end else 0.0


async def keyframes_before(path: Path | str, times: Sequence[float], *, start: float) -> set[float]:
    """The video keyframes a seek to each of `times` (seconds after `start`, the container's
    start time) lands on, in seconds after `start`: one seek and one packet per time, so it
    costs milliseconds where a full packet scan of a large file costs seconds. Empty when the
    file cannot seek (a WebM without cues), which callers treat as "unknown"."""
    if not times:
        return set()
    intervals = ",".join(f"{start + at:.3f}%+#1" for at in times)
    try:
        async with probe_deadline(30.0):
            report = await run_ffprobe(
                path,
                "-select_streams",
                "v:0",
                "-read_intervals",
                intervals,
                "-show_entries",
                "packet=pts_time,flags",
                show=False,
            )
    except ProbeFailed:
        return set()
    found = set()
    for packet in report.get("packets", []):
        if "K" in str(packet.get("flags", "")) and packet.get("pts_time") not in (None, "N/A"):
            found.add(round(float(packet["pts_time"]) - start, 6))
    return found


async def probe(path: Path | str, *, count_packets: bool = False) -> MediaInfo:
    """Probe a file; with `count_packets`, demux the first video stream fully to count packets."""
    extra = ("-count_packets",) if count_packets else ()
    async with probe_deadline(120.0):
        return parse_probe(await run_ffprobe(path, *extra))
