"""Prometheus metrics on the real stack: a real Prometheus scrapes every service and Envoy, and
the series of one upload, one rejected upload and one playback exist and moved."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import re
from pathlib import Path

import httpx
from edge_stack import account, upload_ready
from harness import eventually, run_command
from media import clip
from prometheus_client import REGISTRY
from prometheus_server import Prometheus, running_prometheus
from stack_runner import running_stack

from vidmesh.devstack.envoy import repo_root

SERVICES = ("gateway", "ingest", "playback", "transcoder")


def reason_of(response: httpx.Response) -> str:
    body = response.json()
    info = next(d for d in body["details"] if d["@type"].endswith("ErrorInfo"))
    return str(info["reason"])


async def moved(prometheus: Prometheus, expression: str, at_least: float = 1) -> None:
    async def reached() -> bool:
        return await asyncio.to_thread(prometheus.value, expression) >= at_least

    await eventually(reached, timeout=30, what=f"{expression} >= {at_least}")


async def test_every_service_exposes_metrics_that_follow_an_upload(
    vidmesh_workdir: Path, media_dir: Path
) -> None:
    async with running_stack(vidmesh_workdir / "metrics-stack") as stack:
        targets = {name: f"127.0.0.1:{stack.ports[f'{name}-metrics']}" for name in SERVICES}
        targets["envoy"] = f"127.0.0.1:{stack.ports['envoy-admin']}/stats/prometheus"
        async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http:
            for name in SERVICES:
                page = await http.get(f"http://{targets[name]}/metrics")
                assert page.status_code == 200, name
                assert "# TYPE grpc_server_handled_total counter" in page.text, name
            with running_prometheus(vidmesh_workdir / "prometheus", targets) as prometheus:
                await moved(prometheus, 'count(up{job=~".+"} == 1)', len(targets))
                assert {"VidmeshQueueStuck", "VidmeshTimeToPlayableSLO"} <= set(
                    prometheus.rules()
                ), "deploy/prometheus/alerts.yml loads"

                owner = await account(http, "metrics@example.com")
                source = clip(media_dir / "metrics.mp4", seconds=3)
                video_id = await upload_ready(http, owner, source, "public")
                junk = os.urandom(4096)
                refused = await http.put(
                    "/v1/videos:upload",
                    content=junk,
                    headers={**owner, "x-title": "junk", "x-upload-length": str(len(junk))},
                )
                assert 400 <= refused.status_code < 500, refused.text
                reason = reason_of(refused)
                master = await http.get(f"/hls/{video_id}/master.m3u8")
                assert master.status_code == 200

                await moved(prometheus, 'sum(vidmesh_uploads_started_total{kind="one_shot"})', 2)
                await moved(prometheus, "sum(vidmesh_uploads_committed_total)")
                await moved(prometheus, f'sum(vidmesh_uploads_rejected_total{{reason="{reason}"}})')
                await moved(
                    prometheus, "sum(vidmesh_upload_received_bytes_total)", source.stat().st_size
                )
                for kind in ("plan", "chunk", "finalize"):
                    done = f'sum(vidmesh_transcode_tasks_total{{kind="{kind}",outcome="done"}})'
                    await moved(prometheus, done)
                await moved(prometheus, "sum(vidmesh_transcode_speed_ratio_count)")
                await moved(prometheus, "sum(vidmesh_video_time_to_playable_seconds_count)")
                await moved(prometheus, "sum(vidmesh_video_time_to_ready_seconds_count)")
                await moved(prometheus, 'count(vidmesh_jobs_pending{consumer="transcode-bulk"})')
                await moved(
                    prometheus,
                    'sum(vidmesh_playback_requests_total{kind="playlist",access="public"})',
                )
                await moved(
                    prometheus,
                    'sum(grpc_server_handled_total{job="gateway",grpc_code="OK"})',
                )
                await moved(prometheus, 'sum(vidmesh_http_requests_total{listener="hls"})')
                await moved(prometheus, "sum(envoy_cluster_upstream_rq_total)")


async def test_the_prometheus_config_and_alerts_pass_promtool() -> None:
    folder = repo_root() / "deploy" / "prometheus"
    config = await run_command("promtool", "check", "config", str(folder / "prometheus.yml"))
    assert config.code == 0, config.out + config.err
    rules = await run_command("promtool", "check", "rules", str(folder / "alerts.yml"))
    assert rules.code == 0, rules.out + rules.err
    assert "6 rules found" in rules.out, rules.out + rules.err


def test_docs_list_every_metric_and_the_dashboard_uses_only_real_ones() -> None:
    for module in ("gateway", "ingest", "playback", "transcoder"):
        importlib.import_module(f"vidmesh.{module}.metrics")
    ours = {
        metric.name
        for metric in REGISTRY.collect()
        if metric.name.startswith(("vidmesh_", "grpc_server_"))
    }
    docs = (repo_root() / "docs" / "operations.md").read_text()
    # Counters are collected without their `_total` suffix.
    missing = [n for n in ours if f"`{n}`" not in docs and f"`{n}_total`" not in docs]
    assert not missing, f"docs/operations.md does not list {missing}"
    dashboard = repo_root() / "deploy" / "grafana" / "dashboards" / "vidmesh-overview.json"
    queries = [t["expr"] for p in json.loads(dashboard.read_text())["panels"] for t in p["targets"]]
    used = {
        name for query in queries for name in re.findall(r"\b(?:vidmesh|grpc_server)_\w+", query)
    }
    known = {n for name in ours for n in (name, f"{name}_total", f"{name}_bucket", f"{name}_count")}
    assert used <= known, f"the dashboard queries unknown metrics: {used - known}"
