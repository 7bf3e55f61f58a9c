"""The real servers behind the fixtures: PostgreSQL (PATH and embedded wheel) and JetStream."""

from __future__ import annotations

from pathlib import Path

import nats
import psycopg
import pytest

from vidmesh.devstack.nats import NatsServer
from vidmesh.devstack.postgres import PostgresCluster, embedded_bin_dir
from vidmesh.devstack.process import StartupError, free_port

# Each test starts its own PostgreSQL or NATS.
pytestmark = pytest.mark.integration


def test_the_embedded_wheel_runs_a_password_protected_cluster(vidmesh_workdir: Path) -> None:
    cluster = PostgresCluster(
        vidmesh_workdir / "embedded-pg",
        port=free_port(),
        password="s3cret-pass",
        bin_dir=embedded_bin_dir(),
    )
    cluster.start()
    try:
        url = cluster.create_database("app")
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            version = conn.execute("SHOW server_version").fetchone()
        assert version is not None
        wrong = cluster.conninfo("app").replace("s3cret-pass", "wrong")
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(wrong)
    finally:
        cluster.stop()
    assert not cluster.running()


def test_a_cluster_restarts_with_its_data(vidmesh_workdir: Path) -> None:
    base = vidmesh_workdir / "restart-pg"
    first = PostgresCluster(base, port=free_port())
    first.start()
    first.create_database("kept")
    first.stop()
    second = PostgresCluster(base, port=free_port())
    second.start()
    try:
        with psycopg.connect(second.conninfo("kept")) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        second.stop()


def test_a_busy_port_fails_with_the_log(vidmesh_workdir: Path, nats_server: NatsServer) -> None:
    clash = NatsServer(vidmesh_workdir / "clash" / "store", port=nats_server.port)
    with pytest.raises(StartupError, match="address already in use"):
        clash.start(timeout=10)
    assert not clash.running()


async def test_nats_fixture_has_jetstream(nats_server: NatsServer) -> None:
    client = await nats.connect(nats_server.url)
    try:
        stream = await client.jetstream().add_stream(name="PROBE", subjects=["probe.>"])
        assert stream.config.name == "PROBE"
        ack = await client.jetstream().publish("probe.one", b"hello")
        assert ack.seq == 1
        message = await client.jetstream().get_msg("PROBE", 1)
        assert message.data == b"hello"
    finally:
        await client.close()
