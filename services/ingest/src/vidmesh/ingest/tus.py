"""tus 1.0 for browsers at `/v1/tus/`: core, creation, termination, expiration, checksum.

The same upload domain as the gRPC doors, so limits, validation and commit rules are identical;
standard clients (tus-js-client, Uppy, tuspy) work unchanged. Authentication is the user's
`Authorization: Bearer` access token. Per-request checksums (`Upload-Checksum: sha1|sha256 …`)
are verified after the bytes are stored and before anything is committed; a mismatch drops that
request's bytes again (460).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import AsyncIterator
from email.utils import format_datetime
from typing import Any

from aiohttp import web

from vidmesh.common.auth import require_user
from vidmesh.common.errors import InvalidArgument, ServiceError
from vidmesh.common.http import Handler, edge_middleware
from vidmesh.common.tokens import TokenCodec
from vidmesh.common.validation import parse_byte_count
from vidmesh.ingest.intake import Declared, Intake
from vidmesh.ingest.spool import Session
from vidmesh.v1 import video_pb2

VERSION = "1.0.0"
PREFIX = "/v1/tus/"
ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
VISIBILITIES = {
    "public": video_pb2.VISIBILITY_PUBLIC,
    "unlisted": video_pb2.VISIBILITY_UNLISTED,
    "private": video_pb2.VISIBILITY_PRIVATE,
}
# tus answers an offset mismatch with 409 and an over-large upload with 413.
STATUS = {"FAILED_PRECONDITION": 409, "RESOURCE_EXHAUSTED": 413}


def parse_metadata(header: str) -> dict[str, str]:
    """`Upload-Metadata`: comma-separated `key base64value` pairs."""
    found = {}
    for pair in filter(None, (part.strip() for part in header.split(","))):
        key, _, value = pair.partition(" ")
        try:
            found[key] = base64.b64decode(value, validate=True).decode() if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidArgument(
                "INVALID_HEADER", f"Upload-Metadata '{key}' is not base64."
            ) from None
    return found


class TusHandler:
    def __init__(self, intake: Intake, max_size: int) -> None:
        self._intake = intake
        self._max_size = max_size

    def routes(self) -> list[web.RouteDef]:
        return [
            web.options(PREFIX, self._wrap(self.options, versioned=False)),
            web.post(PREFIX, self._wrap(self.create)),
            web.head(PREFIX + "{upload_id}", self._wrap(self.head)),
            web.patch(PREFIX + "{upload_id}", self._wrap(self.patch)),
            web.delete(PREFIX + "{upload_id}", self._wrap(self.delete)),
        ]

    def _wrap(self, handler: Handler, *, versioned: bool = True) -> Handler:
        async def run(request: web.Request) -> web.StreamResponse:
            if versioned and request.headers.get("Tus-Resumable") != VERSION:
                return web.Response(status=412, headers={"Tus-Version": VERSION})
            response = await handler(request)
            response.headers["Tus-Resumable"] = VERSION
            return response

        return run

    def _owner(self, request: web.Request) -> str:
        return require_user().subject

    def _session_headers(self, session: Session) -> dict[str, str]:
        return {
            "Upload-Offset": str(session.offset),
            "Upload-Length": str(session.info.size_bytes),
            "Upload-Expires": format_datetime(session.info.expire_time, usegmt=True),
            "Cache-Control": "no-store",
        }

    async def options(self, request: web.Request) -> web.Response:
        return web.Response(
            status=204,
            headers={
                "Tus-Version": VERSION,
                "Tus-Extension": "creation,termination,expiration,checksum",
                "Tus-Max-Size": str(self._max_size),
                "Tus-Checksum-Algorithm": ",".join(ALGORITHMS),
            },
        )

    async def create(self, request: web.Request) -> web.Response:
        owner = self._owner(request)
        if "Upload-Defer-Length" in request.headers:
            raise InvalidArgument("INVALID_HEADER", "Upload-Defer-Length is not supported.")
        length = parse_byte_count(request.headers.get("Upload-Length", ""), "Upload-Length")
        meta = parse_metadata(request.headers.get("Upload-Metadata", ""))
        filename = meta.get("filename") or meta.get("name") or ""
        visibility = meta.get("visibility", "").lower()
        if visibility and visibility not in VISIBILITIES:
            raise InvalidArgument(
                "INVALID_VISIBILITY", "visibility must be public, unlisted or private."
            )
        declared = Declared(
            title=meta.get("title") or filename.rsplit(".", 1)[0],
            size_bytes=length,
            description=meta.get("description", ""),
            filename=filename,
            sha256=meta.get("sha256", ""),
            visibility=VISIBILITIES.get(visibility, video_pb2.VISIBILITY_UNSPECIFIED),
        )
        session = await self._intake.begin(owner, declared, resumable=True)
        headers = self._session_headers(session)
        headers.update(
            {"Location": PREFIX + session.info.upload_id, "Vidmesh-Video-Id": session.info.video_id}
        )
        return web.Response(status=201, headers=headers)

    async def head(self, request: web.Request) -> web.Response:
        session = self._intake.session(self._owner(request), request.match_info["upload_id"])
        return web.Response(status=200, headers=self._session_headers(session))

    async def patch(self, request: web.Request) -> web.Response:
        owner = self._owner(request)
        if request.headers.get("Content-Type") != "application/offset+octet-stream":
            return web.Response(
                status=415, text="Content-Type must be application/offset+octet-stream\n"
            )
        offset = parse_byte_count(request.headers.get("Upload-Offset", ""), "Upload-Offset")
        digest, expected = self._checksum(request.headers.get("Upload-Checksum"))

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in request.content.iter_chunked(1024 * 1024):
                if digest is not None:
                    digest.update(chunk)
                yield chunk

        def check() -> None:
            if digest is not None and digest.digest() != expected:
                raise InvalidArgument("CHECKSUM_MISMATCH", "The chunk's checksum does not match.")

        try:
            session, video = await self._intake.write(
                owner,
                request.match_info["upload_id"],
                offset,
                chunks(),
                lambda: request.transport is not None and not request.transport.is_closing(),
                check,
            )
        except ServiceError as error:
            if error.reason == "CHECKSUM_MISMATCH" and digest is not None:
                return web.Response(status=460, headers={"Tus-Resumable": VERSION})
            raise
        headers = {"Upload-Offset": str(session.info.size_bytes if video else session.offset)}
        if video is not None:
            headers["Vidmesh-Video-Id"] = video.video_id
        return web.Response(status=204, headers=headers)

    async def delete(self, request: web.Request) -> web.Response:
        await self._intake.cancel(self._owner(request), request.match_info["upload_id"])
        return web.Response(status=204)

    @staticmethod
    def _checksum(header: str | None) -> tuple[Any, bytes]:
        if not header:
            return None, b""
        name, _, value = header.partition(" ")
        if name not in ALGORITHMS:
            raise InvalidArgument(
                "UNSUPPORTED_CHECKSUM", f"Checksum algorithm '{name}' is not supported."
            )
        try:
            return ALGORITHMS[name](), base64.b64decode(value, validate=True)
        except binascii.Error:
            raise InvalidArgument("INVALID_HEADER", "Upload-Checksum is not base64.") from None


def build_app(intake: Intake, codec: TokenCodec, max_size: int) -> web.Application:
    middleware = edge_middleware(codec, "tus", statuses=STATUS, headers={"Tus-Resumable": VERSION})
    app = web.Application(client_max_size=1024**2, middlewares=[middleware])
    app.add_routes(TusHandler(intake, max_size).routes())
    return app
