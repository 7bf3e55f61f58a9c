"""HLS over plain HTTP: `GET|HEAD /hls/{video_id}/{path}` with the playback token in the URL.

Playlists are rewritten so every URI carries the token (hls.js, Safari and ffmpeg all just follow
them). A video that is playable but still being transcoded has no playlists in the store yet:
they are rendered on each request from gateway's record of the generation (growing EVENT
playlists, never written by racing workers), and finalize stores the final ones before READY.
Segments and images are served as stored, with Range, ETag/If-None-Match and HEAD, by
sendfile from the filesystem store or streamed from S3. A bad or foreign token is 403; unknown
ids, missing files and traversal attempts are 404; nothing here answers 500.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import urllib.parse
from pathlib import Path, PurePosixPath

from aiohttp import web

from vidmesh.common import hls_playlists
from vidmesh.common.channels import ServiceCredential, remote_errors
from vidmesh.common.errors import FailedPrecondition, InvalidArgument, NotFound, Unauthenticated
from vidmesh.common.http import edge_middleware
from vidmesh.common.layout import (
    AUDIO_RENDITION,
    MASTER_PLAYLIST,
    published_key,
    variant_playlist,
)
from vidmesh.common.storage import MEDIA, BlobNotFound, BlobStore
from vidmesh.common.tokens import TokenCodec
from vidmesh.v1 import video_state_pb2, video_state_pb2_grpc

_log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt; charset=utf-8",
}
IMMUTABLE = "max-age=31536000, immutable"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def rewrite_playlist(text: str, token: str) -> str:
    """Append the token to every URI line (and URI="..." attributes) of a playlist."""
    query = "token=" + urllib.parse.quote(token, safe="")

    def with_token(uri: str) -> str:
        return uri + ("&" if "?" in uri else "?") + query

    lines = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            lines.append(with_token(line))
        else:
            lines.append(re.sub(r'URI="([^"]+)"', lambda m: f'URI="{with_token(m[1])}"', line))
    return "\n".join(lines) + "\n"


def _not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(text="Not found.\n")


class LivePlaylists:
    """Renders the playlists of a generation still being transcoded, from gateway's record."""

    def __init__(
        self, states: video_state_pb2_grpc.VideoStateServiceAsyncStub, credential: ServiceCredential
    ) -> None:
        self._states = states
        self._credential = credential

    async def render(self, video_id: str, prefix: str, path: str) -> str | None:
        """The playlist at `path` of the video's live generation, or None when there is none
        (unknown path, another generation, or finished: then the store has it)."""
        try:
            with remote_errors():
                source = await self._states.GetPlaybackSource(
                    video_state_pb2.GetPlaybackSourceRequest(video_id=video_id),
                    metadata=self._credential.metadata(),
                )
        except (NotFound, FailedPrecondition, InvalidArgument):
            return None
        live = source.live
        if not source.HasField("live") or live.plan.media_prefix != prefix:
            return None
        if path == MASTER_PLAYLIST:
            return hls_playlists.master(live, final=False)
        if path == variant_playlist(AUDIO_RENDITION) and live.plan.has_audio:
            return hls_playlists.audio(live, ended=False)
        for rendition in live.plan.renditions:
            if path == variant_playlist(rendition.name):
                return hls_playlists.variant(live, rendition.name, ended=False)
        return None


class HlsHandler:
    def __init__(self, store: BlobStore, codec: TokenCodec, live: LivePlaylists | None) -> None:
        self._store = store
        self._codec = codec
        self._live = live

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/hls/{video_id}/{path:.+}", self.serve)]

    async def serve(self, request: web.Request) -> web.StreamResponse:
        video_id = request.match_info["video_id"]
        path = request.match_info["path"]
        raw = request.raw_path.split("?", 1)[0].lower()
        suffix = PurePosixPath(path).suffix
        if "%2f" in raw or "%5c" in raw or suffix not in CONTENT_TYPES:
            raise _not_found()
        token = request.query.get("token", "")
        try:
            prefix = self._codec.verify_playback(token, video_id)
            key = published_key(prefix, path)
        except Unauthenticated as error:
            raise web.HTTPForbidden(text=f"{error.message}\n") from None
        except InvalidArgument:
            raise _not_found() from None
        try:
            if suffix == ".m3u8":
                return await self._playlist(request, key, token, (video_id, prefix, path))
            return await self._object(request, key, suffix, f"private, {IMMUTABLE}")
        except (FileNotFoundError, NotADirectoryError, BlobNotFound):
            # Removed between lookup and read (a deleted or re-transcoded video).
            raise _not_found() from None

    async def _playlist(
        self, request: web.Request, key: str, token: str, where: tuple[str, str, str]
    ) -> web.Response:
        cache = "private, max-age=10"
        try:
            text = (await self._store.read_all(MEDIA, key)).decode()
        except BlobNotFound:
            rendered = await self._live.render(*where) if self._live else None
            if rendered is None:
                raise _not_found() from None
            # It grows with every chunk: players must ask again each time.
            text, cache = rendered, "private, no-cache"
        body = rewrite_playlist(text, token).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": cache}
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=body if request.method == "GET" else None,
            headers={**headers, "Content-Length": str(len(body))},
            content_type=CONTENT_TYPES[".m3u8"],
        )

    async def _object(
        self, request: web.Request, key: str, suffix: str, cache: str
    ) -> web.StreamResponse:
        local = self._store.local_path(MEDIA, key)
        if local is not None:
            status_of_file = local.stat()
            size = status_of_file.st_size
            etag = f'"{status_of_file.st_mtime_ns:x}-{size:x}"'
        else:
            info = await self._store.stat(MEDIA, key)
            if info is None:
                raise _not_found()
            size, etag = info.size, f'"{info.etag}"'
        headers = {
            "ETag": etag,
            "Cache-Control": cache,
            "Accept-Ranges": "bytes",
            "Content-Type": CONTENT_TYPES[suffix],
        }
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        start, end, status = 0, size, 200
        wanted = request.headers.get("Range")
        if wanted:
            start, end = _byte_range(wanted, size)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        headers["Content-Length"] = str(end - start)
        response = web.StreamResponse(status=status, headers=headers)
        await response.prepare(request)
        if request.method == "GET":
            if local is not None:
                await _sendfile(request, local, start, end - start)
            else:
                async for chunk in self._store.read(MEDIA, key, start=start, end=end):
                    await response.write(chunk)
        await response.write_eof()
        return response


def _byte_range(header: str, size: int) -> tuple[int, int]:
    """(start, end exclusive) of a single `bytes=` range, or 416."""
    unsatisfiable = web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    match = _RANGE.match(header.strip())
    if not match or (not match[1] and not match[2]):
        raise unsatisfiable
    if match[1]:
        start = int(match[1])
        end = min(int(match[2]) + 1, size) if match[2] else size
    else:
        start, end = max(size - int(match[2]), 0), size
    if start >= size or start >= end:
        raise unsatisfiable
    return start, end


async def _sendfile(request: web.Request, path: Path, offset: int, count: int) -> None:
    """Zero-copy from disk to the socket, as aiohttp's FileResponse does, minus thread hops."""
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("connection lost")
    with path.open("rb") as handle:
        await asyncio.get_running_loop().sendfile(transport, handle, offset, count)


def build_app(
    store: BlobStore, codec: TokenCodec, live: LivePlaylists | None = None
) -> web.Application:
    """The HLS listener; without `live` it serves stored ladders only."""
    app = web.Application(middlewares=[edge_middleware(None)])
    app.add_routes(HlsHandler(store, codec, live).routes())
    return app
