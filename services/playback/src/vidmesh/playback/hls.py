"""HLS over plain HTTP: `GET|HEAD /hls/{video_id}/{path}`, bare for public videos, with a
playback token in the URL for the others.

Public videos are plain, cacheable HLS: the same URLs for every viewer, segments `public,
immutable` (each delivery writes its own folder, so a segment URL never changes content),
playlists and images `public` with a short lifetime, shortest while the video is still being
transcoded. Tokenless access to a video made private stops at the origin within
`public_check_seconds` and at shared caches once its playlists expire. Private and unlisted
videos need a token bound to the video; their playlists are rewritten so every URI carries it
(hls.js, Safari and ffmpeg all just follow them) and everything is `private`, so no shared
cache keeps it. Every answer allows any origin: players on other sites may embed public videos,
and a token, not the page's origin, is what guards the others.

A video that is playable but still being transcoded has no playlists in the store yet: they are
rendered on each request from gateway's record of the generation (growing EVENT playlists, never
written by racing workers), and finalize stores the final ones before READY. Segments and images
are served as stored, with Range, ETag/If-None-Match, Last-Modified/If-Modified-Since and HEAD,
by sendfile from the filesystem store, streamed from S3 or (when configured) by redirect to a
presigned S3 URL. A missing or foreign token is 403; unknown ids, missing files and traversal
attempts are 404; a viewer closing the connection mid-reply is a debug line; nothing here
answers 500.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import hashlib
import logging
import os
import re
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import BinaryIO

from aiohttp import web

from vidmesh.common import hls_playlists
from vidmesh.common.channels import ServiceCredential
from vidmesh.common.errors import InvalidArgument, Unauthenticated
from vidmesh.common.http import edge_middleware
from vidmesh.common.layout import (
    AUDIO_RENDITION,
    MASTER_PLAYLIST,
    published_key,
    variant_playlist,
)
from vidmesh.common.storage import MEDIA, BlobNotFound, BlobStore
from vidmesh.common.tokens import TokenCodec
from vidmesh.playback import metrics
from vidmesh.playback.clip_playlists import ClipPlaylists
from vidmesh.playback.downloads import Downloads
from vidmesh.playback.public import PublicVideos
from vidmesh.playback.sources import playback_source
from vidmesh.playback.subtitles import Subtitles, with_subtitles
from vidmesh.v1 import video_state_pb2_grpc

_log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt; charset=utf-8",
}
SEGMENT_SUFFIXES = frozenset({".ts", ".m4s", ".mp4"})
IMMUTABLE = "max-age=31536000, immutable"
# Presigned redirects point at URLs valid this long; the redirect itself is kept far shorter.
PRESIGNED_TTL = timedelta(hours=1)
REDIRECT_MAX_AGE = 300
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": (
        "Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified, Age"
    ),
}
PREFLIGHT_HEADERS = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Range, If-None-Match, If-Modified-Since",
    "Access-Control-Max-Age": "86400",
}


@dataclass(frozen=True, slots=True)
class Caching:
    """The Cache-Control of each kind of answer: shared (a public video) or private."""

    playlist: str
    live_playlist: str
    segment: str
    image: str
    redirect: str

    @classmethod
    def shared(cls, max_age: int) -> Caching:
        """Public videos: CDNs and shared caches keep segments forever (their URLs never change
        content) and a READY video's playlists and images for `max_age`, the bound on how long
        a video made private keeps playing through them (so no stale-while-revalidate there);
        a growing playlist for a second, served stale for one more while it is refetched."""
        return cls(
            playlist=f"public, max-age={max_age}",
            live_playlist="public, max-age=1, stale-while-revalidate=1",
            segment=f"public, {IMMUTABLE}",
            image=f"public, max-age={max_age}",
            redirect=f"public, max-age={min(max_age, REDIRECT_MAX_AGE)}",
        )


PRIVATE = Caching(
    playlist="private, max-age=10",
    live_playlist="private, no-cache",
    segment=f"private, {IMMUTABLE}",
    image=f"private, {IMMUTABLE}",
    redirect=f"private, max-age={REDIRECT_MAX_AGE}",
)


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


def _forbidden(message: str) -> web.HTTPForbidden:
    # Never cached: the video may turn public, or the viewer get a fresh token, a moment later.
    return web.HTTPForbidden(text=f"{message}\n", headers={"Cache-Control": "no-store"})


def _is_id(video_id: str) -> bool:
    try:
        uuid.UUID(video_id)
    except ValueError:
        return False
    return True


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
        source = await playback_source(self._states, self._credential, video_id)
        if source is None:
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
    def __init__(
        self,
        store: BlobStore,
        codec: TokenCodec,
        live: LivePlaylists | None,
        public: PublicVideos | None,
        *,
        public_max_age: int,
        redirect: bool,
        downloads: Downloads | None = None,
        clips: ClipPlaylists | None = None,
        subtitles: Subtitles | None = None,
    ) -> None:
        self._subtitles = subtitles
        self._clips = clips
        self._store = store
        self._codec = codec
        self._live = live
        self._public = public
        self._downloads = downloads
        self._shared = Caching.shared(public_max_age)
        self._redirect = redirect

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/hls/{video_id}/{path:.+}", self.serve),
            web.options("/hls/{video_id}/{path:.+}", self.preflight),
        ]

    async def preflight(self, request: web.Request) -> web.Response:
        """CORS preflight of players on other sites (ranged or conditional requests)."""
        return web.Response(status=204, headers=PREFLIGHT_HEADERS)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        try:
            response = await self._serve(request)
        except web.HTTPException as error:
            # Cross-origin players can read why they were refused.
            error.headers.update(CORS_HEADERS)
            metrics.record(request, error.status, None)
            raise
        metrics.record(request, response.status, response.content_length)
        return response

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        video_id = request.match_info["video_id"]
        path = request.match_info["path"]
        raw = request.raw_path.split("?", 1)[0].lower()
        suffix = PurePosixPath(path).suffix
        if "%2f" in raw or "%5c" in raw or suffix not in CONTENT_TYPES or not _is_id(video_id):
            raise _not_found()
        token = request.query.get("token", "")
        prefix, caching = await self._grant(video_id, token)
        if Downloads.is_download(path):
            return await self._download(request, video_id, prefix, path, caching)
        if Subtitles.is_subtitle(path):
            return await self._subtitle(request, video_id, prefix, path, token, caching)
        if ClipPlaylists.is_clip(path):
            rendered = await self._clips.render(video_id, prefix, path) if self._clips else None
            if rendered is None:
                raise _not_found()
            return self._playlist_reply(request, rendered, token, caching.playlist)
        try:
            key = published_key(prefix, path)
        except InvalidArgument:
            raise _not_found() from None
        try:
            if suffix == ".m3u8":
                return await self._playlist(request, key, token, (video_id, prefix, path), caching)
            cache = caching.segment if suffix in SEGMENT_SUFFIXES else caching.image
            return await self._object(request, key, suffix, cache, caching.redirect)
        except (FileNotFoundError, NotADirectoryError, BlobNotFound):
            # Removed between lookup and read (a deleted or re-transcoded video).
            raise _not_found() from None

    async def _subtitle(
        self,
        request: web.Request,
        video_id: str,
        prefix: str,
        path: str,
        token: str,
        caching: Caching,
    ) -> web.StreamResponse:
        """A subtitle rendition's playlist, or one of its WebVTT segments (see subtitles.py)."""
        if self._subtitles is None:
            raise _not_found()
        try:
            if path.endswith(".m3u8"):
                tracks = await self._subtitles.tracks(video_id, prefix)
                text = await self._subtitles.playlist(prefix, path, tracks) if tracks else None
                if text is None:
                    raise _not_found()
                return self._playlist_reply(request, text, token, caching.playlist)
            text = await self._subtitles.segment(video_id, prefix, path)
        except BlobNotFound:
            raise _not_found() from None
        if text is None:
            raise _not_found()
        body = text.encode()
        headers = {"Cache-Control": caching.segment, **CORS_HEADERS}
        return web.Response(
            body=body if request.method == "GET" else None,
            headers={**headers, "Content-Length": str(len(body))},
            content_type="text/vtt",
            charset="utf-8",
        )

    async def _download(
        self, request: web.Request, video_id: str, prefix: str, path: str, caching: Caching
    ) -> web.StreamResponse:
        """A download the video offers, made on its first request (see downloads.py); its
        Cache-Control is an image's, so turning downloads off reaches caches soon."""
        download = (
            await self._downloads.prepare(video_id, prefix, path) if self._downloads else None
        )
        if download is None:
            raise _not_found()
        suffix = PurePosixPath(path).suffix
        try:
            return await self._object(
                request,
                download.key,
                suffix,
                caching.image,
                caching.redirect,
                {"Content-Disposition": download.disposition},
            )
        except (FileNotFoundError, BlobNotFound):
            raise _not_found() from None

    async def _grant(self, video_id: str, token: str) -> tuple[str, Caching]:
        """The media prefix the request may read, and how its answers may be cached."""
        if token:
            try:
                return self._codec.verify_playback(token, video_id), PRIVATE
            except Unauthenticated as error:
                raise _forbidden(error.message) from None
        ladder = await self._public.ladder(video_id) if self._public else None
        if ladder is None:
            raise _forbidden("A playback token is required for this video.")
        return ladder.media_prefix, self._shared

    async def _playlist(
        self,
        request: web.Request,
        key: str,
        token: str,
        where: tuple[str, str, str],
        caching: Caching,
    ) -> web.Response:
        cache = caching.playlist
        try:
            text = (await self._store.read_all(MEDIA, key)).decode()
            if where[2] == MASTER_PLAYLIST and self._subtitles is not None:
                # A READY ladder's master, with the video's captions as subtitle renditions.
                text = with_subtitles(text, await self._subtitles.tracks(where[0], where[1]))
        except BlobNotFound:
            rendered = await self._live.render(*where) if self._live else None
            if rendered is None:
                raise _not_found() from None
            # It grows with every chunk: players must ask again each time.
            text, cache = rendered, caching.live_playlist
        return self._playlist_reply(request, text, token, cache)

    def _playlist_reply(
        self, request: web.Request, text: str, token: str, cache: str
    ) -> web.Response:
        body = (rewrite_playlist(text, token) if token else text).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": cache, **CORS_HEADERS}
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=body if request.method == "GET" else None,
            headers={**headers, "Content-Length": str(len(body))},
            content_type=CONTENT_TYPES[".m3u8"],
        )

    async def _object(
        self,
        request: web.Request,
        key: str,
        suffix: str,
        cache: str,
        redirect_cache: str,
        extra: dict[str, str] | None = None,
    ) -> web.StreamResponse:
        if self._redirect and not extra:
            url = self._store.presigned_url(MEDIA, key, PRESIGNED_TTL)
            if url is not None:
                raise web.HTTPFound(url, headers={"Cache-Control": redirect_cache})
        local = self._store.open_local(MEDIA, key)
        if local is not None:
            # One open serves the validators (fstat) and the body (sendfile).
            with local as handle:
                facts = os.fstat(handle.fileno())
                etag = f'"{facts.st_mtime_ns:x}-{facts.st_size:x}"'

                async def send_file(start: int, end: int) -> None:
                    await _sendfile(request, handle, start, end - start)

                return await self._reply(
                    request,
                    (suffix, cache),
                    (facts.st_size, etag, int(facts.st_mtime)),
                    send_file,
                    extra=extra,
                )
        info = await self._store.stat(MEDIA, key)
        if info is None:
            raise _not_found()

        async def stream(start: int, end: int) -> None:
            async for chunk in self._store.read(MEDIA, key, start=start, end=end):
                await response.write(chunk)

        modified = int(info.modified.timestamp()) if info.modified else None
        response = web.StreamResponse()
        return await self._reply(
            request,
            (suffix, cache),
            (info.size, f'"{info.etag}"', modified),
            stream,
            response,
            extra=extra,
        )

    async def _reply(
        self,
        request: web.Request,
        kind: tuple[str, str],
        facts: tuple[int, str, int | None],
        send: Callable[[int, int], Awaitable[None]],
        response: web.StreamResponse | None = None,
        *,
        extra: dict[str, str] | None = None,
    ) -> web.StreamResponse:
        """Answer with the object's validators, honouring conditions and a Range; `facts` are
        (size, ETag, modified as Unix seconds)."""
        suffix, cache = kind
        size, etag, modified = facts
        headers = {
            "ETag": etag,
            "Cache-Control": cache,
            "Accept-Ranges": "bytes",
            "Content-Type": CONTENT_TYPES[suffix],
            **CORS_HEADERS,
            **(extra or {}),
        }
        if modified is not None:
            headers["Last-Modified"] = _http_date(modified)
        if _unchanged(request, etag, modified):
            return web.Response(status=304, headers=headers)
        start, end, status = 0, size, 200
        wanted = request.headers.get("Range")
        if wanted:
            start, end = _byte_range(wanted, size)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        headers["Content-Length"] = str(end - start)
        response = response or web.StreamResponse()
        response.set_status(status)
        response.headers.update(headers)
        try:
            await response.prepare(request)
            if request.method == "GET":
                await send(start, end)
            await response.write_eof()
        except ConnectionError:
            # Viewers close connections mid-segment all the time (seeks, rendition switches).
            _log.debug("viewer closed the connection", extra={"path": request.path})
            if request.transport is not None:
                request.transport.close()
        return response


@functools.lru_cache(maxsize=4096)
def _http_date(seconds: int) -> str:
    return email.utils.formatdate(seconds, usegmt=True)


def _unchanged(request: web.Request, etag: str, modified: int | None) -> bool:
    """Whether the viewer's copy is current (If-None-Match wins over If-Modified-Since)."""
    if "If-None-Match" in request.headers:
        return etag in request.headers["If-None-Match"]
    if modified is None or "If-Modified-Since" not in request.headers:
        return False
    since = request.if_modified_since
    return since is not None and modified <= since.timestamp()


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


async def _sendfile(request: web.Request, handle: BinaryIO, offset: int, count: int) -> None:
    """Zero-copy from disk to the socket, as aiohttp's FileResponse does, minus thread hops.

    The socket usually takes a whole segment in one `sendfile` call (send buffers autotune to
    megabytes), so that call is tried first, straight after the headers have left; asyncio's
    `loop.sendfile`, which pauses reading and builds futures around the same syscall, then
    only sends what is left when the buffer was full.
    """
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("connection lost")
    sock = transport.get_extra_info("socket")
    if sock is not None and not transport.get_write_buffer_size():
        try:
            sent = os.sendfile(sock.fileno(), handle.fileno(), offset, count)
        except BlockingIOError:
            sent = 0
        offset, count = offset + sent, count - sent
    if count > 0:
        await asyncio.get_running_loop().sendfile(transport, handle, offset, count)


def build_app(
    store: BlobStore,
    codec: TokenCodec,
    live: LivePlaylists | None = None,
    public: PublicVideos | None = None,
    *,
    public_max_age: int = 60,
    redirect: bool = False,
    downloads: Downloads | None = None,
    clips: ClipPlaylists | None = None,
    subtitles: Subtitles | None = None,
) -> web.Application:
    """The HLS listener; without `live` it serves stored ladders only, without `public` only
    signed URLs; `redirect` answers segment requests with presigned S3 URLs."""
    app = web.Application(middlewares=[edge_middleware(None, "hls", success_level=logging.DEBUG)])
    handler = HlsHandler(
        store,
        codec,
        live,
        public,
        public_max_age=public_max_age,
        redirect=redirect,
        downloads=downloads,
        clips=clips,
        subtitles=subtitles,
    )
    app.add_routes(handler.routes())
    return app
