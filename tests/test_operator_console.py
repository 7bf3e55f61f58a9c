"""What the operator console reads: a video's timeline (owners and admins) and the transcode
queue per lane and per video (admins), on real gateway, NATS, transcoder and ffmpeg."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import grpc
from flows import settled, upload
from harness import IngestHarness, TranscoderFactory, TranscoderHarness, expect_error
from media import clip
from nats.js import JetStreamContext

from vidmesh.common.queue_topology import publish_job
from vidmesh.common.transcode_tasks import BULK, URGENT, plan_job, task_of
from vidmesh.transcoder.queue_state import read_queue
from vidmesh.v1 import transcode_pb2, transcode_pb2_grpc, video_pb2

Code = grpc.StatusCode
Step = video_pb2.TimelineStep


async def test_the_timeline_shows_every_step_with_its_worker_and_duration(
    ing: IngestHarness, transcoder_factory: TranscoderFactory, media_dir: Path
) -> None:
    name = f"timeline-{os.urandom(3).hex()}"
    await transcoder_factory(worker_name=name)
    owner = await ing.gw.register()
    video = await upload(ing, owner, clip(media_dir / "timeline.mp4", seconds=6))
    done = await settled(ing, owner, video.video_id)
    assert done.state == video_pb2.Video.STATE_READY

    request = video_pb2.GetVideoTimelineRequest(video_id=video.video_id)
    steps = (await ing.gw.videos.GetVideoTimeline(request, metadata=owner.metadata)).steps
    names = [step.name for step in steps]
    chunks = [step for step in steps if step.kind == Step.KIND_CHUNK]
    assert names[:3] == ["upload", "queue", "plan"], names
    assert names[-1] == "ready", names
    assert {"audio", "finalize", "playable"} <= set(names)
    assert sorted(step.name for step in chunks) == [
        f"chunk-{index}" for index in range(done.transcode.chunks_total or len(chunks))
    ]
    tasks = [s for s in steps if s.kind in (Step.KIND_PLAN, Step.KIND_CHUNK, Step.KIND_FINALIZE)]
    assert all(step.worker == name for step in tasks), [(s.name, s.worker) for s in tasks]
    assert all(step.generation == 1 for step in steps[1:])
    assert all(step.HasField("end_time") and step.duration.ToNanoseconds() >= 0 for step in steps)
    starts = [step.start_time.ToNanoseconds() for step in steps]
    assert starts == sorted(starts), "steps come in the order they happened"
    by_name = {step.name: step for step in steps}
    queued = by_name["queue"].start_time.ToDatetime()
    assert by_name["upload"].end_time.ToDatetime() == queued
    assert by_name["plan"].start_time.ToDatetime() >= queued
    playable = by_name["playable"].duration.ToTimedelta()
    ready = by_name["ready"].duration.ToTimedelta()
    assert playable <= ready, "the moments count from the queueing: playable comes first"
    assert by_name["playable"].start_time == done.playable_time

    admin = await ing.gw.register("admin@example.com")
    as_admin = await ing.gw.videos.GetVideoTimeline(request, metadata=admin.metadata)
    assert [step.name for step in as_admin.steps] == names

    stranger = await ing.gw.register()
    await expect_error(
        ing.gw.videos.GetVideoTimeline(request, metadata=stranger.metadata),
        Code.NOT_FOUND,
        "VIDEO_NOT_FOUND",
    )
    await expect_error(ing.gw.videos.GetVideoTimeline(request), Code.UNAUTHENTICATED)
    await expect_error(
        ing.gw.videos.GetVideoTimeline(
            video_pb2.GetVideoTimelineRequest(video_id="nope"), metadata=owner.metadata
        ),
        Code.INVALID_ARGUMENT,
        "INVALID_VIDEO_ID",
    )


async def test_a_failed_generation_and_its_retry_are_both_on_the_timeline(
    ing: IngestHarness, transcoder_factory: TranscoderFactory, media_dir: Path
) -> None:
    poisoned: TranscoderHarness = await transcoder_factory(attempts=1, stall_seconds=0.01)
    owner = await ing.gw.register()
    video = await upload(ing, owner, clip(media_dir / "timeline-failed.mp4"))
    failed = await settled(ing, owner, video.video_id)
    assert failed.state == video_pb2.Video.STATE_FAILED
    poisoned.stop.set()
    await poisoned.task
    worker: TranscoderHarness = await transcoder_factory()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{worker.port}") as channel:
        await transcode_pb2_grpc.TranscodeAdminServiceStub(channel).RetranscodeVideo(
            transcode_pb2.RetranscodeVideoRequest(video_id=video.video_id), metadata=owner.metadata
        )
    assert (await settled(ing, owner, video.video_id)).state == video_pb2.Video.STATE_READY

    request = video_pb2.GetVideoTimelineRequest(video_id=video.video_id)
    steps = list((await ing.gw.videos.GetVideoTimeline(request, metadata=owner.metadata)).steps)
    first = [step for step in steps if step.generation == 1]
    second = [step for step in steps if step.generation == 2]
    failures = [step for step in first if step.kind == Step.KIND_FAILED]
    assert len(failures) == 1, "the reason is the latest failure's"
    assert failures[0].detail == "", "the reason is the latest failure's"
    assert second[0].name == "queue"
    assert second[-1].name == "ready"
    assert any(step.kind == Step.KIND_CHUNK for step in second)
    assert steps.index(first[-1]) < steps.index(second[0])


async def test_the_queue_counts_waiting_tasks_per_lane_and_video(
    jetstream: JetStreamContext,
) -> None:
    busy, other = str(uuid.uuid4()), str(uuid.uuid4())
    plan = plan_job(busy, 1, source_key=f"uploads/{busy}/source", owner_id="owner")
    chunk = transcode_pb2.TranscodeTask(kind=transcode_pb2.TranscodeTask.KIND_CHUNK)
    for index in (1, 2, 3):
        chunk.chunk_index = index
        await publish_job(jetstream, task_of(plan, chunk))
    await publish_job(
        jetstream, plan_job(other, 1, source_key=f"uploads/{other}/source", owner_id="owner")
    )

    queue = await read_queue(jetstream)
    lanes = {lane.name: lane for lane in queue.lanes}
    assert set(lanes) == {URGENT, BULK}
    assert (lanes[BULK].pending, lanes[BULK].running) == (3, 0)
    assert [(v.video_id, v.tasks) for v in lanes[BULK].videos] == [(busy, 3)]
    assert lanes[URGENT].pending == 1
    assert [(v.video_id, v.tasks) for v in lanes[URGENT].videos] == [(other, 1)]
    assert lanes[BULK].subject == "vidmesh.transcode.bulk.*"
    assert queue.dead_letters == 0


async def test_only_admins_read_the_queue(
    ing: IngestHarness, transcoder_factory: TranscoderFactory
) -> None:
    worker: TranscoderHarness = await transcoder_factory()
    owner = await ing.gw.register()
    admin = await ing.gw.register("admin@example.com")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{worker.port}") as channel:
        stub = transcode_pb2_grpc.TranscodeAdminServiceStub(channel)
        await expect_error(
            stub.GetQueue(transcode_pb2.GetQueueRequest(), metadata=owner.metadata),
            Code.PERMISSION_DENIED,
            "ADMIN_REQUIRED",
        )
        await expect_error(stub.GetQueue(transcode_pb2.GetQueueRequest()), Code.UNAUTHENTICATED)
        queue = await stub.GetQueue(transcode_pb2.GetQueueRequest(), metadata=admin.metadata)
        assert [lane.name for lane in queue.lanes] == [URGENT, BULK]
