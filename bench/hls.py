"""HLS delivery benchmark: 1 MiB segments through Envoy → playback vs nginx serving the files.

One run, same files, same load: `wrk` (Debian) with the same threads, connections and duration
against (1) Envoy on loopback routing `/hls/` to playback's HTTP listener, which checks the
signed token and sends the file, and (2) nginx serving the directory directly. Prints requests/s,
MB/s and p50/p99 latency for both and the ratio of requests/s (target >= 0.8 of nginx).
Two diagnostic runs say where the rest goes: playback without Envoy, and the same Envoy route in
front of nginx (the ceiling any backend can reach through the proxy on this machine).

Needs `wrk` and `nginx` (`apt-get install wrk nginx-light`).

    uv run python bench/hls.py [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from vidmesh.common.local.envoy import EdgeConfig, EnvoyProxy
from vidmesh.common.local.process import ManagedProcess, free_port, port_open
from vidmesh.common.storage import MEDIA, FileBlobStore
from vidmesh.common.tokens import TokenCodec
from vidmesh.playback.hls import build_app

VIDEO = "00000000-0000-4000-8000-000000000001"
PREFIX = f"videos/{VIDEO}/attempts/1-1"
SEGMENTS = 16


def make_segments(store: FileBlobStore) -> Path:
    folder = store.root / MEDIA / PREFIX / "hls" / "720p"
    folder.mkdir(parents=True)
    for index in range(SEGMENTS):
        (folder / f"seg_{index:05d}.ts").write_bytes(os.urandom(1024 * 1024))
    return folder


def start_nginx(root: Path, folder: Path) -> tuple[ManagedProcess, int]:
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(
        f"""
worker_processes auto;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    types {{ video/mp2t ts; }}
    server {{
        listen 127.0.0.1:{port};
        location /hls/{VIDEO}/720p/ {{ alias {folder}/; }}
    }}
}}
"""
    )
    nginx = ManagedProcess(
        "nginx", ["nginx", "-c", str(conf), "-g", "daemon off;"], log_path=root / "nginx.log"
    )
    nginx.start()
    nginx.wait_ready(lambda: port_open(port), 30)
    return nginx, port


async def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    process = await asyncio.create_subprocess_exec(
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        url,
        stdout=asyncio.subprocess.PIPE,
    )
    out = (await process.communicate())[0].decode()

    def number(pattern: str) -> float:
        found = re.search(pattern, out)
        if not found:
            raise RuntimeError(f"unexpected wrk output:\n{out}")
        value, unit = float(found[1]), found[2] if found.lastindex and found.lastindex > 1 else ""
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "KB": 1e-3, "MB": 1.0, "GB": 1e3}
        return value * scale.get(unit, 1.0)

    return {
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "mbps": number(r"Transfer/sec:\s+([\d.]+)(KB|MB|GB)"),
        "p50": number(r"50%\s+([\d.]+)(us|ms|s)"),
        "p99": number(r"99%\s+([\d.]+)(us|ms|s)"),
    }


async def run(seconds: int, connections: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="vidmesh-bench-"))
    root.chmod(0o755)
    store = FileBlobStore(root / "objects")
    folder = make_segments(store)
    for parent in (store.root, store.root / MEDIA, *folder.parents):
        if str(parent).startswith(str(root)):
            parent.chmod(0o755)
    codec = TokenCodec("bench-" + "k" * 40, issuer="vidmesh", access_ttl=timedelta(minutes=5))
    token = codec.issue_playback(VIDEO, PREFIX, "bench", timedelta(hours=1)).token
    runner = web.AppRunner(build_app(store, codec), access_log=None)
    await runner.setup()
    playback_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", playback_port).start()

    def edge(backend_port: int, name: str) -> EnvoyProxy:
        ports = {k: free_port() for k in ("gateway", "ingest", "transcoder", "playback", "tus")}
        config = EdgeConfig(
            listen_port=free_port(),
            admin_port=free_port(),
            gateway_port=ports["gateway"],
            ingest_port=ports["ingest"],
            transcoder_port=ports["transcoder"],
            playback_port=ports["playback"],
            playback_http_port=backend_port,
            ingest_http_port=ports["tus"],
        )
        return EnvoyProxy(config, root / name)

    envoy = edge(playback_port, "envoy")
    await asyncio.to_thread(envoy.start)
    nginx, nginx_port = start_nginx(root, folder)
    proxied_nginx = edge(nginx_port, "envoy-nginx")
    await asyncio.to_thread(proxied_nginx.start)
    try:
        ours = await wrk(
            f"{envoy.url}/hls/{VIDEO}/720p/seg_00003.ts?token={token}", seconds, connections
        )
        plain = await wrk(
            f"http://127.0.0.1:{nginx_port}/hls/{VIDEO}/720p/seg_00003.ts", seconds, connections
        )
        direct = await wrk(
            f"http://127.0.0.1:{playback_port}/hls/{VIDEO}/720p/seg_00003.ts?token={token}",
            seconds,
            connections,
        )
        ceiling = await wrk(
            f"{proxied_nginx.url}/hls/{VIDEO}/720p/seg_00003.ts?token={token}",
            seconds,
            connections,
        )
        results = (
            ("Envoy → playback", ours),
            ("nginx direct", plain),
            ("playback direct", direct),
            ("Envoy → nginx", ceiling),
        )
        for name, result in results:
            print(
                f"{name:17} {result['rps']:9.1f} req/s {result['mbps']:9.1f} MB/s"
                f"  p50 {result['p50']:7.2f} ms  p99 {result['p99']:7.2f} ms"
            )
        print(f"req/s ratio (ours / nginx) = {ours['rps'] / plain['rps']:.2f}  (target >= 0.8)")
        print(f"req/s ratio (ours / Envoy → nginx) = {ours['rps'] / ceiling['rps']:.2f}")
    finally:
        nginx.stop()
        envoy.stop()
        proxied_nginx.stop()
        await runner.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        raise SystemExit("needs wrk and nginx: apt-get install wrk nginx-light")
    asyncio.run(run(args.seconds, args.connections))


if __name__ == "__main__":
    main()
