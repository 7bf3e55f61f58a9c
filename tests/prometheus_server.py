"""Debian's Prometheus for the tests: scrapes given targets every second, answers queries."""

from __future__ import annotations

import contextlib
import json
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml

from vidmesh.devstack.envoy import repo_root
from vidmesh.devstack.process import ManagedProcess, free_port, http_ok


class Prometheus:
    def __init__(self, work_dir: Path, targets: Mapping[str, str]) -> None:
        """`targets`: job name → `host:port` (or `host:port/path` for another metrics path)."""
        self.port = free_port()
        self.work_dir = work_dir
        binary = shutil.which("prometheus")
        assert binary, "prometheus is needed: apt-get install prometheus"
        jobs = []
        for job, target in targets.items():
            address, _, path = target.partition("/")
            jobs.append(
                {
                    "job_name": job,
                    "metrics_path": f"/{path or 'metrics'}",
                    "static_configs": [{"targets": [address]}],
                }
            )
        alerts = repo_root() / "deploy" / "prometheus" / "alerts.yml"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(alerts)],
            "scrape_configs": jobs,
        }
        work_dir.mkdir(parents=True, exist_ok=True)
        (work_dir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self._process = ManagedProcess(
            "prometheus",
            [
                binary,
                f"--config.file={work_dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={work_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            log_path=work_dir / "prometheus.log",
        )

    def start(self) -> None:
        self._process.start()
        self._process.wait_ready(http_ok(f"http://127.0.0.1:{self.port}/-/ready"), 60)

    def stop(self) -> None:
        self._process.stop()

    def query(self, expression: str) -> list[dict[str, object]]:
        """The instant vector of a PromQL expression (its `result` list)."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": expression}
        )
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = json.load(answer)
        assert body["status"] == "success", body
        result: list[dict[str, object]] = body["data"]["result"]
        return result

    def value(self, expression: str) -> float:
        """The single value of a scalar-like expression (0 when it has no series)."""
        result = self.query(expression)
        return float(result[0]["value"][1]) if result else 0.0  # type: ignore[index]

    def rules(self) -> list[str]:
        url = f"http://127.0.0.1:{self.port}/api/v1/rules"
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = json.load(answer)
        return [rule["name"] for group in body["data"]["groups"] for rule in group["rules"]]


@contextlib.contextmanager
def running_prometheus(work_dir: Path, targets: Mapping[str, str]) -> Iterator[Prometheus]:
    server = Prometheus(work_dir, targets)
    server.start()
    try:
        yield server
    finally:
        server.stop()
