"""TranscodeAdminService: dead letters and re-transcoding for administrators; owners may retry
their own failed videos (the web app's Retry button) when the original was kept."""

from __future__ import annotations

from typing import Any

import grpc
from nats.js import JetStreamContext

from vidmesh.common.auth import require_admin, require_user
from vidmesh.common.channels import remote_errors
from vidmesh.common.errors import FailedPrecondition, PermissionDenied, ServiceError
from vidmesh.common.layout import source_key
from vidmesh.common.storage import RAW, BlobStore
from vidmesh.transcoder.dead_letters import DeadLetters
from vidmesh.transcoder.queue_state import read_queue
from vidmesh.transcoder.workers import WorkerRegistry
from vidmesh.v1 import transcode_pb2, transcode_pb2_grpc, video_pb2, video_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class TranscodeAdminServicer(transcode_pb2_grpc.TranscodeAdminServiceServicer):
    def __init__(
        self,
        letters: DeadLetters,
        videos: video_pb2_grpc.VideoServiceAsyncStub,
        store: BlobStore,
        registry: WorkerRegistry,
        js: JetStreamContext,
    ) -> None:
        self._letters = letters
        self._videos = videos
        self._store = store
        self._registry = registry
        self._js = js

    async def GetQueue(
        self, request: transcode_pb2.GetQueueRequest, context: Context
    ) -> transcode_pb2.GetQueueResponse:
        require_admin()
        return await read_queue(self._js)

    async def ListWorkers(
        self, request: transcode_pb2.ListWorkersRequest, context: Context
    ) -> transcode_pb2.ListWorkersResponse:
        require_admin()
        return transcode_pb2.ListWorkersResponse(workers=await self._registry.workers())

    async def _video(self, video_id: str, context: Context) -> video_pb2.Video:
        """Read the video as the calling admin (their token is passed on to gateway)."""
        auth = [(k, v) for k, v in (context.invocation_metadata() or ()) if k == "authorization"]
        with remote_errors():
            response = await self._videos.GetVideo(
                video_pb2.GetVideoRequest(video_id=video_id), metadata=auth
            )
        return response.video

    async def ListDeadLetters(
        self, request: transcode_pb2.ListDeadLettersRequest, context: Context
    ) -> transcode_pb2.ListDeadLettersResponse:
        require_admin()
        page = await self._letters.list(
            page_size=request.page_size,
            page_token=request.page_token,
            video_id=request.video_id,
            reason=request.reason,
        )
        return transcode_pb2.ListDeadLettersResponse(
            dead_letters=page.letters, next_page_token=page.next_page_token
        )

    async def GetDeadLetter(
        self, request: transcode_pb2.GetDeadLetterRequest, context: Context
    ) -> transcode_pb2.GetDeadLetterResponse:
        require_admin()
        letter = await self._letters.get(request.dead_letter_id)
        return transcode_pb2.GetDeadLetterResponse(dead_letter=letter)

    async def RetryDeadLetter(
        self, request: transcode_pb2.RetryDeadLetterRequest, context: Context
    ) -> transcode_pb2.RetryDeadLetterResponse:
        require_admin()
        letter = await self._letters.get(request.dead_letter_id)
        video = await self._video(letter.job.video_id, context)
        job = await self._letters.retry(request.dead_letter_id, video)
        return transcode_pb2.RetryDeadLetterResponse(job=job)

    async def RetryDeadLetters(
        self, request: transcode_pb2.RetryDeadLettersRequest, context: Context
    ) -> transcode_pb2.RetryDeadLettersResponse:
        require_admin()
        letters = await self._letters.matching(
            video_id=request.video_id, reason=request.reason, max_count=request.max_count
        )
        response = transcode_pb2.RetryDeadLettersResponse()
        retried: set[str] = set()
        for letter in letters:  # newest first: a video's newest letter is the one retried
            video_id = letter.job.video_id
            if video_id in retried:
                # Its retry resumed (or restarted) the generation: this task runs again too.
                await self._letters.remove(letter.dead_letter_id)
                response.covered_dead_letter_ids.append(letter.dead_letter_id)
                continue
            try:
                video = await self._video(video_id, context)
                job = await self._letters.retry(letter.dead_letter_id, video)
            except ServiceError as error:
                response.skipped.add(
                    dead_letter_id=letter.dead_letter_id,
                    reason=error.reason,
                    message=error.message,
                )
                continue
            retried.add(video_id)
            response.retried.add(dead_letter_id=letter.dead_letter_id, job=job)
        return response

    async def PurgeDeadLetter(
        self, request: transcode_pb2.PurgeDeadLetterRequest, context: Context
    ) -> transcode_pb2.PurgeDeadLetterResponse:
        require_admin()
        await self._letters.purge(request.dead_letter_id)
        return transcode_pb2.PurgeDeadLetterResponse()

    async def RetranscodeVideo(
        self, request: transcode_pb2.RetranscodeVideoRequest, context: Context
    ) -> transcode_pb2.RetranscodeVideoResponse:
        principal = require_user()
        video = await self._video(request.video_id, context)
        if not principal.is_admin:
            if video.owner_id != principal.subject:
                raise PermissionDenied("NOT_OWNER", "Only the owner or an admin can retry a video.")
            if video.state != video_pb2.Video.STATE_FAILED:
                raise FailedPrecondition(
                    "NOT_FAILED", "Only a failed video can be retried by its owner."
                )
        if await self._store.stat(RAW, source_key(video.video_id)) is None:
            raise FailedPrecondition(
                "SOURCE_MISSING", "The original was not kept (it was rejected); upload it again."
            )
        job = await self._letters.requeue(video, source_key(video.video_id), video.owner_id)
        return transcode_pb2.RetranscodeVideoResponse(job=job)
