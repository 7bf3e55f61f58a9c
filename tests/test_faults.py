"""Faults on the pipeline: retries, poison jobs, dead letters, duplicates, restarts, crashes."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from flows import settled, upload, upload_requests
from harness import (
    Account,
    IngestHarness,
    TranscoderFactory,
    TranscoderHarness,
    eventually,
    expect_error,
)
from media import clip
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from vidmesh.common.queue_topology import publish_job
from vidmesh.common.storage import MEDIA, FileBlobStore
from vidmesh.common.transcode_tasks import CONSUMERS, JOBS_STREAM, LANES, URGENT, plan_job
from vidmesh.devstack.nats import NatsServer
from vidmesh.devstack.process import ManagedProcess, free_port, grpc_serving
from vidmesh.devstack.pytest_plugin import TEST_JWT_SECRET
from vidmesh.transcoder.app import transcoder
from vidmesh.transcoder.dead_letters import DeadLetters
from vidmesh.transcoder.settings import TranscoderSettings
from vidmesh.transcoder.workers import Activity, WorkerRegistry
from vidmesh.v1 import transcode_pb2, transcode_pb2_grpc, video_pb2

Code = grpc.StatusCode


class FlakyStore(FileBlobStore):
    """Fault injection: the first `failures` reads of an original fail like a storage hiccup."""

    def __init__(self, root: Path, failures: int) -> None:
        super().__init__(root)
        self.failures = failures

    async def media_url(self, bucket: str, key: str, ttl: timedelta) -> str:
        if self.failures > 0:
            self.failures -= 1
            raise OSError("injected storage failure")
        return await super().media_url(bucket, key, ttl)


async def queue_drained(js: JetStreamContext) -> bool:
    for lane in LANES:
        info = await js.consumer_info(JOBS_STREAM, CONSUMERS[lane])
        if info.num_pending or info.num_ack_pending:
            return False
    return True


def runs(store: FileBlobStore, video_id: str, rendition: str) -> list[str]:
    """The delivery folders holding segments of one rendition (one per stored chunk run)."""
    folder = store.root / MEDIA / "videos" / video_id / "generations" / "1" / "hls" / rendition
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def masters(store: FileBlobStore, video_id: str) -> list[Path]:
    return sorted((store.root / MEDIA / "videos" / video_id).rglob("master.m3u8"))


async def test_a_transient_failure_is_retried_and_succeeds(
    ing: IngestHarness, transcoder_factory: TranscoderFactory, store: FileBlobStore, media_dir: Path
) -> None:
    flaky = FlakyStore(store.root, failures=1)
    worker: TranscoderHarness = await transcoder_factory(store_override=flaky)
    owner = await ing.gw.register()
    video = await upload(ing, owner, clip(media_dir / "plain.mp4"))
    done = await settled(ing, owner, video.video_id)
    assert done.state == video_pb2.Video.STATE_READY
    assert flaky.failures == 0, "the failure happened and its task was retried"
    processing = [t for t in done.transitions if t.state == video_pb2.Video.STATE_PROCESSING]
    assert len(processing) == 1, "a retried task does not restart the generation"
    assert worker.worker.completed >= 3  # plan, chunk, audio, finalize
    assert [p.parent.parent.name for p in masters(store, video.video_id)] == ["1"]


async def test_poison_jobs_land_in_the_dlq_and_can_be_retried(
    ing: IngestHarness, transcoder_factory: TranscoderFactory, store: FileBlobStore, media_dir: Path
) -> None:
    poisoned: TranscoderHarness = await transcoder_factory(attempts=2, stall_seconds=0.01)
    owner = await ing.gw.register()
    video = await upload(ing, owner, clip(media_dir / "plain.mp4"))
    failed = await settled(ing, owner, video.video_id)
    assert (failed.state, failed.failure.reason) == (video_pb2.Video.STATE_FAILED, "STALLED")

    admin = await ing.gw.register("admin@example.com")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{poisoned.port}") as channel:
        dlq = transcode_pb2_grpc.TranscodeAdminServiceStub(channel)
        await expect_error(
            dlq.ListDeadLetters(transcode_pb2.ListDeadLettersRequest(), metadata=owner.metadata),
            Code.PERMISSION_DENIED,
            "ADMIN_REQUIRED",
        )
        listed = await dlq.ListDeadLetters(
            transcode_pb2.ListDeadLettersRequest(video_id=video.video_id), metadata=admin.metadata
        )
        # Every ffmpeg stalls: the first chunk or the audio dies first after `attempts` tries
        # and fails the video; tasks of a failed video are dropped, not dead-lettered.
        names = {letter.job.task.task_id for letter in listed.dead_letters}
        assert names
        assert names <= {f"{video.video_id}:1:chunk-0", f"{video.video_id}:1:audio"}
        assert {letter.reason for letter in listed.dead_letters} == {"STALLED"}
        letter = listed.dead_letters[-1]
        assert (letter.reason, letter.deliveries, letter.job.job_id) == (
            "STALLED",
            2,
            f"{video.video_id}:1",
        )
        got = await dlq.GetDeadLetter(
            transcode_pb2.GetDeadLetterRequest(dead_letter_id=letter.dead_letter_id),
            metadata=admin.metadata,
        )
        assert got.dead_letter == letter

        poisoned.stop.set()
        await poisoned.task
        healthy: TranscoderHarness = await transcoder_factory()
        retried = await dlq.RetryDeadLetter(
            transcode_pb2.RetryDeadLetterRequest(dead_letter_id=letter.dead_letter_id),
            metadata=admin.metadata,
        )
        # The same generation resumes: only its missing tasks run again.
        assert retried.job.job_id == f"{video.video_id}:1"
        assert retried.job.task.task_id == f"{letter.job.task.task_id}:r1"
        done = await settled(ing, owner, video.video_id)
        assert done.state == video_pb2.Video.STATE_READY
        assert healthy.worker.completed in (2, 3)  # chunk 0, (audio), finalize; not the plan
        await expect_error(
            dlq.GetDeadLetter(
                transcode_pb2.GetDeadLetterRequest(dead_letter_id=letter.dead_letter_id),
                metadata=admin.metadata,
            ),
            Code.NOT_FOUND,
            "DEAD_LETTER_NOT_FOUND",
        )
        again = await dlq.RetranscodeVideo(
            transcode_pb2.RetranscodeVideoRequest(video_id=video.video_id), metadata=admin.metadata
        )
        assert again.job.job_id == f"{video.video_id}:2"
        redone = await settled(ing, owner, video.video_id)
        assert redone.state == video_pb2.Video.STATE_READY
        assert len(masters(store, video.video_id)) == 2


async def test_purging_a_dead_letter(
    ing: IngestHarness, transcoder_factory: TranscoderFactory, media_dir: Path
) -> None:
    poisoned: TranscoderHarness = await transcoder_factory(attempts=1, stall_seconds=0.01)
    owner = await ing.gw.register()
    admin = await ing.gw.register("admin@example.com")
    video = await upload(ing, owner, clip(media_dir / "plain.mp4"))
    await settled(ing, owner, video.video_id)
    # The first dead task fails the video; its siblings (audio beside the first chunk) may
    # still be on their way to the DLQ.
    await eventually(lambda: queue_drained(ing.jetstream), what="every task settled")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{poisoned.port}") as channel:
        dlq = transcode_pb2_grpc.TranscodeAdminServiceStub(channel)
        letters = await dlq.ListDeadLetters(
            transcode_pb2.ListDeadLettersRequest(), metadata=admin.metadata
        )
        letter_id = letters.dead_letters[0].dead_letter_id
        await dlq.PurgeDeadLetter(
            transcode_pb2.PurgeDeadLetterRequest(dead_letter_id=letter_id), metadata=admin.metadata
        )
        rest = await dlq.ListDeadLetters(
            transcode_pb2.ListDeadLettersRequest(), metadata=admin.metadata
        )
        assert letter_id not in [letter.dead_letter_id for letter in rest.dead_letters]
        assert len(rest.dead_letters) == len(letters.dead_letters) - 1
        for bad in ("nope", "0", "99999"):
            await expect_error(
                dlq.PurgeDeadLetter(
                    transcode_pb2.PurgeDeadLetterRequest(dead_letter_id=bad),
                    metadata=admin.metadata,
                ),
                Code.NOT_FOUND,
                "DEAD_LETTER_NOT_FOUND",
            )


async def test_retrying_every_matching_dead_letter_at_once(
    ing: IngestHarness, transcoder_factory: TranscoderFactory, media_dir: Path
) -> None:
    poisoned: TranscoderHarness = await transcoder_factory(attempts=1, stall_seconds=0.01)
    owner = await ing.gw.register()
    admin = await ing.gw.register("admin@example.com")
    videos = [await upload(ing, owner, clip(media_dir / f"bulk-{i}.mp4")) for i in range(3)]
    for video in videos:
        assert (await settled(ing, owner, video.video_id)).state == video_pb2.Video.STATE_FAILED
    await eventually(lambda: queue_drained(ing.jetstream), what="every task settled")
    poisoned.stop.set()
    await poisoned.task
    await ing.gw.videos.DeleteVideo(
        video_pb2.DeleteVideoRequest(video_id=videos[2].video_id), metadata=owner.metadata
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{poisoned.port}") as channel:
        dlq = transcode_pb2_grpc.TranscodeAdminServiceStub(channel)
        await expect_error(
            dlq.RetryDeadLetters(transcode_pb2.RetryDeadLettersRequest(), metadata=owner.metadata),
            Code.PERMISSION_DENIED,
            "ADMIN_REQUIRED",
        )
        for too_many in (-1, 1001):
            await expect_error(
                dlq.RetryDeadLetters(
                    transcode_pb2.RetryDeadLettersRequest(max_count=too_many),
                    metadata=admin.metadata,
                ),
                Code.INVALID_ARGUMENT,
                "INVALID_PAGE_SIZE",
            )
        before = await dlq.ListDeadLetters(
            transcode_pb2.ListDeadLettersRequest(page_size=100), metadata=admin.metadata
        )
        healthy: TranscoderHarness = await transcoder_factory()
        answer = await dlq.RetryDeadLetters(
            transcode_pb2.RetryDeadLettersRequest(reason="STALLED"), metadata=admin.metadata
        )
        retried_videos = [entry.job.video_id for entry in answer.retried]
        assert sorted(retried_videos) == sorted(v.video_id for v in videos[:2]), "once each"
        assert {s.reason for s in answer.skipped} == {"VIDEO_NOT_FOUND"}, "the deleted one"
        handled = {e.dead_letter_id for e in answer.retried} | set(answer.covered_dead_letter_ids)
        handled |= {s.dead_letter_id for s in answer.skipped}
        assert handled == {letter.dead_letter_id for letter in before.dead_letters}
        for video in videos[:2]:
            done = await settled(ing, owner, video.video_id)
            assert done.state == video_pb2.Video.STATE_READY
        left = await dlq.ListDeadLetters(
            transcode_pb2.ListDeadLettersRequest(page_size=100), metadata=admin.metadata
        )
        assert {letter.job.video_id for letter in left.dead_letters} == {videos[2].video_id}
        assert healthy.worker.completed >= 4


async def test_a_duplicate_job_is_transcoded_once(
    ing: IngestHarness, transcoder_factory: TranscoderFactory, store: FileBlobStore, media_dir: Path
) -> None:
    worker: TranscoderHarness = await transcoder_factory()
    owner = await ing.gw.register()
    video = await upload(ing, owner, clip(media_dir / "plain.mp4"))
    job = (await ing.queued_jobs())[0] if await ing.queued_jobs() else None
    done = await settled(ing, owner, video.video_id)
    assert done.state == video_pb2.Video.STATE_READY
    duplicate = plan_job(
        video.video_id, 1, source_key=f"uploads/{video.video_id}/source", owner_id=owner.user_id
    )
    assert job is None or job.task.task_id == duplicate.task.task_id
    assert not await publish_job(ing.jetstream, duplicate), "deduplicated by Nats-Msg-Id"
    tasks_done = worker.worker.completed
    # Past the dedupe window (e.g. after a server restart) the database refuses it instead.
    await publish_job(ing.jetstream, duplicate, message_id="other")
    await eventually(lambda: queue_drained(ing.jetstream), what="the duplicate was consumed")
    assert worker.worker.completed == tasks_done, "the repeated plan was dropped, not run"
    again = await ing.gw.videos.GetVideo(
        video_pb2.GetVideoRequest(video_id=video.video_id), metadata=owner.metadata
    )
    assert [t.state for t in again.video.transitions].count(video_pb2.Video.STATE_READY) == 1
    assert len(masters(store, video.video_id)) == 1


async def test_jobs_survive_a_nats_restart(
    ing: IngestHarness,
    transcoder_factory: TranscoderFactory,
    nats_server: NatsServer,
    media_dir: Path,
) -> None:
    owner = await ing.gw.register()
    videos = [await upload(ing, owner, clip(media_dir / "plain.mp4")) for _ in range(2)]
    await nats_server.stop_async()
    await nats_server.start_async()
    await transcoder_factory()
    for video in videos:
        assert (await settled(ing, owner, video.video_id)).state == video_pb2.Video.STATE_READY


def worker_process(
    name: str, ing: IngestHarness, nats_server: NatsServer, store: FileBlobStore, workdir: Path
) -> ManagedProcess:
    port = free_port()
    process = ManagedProcess(
        name,
        [sys.executable, "-m", "vidmesh.transcoder"],
        log_path=workdir / f"{name}.log",
        env={
            "VIDMESH_NATS_URL": nats_server.url,
            "VIDMESH_STORAGE_URL": f"file://{store.root}",
            "VIDMESH_JWT_SECRET": TEST_JWT_SECRET,
            "VIDMESH_JWT_ISSUER": "vidmesh-test",
            "VIDMESH_TRANSCODER_PORT": str(port),
            "VIDMESH_TRANSCODER_GATEWAY_ADDRESS": f"127.0.0.1:{ing.gw.port}",
            "VIDMESH_TRANSCODER_WORK_DIR": str(workdir / f"{name}-work"),
            "VIDMESH_TRANSCODER_WORKER_NAME": name,
            "VIDMESH_TRANSCODER_ACK_WAIT_SECONDS": "3",
            "VIDMESH_TRANSCODER_HEARTBEAT_SECONDS": "1",
            "VIDMESH_TRANSCODER_PRESET": "medium",
            "VIDMESH_TRANSCODER_CHUNK_SECONDS": "8",
        },
    )
    process.start()
    process.wait_ready(grpc_serving(port), 60)
    return process


async def test_a_killed_worker_is_replaced_and_the_video_finishes_once(
    ing: IngestHarness,
    nats_server: NatsServer,
    store: FileBlobStore,
    media_dir: Path,
    tmp_path: Path,
) -> None:
    first = worker_process("worker-a", ing, nats_server, store, tmp_path)
    second = None
    try:
        owner = await ing.gw.register()
        source = clip(media_dir / "long.mp4", size="640x360", seconds=20)
        video = await upload(ing, owner, source)
        stream = ing.gw.videos.WatchVideo(
            video_pb2.WatchVideoRequest(video_id=video.video_id), metadata=owner.metadata
        )
        async for message in stream:
            if message.video.transcode.chunks_done > 0:
                break
        stream.cancel()
        first.kill()  # SIGKILL in the middle of the next chunk
        second = worker_process("worker-b", ing, nats_server, store, tmp_path)
        done = await asyncio.wait_for(settled(ing, owner, video.video_id), 120)
        assert done.state == video_pb2.Video.STATE_READY, done.failure
        assert [t.state for t in done.transitions].count(video_pb2.Video.STATE_READY) == 1
        assert [p.parent.parent.name for p in masters(store, video.video_id)] == ["1"]
        # Each chunk is stored by exactly one run: the killed chunk ran again, nothing else,
        # and whatever the killed delivery had uploaded was removed at finalize (or, by a
        # redelivery that ran after it, by that delivery once its run lost).
        assert done.transcode.chunks_total == 0  # no longer transcoding
        await eventually(lambda: queue_drained(ing.jetstream), what="every delivery settled")
        assert len(runs(store, video.video_id, "360p")) == 4
    finally:
        first.kill()
        if second is not None:
            second.stop()


async def test_jobs_that_kill_every_worker_reach_the_dlq(
    ing: IngestHarness,
    nats_server: NatsServer,
    store: FileBlobStore,
    token_codec: Any,
    media_dir: Path,
    tmp_path: Path,
) -> None:
    settings = TranscoderSettings(
        port=0,
        gateway_address=f"127.0.0.1:{ing.gw.port}",
        work_dir=tmp_path / "work",
        attempts=1,
        ack_wait_seconds=1,
    )
    async with transcoder(
        settings, nats_url=nats_server.url, store=store, codec=token_codec
    ) as app:
        backstop = await app.worker.start_backstop()
        owner = await ing.gw.register()
        video = await upload(ing, owner, clip(media_dir / "plain.mp4"))
        # Two workers take the job and die without a word (no ack, nak or term).
        crashing = await ing.jetstream.pull_subscribe_bind(
            durable=CONSUMERS[URGENT], stream=JOBS_STREAM
        )
        for delivery in (1, 2):
            [message] = await crashing.fetch(1, timeout=10)
            assert message.metadata.num_delivered == delivery
        # The server emits the advisory when it would redeliver, i.e. while workers still poll.
        with pytest.raises(NatsTimeoutError):
            await crashing.fetch(1, timeout=3)
        failed = await settled(ing, owner, video.video_id)
        assert (failed.state, failed.failure.reason) == (
            video_pb2.Video.STATE_FAILED,
            "MAX_DELIVERIES",
        )
        letters = await DeadLetters(ing.jetstream, None).list(  # type: ignore[arg-type]
            page_size=10, page_token="", video_id=video.video_id, reason=""
        )
        assert [(letter.reason, letter.worker) for letter in letters.letters] == [
            ("MAX_DELIVERIES", "advisory")
        ]
        await eventually(lambda: stream_empty(ing.jetstream), what="the job left the queue")
        await crashing.unsubscribe()
        await backstop.unsubscribe()


async def stream_empty(js: JetStreamContext) -> bool:
    info = await js.stream_info(JOBS_STREAM)
    return bool(info.state.messages == 0)


async def test_a_stopping_worker_hands_its_job_back(
    ing: IngestHarness, transcoder_factory: TranscoderFactory, store: FileBlobStore, media_dir: Path
) -> None:
    leaving: TranscoderHarness = await transcoder_factory(preset="medium")
    owner = await ing.gw.register()
    video = await upload(ing, owner, clip(media_dir / "long.mp4", size="640x360", seconds=20))
    stream = ing.gw.videos.WatchVideo(
        video_pb2.WatchVideoRequest(video_id=video.video_id), metadata=owner.metadata
    )
    async for message in stream:
        if message.video.state == video_pb2.Video.STATE_PROCESSING:
            break
    stream.cancel()
    leaving.stop.set()  # what SIGTERM does
    await asyncio.wait_for(leaving.task, 30)
    staying: TranscoderHarness = await transcoder_factory()
    done = await settled(ing, owner, video.video_id)
    assert done.state == video_pb2.Video.STATE_READY
    assert staying.worker.completed >= 1, "the handed-back tasks were finished by the other"
    processing = [t for t in done.transitions if t.state == video_pb2.Video.STATE_PROCESSING]
    assert len(processing) == 1


async def test_owners_retry_their_own_failed_videos_and_nothing_else(
    ing: IngestHarness, transcoder_factory: TranscoderFactory, media_dir: Path
) -> None:
    poisoned: TranscoderHarness = await transcoder_factory(attempts=1, stall_seconds=0.01)
    owner = await ing.gw.register()
    stranger = await ing.gw.register()
    video = await upload(ing, owner, clip(media_dir / "plain.mp4"))
    assert (await settled(ing, owner, video.video_id)).state == video_pb2.Video.STATE_FAILED
    rejected = await expect_error(
        ing.stub.Upload(upload_requests(b"not a video at all"), metadata=owner.metadata),
        Code.INVALID_ARGUMENT,
        "UNSUPPORTED_MEDIA",
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{poisoned.port}") as channel:
        admin = transcode_pb2_grpc.TranscodeAdminServiceStub(channel)

        def retry(video_id: str, who: Account) -> Any:
            return admin.RetranscodeVideo(
                transcode_pb2.RetranscodeVideoRequest(video_id=video_id), metadata=who.metadata
            )

        await expect_error(retry(video.video_id, stranger), Code.NOT_FOUND, "VIDEO_NOT_FOUND")
        await expect_error(
            retry(rejected["metadata"]["video_id"], owner),
            Code.FAILED_PRECONDITION,
            "SOURCE_MISSING",
        )
        poisoned.stop.set()
        await poisoned.task
        await transcoder_factory()
        retried = await retry(video.video_id, owner)
        assert retried.job.job_id == f"{video.video_id}:2"
        done = await settled(ing, owner, video.video_id)
        assert done.state == video_pb2.Video.STATE_READY
        await expect_error(retry(video.video_id, owner), Code.FAILED_PRECONDITION, "NOT_FAILED")


async def test_workers_announce_themselves_and_what_they_run(
    ing: IngestHarness, transcoder_factory: TranscoderFactory, media_dir: Path
) -> None:
    names = [f"listed-{os.urandom(3).hex()}" for _ in range(2)]
    first: TranscoderHarness = await transcoder_factory(worker_name=names[0])
    await transcoder_factory(worker_name=names[1])
    owner = await ing.gw.register()
    admin = await ing.gw.register("admin@example.com")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as channel:
        admin_api = transcode_pb2_grpc.TranscodeAdminServiceStub(channel)
        await expect_error(
            admin_api.ListWorkers(transcode_pb2.ListWorkersRequest(), metadata=owner.metadata),
            Code.PERMISSION_DENIED,
            "ADMIN_REQUIRED",
        )

        async def listed() -> dict[str, transcode_pb2.TranscodeWorker]:
            answer = await admin_api.ListWorkers(
                transcode_pb2.ListWorkersRequest(), metadata=admin.metadata
            )
            return {w.name: w for w in answer.workers if w.name in names}

        async def both_listed() -> bool:
            return len(await listed()) == 2

        await eventually(both_listed, what="both workers announced themselves")
        assert all(w.slots >= 1 and w.last_seen_time.seconds for w in (await listed()).values())
        video = await upload(ing, owner, clip(media_dir / "listed.mp4"))
        assert (await settled(ing, owner, video.video_id)).state == video_pb2.Video.STATE_READY

        async def counted() -> bool:
            workers = await listed()
            done = sum(w.tasks_completed for w in workers.values())
            return done >= 4 and not any(w.running for w in workers.values())

        await eventually(counted, timeout=20, what="the finished tasks were announced")


class _ListsAGhost:
    """A real worker bucket whose listing also names a worker whose entry expired since."""

    def __init__(self, bucket: Any) -> None:
        self._bucket = bucket

    async def keys(self) -> list[str]:
        return [*await self._bucket.keys(), "expired-meanwhile"]

    async def get(self, key: str) -> Any:
        return await self._bucket.get(key)


class _JetStreamWithAGhost:
    def __init__(self, js: JetStreamContext) -> None:
        self._js = js

    async def create_key_value(self, config: Any) -> _ListsAGhost:
        return _ListsAGhost(await self._js.create_key_value(config))


async def test_a_worker_that_expires_while_listed_is_left_out(jetstream: JetStreamContext) -> None:
    """Entries expire on their own (TTL), so one can vanish between the listing and its read;
    ListWorkers answers with the others instead of calling the queue unavailable."""
    alive = WorkerRegistry(jetstream)
    await alive.announce(Activity().status("alive", slots=2))
    registry = WorkerRegistry(_JetStreamWithAGhost(jetstream))  # type: ignore[arg-type]
    names = [w.name for w in await registry.workers()]
    assert "alive" in names
    assert "expired-meanwhile" not in names
