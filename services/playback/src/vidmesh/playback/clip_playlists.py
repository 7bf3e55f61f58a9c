"""Clips as HLS: `/hls/{video_id}/clips/{clip_id}/master.m3u8` and one media playlist per
rendition, cut from the video's stored final playlists to the segments the clip's range
overlaps. The segments are the video's own (`../../../<rendition>/<run>/seg_n.ts`, immutable
and already cached), so a clip costs no storage and no encode. The playlists hold whole
segments; `EXT-X-START` (PRECISE) tells players where the clip begins, and GetPlaybackInfo gives
the start and end on the cut timeline for players that also stop at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vidmesh.common.channels import ServiceCredential
from vidmesh.common.layout import MASTER_PLAYLIST, hls_key, variant_playlist
from vidmesh.common.storage import MEDIA, BlobNotFound, BlobStore
from vidmesh.playback.sources import playback_source
from vidmesh.v1 import video_pb2, video_state_pb2_grpc

_PATH = re.compile(r"^clips/([0-9a-f-]{36})/(?:(master)\.m3u8|([a-z0-9]{1,16})/index\.m3u8)$")
_DROPPED = ("#EXT-X-MEDIA-SEQUENCE", "#EXT-X-PLAYLIST-TYPE", "#EXT-X-START", "#EXT-X-ENDLIST")


@dataclass(frozen=True, slots=True)
class Cut:
    """A media playlist cut to a range, and where the range lies on the cut's timeline."""

    playlist: str
    start: float
    end: float


def clip_master(text: str) -> str:
    """The video's master for a clip: the same renditions (their URIs resolve below the
    clip's folder), without the I-frame playlists a clip has none of."""
    lines = [line for line in text.splitlines() if not line.startswith("#EXT-X-I-FRAME-STREAM-INF")]
    return "\n".join(lines) + "\n"


def cut_media(text: str, rendition: str, start: float, end: float) -> Cut:
    """The segments of a media playlist that overlap [start, end), pointing at the video's
    own segments, as a VOD playlist that starts at `start`."""
    header: list[str] = []
    body: list[str] = []
    pending: list[str] = []
    elapsed = 0.0
    duration = 0.0
    first_index: int | None = None
    first_start = 0.0
    index = 0
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
            pending.append(line)
        elif line.startswith("#"):
            if line.startswith(_DROPPED):
                continue
            (pending if pending or body or first_index is not None else header).append(line)
        else:
            if elapsed < end and elapsed + duration > start:
                if first_index is None:
                    first_index, first_start = index, elapsed
                body.extend(pending)
                body.append(f"../../../{rendition}/{line}")
            pending = []
            elapsed += duration
            index += 1
    offset = max(start - first_start, 0.0)
    lines = [
        *header,
        f"#EXT-X-MEDIA-SEQUENCE:{first_index or 0}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        f"#EXT-X-START:TIME-OFFSET={offset:.3f},PRECISE=YES",
        *body,
        "#EXT-X-ENDLIST",
    ]
    return Cut(playlist="\n".join(lines) + "\n", start=offset, end=max(end - first_start, offset))


def clip_range(clip: video_pb2.Clip) -> tuple[float, float]:
    return clip.start_offset.ToNanoseconds() / 1e9, clip.end_offset.ToNanoseconds() / 1e9


class ClipPlaylists:
    def __init__(
        self,
        store: BlobStore,
        states: video_state_pb2_grpc.VideoStateServiceAsyncStub,
        credential: ServiceCredential,
    ) -> None:
        self._store = store
        self._states = states
        self._credential = credential

    @staticmethod
    def is_clip(path: str) -> bool:
        return path.startswith("clips/")

    async def render(self, video_id: str, prefix: str, path: str) -> str | None:
        """The clip playlist at `path`, or None (no such clip of this video, not READY, no
        such rendition)."""
        match = _PATH.match(path)
        if match is None:
            return None
        clip_id, master, rendition = match.groups()
        source = await playback_source(self._states, self._credential, video_id, clip_id)
        if source is None or not source.HasField("clip") or source.media_prefix != prefix:
            return None
        if source.video.state != video_pb2.Video.STATE_READY:
            return None
        try:
            if master:
                return clip_master(await self._read(prefix, MASTER_PLAYLIST))
            text = await self._read(prefix, variant_playlist(rendition))
        except BlobNotFound:
            return None
        return cut_media(text, rendition, *clip_range(source.clip)).playlist

    async def trim(self, prefix: str, rendition: str, clip: video_pb2.Clip) -> Cut:
        """Where the clip starts and ends on the timeline of its cut playlists."""
        text = await self._read(prefix, variant_playlist(rendition))
        return cut_media(text, rendition, *clip_range(clip))

    async def _read(self, prefix: str, path: str) -> str:
        return (await self._store.read_all(MEDIA, hls_key(prefix, path))).decode()
