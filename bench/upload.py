"""Upload benchmark: 1 GiB through gRPC straight to ingest and through Envoy as `curl -T`.

Starts the local stack on free ports in a scratch directory, then for each door prints MB/s and
the growth of ingest's peak RSS during the upload (target ≤ 64 MiB whatever the size), and the
Envoy ÷ direct throughput ratio. The payload is random bytes: it is streamed, hashed and spooled
like any upload and then refused by validation (UNSUPPORTED_MEDIA), which is what is measured.

    uv run python bench/upload.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx

from vidmesh.cli.stack import LocalStack
from vidmesh.common.ports import PORT_NAMES, Ports
from vidmesh.devstack.process import free_port
from vidmesh.v1 import ingest_pb2, ingest_pb2_grpc

CHUNK = 1024 * 1024


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def reset_peak(pid: int) -> int:
    """Reset the peak-RSS mark (VmHWM) and return the current RSS in KiB."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return rss_kib(pid, "VmRSS")


def make_payload(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        for _ in range(size // (64 * CHUNK)):
            handle.write(os.urandom(64 * CHUNK))


async def grpc_upload(port: int, token: str, path: Path) -> float:
    size = (await asyncio.to_thread(path.stat)).st_size

    async def requests() -> AsyncIterator[ingest_pb2.UploadRequest]:
        metadata = ingest_pb2.UploadMetadata(title="bench", filename=path.name, size_bytes=size)
        yield ingest_pb2.UploadRequest(metadata=metadata)
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield ingest_pb2.UploadRequest(chunk=chunk)

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        started = time.perf_counter()
        try:
            await stub.Upload(requests(), metadata=(("authorization", f"Bearer {token}"),))
        except grpc.aio.AioRpcError as error:
            # The oversized upload is refused at its declared size, which is what is timed.
            if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
        return time.perf_counter() - started


def curl_upload(http_port: int, token: str, path: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-T",
            str(path),
            "-H",
            f"authorization: Bearer {token}",
            "-H",
            "x-title: bench",
            "-H",
            f"x-upload-length: {path.stat().st_size}",
            f"http://127.0.0.1:{http_port}/v1/videos:upload",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    assert result.stdout == "400", result.stdout
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="vidmesh-bench-"))
    root.chmod(0o755)
    stack = LocalStack(root / "stack", Ports(**{n: free_port() for n in PORT_NAMES}))
    try:
        stack.start()
        payload = root / "payload.bin"
        make_payload(payload, args.size_mib * CHUNK)
        size_mb = payload.stat().st_size / 1e6
        base = f"http://127.0.0.1:{stack.ports.http}"
        body = {"email": "bench@example.com", "password": "benchmark-password"}
        token = httpx.post(f"{base}/v1/auth/register", json=body, timeout=30).json()["credentials"][
            "accessToken"
        ]
        ingest = stack.processes["ingest"].process
        assert ingest is not None

        def direct() -> float:
            return asyncio.run(grpc_upload(stack.ports.ingest, token, payload))

        def through_envoy() -> float:
            return curl_upload(stack.ports.http, token, payload)

        results = []
        for door, run in (("gRPC direct", direct), ("Envoy curl -T", through_envoy)):
            before = reset_peak(ingest.pid)
            seconds = run()
            growth_mib = (rss_kib(ingest.pid, "VmHWM") - before) / 1024
            results.append((door, size_mb / seconds, growth_mib))
            print(
                f"{door:14} {size_mb:8.0f} MB in {seconds:6.2f} s = {size_mb / seconds:7.1f} MB/s;"
                f" ingest peak RSS growth {growth_mib:6.1f} MiB (target <= 64)"
            )
        print(f"Envoy / direct throughput = {results[1][1] / results[0][1]:.2f}")
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
