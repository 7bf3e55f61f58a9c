"""Every door refuses bad input with a 4xx and a reason, never a 5xx (the bad-input tables).

Each row is one malformed request sent through Envoy the way a careless or hostile client would
send it: NUL and control characters in text, invalid UTF-8, numbers out of range, over-long
headers, malformed field masks and ids, odd HLS and web paths. The assertion is the same for
all: a 4xx, the expected reason where the door speaks JSON, and no internal error text.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import ADMIN_EMAIL, GatewayHarness, IngestHarness, TranscoderFactory, TranscoderHarness

from vidmesh.cli.webapp import build_app as build_web_app
from vidmesh.common.http import http_listener
from vidmesh.devstack.envoy import EnvoyProxy
from vidmesh.v1 import video_pb2

LEAKS = (
    "Traceback",
    "DecodeError",
    "psycopg",
    "sqlalchemy",
    "ValueError",
    "Exception",
    "unmarshal",
)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    status: int
    reason: str = ""
    auth: str = "user"
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


TUS = {"Tus-Resumable": "1.0.0"}
V = "{video}"

CASES = [
    # JSON → gRPC (gateway)
    Case(
        "nul in email",
        "POST",
        "/v1/auth/register",
        400,
        "INVALID_CHARACTERS",
        "none",
        json={"email": "a\u0000@example.com", "password": "correct horse battery"},
    ),
    Case(
        "nul in display name",
        "POST",
        "/v1/auth/register",
        400,
        "INVALID_CHARACTERS",
        "none",
        json={
            "email": "x@example.com",
            "password": "correct horse battery",
            "displayName": "Ada\u0000",
        },
    ),
    Case(
        "nul in login email",
        "POST",
        "/v1/auth/login",
        400,
        "INVALID_CHARACTERS",
        "none",
        json={"email": "\u0000", "password": "x"},
    ),
    Case(
        "control character in title",
        "PATCH",
        f"/v1/videos/{V}?updateMask=title",
        400,
        "INVALID_CHARACTERS",
        json={"title": "bell\u0007"},
    ),
    Case(
        "nul in title",
        "PATCH",
        f"/v1/videos/{V}?updateMask=title",
        400,
        "INVALID_CHARACTERS",
        json={"title": "a\u0000b"},
    ),
    Case(
        "invalid UTF-8 in update mask",
        "PATCH",
        f"/v1/videos/{V}?updateMask=%00%ff",
        400,
        json={"title": "x"},
    ),
    Case(
        "unknown field in update mask",
        "PATCH",
        f"/v1/videos/{V}?updateMask=owner_id",
        400,
        "INVALID_UPDATE_MASK",
        json={"title": "x"},
    ),
    Case(
        "invalid UTF-8 in JSON body",
        "POST",
        "/v1/auth/login",
        400,
        auth="none",
        content=b'{"email": "\xff\xfe", "password": "x"}',
        headers={"content-type": "application/json"},
    ),
    Case("nul in page token", "GET", "/v1/videos?pageToken=%00", 400),
    Case("page size beyond int32", "GET", "/v1/videos?pageSize=99999999999999999999", 400),
    Case("video id not a uuid", "GET", "/v1/videos/%00", 400),
    Case(
        "dead letter id of 23 digits",
        "GET",
        "/v1/admin/dead-letters/12345678901234567890123",
        404,
        "DEAD_LETTER_NOT_FOUND",
        "admin",
    ),
    Case(
        "dead letter id with a nul",
        "POST",
        "/v1/admin/dead-letters/1%00:retry",
        400,
        "INVALID_CHARACTERS",
        "admin",
        json={},
    ),
    Case(
        "timeline of an id that is no id",
        "GET",
        "/v1/videos/nope/timeline",
        400,
        "INVALID_VIDEO_ID",
    ),
    Case("timeline without a token", "GET", f"/v1/videos/{V}/timeline", 401, auth="none"),
    Case(
        "timeline of someone else's public video",
        "GET",
        f"/v1/videos/{V}/timeline",
        404,
        "VIDEO_NOT_FOUND",
        "stranger",
    ),
    Case("queue for a non-admin", "GET", "/v1/admin/queue", 403, "ADMIN_REQUIRED"),
    Case("quota without a token", "GET", "/v1/quota", 401, auth="none"),
    Case(
        "quota of a user id that is no id",
        "GET",
        "/v1/admin/users/nope/quota",
        400,
        "INVALID_USER_ID",
        "admin",
    ),
    Case(
        "quota change by a non-admin",
        "PATCH",
        "/v1/admin/users/00000000-0000-4000-8000-000000000000/quota",
        403,
        "ADMIN_REQUIRED",
        json={"storageLimitBytes": "-1"},
    ),
    Case(
        "quota limit below -1",
        "PATCH",
        "/v1/admin/users/00000000-0000-4000-8000-000000000000/quota",
        400,
        "INVALID_LIMIT",
        "admin",
        json={"dailyLimitBytes": "-7"},
    ),
    Case(
        "quota limit not a number",
        "PATCH",
        "/v1/admin/users/00000000-0000-4000-8000-000000000000/quota",
        400,
        auth="admin",
        json={"dailyLimitBytes": "lots"},
    ),
    Case("headers over 16 KiB", "GET", "/v1/users/me", 431, headers={"x-padding": "a" * 20000}),
    # REST upload (Envoy → ingest UploadBody)
    Case(
        "upload length 10^30",
        "PUT",
        "/v1/videos:upload",
        400,
        "INVALID_HEADER",
        content=b"x",
        headers={"x-title": "t", "x-upload-length": "1" + "0" * 30},
    ),
    Case(
        "upload length not ASCII digits",
        "PUT",
        "/v1/videos:upload",
        400,
        "INVALID_HEADER",
        content=b"x",
        headers={"x-title": "t", "x-upload-length": "%C2%B2"},
    ),
    Case(
        "percent-encoded nul in x-title",
        "PUT",
        "/v1/videos:upload",
        400,
        "INVALID_CHARACTERS",
        content=b"x",
        headers={"x-title": "a%00b", "x-upload-length": "1"},
    ),
    Case(
        "percent-encoded nul in x-filename",
        "PUT",
        "/v1/videos:upload",
        400,
        "INVALID_CHARACTERS",
        content=b"x",
        headers={"x-title": "t", "x-filename": "%00.mp4", "x-upload-length": "1"},
    ),
    # tus (Envoy → ingest HTTP)
    Case(
        "tus length 10^30",
        "POST",
        "/v1/tus/",
        400,
        "INVALID_HEADER",
        headers={**TUS, "Upload-Length": "1" + "0" * 30},
    ),
    Case(
        "tus length negative",
        "POST",
        "/v1/tus/",
        400,
        "INVALID_HEADER",
        headers={**TUS, "Upload-Length": "-5"},
    ),
    Case(
        "tus nul in title metadata",
        "POST",
        "/v1/tus/",
        400,
        "INVALID_CHARACTERS",
        headers={**TUS, "Upload-Length": "10", "Upload-Metadata": f"title {b64('a' + chr(0))}"},
    ),
    Case(
        "tus nul in filename metadata",
        "POST",
        "/v1/tus/",
        400,
        "INVALID_CHARACTERS",
        headers={
            **TUS,
            "Upload-Length": "10",
            "Upload-Metadata": f"title {b64('t')},filename {b64(chr(0) + '.mp4')}",
        },
    ),
    Case(
        "tus metadata not base64",
        "POST",
        "/v1/tus/",
        400,
        "INVALID_HEADER",
        headers={**TUS, "Upload-Length": "10", "Upload-Metadata": "title ***"},
    ),
    Case(
        "tus metadata not UTF-8",
        "POST",
        "/v1/tus/",
        400,
        "INVALID_HEADER",
        headers={
            **TUS,
            "Upload-Length": "10",
            "Upload-Metadata": "title " + base64.b64encode(b"\xff\xfe").decode(),
        },
    ),
    Case("tus head of a bad id", "HEAD", "/v1/tus/%00", 400, headers=TUS),
    Case(
        "tus patch offset out of range",
        "PATCH",
        f"/v1/tus/{uuid.uuid4().hex}",
        400,
        "INVALID_HEADER",
        content=b"x",
        headers={
            **TUS,
            "Upload-Offset": "9" * 30,
            "Content-Type": "application/offset+octet-stream",
        },
    ),
    Case(
        "tus without a token",
        "POST",
        "/v1/tus/",
        401,
        "MISSING_TOKEN",
        "none",
        headers={**TUS, "Upload-Length": "10"},
    ),
    Case(
        "tus with a malformed token",
        "POST",
        "/v1/tus/",
        401,
        "INVALID_TOKEN",
        "bogus",
        headers={**TUS, "Upload-Length": "10"},
    ),
    # HLS (Envoy → playback HTTP)
    Case(
        "hls nul before the suffix",
        "GET",
        f"/hls/{V}/master.m3u8%00.ts",
        400,
        "INVALID_PATH",
        "none",
    ),
    Case("hls invalid UTF-8", "GET", f"/hls/{V}/%ff%fe.m3u8", 400, "INVALID_PATH", "none"),
    Case("hls traversal", "GET", f"/hls/{V}/..%2f..%2fsecrets.m3u8", 404, auth="none"),
    Case("hls id that is no id", "GET", "/hls/nope/master.m3u8", 404, auth="none"),
    Case("hls unknown video, no token", "GET", f"/hls/{uuid.UUID(int=7)}/master.m3u8", 403),
    Case("hls forged token", "GET", f"/hls/{V}/master.m3u8?token=forged", 403, auth="none"),
    Case("hls unknown suffix", "GET", f"/hls/{V}/poster.exe", 404, auth="none"),
    Case("download not enabled", "GET", f"/hls/{V}/downloads/720p.mp4", 404, auth="none"),
    Case("clip id that is no id", "GET", "/v1/clips/nope", 400, "INVALID_CLIP_ID", "none"),
    Case("webhooks without a token", "GET", "/v1/webhooks", 401, auth="none"),
    Case("webhook to ftp", "POST", "/v1/webhooks", 400, "INVALID_URL", json={"url": "ftp://x/y"}),
    Case(
        "webhook to the metadata service",
        "POST",
        "/v1/webhooks",
        400,
        "PRIVATE_ADDRESS",
        json={"url": "http://169.254.169.254/latest"},
    ),
    Case("webhook id that is no id", "DELETE", "/v1/webhooks/nope", 400, "INVALID_WEBHOOK_ID"),
    Case(
        "poster that is no picture",
        "POST",
        f"/v1/videos/{V}/poster",
        400,
        "INVALID_IMAGE",
        json={"image": "bm90IGEgcGljdHVyZQ=="},
    ),
    Case(
        "poster image not base64",
        "POST",
        f"/v1/videos/{V}/poster",
        400,
        json={"image": "%%%"},
    ),
    Case(
        "poster frame of a ladder missing from storage",
        "POST",
        f"/v1/videos/{V}/poster",
        400,
        "LADDER_MISSING",
        json={"frameTime": "1s"},
    ),
    Case(
        "clip of nothing",
        "GET",
        f"/hls/{V}/clips/00000000-0000-4000-8000-000000000000/master.m3u8",
        404,
        auth="none",
    ),
    Case(
        "clip ending before it starts",
        "POST",
        f"/v1/videos/{V}/clips",
        400,
        "INVALID_RANGE",
        json={"name": "x", "startOffset": "5s", "endOffset": "2s"},
    ),
    Case(
        "clip range not a duration",
        "POST",
        f"/v1/videos/{V}/clips",
        400,
        json={"name": "x", "startOffset": "soon", "endOffset": "2s"},
    ),
    Case("download of no rung", "GET", f"/hls/{V}/downloads/..%2f720p.mp4", 404, auth="none"),
    Case("download audio as mp4", "GET", f"/hls/{V}/downloads/audio.mp4", 404, auth="none"),
    Case("hls missing rung", "GET", f"/hls/{V}/999p/index.m3u8", 404, auth="none"),
    # The web app (Envoy → static server)
    Case("web nul in path", "GET", "/watch/%00", 400, "INVALID_PATH", "none"),
    Case("web traversal", "GET", "/assets/..%2f..%2fpyproject.toml", 404, auth="none"),
]


@pytest.fixture
async def web_port(tmp_path: Path) -> AsyncIterator[int]:
    root = tmp_path / "web"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>Vidmesh</title>")
    async with http_listener(build_web_app(root), "127.0.0.1", 0) as port:
        yield port


@pytest.fixture
async def full_edge(
    gw: GatewayHarness,
    ing: IngestHarness,
    transcoder_factory: TranscoderFactory,
    playback_server: tuple[int, int],
    web_port: int,
    envoy_factory: Callable[..., EnvoyProxy],
) -> EnvoyProxy:
    worker: TranscoderHarness = await transcoder_factory()
    proxy: EnvoyProxy = envoy_factory(
        gw.port, ing.port, worker.port, *playback_server, ing.http_port, web_port
    )
    return proxy


async def test_every_door_refuses_bad_input_with_a_4xx(
    full_edge: EnvoyProxy, gw: GatewayHarness
) -> None:
    user = await gw.register()
    admin = await gw.register(ADMIN_EMAIL)
    video = await gw.ready_video(user, video_pb2.VISIBILITY_PUBLIC)
    stranger = await gw.register()
    tokens = {
        "user": user.access_token,
        "admin": admin.access_token,
        "stranger": stranger.access_token,
        "bogus": "not.a.jwt",
    }
    failures = []
    async with httpx.AsyncClient(base_url=full_edge.url, timeout=30) as http:
        for case in CASES:
            headers = dict(case.headers)
            if case.auth in tokens:
                headers["authorization"] = f"Bearer {tokens[case.auth]}"
            response = await http.request(
                case.method,
                case.path.replace(V, video.video_id),
                json=case.json,
                content=case.content,
                headers=headers,
            )
            problem = _problem(case, response)
            if problem:
                failures.append(f"{case.name}: {problem}")
    assert not failures, "\n".join(failures)


def _problem(case: Case, response: httpx.Response) -> str:
    body = response.text
    if response.status_code != case.status:
        return f"status {response.status_code}, wanted {case.status}: {body[:300]}"
    if any(leak in body for leak in LEAKS):
        return f"internal text in the body: {body[:300]}"
    if case.reason and _reason(response) != case.reason:
        return f"reason {_reason(response)!r}, wanted {case.reason!r}: {body[:300]}"
    return ""


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if "reason" in body:
        return str(body["reason"])
    for detail in body.get("details", []):
        if detail.get("@type", "").endswith("ErrorInfo"):
            return str(detail["reason"])
    return ""


async def test_large_headers_under_the_cap_always_pass(
    edge: EnvoyProxy, gw: GatewayHarness
) -> None:
    """gRPC's metadata soft limit refused headers of 8-10 KiB at random (429); no longer."""
    user = await gw.register()
    headers = {"authorization": f"Bearer {user.access_token}", "x-padding": "a" * 12 * 1024}
    async with httpx.AsyncClient(base_url=edge.url, timeout=30) as http:
        statuses = [
            (await http.get("/v1/users/me", headers=headers)).status_code for _ in range(20)
        ]
    assert statuses == [200] * 20
