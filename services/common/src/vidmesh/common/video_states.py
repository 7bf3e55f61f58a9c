"""Calls to gateway's internal VideoStateService, with the service credential.

Ingest and the transcoder report through this one client; errors arrive as ServiceErrors with
gateway's reason (e.g. STALE_JOB), so callers can decide what a refusal means for them.
"""

from __future__ import annotations

from google.protobuf import duration_pb2

from vidmesh.common.channels import ServiceCredential, remote_errors
from vidmesh.common.media import MediaInfo
from vidmesh.v1 import transcode_pb2, video_pb2, video_state_pb2, video_state_pb2_grpc


class VideoStates:
    def __init__(
        self, stub: video_state_pb2_grpc.VideoStateServiceAsyncStub, credential: ServiceCredential
    ) -> None:
        self._stub = stub
        self._credential = credential

    async def create(
        self,
        owner_id: str,
        *,
        title: str,
        description: str,
        visibility: video_pb2.Visibility.ValueType,
        filename: str,
        size_bytes: int,
        request_id: str,
    ) -> video_pb2.Video:
        with remote_errors():
            response = await self._stub.CreateVideo(
                video_state_pb2.CreateVideoRequest(
                    owner_id=owner_id,
                    title=title,
                    description=description,
                    visibility=visibility,
                    filename=filename,
                    size_bytes=size_bytes,
                    request_id=request_id,
                ),
                metadata=self._credential.metadata(),
            )
        return response.video

    @staticmethod
    def queued_request(
        video_id: str,
        job_id: str,
        *,
        filename: str,
        size_bytes: int,
        sha256: str,
        media: MediaInfo,
    ) -> video_state_pb2.MarkQueuedRequest:
        """The MarkQueued report for a committed upload (kept on disk until it is delivered)."""
        duration = duration_pb2.Duration()
        duration.FromNanoseconds(round(media.duration * 1e9))
        video = media.video
        return video_state_pb2.MarkQueuedRequest(
            video_id=video_id,
            job_id=job_id,
            generation=1,
            source=video_pb2.VideoSource(
                filename=filename,
                size_bytes=size_bytes,
                sha256=sha256,
                container=media.container,
                codecs=list(media.codecs),
            ),
            duration=duration,
            width=video.display_width if video else 0,
            height=video.display_height if video else 0,
        )

    async def queued(self, request: video_state_pb2.MarkQueuedRequest) -> video_pb2.Video:
        with remote_errors():
            response = await self._stub.MarkQueued(request, metadata=self._credential.metadata())
        return response.video

    async def stalled(
        self, idle_seconds: float, page_size: int = 100
    ) -> list[video_state_pb2.StalledVideo]:
        """QUEUED or PROCESSING videos that did not change for `idle_seconds`."""
        idle = duration_pb2.Duration()
        idle.FromNanoseconds(round(idle_seconds * 1e9))
        with remote_errors():
            response = await self._stub.ListStalledVideos(
                video_state_pb2.ListStalledVideosRequest(idle=idle, page_size=page_size),
                metadata=self._credential.metadata(),
            )
        return list(response.videos)

    async def renew_uploads(self, video_ids: list[str]) -> list[str]:
        """Renew the leases of uploads in progress; returns the ids that ended meanwhile."""
        with remote_errors():
            response = await self._stub.RenewUploads(
                video_state_pb2.RenewUploadsRequest(video_ids=video_ids),
                metadata=self._credential.metadata(),
            )
        return list(response.ended_video_ids)

    async def failed(
        self, video_id: str, reason: str, message: str, *, job_id: str = "", delivery: int = 0
    ) -> video_pb2.Video:
        with remote_errors():
            response = await self._stub.FailTranscode(
                video_state_pb2.FailTranscodeRequest(
                    video_id=video_id,
                    job_id=job_id,
                    delivery=delivery,
                    failure=video_pb2.VideoFailure(reason=reason, message=message),
                ),
                metadata=self._credential.metadata(),
            )
        return response.video

    async def requeued(
        self, video_id: str, job_id: str, generation: int, *, resume: bool = False
    ) -> video_pb2.Video:
        """Back to QUEUED for a new generation, or (`resume`) to finish the same one."""
        with remote_errors():
            response = await self._stub.MarkQueued(
                video_state_pb2.MarkQueuedRequest(
                    video_id=video_id,
                    job_id=job_id,
                    generation=generation,
                    requeue=True,
                    resume=resume,
                ),
                metadata=self._credential.metadata(),
            )
        return response.video

    async def processing(
        self, video_id: str, job_id: str, delivery: int, worker: str
    ) -> video_pb2.Video:
        with remote_errors():
            response = await self._stub.MarkProcessing(
                video_state_pb2.MarkProcessingRequest(
                    video_id=video_id, job_id=job_id, delivery=delivery, worker=worker
                ),
                metadata=self._credential.metadata(),
            )
        return response.video

    async def completed(
        self,
        video_id: str,
        job_id: str,
        delivery: int,
        *,
        renditions: list[video_pb2.Rendition],
        media_prefix: str,
        duration_seconds: float,
        poster_key: str,
        runner: video_state_pb2.TaskRunner | None = None,
    ) -> video_pb2.Video:
        duration = duration_pb2.Duration()
        duration.FromNanoseconds(round(duration_seconds * 1e9))
        with remote_errors():
            response = await self._stub.CompleteTranscode(
                video_state_pb2.CompleteTranscodeRequest(
                    video_id=video_id,
                    job_id=job_id,
                    delivery=delivery,
                    renditions=renditions,
                    media_prefix=media_prefix,
                    duration=duration,
                    poster_key=poster_key,
                    runner=runner,
                ),
                metadata=self._credential.metadata(),
            )
        return response.video

    async def record_plan(
        self,
        video_id: str,
        job_id: str,
        plan: transcode_pb2.TranscodePlan,
        runner: video_state_pb2.TaskRunner | None = None,
    ) -> video_state_pb2.TaskOutcome:
        with remote_errors():
            response = await self._stub.RecordPlan(
                video_state_pb2.RecordPlanRequest(
                    video_id=video_id, job_id=job_id, plan=plan, runner=runner
                ),
                metadata=self._credential.metadata(),
            )
        return response.outcome

    async def complete_task(
        self,
        video_id: str,
        job_id: str,
        task: transcode_pb2.TranscodeTask,
        delivery: int,
        segments: video_state_pb2.SegmentRun,
        *,
        complete: bool = True,
        runner: video_state_pb2.TaskRunner | None = None,
    ) -> video_state_pb2.TaskOutcome:
        with remote_errors():
            response = await self._stub.CompleteTask(
                video_state_pb2.CompleteTaskRequest(
                    video_id=video_id,
                    job_id=job_id,
                    task=task,
                    delivery=delivery,
                    segments=segments,
                    complete=complete,
                    runner=runner,
                ),
                metadata=self._credential.metadata(),
            )
        return response.outcome

    async def generation(self, video_id: str, job_id: str) -> video_state_pb2.Generation:
        with remote_errors():
            response = await self._stub.GetGeneration(
                video_state_pb2.GetGenerationRequest(video_id=video_id, job_id=job_id),
                metadata=self._credential.metadata(),
            )
        return response.generation
