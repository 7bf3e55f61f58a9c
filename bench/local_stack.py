"""The real local stack (`vidmesh up`) for benchmarks: start it, upload through ingest, watch.

Benchmarks measure the platform as users run it: every service in its own process, embedded
PostgreSQL and NATS, ffmpeg doing the work. Times come from the server's own timestamps (the
QUEUED transition, `playable_time`, `ready_time`), so client-side polling adds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc

from vidmesh.common.ports import PORT_NAMES
from vidmesh.devstack.process import free_port
from vidmesh.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    ingest_pb2,
    ingest_pb2_grpc,
    video_pb2,
    video_pb2_grpc,
)

VIDMESH = str(Path(sys.executable).parent / "vidmesh")
PIECE = 1024 * 1024


@dataclass
class Stack:
    data_dir: Path
    ports: dict[str, int]

    def transcoder_pids(self) -> list[int]:
        """The transcoder processes of this stack (found by their work directory)."""
        marker = f"VIDMESH_TRANSCODER_WORK_DIR={self.data_dir.resolve()}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes()
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if b"vidmesh.transcoder" in command and marker in environ:
                found.append(int(entry.name))
        return found

    def transcoder_cpu_seconds(self) -> float:
        """CPU time of the transcoders and the ffmpeg runs they waited for."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.transcoder_pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        return total / ticks


@contextlib.contextmanager
def running_stack(*args: str) -> Iterator[Stack]:
    data_dir = Path(tempfile.mkdtemp(prefix="vidmesh-bench-stack-"))
    ports = {name: free_port() for name in PORT_NAMES}
    flags = [
        arg
        for name, port in ports.items()
        for arg in (f"--{name.replace('_', '-')}-port", str(port))
    ]
    log = (data_dir / "up.log").open("w")
    process = subprocess.Popen(
        [VIDMESH, "up", "--data-dir", str(data_dir), *flags, *args],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 240
        while "Press Ctrl-C" not in (data_dir / "up.log").read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((data_dir / "up.log").read_text()[-2000:])
            time.sleep(0.2)
        yield Stack(data_dir, ports)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        subprocess.run(["rm", "-rf", str(data_dir)], check=False)


@dataclass
class Client:
    stack: Stack
    metadata: list[tuple[str, str]]

    @classmethod
    async def register(cls, stack: Stack) -> Client:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports['gateway']}") as channel:
            response = await auth_pb2_grpc.AuthServiceStub(channel).Register(
                auth_pb2.RegisterRequest(
                    email=f"bench-{time.time_ns()}@example.com",
                    password="a benchmark password",
                    display_name="Bench",
                )
            )
        token = response.credentials.access_token
        return cls(stack, [("authorization", f"Bearer {token}")])

    async def upload(
        self, path: Path, visibility: video_pb2.Visibility.ValueType = video_pb2.VISIBILITY_PRIVATE
    ) -> video_pb2.Video:
        """Stream the file to ingest; returns when the upload is complete (the video QUEUED)."""
        size = (await asyncio.to_thread(path.stat)).st_size

        async def requests() -> AsyncIterator[ingest_pb2.UploadRequest]:
            yield ingest_pb2.UploadRequest(
                metadata=ingest_pb2.UploadMetadata(
                    title=path.name,
                    filename=path.name,
                    size_bytes=size,
                    visibility=visibility,
                )
            )
            with path.open("rb") as handle:
                while piece := handle.read(PIECE):
                    yield ingest_pb2.UploadRequest(chunk=piece)

        address = f"127.0.0.1:{self.stack.ports['ingest']}"
        async with grpc.aio.insecure_channel(address) as channel:
            response = await ingest_pb2_grpc.IngestServiceStub(channel).Upload(
                requests(), metadata=self.metadata
            )
        return response.video

    async def until_ready(self, video_id: str) -> video_pb2.Video:
        last = await self.watch(video_id, until=lambda video: False)
        assert last.state == video_pb2.Video.STATE_READY, last
        return last

    async def until_playable(self, video_id: str) -> video_pb2.Video:
        last = await self.watch(video_id, until=lambda video: video.playable)
        assert last.playable, last
        return last

    async def watch(
        self, video_id: str, *, until: Callable[[video_pb2.Video], bool]
    ) -> video_pb2.Video:
        """The video as `WatchVideo` last told it: when `until` holds, or at the stream's end."""
        address = f"127.0.0.1:{self.stack.ports['gateway']}"
        async with grpc.aio.insecure_channel(address) as channel:
            stream = video_pb2_grpc.VideoServiceStub(channel).WatchVideo(
                video_pb2.WatchVideoRequest(video_id=video_id), metadata=self.metadata
            )
            last = None
            async for message in stream:
                last = message.video
                if until(last):
                    break
        assert last is not None
        return last


def queued_at(video: video_pb2.Video) -> float:
    """When the upload completed: the video's first QUEUED moment, in seconds."""
    step = next(t for t in video.transitions if t.state == video_pb2.Video.STATE_QUEUED)
    return step.time.ToNanoseconds() / 1e9


def seconds_to_playable(video: video_pb2.Video) -> float:
    return video.playable_time.ToNanoseconds() / 1e9 - queued_at(video)


def seconds_to(video: video_pb2.Video) -> tuple[float, float]:
    """(upload complete → playable, upload complete → READY)."""
    return seconds_to_playable(video), video.ready_time.ToNanoseconds() / 1e9 - queued_at(video)


def make_source(path: Path, seconds: int) -> Path:
    """A 1080p30 source with a tone, noisy enough that x264 has real work (about 10 Mb/s)."""
    if not path.exists():
        subprocess.run(
            [
                *("ffmpeg", "-v", "error", "-y"),
                *("-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}"),
                *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"),
                *("-vf", "noise=alls=6:allf=t", "-c:v", "libx264", "-preset", "ultrafast"),
                *("-crf", "26", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)),
            ],
            check=True,
        )
    return path
