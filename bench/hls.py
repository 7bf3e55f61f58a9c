"""HLS delivery benchmark: public 1 MiB segments from the real stack against nginx, same run.

`vidmesh up --playback N` (every service its own process, N playback processes sharing the HLS
port) with one public video uploaded and transcoded; 16 segments of 1 MiB are added to its
ladder, so every server below sends the same files for the same tokenless URL. `wrk` (Debian)
with the same threads, connections and duration then loads, in rotating order, `--repeats`
times each:

- nginx serving the folder directly (the fastest file server on this machine),
- Envoy → nginx (the ceiling of anything behind the proxy),
- Envoy → playback (what viewers get),
- playback directly,
- nginx `proxy_cache` (the config of docs/delivery.md) → Envoy → playback, warmed: cache hits.

It prints the median and spread of requests/s, MB/s and p50/p99 latency of each, and the
ratios of medians: Envoy → playback ÷ Envoy → nginx (req/s target ≥ 0.9, p99 ≤ 1.5), playback
÷ nginx direct (≥ 0.7), and cache hits ÷ nginx direct.

Needs `wrk` and `nginx` (`apt-get install wrk nginx`) and ffmpeg.

    uv run python bench/hls.py [--seconds 10] [--connections 16] [--repeats 3] [--playback 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import tempfile
from pathlib import Path

import httpx
from local_stack import Client, make_source, running_stack

from vidmesh.devstack.envoy import EdgeConfig, EnvoyProxy
from vidmesh.devstack.nginx import Nginx
from vidmesh.devstack.process import free_port
from vidmesh.v1 import video_pb2

SEGMENTS = 16
SEGMENT_BYTES = 1024 * 1024
SCENARIOS = (
    "nginx direct",
    "Envoy → nginx",
    "Envoy → playback",
    "playback direct",
    "nginx cache → playback",
)


def add_segments(storage: Path, video_id: str) -> Path:
    """16 files of 1 MiB inside the video's published ladder (`hls/bench/`)."""
    generations = storage / "media" / "videos" / video_id / "generations"
    ladder = next(path.parent for path in generations.glob("*/hls/master.m3u8"))
    folder = ladder / "bench"
    folder.mkdir()
    for index in range(SEGMENTS):
        (folder / f"seg_{index:05d}.ts").write_bytes(os.urandom(SEGMENT_BYTES))
    return folder


def edge_to(backend_port: int, work_dir: Path) -> EnvoyProxy:
    """An Envoy rendered from the same template whose `/hls/` route goes to `backend_port`."""
    config = EdgeConfig(
        listen_port=free_port(),
        admin_port=free_port(),
        gateway_port=free_port(),
        ingest_port=free_port(),
        transcoder_port=free_port(),
        playback_port=free_port(),
        playback_http_port=backend_port,
        ingest_http_port=free_port(),
        web_port=free_port(),
    )
    return EnvoyProxy(config, work_dir)


async def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    process = await asyncio.create_subprocess_exec(
        *("wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url),
        stdout=asyncio.subprocess.PIPE,
    )
    out = (await process.communicate())[0].decode()
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"errors under load at {url}:\n{out}")

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


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def spread(runs: list[dict[str, float]], key: str) -> str:
    values = [run[key] for run in runs]
    return f"{min(values):.0f}-{max(values):.0f}"


async def run(seconds: int, connections: int, repeats: int, playbacks: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="vidmesh-bench-hls-"))
    with running_stack("--playback", str(playbacks)) as stack:
        client = await Client.register(stack)
        source = make_source(work / "source.mp4", 4)
        video = await client.upload(source, video_pb2.VISIBILITY_PUBLIC)
        await client.until_ready(video.video_id)
        folder = add_segments(stack.data_dir / "storage", video.video_id)
        path = f"/hls/{video.video_id}/bench/seg_00003.ts"
        nginx = Nginx(work / "nginx", free_port(), static={f"/hls/{video.video_id}/bench/": folder})
        cache = Nginx(work / "cache", free_port(), upstream_port=stack.ports["http"])
        envoy_nginx = edge_to(nginx.port, work / "envoy-nginx")
        started: list[Nginx | EnvoyProxy] = [nginx, cache, envoy_nginx]
        for server in started:
            await asyncio.to_thread(server.start)
        try:
            urls = {
                "nginx direct": nginx.url + path,
                "Envoy → nginx": envoy_nginx.url + path,
                "Envoy → playback": f"http://127.0.0.1:{stack.ports['http']}{path}",
                "playback direct": f"http://127.0.0.1:{stack.ports['playback_http']}{path}",
                "nginx cache → playback": cache.url + path,
            }
            async with httpx.AsyncClient() as http:
                for url in urls.values():
                    answer = await http.get(url)
                    assert answer.status_code == 200
                    assert len(answer.content) == SEGMENT_BYTES
                warm = await http.get(urls["nginx cache → playback"])
                assert warm.headers["x-cache-status"] == "HIT", warm.headers
            results: dict[str, list[dict[str, float]]] = {name: [] for name in SCENARIOS}
            for round_ in range(repeats):
                order = SCENARIOS[round_ % len(SCENARIOS) :] + SCENARIOS[: round_ % len(SCENARIOS)]
                for name in order:
                    results[name].append(await wrk(urls[name], seconds, connections))
            report(results, repeats, playbacks, connections, seconds)
        finally:
            for server in started:
                server.stop()
            shutil.rmtree(work, ignore_errors=True)


def report(
    results: dict[str, list[dict[str, float]]],
    repeats: int,
    playbacks: int,
    connections: int,
    seconds: int,
) -> None:
    print(
        f"1 MiB public segment, wrk -t2 -c{connections} -d{seconds}s, {repeats} runs each, "
        f"{playbacks} playback process(es); median (min-max)"
    )
    for name in SCENARIOS:
        runs = results[name]
        print(
            f"{name:23} {median(runs, 'rps'):7.0f} req/s ({spread(runs, 'rps')})"
            f" {median(runs, 'mbps'):7.0f} MB/s  p50 {median(runs, 'p50'):6.2f} ms"
            f"  p99 {median(runs, 'p99'):6.2f} ms ({spread(runs, 'p99')})"
        )

    def ratio(top: str, bottom: str, key: str = "rps") -> float:
        return median(results[top], key) / median(results[bottom], key)

    print(
        f"req/s  Envoy → playback ÷ Envoy → nginx = "
        f"{ratio('Envoy → playback', 'Envoy → nginx'):.2f}  (target ≥ 0.9)"
    )
    print(
        f"p99    Envoy → playback ÷ Envoy → nginx = "
        f"{ratio('Envoy → playback', 'Envoy → nginx', 'p99'):.2f}  (target ≤ 1.5)"
    )
    print(
        f"req/s  playback direct ÷ nginx direct    = "
        f"{ratio('playback direct', 'nginx direct'):.2f}  (target ≥ 0.7)"
    )
    print(
        f"req/s  nginx cache hits ÷ nginx direct   = "
        f"{ratio('nginx cache → playback', 'nginx direct'):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--playback", type=int, default=2, dest="playbacks")
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        raise SystemExit("needs wrk and nginx: apt-get install wrk nginx")
    asyncio.run(run(args.seconds, args.connections, args.repeats, args.playbacks))


if __name__ == "__main__":
    main()
