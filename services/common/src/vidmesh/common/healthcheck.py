"""Container health probe: exit 0 when a service answers `grpc.health.v1` with SERVING.

Images carry no grpcurl or curl, so Docker's HEALTHCHECK runs this with the service's own
Python:

    python -m vidmesh.common.healthcheck 127.0.0.1:50051
"""

from __future__ import annotations

import sys
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def check(address: str, timeout: float = 3.0) -> bool:
    """Whether the server at `address` reports the overall service ("") as SERVING."""
    with grpc.insecure_channel(address) as channel:
        try:
            stub: Any = health_pb2_grpc.HealthStub(channel)
            response = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError:
            return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m vidmesh.common.healthcheck HOST:PORT", file=sys.stderr)
        return 2
    serving = check(argv[0])
    print("SERVING" if serving else "NOT SERVING")
    return 0 if serving else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
