"""Gateway as operators run it: a real process with env config, JSON logs and a graceful drain."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from harness import PASSWORD, error_details

from vidmesh.common.tokens import TokenCodec
from vidmesh.devstack.postgres import PostgresCluster
from vidmesh.devstack.process import ManagedProcess, free_port, grpc_serving
from vidmesh.devstack.pytest_plugin import TEST_JWT_SECRET
from vidmesh.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    video_pb2,
    video_pb2_grpc,
    video_state_pb2,
    video_state_pb2_grpc,
)


def gateway_command(database_url: str, workdir: Path) -> tuple[ManagedProcess, int]:
    """A gateway process (not started) on a free port, configured as an operator would."""
    port = free_port()
    process = ManagedProcess(
        "gateway",
        [sys.executable, "-m", "vidmesh.gateway"],
        log_path=workdir / f"gateway-{port}.log",
        env={
            "VIDMESH_DATABASE_URL": database_url,
            "VIDMESH_JWT_SECRET": TEST_JWT_SECRET,
            "VIDMESH_JWT_ISSUER": "vidmesh-test",
            "VIDMESH_GATEWAY_PORT": str(port),
            "VIDMESH_GATEWAY_GRACE_SECONDS": "5",
            "VIDMESH_STORAGE_URL": f"file://{workdir / 'objects'}",
        },
    )
    return process, port


@pytest.fixture
def gateway_process(
    database_factory: Callable[..., str],
    gateway_template: str,
    vidmesh_workdir: Path,
) -> Iterator[tuple[ManagedProcess, int]]:
    process, port = gateway_command(database_factory(template=gateway_template), vidmesh_workdir)
    process.start()
    process.wait_ready(grpc_serving(port), 60)
    yield process, port
    process.stop()


async def test_sigterm_drains_and_watchers_are_told_to_reconnect(
    gateway_process: tuple[ManagedProcess, int], token_codec: TokenCodec
) -> None:
    process, port = gateway_process
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        registered = await auth_pb2_grpc.AuthServiceStub(channel).Register(
            auth_pb2.RegisterRequest(email="drain@example.com", password=PASSWORD),
            metadata=(("x-request-id", "req-drain-1"),),
        )
        service = (("authorization", f"Bearer {token_codec.issue_service('t').token}"),)
        created = await video_state_pb2_grpc.VideoStateServiceStub(channel).CreateVideo(
            video_state_pb2.CreateVideoRequest(owner_id=registered.user.user_id, title="t"),
            metadata=service,
        )
        owner = (("authorization", f"Bearer {registered.credentials.access_token}"),)
        stream = video_pb2_grpc.VideoServiceStub(channel).WatchVideo(
            video_pb2.WatchVideoRequest(video_id=created.video.video_id), metadata=owner
        )
        first = await stream.read()
        assert isinstance(first, video_pb2.WatchVideoResponse)

        assert process.process is not None
        process.process.send_signal(signal.SIGTERM)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stream.read()
        details = error_details(caught.value)
        assert (details["code"], details["reason"]) == (
            grpc.StatusCode.UNAVAILABLE,
            "SHUTTING_DOWN",
        )
    assert process.process.wait(timeout=30) == 0

    lines = [json.loads(line) for line in process.log_path.read_text().splitlines()]
    register = [line for line in lines if line.get("method", "").endswith("/Register")]
    assert register
    assert register[0]["request_id"] == "req-drain-1"
    assert register[0]["code"] == "OK"
    assert {"serving", "draining", "stopped"} <= {line["message"] for line in lines}
    assert PASSWORD not in process.log_path.read_text()


def test_startup_waits_for_a_database_that_is_not_up_yet(vidmesh_workdir: Path) -> None:
    """A PostgreSQL in crash recovery (or started after gateway) must not crash-loop gateway:
    it waits, says so once, does not serve meanwhile, and serves once the database is up."""
    cluster = PostgresCluster(vidmesh_workdir / f"late-{free_port()}", port=free_port())
    process, port = gateway_command(cluster.url(), vidmesh_workdir)
    process.start()
    try:
        process.wait_ready(lambda: "retrying" in process.log_path.read_text(), 60)
        assert not grpc_serving(port)()
        cluster.start()
        try:
            process.wait_ready(grpc_serving(port), 60)
        finally:
            process.stop()
            cluster.stop()
    finally:
        process.stop()
    lines = [json.loads(line) for line in process.log_path.read_text().splitlines()]
    waits = [line for line in lines if line["message"].startswith("database migration")]
    assert [line["reason"] for line in waits] == ["DATABASE_UNAVAILABLE"]
    assert "Traceback" not in process.log_path.read_text()
