"""Where traces go, how Envoy is told, and how log lines carry the trace id."""

from __future__ import annotations

import json
import logging

import pytest
import yaml
from opentelemetry.sdk.trace import TracerProvider

from vidmesh.common.logs import JsonFormatter
from vidmesh.common.tracing import inject, otlp_traces_url
from vidmesh.devstack.envoy import EdgeConfig, render_config
from vidmesh.devstack.process import StartupError


def test_traces_are_exported_only_where_an_endpoint_is_configured() -> None:
    assert otlp_traces_url({}) is None
    assert otlp_traces_url({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}) is None
    assert (
        otlp_traces_url({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318/"})
        == "http://127.0.0.1:4318/v1/traces"
    )
    specific = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9999/custom",
    }
    assert otlp_traces_url(specific) == "http://127.0.0.1:9999/custom"


def edge(traces_url: str | None) -> dict[str, object]:
    config = EdgeConfig(
        listen_port=8080, admin_port=9901, gateway_port=50051, traces_url=traces_url
    )
    parsed: dict[str, object] = yaml.safe_load(render_config(config))
    return parsed


def manager(config: dict[str, object]) -> dict[str, object]:
    listeners = config["static_resources"]["listeners"]  # type: ignore[index]
    public = next(item for item in listeners if item["name"] == "public")
    typed: dict[str, object] = public["filter_chains"][0]["filters"][0]["typed_config"]
    return typed


def clusters(config: dict[str, object]) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in config["static_resources"]["clusters"]}  # type: ignore[index]


def test_envoy_traces_to_the_collector_only_when_one_is_set() -> None:
    plain = edge(None)
    assert "tracing" not in manager(plain)
    assert "otlp" not in clusters(plain)

    traced = edge("http://127.0.0.1:4318/v1/traces")
    provider = manager(traced)["tracing"]["provider"]  # type: ignore[index]
    assert provider["name"] == "envoy.tracers.opentelemetry"
    uri = provider["typed_config"]["http_service"]["http_uri"]
    assert (uri["uri"], uri["cluster"]) == ("http://127.0.0.1:4318/v1/traces", "otlp")
    otlp = clusters(traced)["otlp"]
    assert otlp["type"] == "STATIC"
    assert "transport_socket" not in otlp

    remote = clusters(edge("https://collector.example:4318/v1/traces"))["otlp"]
    assert remote["type"] == "STRICT_DNS"
    assert remote["transport_socket"]["typed_config"]["sni"] == "collector.example"  # type: ignore[index]


def test_an_endpoint_that_is_not_http_is_refused_at_start_up() -> None:
    with pytest.raises(StartupError, match="not an http"):
        edge("grpc://127.0.0.1:4317")


def test_log_lines_inside_a_span_carry_its_trace_id_and_outside_none() -> None:
    formatter = JsonFormatter("test")
    record = logging.LogRecord("vidmesh.test", logging.INFO, __file__, 1, "hello", None, None)
    assert "trace_id" not in json.loads(formatter.format(record))

    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        line = json.loads(formatter.format(record))
        headers = inject({})
    context = span.get_span_context()
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
    version, trace_id, parent_id, _flags = headers["traceparent"].split("-")
    assert (version, trace_id, parent_id) == ("00", line["trace_id"], line["span_id"])
