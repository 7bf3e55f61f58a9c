"""The `vidmesh` pytest plugin: real PostgreSQL, nats-server -js and Envoy for tests.

Servers are started once per test session on free loopback ports; tests isolate themselves by
creating their own databases, streams or Envoy instances through the factories given here.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from vidmesh.common.tokens import TokenCodec
from vidmesh.devstack.envoy import EdgeConfig, EnvoyProxy
from vidmesh.devstack.nats import NatsServer
from vidmesh.devstack.postgres import PostgresCluster
from vidmesh.devstack.process import ManagedProcess, bundled_binary, free_port, http_ok

TEST_JWT_SECRET = "test-secret-" + "x" * 32

# A test that asks for one of these, directly or through its other fixtures, runs real servers.
SERVER_FIXTURES = frozenset(
    {"postgres_cluster", "database_factory", "nats_server", "envoy_factory", "s3_server"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs a real server `integration`, so `-m "not integration"` is the
    unit tier; no test has to remember the marker."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def vidmesh_workdir() -> Iterator[Path]:
    """A scratch directory for the session's servers, readable by the postgres user."""
    path = Path(tempfile.mkdtemp(prefix="vidmesh-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster(vidmesh_workdir: Path) -> Iterator[PostgresCluster]:
    """A real PostgreSQL cluster for the whole session."""
    cluster = PostgresCluster(vidmesh_workdir / "postgres", port=free_port())
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def database_factory(postgres_cluster: PostgresCluster) -> Callable[..., str]:
    """Creates a fresh, uniquely named database (optionally from a template); returns its URL."""

    def create(template: str | None = None) -> str:
        return postgres_cluster.create_database(f"test_{uuid.uuid4().hex[:12]}", template=template)

    return create


@pytest.fixture(scope="session")
def nats_server(vidmesh_workdir: Path) -> Iterator[NatsServer]:
    """A real nats-server with JetStream for the whole session."""
    server = NatsServer(vidmesh_workdir / "nats" / "store", port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def envoy_factory(vidmesh_workdir: Path) -> Iterator[Callable[..., EnvoyProxy]]:
    """Starts real Envoys in front of service ports; stops them after the test."""
    started: list[EnvoyProxy] = []

    def start(
        gateway_port: int,
        ingest_port: int = 0,
        transcoder_port: int = 0,
        playback_port: int = 0,
        playback_http_port: int = 0,
        ingest_http_port: int = 0,
        web_port: int = 0,
    ) -> EnvoyProxy:
        edge = EdgeConfig(
            listen_port=free_port(),
            admin_port=free_port(),
            gateway_port=gateway_port,
            ingest_port=ingest_port or free_port(),
            transcoder_port=transcoder_port or free_port(),
            playback_port=playback_port or free_port(),
            playback_http_port=playback_http_port or free_port(),
            ingest_http_port=ingest_http_port or free_port(),
            web_port=web_port or free_port(),
        )
        proxy = EnvoyProxy(edge, vidmesh_workdir / f"envoy-{secrets.token_hex(4)}")
        proxy.start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture(scope="session")
def s3_server(vidmesh_workdir: Path) -> Iterator[str]:
    """A real S3-compatible server on loopback (moto's standalone server); yields its URL.

    MinIO's server cannot be installed here; moto's server speaks the same S3 HTTP API, so the
    S3 store is exercised over the network exactly as against MinIO.
    """
    port = free_port()
    process = ManagedProcess(
        "moto_server",
        [bundled_binary("moto_server", "moto[server]"), "-H", "127.0.0.1", "-p", str(port)],
        log_path=vidmesh_workdir / "moto.log",
    )
    process.start()
    process.wait_ready(http_ok(f"http://127.0.0.1:{port}/moto-api/"), 60)
    yield f"s3://testing:testing@127.0.0.1:{port}?secure=false&region=us-east-1"
    process.stop()


@pytest.fixture(scope="session")
def token_codec() -> TokenCodec:
    """The codec the test servers sign and verify tokens with."""
    return TokenCodec(TEST_JWT_SECRET, issuer="vidmesh-test", access_ttl=timedelta(minutes=15))
