"""What operators see with grpcurl: reflection and health on gateway."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harness import GatewayHarness, run_command

from vidmesh.devstack.process import free_port

GRPCURL = str(Path(sys.executable).parent / "grpcurl")


async def grpcurl(*args: str) -> str:
    done = await run_command(GRPCURL, *args)
    assert done.code == 0, done.err
    return done.out


async def test_services_are_listed_by_reflection(gw: GatewayHarness) -> None:
    listed = (await grpcurl("-plaintext", f"127.0.0.1:{gw.port}", "list")).split()
    assert {"vidmesh.v1.AuthService", "vidmesh.v1.VideoService", "grpc.health.v1.Health"} <= set(
        listed
    )


async def test_methods_can_be_described_and_called(gw: GatewayHarness) -> None:
    described = await grpcurl(
        "-plaintext", f"127.0.0.1:{gw.port}", "describe", "vidmesh.v1.VideoService"
    )
    assert "rpc WatchVideo" in described
    body = json.dumps({"email": "ops@example.com", "password": "0123456789abc"})
    reply = await grpcurl(
        "-plaintext", "-d", body, f"127.0.0.1:{gw.port}", "vidmesh.v1.AuthService/Register"
    )
    assert json.loads(reply)["user"]["email"] == "ops@example.com"
    health = await grpcurl("-plaintext", f"127.0.0.1:{gw.port}", "grpc.health.v1.Health/Check")
    assert json.loads(health) == {"status": "SERVING"}


async def test_the_container_health_probe_tells_serving_from_down(gw: GatewayHarness) -> None:
    async def probe(address: str) -> tuple[int, str]:
        done = await run_command(sys.executable, "-m", "vidmesh.common.healthcheck", address)
        return done.code, done.out.strip()

    assert await probe(f"127.0.0.1:{gw.port}") == (0, "SERVING")
    assert await probe(f"127.0.0.1:{free_port()}") == (1, "NOT SERVING")
