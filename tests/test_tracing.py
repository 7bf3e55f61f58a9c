"""OpenTelemetry on the real stack: one upload is one trace, from Envoy through ingest, the
queue, every transcode task and its ffmpeg runs, to gateway, and its log lines carry the id."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from edge_stack import account, upload_ready
from harness import eventually
from media import clip
from otlp_receiver import OtlpReceiver, ReceivedSpan, running_receiver
from stack_runner import running_stack

PIPELINE_SERVICES = {"vidmesh-envoy", "vidmesh-ingest", "vidmesh-transcoder", "vidmesh-gateway"}


def finalize_span(receiver: OtlpReceiver, video_id: str) -> ReceivedSpan | None:
    return next(
        (
            span
            for span in receiver.spans
            if span.name == "transcode finalize"
            and span.attributes.get("vidmesh.video_id") == video_id
        ),
        None,
    )


def chunk_tasks(spans: list[ReceivedSpan]) -> set[str]:
    return {s.attributes["vidmesh.task"] for s in spans if s.name == "transcode chunk"}


def complete(spans: list[ReceivedSpan]) -> bool:
    """Every service has reported its part and every parent has arrived."""
    ids = {span.span_id for span in spans}
    return {span.service for span in spans} >= PIPELINE_SERVICES and all(
        not span.parent_id or span.parent_id in ids for span in spans
    )


def trace_ids_in(log: Path) -> set[str]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return {line["trace_id"] for line in lines if "trace_id" in line}


async def test_one_upload_is_one_trace_across_every_service(
    vidmesh_workdir: Path, media_dir: Path
) -> None:
    async with running_receiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "200"}
        data_dir = vidmesh_workdir / "tracing-stack"
        async with running_stack(data_dir, env=env) as stack:
            async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http:
                owner = await account(http, "tracing@example.com")
                source = clip(media_dir / "tracing.mp4", seconds=10)
                video_id = await upload_ready(http, owner, source, "public")

            async def finalized() -> bool:
                return finalize_span(receiver, video_id) is not None

            await eventually(finalized, timeout=30, what="the finalize span was exported")
            span = finalize_span(receiver, video_id)
            assert span is not None
            trace_id = span.trace_id

            async def whole() -> bool:
                return complete(receiver.trace(trace_id))

            await eventually(whole, timeout=30, what="every service exported its spans")
            spans = receiver.trace(trace_id)

            roots = [span for span in spans if not span.parent_id]
            assert [(root.service, root.name) for root in roots] == [
                ("vidmesh-envoy", roots[0].name)
            ], "one tree, started by Envoy"
            names = {span.name for span in spans}
            assert {"transcode plan", "transcode audio", "transcode finalize"} <= names
            assert len(chunk_tasks(spans)) >= 2, "every chunk of the ladder is in the trace"
            ffmpeg_runs = [span for span in spans if span.name == "ffmpeg"]
            assert len(ffmpeg_runs) >= len(chunk_tasks(spans)) + 1, "chunks and audio encode"
            ingest_methods = {span.name for span in spans if span.service == "vidmesh-ingest"}
            assert "vidmesh.v1.IngestService/UploadBody" in ingest_methods, ingest_methods
            gateway_methods = {span.name for span in spans if span.service == "vidmesh-gateway"}
            assert "vidmesh.v1.VideoStateService/CompleteTask" in gateway_methods, gateway_methods
            assert not any(span.failed for span in spans), [s for s in spans if s.failed]

            logs = data_dir / "logs"
            for service in ("ingest", "transcoder", "gateway"):
                assert trace_id in trace_ids_in(logs / f"{service}.log"), service
