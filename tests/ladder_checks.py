"""Checks of a published HLS ladder, read back from storage with ffprobe and ffmpeg."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vidmesh.transcoder.playlists import read_segments

# profile_idc and constraint flags as x264 writes them for each profile ffprobe names.
_PROFILES = {"High": "6400", "Main": "4d40", "Baseline": "4200", "Constrained Baseline": "42c0"}


@dataclass(frozen=True)
class Variant:
    attributes: dict[str, str]
    playlist: Path


def variants(master: Path) -> list[Variant]:
    found = []
    lines = master.read_text().splitlines()
    for line, uri in itertools.pairwise(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attrs = dict(
                (key, value.strip('"'))
                for key, value in re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1])
            )
            found.append(Variant(attrs, master.parent / uri))
    return found


def ffprobe_json(path: Path, *args: str) -> dict[str, object]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    return dict(json.loads(out))


def first_frame_is_key(segment: Path) -> bool:
    report = ffprobe_json(
        segment,
        "-select_streams",
        "v:0",
        "-read_intervals",
        "%+#1",
        "-show_entries",
        "frame=key_frame,pict_type",
    )
    frames = report["frames"]
    assert isinstance(frames, list)
    assert frames
    return bool(frames[0]["key_frame"] == 1)


def rfc_peak(segments: list[tuple[float, Path]], target: float) -> float:
    """RFC 8216 peak: the highest bitrate over runs of consecutive segments lasting 0.5-1.5x
    the target duration (the whole run when the video is shorter than that)."""
    peak = 0.0
    for start in range(len(segments)):
        seconds, bits = 0.0, 0
        for duration, path in segments[start:]:
            seconds += duration
            bits += path.stat().st_size * 8
            if seconds > 1.5 * target:
                break
            if seconds >= 0.5 * target:
                peak = max(peak, bits / seconds)
    if not peak:
        total = sum(d for d, _ in segments)
        peak = sum(p.stat().st_size for _, p in segments) * 8 / total
    return peak


def frame_count(playlist: Path) -> int:
    """Frames of the first video stream, decoded."""
    out = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0"),
            *("-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(playlist)),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout
    return int(out.decode().split()[0])


def audio_playlist(master: Path) -> Path | None:
    match = re.search(r'#EXT-X-MEDIA:TYPE=AUDIO.*URI="([^"]+)"', master.read_text())
    return master.parent / match[1] if match else None


def decode_warnings(master: Path) -> str:
    """What ffmpeg -v warning says while decoding every stream of the master."""
    decoded = subprocess.run(
        ["ffmpeg", "-v", "warning", "-i", str(master), "-map", "0", "-f", "null", "-"],
        capture_output=True,
        timeout=300,
    )
    assert decoded.returncode == 0, decoded.stderr.decode()[-500:]
    return decoded.stderr.decode().strip()


def check_ladder(master: Path, source_width: int, source_height: int) -> list[Variant]:
    """Every property ARCHITECTURE §7 promises; returns the variants for further checks."""
    found = variants(master)
    assert found, "the master lists renditions"
    short = min(source_width, source_height)
    aspect = source_width / source_height
    counts, durations = set(), []
    for variant in found:
        width, height = (int(v) for v in variant.attributes["RESOLUTION"].split("x"))
        assert width % 2 == 0
        assert height % 2 == 0
        assert min(width, height) <= max(short, 2), "never upscaled"
        assert abs(width / height - aspect) / aspect < 0.03, "aspect kept"
        segments = read_segments(variant.playlist)
        counts.add(len(segments))
        durations.append([round(seconds, 1) for seconds, _ in segments])
        audio = audio_playlist(master)
        sound = rfc_peak(read_segments(audio), 4.0) if audio else 0.0
        peak = rfc_peak(segments, 4.0) + sound
        stated = int(variant.attributes["BANDWIDTH"])
        assert peak <= stated <= 1.1 * peak, (stated, peak)
        for _, path in segments:
            assert first_frame_is_key(path), f"{path.name} starts on a keyframe"
        stream = ffprobe_json(segments[0][1], "-select_streams", "v:0", "-show_streams")["streams"]
        assert isinstance(stream, list)
        info = stream[0]
        assert (info["width"], info["height"]) == (width, height)
        expected = f"avc1.{_PROFILES[info['profile']]}{int(info['level']):02x}"
        assert variant.attributes["CODECS"].split(",")[0] == expected
    assert len(counts) == 1, "equal segment counts across rungs"
    assert all(d == durations[0] for d in durations), "equal segment durations across rungs"
    assert decode_warnings(master) == "", "no timestamp or corruption warnings end to end"
    return found
