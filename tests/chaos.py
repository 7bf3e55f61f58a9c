"""A seeded fault campaign against a real `vidmesh up`: uploads through tus and REST while
services, NATS and PostgreSQL are SIGKILLed and ffmpeg is frozen at random moments.

Clients behave as good clients do: REST uploads carry an `Idempotency-Key` and are retried with
it; tus uploads ask `HEAD` where they stand and resume. When the faults stop, every upload that
was acknowledged must have exactly one video, READY (FAILED with a reason for bad input) and
playable through Envoy, and no video of the campaign may be left in a non-terminal state.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import random
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "chaos chaos chaos"
SERVICES = ("vidmesh.gateway", "vidmesh.ingest", "vidmesh.transcoder", "vidmesh.playback")
TARGETS = (*SERVICES, "nats-server", "postgres", "ffmpeg")
TERMINAL = {"STATE_READY", "STATE_FAILED"}
RETRYABLE = {409, 429, 499, 500, 502, 503, 504}

# Short timers so that every recovery path fits in the campaign (the defaults are minutes).
STACK_ENV = {
    "VIDMESH_TRANSCODER_STALL_SECONDS": "4",
    "VIDMESH_TRANSCODER_HEARTBEAT_SECONDS": "1",
    "VIDMESH_TRANSCODER_ACK_WAIT_SECONDS": "6",
    "VIDMESH_TRANSCODER_BACKOFF_SECONDS": "0.5",
    "VIDMESH_TRANSCODER_ATTEMPTS": "6",
    "VIDMESH_TRANSCODER_PRESET": "ultrafast",
    "VIDMESH_TRANSCODER_RECONCILE_SECONDS": "2",
    "VIDMESH_TRANSCODER_STALE_SECONDS": "20",
    "VIDMESH_GATEWAY_UPLOAD_LEASE_SECONDS": "30",
    "VIDMESH_GATEWAY_LEASE_SWEEP_SECONDS": "1",
    "VIDMESH_INGEST_MAINTENANCE_SECONDS": "0.5",
    "VIDMESH_INGEST_LEASE_RENEW_SECONDS": "5",
    "VIDMESH_INGEST_COMMIT_WAIT_SECONDS": "2",
    "VIDMESH_INGEST_UPLOAD_TTL_SECONDS": "20",
}


@dataclass
class Upload:
    """One file a client set out to upload, and what it was told."""

    title: str
    source: Path
    door: str
    bad: bool
    video_id: str = ""
    acknowledged: bool = False
    rejected_reason: str = ""
    attempts: int = 0


@dataclass
class Report:
    seed: int
    uploads: int = 0
    acknowledged: int = 0
    rejected: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    unplayable: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        kinds = ", ".join(f"{name} x{count}" for name, count in sorted(self.faults.items()))
        return (
            f"chaos seed={self.seed}: {self.uploads} uploads, {self.acknowledged} acknowledged, "
            f"{self.rejected} rejected as bad input; lost {len(self.lost)}, duplicated "
            f"{len(self.duplicated)}, stuck {len(self.stuck)}, unplayable "
            f"{len(self.unplayable)}; faults: {kinds or 'none'}"
        )


def process_table() -> list[tuple[int, int, list[str]]]:
    """(pid, parent pid, argv) of every live process."""
    table = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argv = [a.decode() for a in (entry / "cmdline").read_bytes().split(b"\0") if a]
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and argv:
            table.append((int(entry.name), int(fields[1]), argv))
    return table


def name_of(argv: list[str]) -> str:
    return argv[2] if len(argv) > 2 and argv[1] == "-m" else Path(argv[0]).name


def find(stack_pid: int, target: str) -> int | None:
    table = process_table()
    children = {name_of(argv): pid for pid, parent, argv in table if parent == stack_pid}
    if target != "ffmpeg":
        return children.get(target)
    worker = children.get("vidmesh.transcoder")
    encoders = [
        pid for pid, parent, argv in table if parent == worker and name_of(argv) == "ffmpeg"
    ]
    return encoders[0] if encoders else None


class Campaign:
    def __init__(
        self, url: str, stack_pid: int, media: list[Path], bad: Path, seed: int, faults: int
    ) -> None:
        self.url = url
        self.stack_pid = stack_pid
        self.media = media
        self.bad = bad
        self.random = random.Random(seed)
        self.faults = faults
        self.report = Report(seed)
        self.token = ""
        self._kills: dict[str, list[float]] = {}
        self._frozen: list[int] = []

    async def run(self, uploads: int, settle_seconds: float = 240.0) -> Report:
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=60) as http:
                self.token = await self._account(http)
                plan = [self._plan(index) for index in range(uploads)]
                self.report.uploads = len(plan)
                clients = asyncio.gather(*(self._upload(http, item) for item in plan))
                injector = asyncio.create_task(self._inject())
                await clients
                await injector
                await self._settle(http, plan, settle_seconds)
        finally:
            self._thaw()
        return self.report

    def _thaw(self) -> None:
        """Kill every ffmpeg this campaign froze: one whose transcoder was killed while it was
        frozen has no watchdog left and would stay stopped after the test."""
        for pid in self._frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _plan(self, index: int) -> Upload:
        bad = index % 5 == 4
        source = self.bad if bad else self.random.choice(self.media)
        door = "tus" if index % 2 else "rest"
        return Upload(
            title=f"chaos-{index}-{uuid.uuid4().hex[:6]}", source=source, door=door, bad=bad
        )

    @property
    def _auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    async def _account(self, http: httpx.AsyncClient) -> str:
        email = f"chaos-{uuid.uuid4().hex[:8]}@example.com"
        body = {"email": email, "password": PASSWORD}
        response = await _retrying(lambda: http.post("/v1/auth/register", json=body))
        assert response.status_code == 200, response.text
        return str(response.json()["credentials"]["accessToken"])

    # --- the faults ---------------------------------------------------------------------

    async def _inject(self) -> None:
        for index in range(self.faults):
            await asyncio.sleep(self.random.uniform(1.5, 5.0))
            # The first fault always freezes an encode, so every campaign has the stall case.
            target = "ffmpeg" if index == 0 else self._pick()
            pid = await self._wait_for(target)
            if pid is None:
                continue
            with contextlib.suppress(ProcessLookupError):
                if target == "ffmpeg":
                    os.kill(pid, signal.SIGSTOP)  # frozen, not dead: the stall watchdog's case
                    self._frozen.append(pid)
                else:
                    os.kill(pid, signal.SIGKILL)
                self.report.faults[target] += 1
                self._kills.setdefault(target, []).append(time.monotonic())

    def _pick(self) -> str:
        """A random target, avoiding one killed three times within the last minute (the
        campaign tests recovery, not the supervisor's crash-loop guard)."""
        now = time.monotonic()
        calm = [t for t in TARGETS if len([k for k in self._kills.get(t, []) if now - k < 60]) < 3]
        return self.random.choice(calm or list(TARGETS))

    async def _wait_for(self, target: str) -> int | None:
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            pid = find(self.stack_pid, target)
            if pid is not None:
                return pid
            await asyncio.sleep(0.05)  # polling for a victim, not synchronising the test
        return None

    # --- the clients --------------------------------------------------------------------

    async def _upload(self, http: httpx.AsyncClient, item: Upload) -> None:
        await asyncio.sleep(self.random.uniform(0, 8))
        deadline = time.monotonic() + 180
        if item.door == "rest":
            await self._rest(http, item, deadline)
        else:
            await self._tus(http, item, deadline)

    async def _rest(self, http: httpx.AsyncClient, item: Upload, deadline: float) -> None:
        data = item.source.read_bytes()
        headers = {
            **self._auth,
            "x-title": item.title,
            "x-upload-length": str(len(data)),
            "idempotency-key": uuid.uuid4().hex,
        }
        delay = 0.5
        while time.monotonic() < deadline:
            item.attempts += 1
            try:
                response = await http.put("/v1/videos:upload", content=data, headers=headers)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code == 200:
                item.video_id = response.json()["video"]["videoId"]
                item.acknowledged = True
                return
            if response is not None and response.status_code not in RETRYABLE:
                item.rejected_reason = _reason(response)
                item.video_id = _video_id(response)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 4.0)

    async def _tus(self, http: httpx.AsyncClient, item: Upload, deadline: float) -> None:
        data = item.source.read_bytes()
        base = {**self._auth, "Tus-Resumable": "1.0.0"}
        title = base64.b64encode(item.title.encode()).decode()
        location = ""
        offset = 0
        delay = 0.5
        while time.monotonic() < deadline:
            item.attempts += 1
            try:
                if not location:
                    created = await http.post(
                        "/v1/tus/",
                        headers={
                            **base,
                            "Upload-Length": str(len(data)),
                            "Upload-Metadata": f"title {title}",
                        },
                    )
                    if created.status_code != 201:
                        raise _Retry(created)
                    location = created.headers["Location"]
                    item.video_id = created.headers["Vidmesh-Video-Id"]
                    offset = 0
                else:
                    head = await http.head(location, headers=base)
                    if head.status_code == 404:
                        location = ""  # the session is gone: start over
                        continue
                    if head.status_code != 200:
                        raise _Retry(head)
                    offset = int(head.headers["Upload-Offset"])
                while offset < len(data) or offset == 0:
                    piece = data[offset : offset + 256 * 1024]
                    patched = await http.patch(
                        location,
                        content=piece,
                        headers={
                            **base,
                            "Upload-Offset": str(offset),
                            "Content-Type": "application/offset+octet-stream",
                        },
                    )
                    if patched.status_code == 204:
                        offset = int(patched.headers["Upload-Offset"])
                        if offset >= len(data):
                            item.acknowledged = True
                            return
                        continue
                    if patched.status_code not in RETRYABLE | {404}:
                        item.rejected_reason = _reason(patched)
                        return
                    raise _Retry(patched)
            except (httpx.HTTPError, _Retry):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 4.0)

    # --- the verdict --------------------------------------------------------------------

    async def _settle(self, http: httpx.AsyncClient, plan: list[Upload], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        videos: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            videos = await self._mine(http)
            if videos is not None and all(v["state"] in TERMINAL for v in videos):
                break
            await asyncio.sleep(1.0)  # the pipeline works on its own time; poll it
        by_title: dict[str, list[dict[str, Any]]] = {}
        for video in videos:
            by_title.setdefault(video["title"], []).append(video)
            if video["state"] not in TERMINAL or (
                video["state"] == "STATE_FAILED" and not video.get("failure", {}).get("reason")
            ):
                self.report.stuck.append(f"{video['videoId']} {video['state']}")
        for item in plan:
            found = by_title.get(item.title, [])
            ready = [v for v in found if v["state"] == "STATE_READY"]
            if item.rejected_reason:
                self.report.rejected += 1
            if not item.acknowledged:
                continue
            self.report.acknowledged += 1
            if item.bad:
                if not any(v["state"] == "STATE_FAILED" for v in found):
                    self.report.lost.append(f"{item.title} (bad input not failed)")
                continue
            if not ready:
                states = [v["state"] for v in found]
                self.report.lost.append(f"{item.title} via {item.door}: {states}")
            elif len(ready) > 1:
                self.report.duplicated.append(item.title)
            elif not await self._plays(http, ready[0]["videoId"]):
                self.report.unplayable.append(item.title)

    async def _mine(self, http: httpx.AsyncClient) -> list[dict[str, Any]]:
        videos: list[dict[str, Any]] = []
        token = ""
        while True:
            query = f"/v1/videos?scope=SCOPE_MINE&pageSize=100&pageToken={token}"
            response = await _retrying(lambda q=query: http.get(q, headers=self._auth))
            body = response.json()
            videos += body.get("videos", [])
            token = body.get("nextPageToken", "")
            if not token:
                return videos

    async def _plays(self, http: httpx.AsyncClient, video_id: str) -> bool:
        info = await _retrying(
            lambda: http.get(f"/v1/videos/{video_id}/playback", headers=self._auth)
        )
        if info.status_code != 200:
            return False
        master = await _retrying(lambda: http.get(info.json()["masterPlaylistUrl"]))
        variant = _first_uri(master.text)
        if master.status_code != 200 or variant is None:
            return False
        base = info.json()["masterPlaylistUrl"].split("master.m3u8")[0]
        playlist = await _retrying(lambda: http.get(base + variant))
        segment = _first_uri(playlist.text)
        if playlist.status_code != 200 or segment is None:
            return False
        folder = (base + variant).split("?")[0].rsplit("/", 1)[0] + "/"
        fetched = await _retrying(lambda: http.get(folder + segment))
        return fetched.status_code == 200 and len(fetched.content) > 0


class _Retry(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)


def _first_uri(playlist: str) -> str | None:
    return next((line for line in playlist.splitlines() if line and line[0] != "#"), None)


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return str(response.status_code)
    for detail in body.get("details", []):
        if detail.get("@type", "").endswith("ErrorInfo"):
            return str(detail["reason"])
    return str(body.get("reason", response.status_code))


def _video_id(response: httpx.Response) -> str:
    with contextlib.suppress(ValueError, KeyError, IndexError):
        for detail in response.json().get("details", []):
            if detail.get("@type", "").endswith("ErrorInfo"):
                return str(detail["metadata"]["video_id"])
    return ""


async def _retrying(call: Any, attempts: int = 60) -> httpx.Response:
    """A read the verdict needs, retried while the stack finishes recovering."""
    response: httpx.Response | None = None
    for _ in range(attempts):
        try:
            response = await call()
        except httpx.HTTPError:
            response = None
        if response is not None and response.status_code not in RETRYABLE:
            return response
        await asyncio.sleep(0.5)
    assert response is not None, "the stack never answered"
    return response
