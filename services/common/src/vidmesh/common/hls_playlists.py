"""HLS playlists of a generation, rendered from gateway's record of its finished tasks.

Nobody writes a growing playlist into the store: while a video is playable but not ready,
playback renders these from the record on every request (so two workers finishing chunks at
once can never race each other into a shorter playlist), and finalize renders the same text once
more with `#EXT-X-ENDLIST` and measured bandwidths and stores it. Variant playlists are `EVENT`
playlists that start at the beginning (`#EXT-X-START:TIME-OFFSET=0`) and list the contiguous run
of finished segments from the start, in order, whatever order the chunks finished in.

Bandwidths are measured as RFC 8216 §4.3.4.2 and Apple's authoring specification ask: the peak
is the highest bitrate over any run of consecutive segments lasting 0.5 to 1.5 times the target
duration (a single short last segment does not count alone), the average is total bits over
total time. A variant that plays with the audio rendition counts the audio's bits too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from vidmesh.common.layout import AUDIO_RENDITION, iframe_playlist, segment_name, variant_playlist
from vidmesh.v1 import video_pb2, video_state_pb2

AUDIO_GROUP = "audio"
AUDIO_CODEC = "mp4a.40.2"
# Until finalize measures the whole ladder, the first chunk's peak is scaled by this much
# (later content may be busier; capped CRF keeps the real peak near the rung's -maxrate).
ESTIMATE_MARGIN = 1.25


@dataclass(frozen=True, slots=True)
class Segment:
    duration: float
    path: str
    size: int
    keyframe_size: int


@dataclass(frozen=True, slots=True)
class Bandwidth:
    peak: int
    average: int


def peak_and_average(durations: Sequence[float], sizes: Sequence[int], target: float) -> Bandwidth:
    """RFC 8216 bandwidths (bits per second) of a run of segments."""
    total_seconds = sum(durations)
    if not durations or total_seconds <= 0:
        return Bandwidth(0, 0)
    average = sum(sizes) * 8 / total_seconds
    peak = 0.0
    for start in range(len(durations)):
        seconds = 0.0
        bits = 0
        for end in range(start, len(durations)):
            seconds += durations[end]
            bits += sizes[end] * 8
            if seconds > 1.5 * target:
                break
            if seconds >= 0.5 * target:
                peak = max(peak, bits / seconds)
    if peak == 0.0:
        # The whole video is shorter than half a target duration.
        peak = average
    return Bandwidth(math.ceil(peak), round(average))


def contiguous_chunks(
    generation: video_state_pb2.Generation,
) -> list[video_state_pb2.Generation.DoneChunk]:
    """Finished chunks from the first, up to the first gap."""
    done = {chunk.index: chunk for chunk in generation.chunks}
    run = []
    for planned in generation.plan.chunks:
        chunk = done.get(planned.index)
        if chunk is None:
            break
        run.append(chunk)
    return run


def is_complete(generation: video_state_pb2.Generation) -> bool:
    """Every chunk and the audio (if any) finished."""
    chunks_done = len(contiguous_chunks(generation)) == len(generation.plan.chunks)
    return chunks_done and (generation.audio_complete or not generation.plan.has_audio)


def _segments_of(run: video_state_pb2.SegmentRun, rendition: str) -> list[Segment]:
    sizes = next((r for r in run.renditions if r.name == rendition), None)
    result = []
    for offset, duration in enumerate(run.durations):
        size = sizes.sizes[offset] if sizes and offset < len(sizes.sizes) else 0
        key = sizes.keyframe_sizes[offset] if sizes and offset < len(sizes.keyframe_sizes) else 0
        number = run.first_segment + offset
        path = f"{run.run}/{segment_name(number)}"
        result.append(Segment(duration, path, size, key))
    return result


def video_segments(generation: video_state_pb2.Generation, rendition: str) -> list[Segment]:
    """A rung's segments of the contiguous finished chunks, paths relative to its folder."""
    segments: list[Segment] = []
    for chunk in contiguous_chunks(generation):
        segments += _segments_of(chunk.segments, rendition)
    return segments


def audio_segments(generation: video_state_pb2.Generation) -> list[Segment]:
    return _segments_of(generation.audio, AUDIO_RENDITION)


def _codecs(generation: video_state_pb2.Generation, rendition: str) -> str:
    for chunk in generation.chunks:
        for entry in chunk.segments.renditions:
            if entry.name == rendition and entry.codecs:
                return entry.codecs
    return "avc1.64001f"


def _media_playlist(
    segments: Sequence[Segment], target: int, *, ended: bool, iframes: bool = False
) -> str:
    longest = max((round(s.duration) for s in segments), default=target)
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{4 if iframes else 3}",
        f"#EXT-X-TARGETDURATION:{max(target, longest)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        "#EXT-X-START:TIME-OFFSET=0",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    if iframes:
        lines.append("#EXT-X-I-FRAMES-ONLY")
    for segment in segments:
        lines.append(f"#EXTINF:{segment.duration:.6f},")
        if iframes:
            lines.append(f"#EXT-X-BYTERANGE:{segment.keyframe_size}@0")
        lines.append(segment.path)
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def variant(generation: video_state_pb2.Generation, rendition: str, *, ended: bool) -> str:
    """A rung's media playlist."""
    segments = video_segments(generation, rendition)
    return _media_playlist(segments, generation.plan.segment_seconds, ended=ended)


def audio(generation: video_state_pb2.Generation, *, ended: bool) -> str:
    """The audio rendition's media playlist."""
    segments = audio_segments(generation)
    return _media_playlist(segments, generation.plan.segment_seconds, ended=ended)


def iframes(generation: video_state_pb2.Generation, rendition: str) -> str:
    """A rung's I-frame playlist: the keyframe that opens each segment, by byte range."""
    segments = [s for s in video_segments(generation, rendition) if s.keyframe_size > 0]
    target = generation.plan.segment_seconds
    return _media_playlist(segments, target, ended=True, iframes=True)


def _bandwidth(segments: Sequence[Segment], target: float, *, keyframes: bool = False) -> Bandwidth:
    sizes = [s.keyframe_size if keyframes else s.size for s in segments]
    return peak_and_average([s.duration for s in segments], sizes, target)


def measured_renditions(
    generation: video_state_pb2.Generation, *, final: bool
) -> list[video_pb2.Rendition]:
    """The ladder with its bandwidths: measured over every segment when `final`, else
    estimated from the first chunk."""
    plan = generation.plan
    target = float(plan.segment_seconds)
    chunks = contiguous_chunks(generation)
    sound = _bandwidth(audio_segments(generation), target) if plan.has_audio else Bandwidth(0, 0)
    if plan.has_audio and sound.peak == 0:
        sound = Bandwidth(int(plan.audio_bandwidth), int(plan.audio_bandwidth))
    result = []
    for planned in plan.renditions:
        segments = (
            video_segments(generation, planned.name)
            if final
            else (_segments_of(chunks[0].segments, planned.name) if chunks else [])
        )
        video = _bandwidth(segments, target)
        margin = 1.0 if final else ESTIMATE_MARGIN
        peak = round(video.peak * margin) if video.peak else planned.bandwidth
        average = video.average or planned.average_bandwidth or planned.bandwidth
        codecs = _codecs(generation, planned.name)
        if plan.has_audio:
            codecs += f",{AUDIO_CODEC}"
        result.append(
            video_pb2.Rendition(
                name=planned.name,
                width=planned.width,
                height=planned.height,
                bandwidth=peak + sound.peak,
                average_bandwidth=average + sound.average,
                codecs=codecs,
                frame_rate=plan.frame_rate,
            )
        )
    return result


def master(generation: video_state_pb2.Generation, *, final: bool) -> str:
    """The master playlist: every rung and the audio group from the first moment; at finalize
    with measured bandwidths and the I-frame playlists."""
    plan = generation.plan
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{4 if final else 3}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if plan.has_audio:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="Main",DEFAULT=YES,'
            f'AUTOSELECT=YES,CHANNELS="2",URI="{variant_playlist(AUDIO_RENDITION)}"'
        )
    renditions = measured_renditions(generation, final=final)
    for rendition in sorted(renditions, key=lambda r: r.bandwidth, reverse=True):
        attributes = (
            f"BANDWIDTH={rendition.bandwidth},AVERAGE-BANDWIDTH={rendition.average_bandwidth},"
            f"RESOLUTION={rendition.width}x{rendition.height},"
            f'FRAME-RATE={plan.frame_rate:.3f},CODECS="{rendition.codecs}"'
        )
        if plan.has_audio:
            attributes += f',AUDIO="{AUDIO_GROUP}"'
        lines += [f"#EXT-X-STREAM-INF:{attributes}", variant_playlist(rendition.name)]
    if final:
        for rendition in renditions:
            segments = video_segments(generation, rendition.name)
            trick = _bandwidth(segments, float(plan.segment_seconds), keyframes=True)
            video_codec = rendition.codecs.split(",", 1)[0]
            lines.append(
                f"#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH={trick.peak},"
                f"AVERAGE-BANDWIDTH={trick.average},"
                f"RESOLUTION={rendition.width}x{rendition.height},"
                f'CODECS="{video_codec}",URI="{iframe_playlist(rendition.name)}"'
            )
    return "\n".join(lines) + "\n"


def segment_uris(playlist: str) -> list[str]:
    """The URIs of a media playlist's segments, in order (relative to the playlist)."""
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def segment_durations(playlist: str) -> list[float]:
    """The `EXTINF` durations of a media playlist's segments, in order."""
    return [
        float(line[len("#EXTINF:") :].split(",", 1)[0])
        for line in playlist.splitlines()
        if line.startswith("#EXTINF:")
    ]


def first_variant(master: str) -> str | None:
    """The URI of a master playlist's first variant (`720p/index.m3u8`): its top rung."""
    lines = master.splitlines()
    for index, line in enumerate(lines[:-1]):
        if line.startswith("#EXT-X-STREAM-INF:"):
            return lines[index + 1]
    return None
