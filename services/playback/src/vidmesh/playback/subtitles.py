"""Captions as HLS subtitle renditions (RFC 8216 `EXT-X-MEDIA:TYPE=SUBTITLES`), so hls.js,
Safari and other players list and show them.

A READY video's master gets one subtitle rendition per language. Each rendition's playlist has
one WebVTT segment per video segment (the same durations, read from the top rung's playlist),
and each segment holds the cues that overlap its time with `X-TIMESTAMP-MAP` tying cue time 0
to the video's first presentation time (read from its first segment): players then line cues up
with the picture whatever the transport stream's start offset. Segment URLs carry the captions'
version, so they are immutable; a new file is a new version.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import TypeVar

from vidmesh.common.channels import ServiceCredential
from vidmesh.common.hls_playlists import first_variant, segment_durations, segment_uris
from vidmesh.common.layout import MASTER_PLAYLIST, captions_key, hls_key
from vidmesh.common.storage import MEDIA, BlobNotFound, BlobStore
from vidmesh.common.transport_stream import first_video_pts
from vidmesh.playback.sources import playback_source
from vidmesh.v1 import video_state_pb2, video_state_pb2_grpc

GROUP = "subs"
_PLAYLIST = re.compile(r"^subtitles/([A-Za-z0-9-]{2,35})/index\.m3u8$")
_SEGMENT = re.compile(r"^subtitles/([A-Za-z0-9-]{2,35})/([0-9a-f]{16})/seg_(\d{1,6})\.vtt$")
_TIMING = re.compile(r"^(\d+):(\d{2}):(\d{2})\.(\d{3}) --> (\d+):(\d{2}):(\d{2})\.(\d{3})")
# Enough of a segment's head to hold its first video PES header.
_HEAD_BYTES = 64 * 1024
_CACHED = 256
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    block: str  # the timing line and the text, as stored


def _quoted(text: str) -> str:
    """A value for a quoted-string attribute (no quote, no line break)."""
    return re.sub(r'["\r\n]', "'", text)


def with_subtitles(master: str, tracks: list[video_state_pb2.CaptionTrack]) -> str:
    """The master with a subtitle rendition per track, named by every variant."""
    if not tracks:
        return master
    media = [
        f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{GROUP}",NAME="{_quoted(track.label)}",'
        f'LANGUAGE="{track.language}",DEFAULT={"YES" if track.is_default else "NO"},'
        f"AUTOSELECT={'YES' if track.is_default else 'NO'},FORCED=NO,"
        f'URI="subtitles/{track.language}/index.m3u8"'
        for track in tracks
    ]
    lines = master.splitlines()
    out: list[str] = []
    for line in lines:
        if line.startswith("#EXT-X-STREAM-INF:"):
            if media:
                out.extend(media)
                media = []
            line = f'{line},SUBTITLES="{GROUP}"'
        out.append(line)
    return "\n".join(out) + "\n"


def subtitle_playlist(variant: str, version: str) -> str:
    """A VOD playlist of one WebVTT segment per segment of `variant`."""
    durations = segment_durations(variant)
    target = max((round(d) for d in durations), default=1)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{max(target, 1)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    for number, length in enumerate(durations):
        lines += [f"#EXTINF:{length:.6f},", f"{version}/seg_{number:05d}.vtt"]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def parse_cues(stored: str) -> list[Cue]:
    """The cues of a normalised WebVTT file (as gateway stores it)."""
    cues = []
    for block in stored.split("\n\n")[1:]:
        found = _TIMING.match(block)
        if found is None:
            continue
        h1, m1, s1, f1, h2, m2, s2, f2 = (int(part) for part in found.groups())
        start = h1 * 3600 + m1 * 60 + s1 + f1 / 1000
        end = h2 * 3600 + m2 * 60 + s2 + f2 / 1000
        cues.append(Cue(start, end, block.strip()))
    return cues


def subtitle_segment(cues: list[Cue], start: float, end: float, mpegts: int) -> str:
    """The cues overlapping [start, end), on the timeline the media's PTS `mpegts` starts."""
    body = [cue.block for cue in cues if cue.start < end and cue.end > start]
    head = f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000\n"
    return head + "".join(f"\n{block}\n" for block in body)


class Subtitles:
    def __init__(
        self,
        store: BlobStore,
        states: video_state_pb2_grpc.VideoStateServiceAsyncStub,
        credential: ServiceCredential,
    ) -> None:
        self._store = store
        self._states = states
        self._credential = credential
        self._cues: OrderedDict[str, list[Cue]] = OrderedDict()
        self._timelines: OrderedDict[str, tuple[list[float], int]] = OrderedDict()

    @staticmethod
    def is_subtitle(path: str) -> bool:
        return path.startswith("subtitles/")

    async def tracks(self, video_id: str, prefix: str) -> list[video_state_pb2.CaptionTrack]:
        """The captions of the READY ladder at `prefix` (none for another generation, or
        while the video is still being transcoded)."""
        source = await playback_source(self._states, self._credential, video_id)
        if source is None or source.media_prefix != prefix or source.HasField("live"):
            return []
        return list(source.captions)

    async def playlist(
        self, prefix: str, path: str, tracks: list[video_state_pb2.CaptionTrack]
    ) -> str | None:
        match = _PLAYLIST.match(path)
        track = next((t for t in tracks if match and t.language == match.group(1)), None)
        if track is None:
            return None
        rung = await self._top_rung(prefix)
        return subtitle_playlist(rung[1], track.version) if rung is not None else None

    async def segment(self, video_id: str, prefix: str, path: str) -> str | None:
        """A WebVTT segment; its URL names the version, so it needs no word from gateway."""
        match = _SEGMENT.match(path)
        if match is None:
            return None
        language, version, number = match.group(1), match.group(2), int(match.group(3))
        timeline = await self._timeline(prefix)
        if timeline is None:
            return None
        durations, mpegts = timeline
        if number >= len(durations):
            return None
        cues = await self._cues_of(captions_key(video_id, language, version))
        start = sum(durations[:number])
        return subtitle_segment(cues, start, start + durations[number], mpegts)

    async def _top_rung(self, prefix: str) -> tuple[str, str] | None:
        """The path and text of the ladder's top rung playlist (its segment grid)."""
        master = (await self._store.read_all(MEDIA, hls_key(prefix, MASTER_PLAYLIST))).decode()
        path = first_variant(master)
        if path is None:
            return None
        return path, (await self._store.read_all(MEDIA, hls_key(prefix, path))).decode()

    async def _timeline(self, prefix: str) -> tuple[list[float], int] | None:
        """The segment durations of the ladder and its first PTS (a READY ladder never changes,
        so both are kept for a few hundred ladders)."""
        if prefix in self._timelines:
            self._timelines.move_to_end(prefix)
            return self._timelines[prefix]
        rung = await self._top_rung(prefix)
        if rung is None:
            return None
        path, variant = rung
        uris = segment_uris(variant)
        if not uris:
            return None
        first = hls_key(prefix, f"{path.rsplit('/', 1)[0]}/{uris[0]}")
        facts = await self._store.stat(MEDIA, first)
        if facts is None:
            return None
        head = b""
        async for chunk in self._store.read(MEDIA, first, end=min(facts.size, _HEAD_BYTES)):
            head += chunk
        timeline = (segment_durations(variant), first_video_pts(head) or 0)
        self._remember(self._timelines, prefix, timeline)
        return timeline

    async def _cues_of(self, key: str) -> list[Cue]:
        """The parsed cues of one version; a version that was replaced or deleted is gone at
        once (BlobNotFound), even from this cache."""
        if await self._store.stat(MEDIA, key) is None:
            raise BlobNotFound(key)
        if key in self._cues:
            self._cues.move_to_end(key)
            return self._cues[key]
        cues = parse_cues((await self._store.read_all(MEDIA, key)).decode())
        self._remember(self._cues, key, cues)
        return cues

    @staticmethod
    def _remember(cache: OrderedDict[str, _T], key: str, value: _T) -> None:
        cache[key] = value
        while len(cache) > _CACHED:
            cache.popitem(last=False)
