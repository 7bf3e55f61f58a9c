"""deploy/kubernetes without a cluster: every core object validates against the Kubernetes
schemas (kubernetes-validate, offline), kustomize's references exist, and each workload has
probes, resources and a non-root, read-only security context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from vidmesh.devstack.envoy import repo_root

ROOT = repo_root() / "deploy" / "kubernetes"
BASE = ROOT / "base"
OVERLAY = ROOT / "overlays" / "example"
SERVICES = ("gateway", "ingest", "transcoder", "playback")
KUBERNETES_VERSION = "1.33.0"


def documents(folder: Path) -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    found = []
    for resource in kustomization["resources"]:
        path = folder / resource
        if path.is_file():
            found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents(BASE) if d["kind"] == kind}


@pytest.mark.parametrize("folder", [BASE, OVERLAY], ids=["base", "overlay"])
def test_every_core_object_validates_and_every_reference_exists(folder: Path) -> None:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (folder / resource).exists(), f"{resource} is missing"
    for generator in kustomization.get("configMapGenerator", []):
        for item in generator["files"]:
            assert (folder / item.split("=")[-1]).is_file(), item
    for doc in documents(folder):
        if doc["apiVersion"].startswith("keda.sh/"):
            continue  # a CRD: checked below
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_workloads_are_probed_bounded_and_unprivileged() -> None:
    deployments = by_kind("Deployment")
    assert set(deployments) == {*SERVICES, "web", "envoy"}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            assert {"readinessProbe", "livenessProbe"} <= set(container), name
            assert container["resources"]["requests"], name
            assert container["resources"]["limits"]["memory"], name
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"]
            assert not context["allowPrivilegeEscalation"]
            assert context["capabilities"]["drop"] == ["ALL"], name
            if name in SERVICES:
                assert "grpc" in container["readinessProbe"], f"{name}: gRPC health probe"
                names = {ref.get("secretRef", {}).get("name") for ref in container["envFrom"]}
                assert "vidmesh-secrets" in names, f"{name}: credentials from the Secret"
                assert not any("SECRET" in e["name"] and "value" in e for e in container["env"])
    services = by_kind("Service")
    exposed = [name for name, svc in services.items() if svc["spec"].get("type") == "LoadBalancer"]
    assert exposed == ["envoy"], "Envoy is the only way in"


def test_transcoders_scale_on_the_bulk_lane_lag() -> None:
    scaled = by_kind("ScaledObject")["transcoder"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == "transcoder"
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["type"] == "nats-jetstream"
    assert trigger["metadata"]["stream"] == "TRANSCODE"
    assert trigger["metadata"]["consumer"] == "transcode-bulk"
    assert int(scaled["spec"]["maxReplicaCount"]) > int(scaled["spec"]["minReplicaCount"]) >= 1


def test_no_secret_is_committed() -> None:
    overlay = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())
    assert overlay["secretGenerator"][0]["envs"] == ["secrets.env"]
    assert "deploy/kubernetes/overlays/*/secrets.env" in (repo_root() / ".gitignore").read_text()
    assert (OVERLAY / "secrets.env.example").is_file()
