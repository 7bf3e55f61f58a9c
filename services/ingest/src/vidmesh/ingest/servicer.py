"""IngestService: the gRPC doors (client stream, raw HTTP body via Envoy, resumable)."""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc
from google.api import httpbody_pb2
from google.protobuf import timestamp_pb2

from vidmesh.common.auth import require_user
from vidmesh.common.errors import InvalidArgument
from vidmesh.common.validation import parse_byte_count
from vidmesh.ingest.intake import Declared, Intake
from vidmesh.ingest.spool import COMMITTED, COMMITTING, RECEIVING, Session
from vidmesh.v1 import ingest_pb2, ingest_pb2_grpc, video_pb2

Context = grpc.aio.ServicerContext[Any, Any]
StreamedRequest = TypeVar(
    "StreamedRequest", ingest_pb2.UploadRequest, ingest_pb2.WriteUploadRequest
)

_VISIBILITIES = {
    "public": video_pb2.VISIBILITY_PUBLIC,
    "unlisted": video_pb2.VISIBILITY_UNLISTED,
    "private": video_pb2.VISIBILITY_PRIVATE,
}


def _active(context: Context) -> Callable[[], bool]:
    return lambda: not context.cancelled() and not context.done()


def _declared(metadata: ingest_pb2.UploadMetadata) -> Declared:
    return Declared(
        title=metadata.title,
        size_bytes=metadata.size_bytes,
        description=metadata.description,
        filename=metadata.filename,
        sha256=metadata.sha256,
        visibility=metadata.visibility,
        request_id=metadata.request_id,
    )


_SESSION_STATES = {
    RECEIVING: ingest_pb2.UploadSession.STATE_RECEIVING,
    COMMITTING: ingest_pb2.UploadSession.STATE_COMMITTING,
    COMMITTED: ingest_pb2.UploadSession.STATE_COMMITTED,
}


def _session_to_proto(session: Session, *, complete: bool = False) -> ingest_pb2.UploadSession:
    expire = timestamp_pb2.Timestamp()
    expire.FromDatetime(session.info.expire_time)
    return ingest_pb2.UploadSession(
        upload_id=session.info.upload_id,
        video_id=session.info.video_id,
        size_bytes=session.info.size_bytes,
        offset=session.info.size_bytes if complete else session.offset,
        expire_time=expire,
        state=_SESSION_STATES.get(session.info.phase, ingest_pb2.UploadSession.STATE_UNSPECIFIED),
    )


def _header(metadata: dict[str, str], name: str, *, required: bool = False) -> str:
    value = urllib.parse.unquote(metadata.get(name, "")).strip()
    if required and not value:
        raise InvalidArgument("INVALID_HEADER", f"The '{name}' header is required.", field=name)
    return value


def declared_from_headers(metadata: dict[str, str]) -> Declared:
    """Upload metadata from HTTP headers (values may be percent-encoded for non-ASCII)."""
    declared_length = _header(metadata, "x-upload-length", required=True)
    length = parse_byte_count(declared_length, "x-upload-length")
    visibility_name = _header(metadata, "x-visibility").lower().removeprefix("visibility_")
    if visibility_name and visibility_name not in _VISIBILITIES:
        raise InvalidArgument(
            "INVALID_VISIBILITY",
            "'x-visibility' must be public, unlisted or private.",
            field="x-visibility",
        )
    return Declared(
        title=_header(metadata, "x-title"),
        size_bytes=length,
        description=_header(metadata, "x-description"),
        filename=_header(metadata, "x-filename"),
        sha256=_header(metadata, "x-sha256"),
        visibility=_VISIBILITIES.get(visibility_name, video_pb2.VISIBILITY_UNSPECIFIED),
        request_id=_header(metadata, "idempotency-key"),
    )


async def _split(
    requests: AsyncIterator[StreamedRequest], lead: str, reason: str
) -> tuple[StreamedRequest, AsyncIterator[bytes]]:
    """The leading message (which must carry `lead`) and the chunks that follow it."""
    first = await anext(aiter(requests), None)
    if first is None or first.WhichOneof("payload") != lead:
        raise InvalidArgument(reason, f"The first message must carry the '{lead}'.")

    async def chunks() -> AsyncIterator[bytes]:
        async for message in requests:
            if message.WhichOneof("payload") == lead:
                raise InvalidArgument(reason, f"The '{lead}' may only come first.")
            yield message.chunk

    return first, chunks()


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, intake: Intake) -> None:
        self._intake = intake

    async def Upload(
        self, request_iterator: AsyncIterator[ingest_pb2.UploadRequest], context: Context
    ) -> ingest_pb2.UploadResponse:
        owner = require_user().subject
        first, chunks = await _split(request_iterator, "metadata", "METADATA_REQUIRED")
        video = await self._intake.upload(
            owner, _declared(first.metadata), chunks, _active(context)
        )
        return ingest_pb2.UploadResponse(video=video)

    async def UploadBody(
        self, request_iterator: AsyncIterator[httpbody_pb2.HttpBody], context: Context
    ) -> ingest_pb2.UploadBodyResponse:
        owner = require_user().subject
        metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        declared = declared_from_headers(metadata)

        async def chunks() -> AsyncIterator[bytes]:
            async for body in request_iterator:
                yield body.data

        video = await self._intake.upload(owner, declared, chunks(), _active(context))
        return ingest_pb2.UploadBodyResponse(video=video)

    async def CreateUpload(
        self, request: ingest_pb2.CreateUploadRequest, context: Context
    ) -> ingest_pb2.CreateUploadResponse:
        owner = require_user().subject
        if not request.HasField("metadata"):
            raise InvalidArgument("METADATA_REQUIRED", "'metadata' is required.", field="metadata")
        session = await self._intake.begin(owner, _declared(request.metadata), resumable=True)
        return ingest_pb2.CreateUploadResponse(upload=_session_to_proto(session))

    async def WriteUpload(
        self, request_iterator: AsyncIterator[ingest_pb2.WriteUploadRequest], context: Context
    ) -> ingest_pb2.WriteUploadResponse:
        owner = require_user().subject
        first, chunks = await _split(request_iterator, "header", "HEADER_REQUIRED")
        session, video = await self._intake.write(
            owner, first.header.upload_id, first.header.offset, chunks, _active(context)
        )
        response = ingest_pb2.WriteUploadResponse(
            upload=_session_to_proto(session, complete=video is not None)
        )
        if video is not None:
            response.video.CopyFrom(video)
        return response

    async def GetUpload(
        self, request: ingest_pb2.GetUploadRequest, context: Context
    ) -> ingest_pb2.GetUploadResponse:
        session = self._intake.session(require_user().subject, request.upload_id)
        return ingest_pb2.GetUploadResponse(upload=_session_to_proto(session))

    async def CancelUpload(
        self, request: ingest_pb2.CancelUploadRequest, context: Context
    ) -> ingest_pb2.CancelUploadResponse:
        await self._intake.cancel(require_user().subject, request.upload_id)
        return ingest_pb2.CancelUploadResponse()
