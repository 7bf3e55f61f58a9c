"""Helpers for integration tests: a running gateway with stubs, and test accounts."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from nats.js import JetStreamContext

from vidmesh.common.runtime import Loop, run_loops
from vidmesh.common.server import RunningServer
from vidmesh.common.storage import BlobStore
from vidmesh.common.tokens import TokenCodec
from vidmesh.common.transcode_tasks import JOBS_STREAM
from vidmesh.ingest.intake import Intake
from vidmesh.transcoder.settings import TranscoderSettings
from vidmesh.transcoder.worker import Worker
from vidmesh.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    ingest_pb2_grpc,
    transcode_pb2,
    video_pb2,
    video_pb2_grpc,
    video_state_pb2,
    video_state_pb2_grpc,
)

ADMIN_EMAIL = "admin@example.com"
# What the server factories of conftest.py give tests (settings overrides as keywords).
GatewayFactory = Callable[..., Awaitable["GatewayHarness"]]
IngestFactory = Callable[..., Awaitable["IngestHarness"]]
TranscoderFactory = Callable[..., Awaitable["TranscoderHarness"]]
PASSWORD = "correct horse battery"


@dataclass
class Account:
    user_id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.access_token}"),)


@dataclass
class GatewayHarness:
    """A running gateway, a channel to it, and helpers to make accounts."""

    server: RunningServer
    channel: grpc.aio.Channel
    codec: TokenCodec
    database_url: str
    auth: auth_pb2_grpc.AuthServiceAsyncStub = field(init=False)
    videos: video_pb2_grpc.VideoServiceAsyncStub = field(init=False)
    states: video_state_pb2_grpc.VideoStateServiceAsyncStub = field(init=False)

    def __post_init__(self) -> None:
        self.auth = auth_pb2_grpc.AuthServiceStub(self.channel)
        self.videos = video_pb2_grpc.VideoServiceStub(self.channel)
        self.states = video_state_pb2_grpc.VideoStateServiceStub(self.channel)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def service_metadata(self) -> tuple[tuple[str, str], ...]:
        token = self.codec.issue_service("tests").token
        return (("authorization", f"Bearer {token}"),)

    async def register(self, email: str | None = None) -> Account:
        address = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        response = await self.auth.Register(
            auth_pb2.RegisterRequest(email=address, password=PASSWORD)
        )
        return Account(
            user_id=response.user.user_id,
            email=response.user.email,
            access_token=response.credentials.access_token,
            refresh_token=response.credentials.refresh_token,
        )

    async def create_video(
        self,
        owner: Account,
        visibility: video_pb2.Visibility.ValueType = video_pb2.VISIBILITY_PUBLIC,
        title: str = "A video",
    ) -> video_pb2.Video:
        """A video in STATE_UPLOADING, as ingest creates it."""
        response = await self.states.CreateVideo(
            video_state_pb2.CreateVideoRequest(
                owner_id=owner.user_id, title=title, visibility=visibility
            ),
            metadata=self.service_metadata,
        )
        return response.video

    async def make_ready(self, video_id: str, job_id: str | None = None) -> video_pb2.Video:
        """Drive a video through QUEUED and PROCESSING to READY, as the pipeline does."""
        job = job_id or f"{video_id}:1"
        meta = self.service_metadata
        await self.states.MarkQueued(
            video_state_pb2.MarkQueuedRequest(video_id=video_id, job_id=job, generation=1),
            metadata=meta,
        )
        await self.states.MarkProcessing(
            video_state_pb2.MarkProcessingRequest(video_id=video_id, job_id=job, delivery=1),
            metadata=meta,
        )
        response = await self.states.CompleteTranscode(
            video_state_pb2.CompleteTranscodeRequest(
                video_id=video_id,
                job_id=job,
                delivery=1,
                media_prefix=f"videos/{video_id}/generations/1",
                renditions=[video_pb2.Rendition(name="360p", width=640, height=360)],
                poster_key="poster.jpg",
            ),
            metadata=meta,
        )
        return response.video

    async def ready_video(
        self,
        owner: Account,
        visibility: video_pb2.Visibility.ValueType = video_pb2.VISIBILITY_PUBLIC,
        title: str = "A video",
    ) -> video_pb2.Video:
        video = await self.create_video(owner, visibility, title)
        return await self.make_ready(video.video_id)


@dataclass
class IngestHarness:
    """A running ingest in front of a gateway, NATS and a store."""

    gw: GatewayHarness
    port: int
    stub: ingest_pb2_grpc.IngestServiceAsyncStub
    intake: Intake
    http_port: int
    store: BlobStore
    spool_dir: Path
    jetstream: JetStreamContext

    async def queued_jobs(self) -> list[transcode_pb2.TranscodeJob]:
        info = await self.jetstream.stream_info(JOBS_STREAM)
        jobs = []
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            if info.state.messages == 0:
                break
            message = await self.jetstream.get_msg(JOBS_STREAM, sequence)
            jobs.append(transcode_pb2.TranscodeJob.FromString(message.data or b""))
        return jobs

    def spooled(self) -> list[Path]:
        """Sessions holding bytes or owing gateway a report (not the tombstones of commits)."""
        return [
            meta.parent
            for meta in self.spool_dir.glob("*/meta.json")
            if json.loads(meta.read_text()).get("phase") != "committed"
        ]


@dataclass
class TranscoderHarness:
    worker: Worker
    port: int
    settings: TranscoderSettings
    stop: asyncio.Event
    task: asyncio.Task[None]


class BackgroundLoops:
    """A wiring's loops running as one task until `stop()` (what the runtime does in a
    service process)."""

    def __init__(self, loops: Sequence[Loop]) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(run_loops(loops, self._stop))

    async def stop(self) -> None:
        self._stop.set()
        await self._task


@dataclass(frozen=True)
class Finished:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        """Both streams, for assertion messages."""
        return self.out + self.err


async def run_command(
    *argv: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,  # noqa: ASYNC109 - the bound is the helper's contract (see below)
) -> Finished:
    """Run a program to completion (no stdin, bounded in time) and keep what it printed.

    Every test program is bounded, so the bound is a parameter with a default rather than
    something each caller must remember; on timeout the program is killed, not orphaned.
    """
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())


def error_details(error: grpc.aio.AioRpcError) -> dict[str, Any]:
    """Reason, metadata and retry delay from a rich error status."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    found: dict[str, Any] = {"code": error.code(), "message": error.details()}
    if status is None:
        return found
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            found.update(reason=info.reason, domain=info.domain, metadata=dict(info.metadata))
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            found["retry_seconds"] = retry.retry_delay.ToTimedelta().total_seconds()
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            found["fields"] = [violation.field for violation in bad.field_violations]
    return found


async def expect_error(
    call: Awaitable[Any], code: grpc.StatusCode, reason: str | None = None
) -> dict[str, Any]:
    """Await a call that must fail with `code` (and `reason`); return the error's details."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    details = error_details(caught.value)
    assert details["code"] == code, details
    if reason is not None:
        assert details.get("reason") == reason, details
        assert details.get("domain") == "vidmesh"
    return details


async def eventually(
    condition: Callable[[], Awaitable[bool]],
    *,
    timeout: float = 15.0,  # noqa: ASYNC109 - reported with `what` when it passes
    what: str = "condition",
) -> None:
    """Wait until `condition` holds (for effects another process finishes on its own time).

    Polling is the point here (the effect is in another process, nothing to wait on), and the
    deadline is its own, not a caller's `asyncio.timeout`, so that a failure says what was
    awaited instead of a bare TimeoutError.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                if await condition():
                    return
        except TimeoutError:
            break
        if loop.time() >= deadline:
            break
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {timeout:g} s: {what}")
