"""The timeline built from a video's record, without a database: what each step spans."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from vidmesh.gateway.models import TaskRun, Video, VideoState, VideoTransition
from vidmesh.gateway.timeline import build_steps
from vidmesh.v1 import video_pb2

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
Step = video_pb2.TimelineStep


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def video(state: VideoState, generation: int = 1, **fields: object) -> Video:
    return Video(
        id=uuid.uuid4(),
        state=state,
        generation=generation,
        created_at=T0,
        updated_at=at(100),
        **fields,
    )


def moved(state: VideoState, seconds: float, generation: int = 1) -> VideoTransition:
    return VideoTransition(state=state, generation=generation, created_at=at(seconds))


def ran(task: str, start: float, end: float, generation: int = 1, worker: str = "w1") -> TaskRun:
    return TaskRun(
        task=task,
        generation=generation,
        worker=worker,
        delivery=1,
        started_at=at(start),
        finished_at=at(end),
    )


def seconds(step: video_pb2.TimelineStep) -> float:
    return step.duration.ToNanoseconds() / 1e9


def test_a_ready_video_reads_upload_queue_tasks_and_moments_in_order() -> None:
    record = video(VideoState.READY, playable_at=at(9))
    transitions = [
        moved(VideoState.UPLOADING, 0),
        moved(VideoState.QUEUED, 5),
        moved(VideoState.PROCESSING, 6),
        moved(VideoState.READY, 20),
    ]
    runs = [
        ran("finalize", 18, 20),
        ran("chunk-1", 9, 17, worker="w2"),
        ran("plan", 6, 7),
        ran("chunk-0", 7, 9),
        ran("audio", 7, 12, worker="w2"),
    ]
    steps = build_steps(record, transitions, runs)
    assert [s.name for s in steps] == [
        "upload",
        "queue",
        "plan",
        "chunk-0",
        "audio",
        "chunk-1",
        "playable",
        "finalize",
        "ready",
    ]
    named = {s.name: s for s in steps}
    assert seconds(named["upload"]) == 5
    assert seconds(named["queue"]) == 1, "the wait ends when the plan starts"
    assert (named["chunk-1"].worker, seconds(named["chunk-1"])) == ("w2", 8)
    assert seconds(named["playable"]) == 4, "moments count from the queueing"
    assert seconds(named["ready"]) == 15
    assert named["ready"].end_time == named["ready"].start_time


def test_a_waiting_video_has_an_open_queue_step() -> None:
    record = video(VideoState.QUEUED)
    steps = build_steps(record, [moved(VideoState.UPLOADING, 0), moved(VideoState.QUEUED, 3)], [])
    assert [s.name for s in steps] == ["upload", "queue"]
    assert not steps[1].HasField("end_time")
    assert not steps[1].HasField("duration")


def test_a_video_still_uploading_has_an_open_upload_step() -> None:
    steps = build_steps(video(VideoState.UPLOADING), [moved(VideoState.UPLOADING, 0)], [])
    assert [s.name for s in steps] == ["upload"]
    assert not steps[0].HasField("end_time")


def test_a_retried_generation_shows_both_waits_and_the_failure_between() -> None:
    record = video(VideoState.READY, playable_at=at(8), failure_reason="FFMPEG_FAILED")
    transitions = [
        moved(VideoState.UPLOADING, 0),
        moved(VideoState.QUEUED, 2),
        moved(VideoState.PROCESSING, 3),
        moved(VideoState.FAILED, 10),
        moved(VideoState.QUEUED, 30),
        moved(VideoState.PROCESSING, 33),
        moved(VideoState.READY, 40),
    ]
    runs = [ran("plan", 3, 4), ran("chunk-0", 4, 8), ran("audio", 33, 35), ran("finalize", 36, 40)]
    steps = build_steps(record, transitions, runs)
    assert [s.name for s in steps] == [
        "upload",
        "queue",
        "plan",
        "chunk-0",
        "playable",
        "failed",
        "queue",
        "audio",
        "finalize",
        "ready",
    ]
    waits = [seconds(s) for s in steps if s.kind == Step.KIND_QUEUE]
    assert waits == [1, 3], "the retry's wait ends at its PROCESSING, not at the old plan"
    failed = next(s for s in steps if s.kind == Step.KIND_FAILED)
    assert failed.detail == "", "an old failure's reason is not the video's current one"
    assert seconds(steps[-1]) == 10, "ready counts from the retry's queueing"


def test_a_new_generation_sorts_after_the_old_one() -> None:
    record = video(VideoState.PROCESSING, generation=2, playable_at=at(5))
    transitions = [
        moved(VideoState.UPLOADING, 0),
        moved(VideoState.QUEUED, 1),
        moved(VideoState.PROCESSING, 2),
        moved(VideoState.READY, 9),
        moved(VideoState.QUEUED, 50, generation=2),
        moved(VideoState.PROCESSING, 51, generation=2),
    ]
    runs = [ran("plan", 2, 3), ran("plan", 51, 52, generation=2)]
    steps = build_steps(record, transitions, runs)
    assert [(s.generation, s.name) for s in steps] == [
        (0, "upload"),
        (1, "queue"),
        (1, "plan"),
        (1, "playable"),
        (1, "ready"),
        (2, "queue"),
        (2, "plan"),
    ]
