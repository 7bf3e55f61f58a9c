"""Outages and crashes during uploads: bytes that arrived are never asked for again, and no video
is left UPLOADING without work behind it (PostgreSQL and NATS stopped and restarted for real)."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import nats
import pytest
from flows import chunked, upload_requests
from google.api import httpbody_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from harness import (
    Account,
    GatewayFactory,
    GatewayHarness,
    IngestFactory,
    IngestHarness,
    TranscoderFactory,
    eventually,
)
from media import clip

from vidmesh.common.queue_client import close_nats
from vidmesh.common.storage import MEDIA, FileBlobStore
from vidmesh.common.transcode_tasks import JOBS_STREAM
from vidmesh.devstack.envoy import EnvoyProxy
from vidmesh.devstack.nats import NatsServer
from vidmesh.devstack.postgres import PostgresCluster
from vidmesh.ingest.intake import Declared
from vidmesh.v1 import ingest_pb2, video_pb2, video_state_pb2

Code = grpc.StatusCode
State = video_pb2.Video
TUS = {"Tus-Resumable": "1.0.0"}
# Short waits so that a request answers "committing" quickly and the background retries fast.
DURABLE = {"commit_wait_seconds": 0.3, "maintenance_seconds": 0.1}


@contextlib.asynccontextmanager
async def stopped(server: PostgresCluster | NatsServer) -> AsyncIterator[None]:
    """The server is down inside the block and back afterwards (the services in this process
    keep running meanwhile)."""
    await server.stop_async()
    try:
        yield
    finally:
        await server.start_async()


async def state_of(gw: GatewayHarness, owner: Account, video_id: str) -> Any:
    response = await gw.videos.GetVideo(
        video_pb2.GetVideoRequest(video_id=video_id), metadata=owner.metadata
    )
    return response.video


async def becomes(gw: GatewayHarness, owner: Account, video_id: str, state: int) -> Any:
    async def reached() -> bool:
        try:
            return bool((await state_of(gw, owner, video_id)).state == state)
        except grpc.aio.AioRpcError as error:
            if error.code() is Code.UNAVAILABLE:
                return False
            raise

    await eventually(reached, timeout=30, what=f"{video_id} reaches {state}")
    return await state_of(gw, owner, video_id)


async def test_a_tus_upload_finished_while_postgres_restarts_is_committed_without_resending(
    ingest_factory: IngestFactory, postgres_cluster: PostgresCluster, media_dir: Path
) -> None:
    ing = await ingest_factory(**DURABLE)
    owner = await ing.gw.register()
    data = clip(media_dir / "plain.mp4").read_bytes()
    half = len(data) // 2
    auth = {**TUS, "authorization": f"Bearer {owner.access_token}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ing.http_port}") as http:
        title = base64.b64encode(b"Outage").decode()
        created = await http.post(
            "/v1/tus/",
            headers={**auth, "Upload-Length": str(len(data)), "Upload-Metadata": f"title {title}"},
        )
        assert created.status_code == 201, created.text
        url, video_id = created.headers["Location"], created.headers["Vidmesh-Video-Id"]
        patch = {**auth, "Content-Type": "application/offset+octet-stream"}
        first = await http.patch(url, content=data[:half], headers={**patch, "Upload-Offset": "0"})
        assert first.status_code == 204
        async with stopped(postgres_cluster):
            last = await http.patch(
                url, content=data[half:], headers={**patch, "Upload-Offset": str(half)}
            )
            assert last.status_code == 204, last.text
            assert last.headers["Upload-Offset"] == str(len(data))
            head = await http.head(url, headers=auth)
            assert (head.status_code, head.headers["Upload-Offset"]) == (200, str(len(data)))
            session = await ing.stub.GetUpload(
                ingest_pb2.GetUploadRequest(upload_id=url.rsplit("/", 1)[1]),
                metadata=owner.metadata,
            )
            assert session.upload.state == ingest_pb2.UploadSession.STATE_COMMITTING
        video = await becomes(ing.gw, owner, video_id, State.STATE_QUEUED)
        assert video.source.sha256
        assert video.source.size_bytes == len(data)
        assert [job.video_id for job in await ing.queued_jobs()] == [video_id]
        again = await http.patch(
            url, content=b"", headers={**patch, "Upload-Offset": str(len(data))}
        )
        assert (again.status_code, again.headers["Upload-Offset"]) == (204, str(len(data)))
    assert ing.spooled() == []


async def test_a_one_shot_upload_finished_while_postgres_restarts_is_committed(
    ingest_factory: IngestFactory, postgres_cluster: PostgresCluster, media_dir: Path
) -> None:
    ing = await ingest_factory(**DURABLE)
    owner = await ing.gw.register()
    data = clip(media_dir / "plain.mp4").read_bytes()

    async def requests() -> AsyncIterator[ingest_pb2.UploadRequest]:
        async for request in upload_requests(data):
            yield request
            if request.WhichOneof("payload") == "metadata":
                # Once the video exists, PostgreSQL goes away until after the last byte.
                await eventually(lambda: _has_video(ing, owner), what="the video is created")
                await postgres_cluster.stop_async()

    try:
        response = await ing.stub.Upload(requests(), metadata=owner.metadata)
    finally:
        await postgres_cluster.start_async()
    assert response.video.state == State.STATE_UPLOADING  # committing in the background
    await becomes(ing.gw, owner, response.video.video_id, State.STATE_QUEUED)
    assert ing.spooled() == []


async def test_a_commit_outlives_a_nats_restart(
    ingest_factory: IngestFactory, nats_server: NatsServer, media_dir: Path
) -> None:
    ing = await ingest_factory(**DURABLE)
    owner = await ing.gw.register()
    data = clip(media_dir / "plain.mp4").read_bytes()

    async def requests() -> AsyncIterator[ingest_pb2.UploadRequest]:
        async for request in upload_requests(data):
            yield request
        await nats_server.stop_async()

    try:
        response = await ing.stub.Upload(requests(), metadata=owner.metadata)
    finally:
        await nats_server.start_async()
    video_id = response.video.video_id

    async def published() -> bool:
        with contextlib.suppress(Exception):
            return [job.video_id for job in await ing.queued_jobs()] == [video_id]
        return False

    await eventually(published, timeout=30, what="the job is published after NATS is back")
    assert (await state_of(ing.gw, owner, video_id)).state == State.STATE_QUEUED
    assert ing.spooled() == []


async def test_a_failure_report_lost_to_an_outage_is_delivered_later(
    ingest_factory: IngestFactory, postgres_cluster: PostgresCluster
) -> None:
    ing = await ingest_factory(**DURABLE)
    owner = await ing.gw.register()
    created = await ing.stub.CreateUpload(
        ingest_pb2.CreateUploadRequest(
            metadata=ingest_pb2.UploadMetadata(title="Cancelled", size_bytes=1000)
        ),
        metadata=owner.metadata,
    )
    async with stopped(postgres_cluster):
        await ing.stub.CancelUpload(
            ingest_pb2.CancelUploadRequest(upload_id=created.upload.upload_id),
            metadata=owner.metadata,
        )
        assert len(ing.spooled()) == 1  # the report waits in the spool
    video = await becomes(ing.gw, owner, created.upload.video_id, State.STATE_FAILED)
    assert video.failure.reason == "UPLOAD_CANCELLED"
    await eventually(lambda: _empty(ing), what="the spool settles")


async def _has_video(ing: IngestHarness, owner: Account) -> bool:
    listed = await ing.gw.videos.ListVideos(
        video_pb2.ListVideosRequest(scope=video_pb2.ListVideosRequest.SCOPE_MINE),
        metadata=owner.metadata,
    )
    return len(listed.videos) == 1


async def _empty(ing: IngestHarness) -> bool:
    return ing.spooled() == []


async def _body(payload: bytes) -> AsyncIterator[httpbody_pb2.HttpBody]:
    for piece in chunked(payload):
        yield httpbody_pb2.HttpBody(data=piece)


async def test_an_ingest_crash_mid_upload_leaves_no_ghost_video(
    ingest_factory: IngestFactory, tmp_path: Path, media_dir: Path
) -> None:
    spool = tmp_path / "shared-spool"
    crashed = await ingest_factory(spool_dir=spool, maintenance_seconds=3600)
    owner = await crashed.gw.register()
    # What a one-shot request had begun when its ingest died.
    data = clip(media_dir / "plain.mp4").read_bytes()
    session = await crashed.intake.begin(
        owner.user_id,
        Declared(title="Cut off", size_bytes=len(data), request_id="crash-key"),
        resumable=False,
    )
    restarted = await ingest_factory(spool_dir=spool, **DURABLE)
    video = await becomes(restarted.gw, owner, session.info.video_id, State.STATE_FAILED)
    assert video.failure.reason == "UPLOAD_ABORTED"
    await eventually(lambda: _empty(restarted), what="the crashed session is removed")
    # The client retries with its idempotency key: the same video continues and commits.
    retried = await restarted.stub.UploadBody(
        _body(data),
        metadata=(
            *owner.metadata,
            ("x-title", "Cut off"),
            ("x-upload-length", str(len(data))),
            ("idempotency-key", "crash-key"),
        ),
    )
    assert retried.video.video_id == session.info.video_id
    assert retried.video.state == State.STATE_QUEUED


async def test_uploads_nobody_vouches_for_are_failed_by_the_reconciler(
    gateway_factory: GatewayFactory, ingest_factory: IngestFactory, tmp_path: Path
) -> None:
    gw: GatewayHarness = await gateway_factory(upload_lease_seconds=1.0, lease_sweep_seconds=0.1)
    owner = await gw.register()
    orphan = await gw.create_video(owner)  # as if ingest had lost its disk
    ing = await _ingest_for(
        ingest_factory, gw, tmp_path, lease_renew_seconds=0.1, maintenance_seconds=0.1
    )
    kept = await ing.stub.CreateUpload(
        ingest_pb2.CreateUploadRequest(
            metadata=ingest_pb2.UploadMetadata(title="Slow", size_bytes=1000)
        ),
        metadata=owner.metadata,
    )
    failed = await becomes(gw, owner, orphan.video_id, State.STATE_FAILED)
    assert failed.failure.reason == "UPLOAD_ABORTED"
    # The upload whose session ingest holds outlived two leases: ingest vouches for it.
    assert (await state_of(gw, owner, kept.upload.video_id)).state == State.STATE_UPLOADING
    ended = await gw.states.RenewUploads(
        video_state_pb2.RenewUploadsRequest(video_ids=[orphan.video_id, kept.upload.video_id]),
        metadata=gw.service_metadata,
    )
    assert list(ended.ended_video_ids) == [orphan.video_id]


async def _ingest_for(
    ingest_factory: IngestFactory, gw: GatewayHarness, tmp_path: Path, **overrides: Any
) -> IngestHarness:
    harness: IngestHarness = await ingest_factory(
        gateway_address=f"127.0.0.1:{gw.port}", spool_dir=tmp_path / "own-spool", **overrides
    )
    harness.gw = gw
    return harness


async def test_a_retried_rest_upload_with_the_same_idempotency_key_returns_the_same_video(
    ing: IngestHarness, media_dir: Path
) -> None:
    owner = await ing.gw.register()
    data = clip(media_dir / "plain.mp4").read_bytes()
    headers = (
        *owner.metadata,
        ("x-title", "Keyed"),
        ("x-upload-length", str(len(data))),
        ("idempotency-key", "retry-me-1"),
    )

    first = await ing.stub.UploadBody(_body(data), metadata=headers)
    second = await ing.stub.UploadBody(_body(data), metadata=headers)
    assert second.video.video_id == first.video.video_id
    listed = await ing.gw.videos.ListVideos(
        video_pb2.ListVideosRequest(scope=video_pb2.ListVideosRequest.SCOPE_MINE),
        metadata=owner.metadata,
    )
    assert [v.video_id for v in listed.videos] == [first.video.video_id]
    assert len(await ing.queued_jobs()) == 1


async def test_gateway_answers_unavailable_with_a_retry_hint_while_postgres_is_down(
    gw: GatewayHarness,
    postgres_cluster: PostgresCluster,
    envoy_factory: Callable[..., EnvoyProxy],
) -> None:
    account = await gw.register()
    edge = envoy_factory(gw.port)
    me = video_pb2.ListVideosRequest(scope=video_pb2.ListVideosRequest.SCOPE_MINE)
    async with httpx.AsyncClient(base_url=edge.url, timeout=30) as http:
        async with stopped(postgres_cluster):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await gw.videos.ListVideos(me, metadata=account.metadata)
            assert caught.value.code() is Code.UNAVAILABLE
            status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
            assert status is not None
            kinds = {detail.type_url.rsplit(".", 1)[-1] for detail in status.details}
            assert {"ErrorInfo", "RetryInfo"} <= kinds
            info = error_details_pb2.ErrorInfo()
            status.details[0].Unpack(info)
            assert info.reason == "DATABASE_UNAVAILABLE"
            rest = await http.get(
                "/v1/videos?scope=SCOPE_MINE",
                headers={"authorization": f"Bearer {account.access_token}"},
            )
            assert rest.status_code == 503, rest.text
            assert int(rest.headers["retry-after"]) >= 1
            assert "psycopg" not in rest.text
            assert "OperationalError" not in rest.text
        # The pool recovers by itself once PostgreSQL is back.
        listed = await gw.videos.ListVideos(me, metadata=account.metadata)
        assert list(listed.videos) == []


async def test_a_nats_client_closes_cleanly_while_reconnecting(nats_server: NatsServer) -> None:
    client = await nats.connect(nats_server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    async with stopped(nats_server):
        await eventually(
            lambda: _reconnecting(client), what="the client notices the server is gone"
        )
        await close_nats(client)
        assert client.is_closed


async def _reconnecting(client: Any) -> bool:
    return bool(client.is_reconnecting)


async def test_a_video_whose_job_vanished_from_the_queue_is_queued_again(
    ing: IngestHarness, transcoder_factory: TranscoderFactory, media_dir: Path
) -> None:
    owner = await ing.gw.register()
    data = clip(media_dir / "plain.mp4").read_bytes()
    response = await ing.stub.Upload(upload_requests(data), metadata=owner.metadata)
    assert response.video.state == State.STATE_QUEUED
    await ing.jetstream.purge_stream(JOBS_STREAM)  # the job is lost outside the pipeline
    await transcoder_factory(stale_seconds=0.5, reconcile_seconds=0.2)
    video = await becomes(ing.gw, owner, response.video.video_id, State.STATE_READY)
    assert [t.job_id for t in video.transitions if t.state == State.STATE_QUEUED] == [
        f"{video.video_id}:1"
    ]


async def test_transcoder_reports_wait_out_a_database_restart(
    ing: IngestHarness,
    transcoder_factory: TranscoderFactory,
    postgres_cluster: PostgresCluster,
    store: FileBlobStore,
    media_dir: Path,
) -> None:
    worker = await transcoder_factory()
    owner = await ing.gw.register()
    data = clip(media_dir / "plain.mp4").read_bytes()
    response = await ing.stub.Upload(upload_requests(data), metadata=owner.metadata)
    video_id = response.video.video_id
    await becomes(ing.gw, owner, video_id, State.STATE_PROCESSING)

    async def encoding() -> bool:
        # A chunk past its start report: from here on it needs the database only to report.
        return any(":chunk-" in task for task in worker.worker.activity.running)

    await eventually(encoding, what="a chunk is being encoded")

    async def segments_written() -> bool:
        return any((store.root / MEDIA / "videos" / video_id).rglob("*.ts"))

    async with stopped(postgres_cluster):
        # A chunk finishes while the database is away; its report has to wait.
        await eventually(segments_written, timeout=60, what="segments are stored")
    video = await becomes(ing.gw, owner, video_id, State.STATE_READY)
    processing = [t for t in video.transitions if t.state == State.STATE_PROCESSING]
    assert len(processing) == 1, "an outage must not restart the generation"
