"""Downloads: an MP4 of one rung (or an M4A of the audio) of a READY video whose owner enabled
downloads, at `/hls/{video_id}/downloads/{name}.mp4|m4a` under the same URL signing as HLS.

The file is remuxed from the stored segments on its first request (`ffmpeg -c copy`, audio
through `aac_adtstoasc`, `-movflags +faststart` so players start before the end arrives),
stored beside the ladder (`<generation prefix>/downloads/`) and served from there ever after,
with Range, like a segment. Nothing is encoded twice. Concurrent first requests in one process
share one remux; two processes racing both remux and the last store wins with an identical file.
Whether a name may be downloaded is asked of gateway on every request (downloads are rare), so
turning downloads off takes effect at once.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from vidmesh.common import hls_playlists
from vidmesh.common.channels import ServiceCredential
from vidmesh.common.layout import AUDIO_RENDITION, hls_key, variant_playlist
from vidmesh.common.media import run_ffmpeg_once
from vidmesh.common.storage import MEDIA, BlobNotFound, BlobStore, check_key
from vidmesh.playback.sources import playback_source
from vidmesh.v1 import video_pb2, video_state_pb2_grpc

AUDIO = "audio"
REMUX_TIMEOUT_SECONDS = 600.0
_NAME = re.compile(r"^downloads/([a-z0-9]{1,16})\.(mp4|m4a)$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Download:
    """One file a viewer may download: where it is stored and what it is saved as."""

    name: str
    key: str
    filename: str
    content_type: str

    @property
    def disposition(self) -> str:
        ascii_name = _UNSAFE.sub("-", self.filename).replace("-.", ".").strip("-")
        ascii_name = ascii_name or f"video-{self.name}"
        quoted = urllib.parse.quote(self.filename)
        return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


def offered(video: video_pb2.Video) -> list[str]:
    """The names a video's settings offer now: its rungs (all, or those chosen) and `audio`."""
    settings = video.downloads
    if not settings.enabled or video.state != video_pb2.Video.STATE_READY:
        return []
    rungs = [rendition.name for rendition in video.renditions]
    chosen = [name for name in rungs if not settings.renditions or name in settings.renditions]
    return chosen + ([AUDIO] if settings.audio else [])


def download_path(name: str) -> str:
    """The path of a download in HLS URLs (`downloads/720p.mp4`, `downloads/audio.m4a`)."""
    return f"downloads/{name}.{'m4a' if name == AUDIO else 'mp4'}"


def describe(video: video_pb2.Video, prefix: str, name: str) -> Download:
    extension = "m4a" if name == AUDIO else "mp4"
    title = video.title.strip() or "video"
    return Download(
        name=name,
        key=check_key(f"{prefix}/{download_path(name)}"),
        filename=f"{title} ({name}).{extension}",
        content_type="audio/mp4" if name == AUDIO else "video/mp4",
    )


class Downloads:
    def __init__(
        self,
        store: BlobStore,
        states: video_state_pb2_grpc.VideoStateServiceAsyncStub,
        credential: ServiceCredential,
        work_dir: Path,
    ) -> None:
        self._store = store
        self._states = states
        self._credential = credential
        self._work_dir = work_dir
        self._making: dict[str, asyncio.Task[None]] = {}

    @staticmethod
    def is_download(path: str) -> bool:
        return path.startswith("downloads/")

    async def prepare(self, video_id: str, prefix: str, path: str) -> Download | None:
        """The stored download behind `path`, made first if need be; None when the video does
        not offer it (downloads off, not READY, no such rung, another generation)."""
        match = _NAME.match(path)
        if match is None:
            return None
        name, extension = match.groups()
        if (extension == "m4a") != (name == AUDIO):
            return None
        source = await playback_source(self._states, self._credential, video_id)
        if source is None:
            return None
        if source.media_prefix != prefix or name not in offered(source.video):
            return None
        download = describe(source.video, prefix, name)
        if await self._store.stat(MEDIA, download.key) is None:
            making = self._making.get(download.key)
            if making is None:
                making = asyncio.create_task(self._make(prefix, name, download.key))
                self._making[download.key] = making
                making.add_done_callback(lambda _: self._making.pop(download.key, None))
            try:
                await asyncio.shield(making)
            except BlobNotFound:
                return None  # no such rung in the stored ladder (or no audio)
        return download

    async def _make(self, prefix: str, name: str, key: str) -> None:
        self._work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self._work_dir, prefix="download-") as folder:
            root = Path(folder)
            inputs = []
            if name != AUDIO:
                inputs.append(await self._fetch(prefix, name, root))
            if name == AUDIO or await self._has_audio(prefix):
                inputs.append(await self._fetch(prefix, AUDIO_RENDITION, root))
            output = root / Path(key).name
            argv = ["ffmpeg", "-nostdin", "-v", "error"]
            for playlist in inputs:
                argv += ["-i", str(playlist)]
            for index in range(len(inputs)):
                argv += ["-map", f"{index}"]
            argv += [
                "-c",
                "copy",
                "-bsf:a",
                "aac_adtstoasc",
                "-movflags",
                "+faststart",
                str(output),
            ]
            async with asyncio.timeout(REMUX_TIMEOUT_SECONDS):
                await run_ffmpeg_once(argv, what="remux")
            await self._store.put_file(MEDIA, key, output, move=True)

    async def _has_audio(self, prefix: str) -> bool:
        key = hls_key(prefix, variant_playlist(AUDIO_RENDITION))
        return await self._store.stat(MEDIA, key) is not None

    async def _fetch(self, prefix: str, rendition: str, root: Path) -> Path:
        """Copy one rendition's final playlist and its segments into `root` (so ffmpeg reads
        them the same way from any store); BlobNotFound when there is no such rendition."""
        playlist = variant_playlist(rendition)
        text = (await self._store.read_all(MEDIA, hls_key(prefix, playlist))).decode()
        local = root / playlist
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(text)
        for uri in hls_playlists.segment_uris(text):
            relative = f"{rendition}/{uri}"
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(await self._store.read_all(MEDIA, hls_key(prefix, relative)))
        return local
