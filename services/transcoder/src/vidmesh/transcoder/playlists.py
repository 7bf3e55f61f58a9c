"""The master playlist, written from what was actually encoded.

ffmpeg 5.1 writes a nominal BANDWIDTH that can be below the real peak, which makes players pick
rungs they cannot sustain; here BANDWIDTH is the peak segment bitrate measured from the files,
AVERAGE-BANDWIDTH the mean, and CODECS the real profile and level of each rung.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from vidmesh.common.media import run_ffprobe
from vidmesh.transcoder.ladder import Plan, Rung

_PROFILES = {"High": "6400", "Main": "4d40", "Baseline": "42e0", "Constrained Baseline": "42e0"}


@dataclass(frozen=True, slots=True)
class RenditionReport:
    rung: Rung
    bandwidth: int
    average_bandwidth: int
    codecs: str
    segments: int
    duration: float


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


async def avc_codec(segment: Path) -> str:
    """RFC 6381 `avc1.PPCCLL` of a segment's video stream."""
    report = await run_ffprobe(segment, "-select_streams", "v:0")
    stream = report["streams"][0]
    profile = _PROFILES.get(str(stream.get("profile", "")), "4d40")
    level = int(stream.get("level") or 31)
    return f"avc1.{profile}{level:02x}"


async def measure(out_dir: Path, plan: Plan) -> list[RenditionReport]:
    async def one(rung: Rung) -> RenditionReport:
        segments = read_segments(out_dir / rung.name / "index.m3u8")
        if not segments:
            raise ValueError(f"{rung.name} has no segments")
        sizes = [(seconds, path.stat().st_size) for seconds, path in segments]
        peak = max(size * 8 / max(seconds, 0.5) for seconds, size in sizes)
        total_seconds = sum(seconds for seconds, _ in sizes)
        average = sum(size for _, size in sizes) * 8 / max(total_seconds, 0.001)
        codecs = await avc_codec(segments[0][1])
        if plan.has_audio:
            codecs += ",mp4a.40.2"
        return RenditionReport(
            rung=rung,
            bandwidth=int(peak * 1.05),
            average_bandwidth=int(average),
            codecs=codecs,
            segments=len(segments),
            duration=total_seconds,
        )

    return list(await asyncio.gather(*(one(rung) for rung in plan.rungs)))


def master_playlist(reports: list[RenditionReport], frame_rate: float) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for report in sorted(reports, key=lambda r: r.bandwidth, reverse=True):
        rung = report.rung
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={report.bandwidth},"
            f"AVERAGE-BANDWIDTH={report.average_bandwidth},"
            f"RESOLUTION={rung.width}x{rung.height},"
            f"FRAME-RATE={frame_rate:.3f},"
            f'CODECS="{report.codecs}"'
        )
        lines.append(f"{rung.name}/index.m3u8")
    return "\n".join(lines) + "\n"
