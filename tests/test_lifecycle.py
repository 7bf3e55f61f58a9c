"""VideoStateService: the state machine with legal, illegal and repeated transitions."""

from __future__ import annotations

import grpc
from harness import Account, GatewayHarness, expect_error

from vidmesh.v1 import video_pb2, video_state_pb2

Code = grpc.StatusCode
S = video_pb2.Video
R = video_state_pb2


async def queued(gw: GatewayHarness, owner: Account) -> tuple[str, str]:
    video = await gw.create_video(owner)
    job = f"{video.video_id}:1"
    await gw.states.MarkQueued(
        R.MarkQueuedRequest(
            video_id=video.video_id,
            job_id=job,
            generation=1,
            source=video_pb2.VideoSource(filename="a.mp4", size_bytes=10, sha256="ab" * 32),
            width=1280,
            height=720,
        ),
        metadata=gw.service_metadata,
    )
    return video.video_id, job


async def test_the_happy_path_records_every_transition(gw: GatewayHarness) -> None:
    owner = await gw.register()
    video_id, job = await queued(gw, owner)
    ready = await gw.make_ready(video_id, job)
    assert ready.state == S.STATE_READY
    assert [t.state for t in ready.transitions] == [
        S.STATE_UPLOADING,
        S.STATE_QUEUED,
        S.STATE_PROCESSING,
        S.STATE_READY,
    ]
    times = [t.time.ToDatetime() for t in ready.transitions]
    assert times == sorted(times)
    assert ready.ready_time == ready.transitions[-1].time
    assert (ready.width, ready.height, ready.source.sha256) == (1280, 720, "ab" * 32)
    assert ready.renditions[0].name == "360p"
    # The video was created public: its poster URL is bare, for whoever reads it.
    shown = await gw.videos.GetVideo(video_pb2.GetVideoRequest(video_id=video_id))
    assert shown.video.poster_url == f"/hls/{video_id}/poster.jpg"
    mine = await gw.videos.GetVideo(
        video_pb2.GetVideoRequest(video_id=video_id), metadata=owner.metadata
    )
    assert mine.video.poster_url == shown.video.poster_url, "the same for every viewer"


async def test_repeated_reports_are_no_ops(gw: GatewayHarness) -> None:
    owner = await gw.register()
    video_id, job = await queued(gw, owner)
    meta = gw.service_metadata
    again = await gw.states.MarkQueued(
        R.MarkQueuedRequest(video_id=video_id, job_id=job, generation=1), metadata=meta
    )
    assert len(again.video.transitions) == 2
    for _ in range(2):
        processing = await gw.states.MarkProcessing(
            R.MarkProcessingRequest(video_id=video_id, job_id=job, delivery=1), metadata=meta
        )
    assert len(processing.video.transitions) == 3
    first = await gw.make_ready(video_id, job)
    second = await gw.make_ready(video_id, job)
    assert first.transitions == second.transitions
    assert len(second.transitions) == 4
    failed_late = await expect_error(
        gw.states.FailTranscode(
            R.FailTranscodeRequest(
                video_id=video_id, job_id=job, failure=video_pb2.VideoFailure(reason="X")
            ),
            metadata=meta,
        ),
        Code.FAILED_PRECONDITION,
        "ILLEGAL_TRANSITION",
    )
    assert failed_late["metadata"] == {"from": "ready", "to": "failed"}


async def test_every_task_of_a_generation_shares_one_processing_step(gw: GatewayHarness) -> None:
    owner = await gw.register()
    video_id, job = await queued(gw, owner)
    meta = gw.service_metadata

    async def processing(delivery: int, job_id: str = job) -> video_pb2.Video:
        response = await gw.states.MarkProcessing(
            R.MarkProcessingRequest(video_id=video_id, job_id=job_id, delivery=delivery),
            metadata=meta,
        )
        return response.video

    first = await processing(1)
    assert first.transitions[-1].state == S.STATE_PROCESSING
    assert first.transitions[-1].generation == 1
    assert (await processing(3)).transitions == first.transitions, "later tasks change nothing"
    await expect_error(processing(1, f"{video_id}:9"), Code.FAILED_PRECONDITION, "STALE_JOB")


async def test_illegal_transitions_are_failed_precondition(gw: GatewayHarness) -> None:
    owner = await gw.register()
    meta = gw.service_metadata
    fresh = await gw.create_video(owner)
    await expect_error(
        gw.states.CompleteTranscode(
            R.CompleteTranscodeRequest(
                video_id=fresh.video_id,
                job_id="j",
                media_prefix="p",
                renditions=[video_pb2.Rendition(name="360p")],
            ),
            metadata=meta,
        ),
        Code.FAILED_PRECONDITION,
        "STALE_JOB",
    )
    video_id, job = await queued(gw, owner)
    await expect_error(
        gw.states.CompleteTranscode(
            R.CompleteTranscodeRequest(
                video_id=video_id,
                job_id=job,
                media_prefix="p",
                renditions=[video_pb2.Rendition(name="360p")],
            ),
            metadata=meta,
        ),
        Code.FAILED_PRECONDITION,
        "ILLEGAL_TRANSITION",
    )
    await expect_error(
        gw.states.ReportProgress(
            R.ReportProgressRequest(video_id=video_id, job_id=job, percent=5), metadata=meta
        ),
        Code.FAILED_PRECONDITION,
        "ILLEGAL_TRANSITION",
    )
    await gw.make_ready(video_id, job)
    await expect_error(
        gw.states.MarkQueued(
            R.MarkQueuedRequest(video_id=video_id, job_id=f"{video_id}:2", generation=2),
            metadata=meta,
        ),
        Code.FAILED_PRECONDITION,
        "ILLEGAL_TRANSITION",
    )


async def test_terminal_states_requeue_only_explicitly(gw: GatewayHarness) -> None:
    owner = await gw.register()
    meta = gw.service_metadata
    video_id, job = await queued(gw, owner)
    failed = await gw.states.FailTranscode(
        R.FailTranscodeRequest(
            video_id=video_id,
            job_id=job,
            delivery=1,
            failure=video_pb2.VideoFailure(reason="FFMPEG_FAILED", message="boom"),
        ),
        metadata=meta,
    )
    assert failed.video.state == S.STATE_FAILED
    assert failed.video.failure.reason == "FFMPEG_FAILED"
    retry = f"{video_id}:2"
    requeued = await gw.states.MarkQueued(
        R.MarkQueuedRequest(video_id=video_id, job_id=retry, generation=2, requeue=True),
        metadata=meta,
    )
    assert requeued.video.state == S.STATE_QUEUED
    assert not requeued.video.HasField("failure")
    await expect_error(
        gw.states.MarkProcessing(
            R.MarkProcessingRequest(video_id=video_id, job_id=job, delivery=1), metadata=meta
        ),
        Code.FAILED_PRECONDITION,
        "STALE_JOB",
    )
    await gw.make_ready(video_id, retry)
    await expect_error(
        gw.states.MarkQueued(
            R.MarkQueuedRequest(video_id=video_id, job_id=job, generation=3, requeue=True),
            metadata=meta,
        ),
        Code.ALREADY_EXISTS,
        "DUPLICATE_JOB",
    )


async def test_an_upload_rejection_fails_the_video_without_a_job(gw: GatewayHarness) -> None:
    owner = await gw.register()
    video = await gw.create_video(owner)
    request = R.FailTranscodeRequest(
        video_id=video.video_id,
        failure=video_pb2.VideoFailure(reason="TRUNCATED", message="The file ends early."),
    )
    first = await gw.states.FailTranscode(request, metadata=gw.service_metadata)
    second = await gw.states.FailTranscode(request, metadata=gw.service_metadata)
    assert first.video.state == second.video.state == S.STATE_FAILED
    assert len(second.video.transitions) == 2
    await expect_error(
        gw.states.FailTranscode(
            R.FailTranscodeRequest(video_id=video.video_id), metadata=gw.service_metadata
        ),
        Code.INVALID_ARGUMENT,
        "FIELD_REQUIRED",
    )


async def test_progress_must_be_a_percentage(gw: GatewayHarness) -> None:
    owner = await gw.register()
    video_id, job = await queued(gw, owner)
    meta = gw.service_metadata
    await gw.states.MarkProcessing(
        R.MarkProcessingRequest(video_id=video_id, job_id=job, delivery=1), metadata=meta
    )
    await expect_error(
        gw.states.ReportProgress(
            R.ReportProgressRequest(video_id=video_id, job_id=job, percent=101), metadata=meta
        ),
        Code.INVALID_ARGUMENT,
        "INVALID_PROGRESS",
    )


async def test_create_is_idempotent_per_request_id(gw: GatewayHarness) -> None:
    owner = await gw.register()
    request = R.CreateVideoRequest(owner_id=owner.user_id, title="t", request_id="abc")
    first = await gw.states.CreateVideo(request, metadata=gw.service_metadata)
    second = await gw.states.CreateVideo(request, metadata=gw.service_metadata)
    assert first.video.video_id == second.video.video_id
    assert first.video.visibility == video_pb2.VISIBILITY_PRIVATE
    await expect_error(
        gw.states.CreateVideo(
            R.CreateVideoRequest(owner_id="00000000-0000-0000-0000-000000000000", title="t"),
            metadata=gw.service_metadata,
        ),
        Code.NOT_FOUND,
        "USER_NOT_FOUND",
    )


async def test_only_the_service_credential_may_report(gw: GatewayHarness) -> None:
    owner = await gw.register()
    request = R.CreateVideoRequest(owner_id=owner.user_id, title="t")
    await expect_error(
        gw.states.CreateVideo(request), Code.PERMISSION_DENIED, "SERVICE_CREDENTIAL_REQUIRED"
    )
    await expect_error(
        gw.states.CreateVideo(request, metadata=owner.metadata),
        Code.PERMISSION_DENIED,
        "SERVICE_CREDENTIAL_REQUIRED",
    )
    admin = await gw.register("admin@example.com")
    await expect_error(
        gw.states.CreateVideo(request, metadata=admin.metadata),
        Code.PERMISSION_DENIED,
        "SERVICE_CREDENTIAL_REQUIRED",
    )
