"""The REST and gRPC edge: a real Envoy transcoding JSON to gRPC in front of a real gateway."""

from __future__ import annotations

import json
from typing import Any

import grpc
import httpx
import pytest
from harness import GatewayHarness

from vidmesh.devstack.envoy import EnvoyProxy
from vidmesh.v1 import auth_pb2, auth_pb2_grpc, video_pb2, video_state_pb2, video_state_pb2_grpc

PASSWORD = "a long enough password"


@pytest.fixture
async def http(edge: EnvoyProxy) -> Any:
    async with httpx.AsyncClient(base_url=edge.url, timeout=30) as client:
        yield client


def reason(response: httpx.Response) -> str:
    body = response.json()
    infos = [d for d in body.get("details", []) if d.get("@type", "").endswith("ErrorInfo")]
    assert infos, body
    assert infos[0]["domain"] == "vidmesh"
    return str(infos[0]["reason"])


async def signup(http: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await http.post("/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_register_login_and_me(http: httpx.AsyncClient) -> None:
    registered = await signup(http, "carol@example.com")
    assert registered["user"]["email"] == "carol@example.com"
    login = await http.post(
        "/v1/auth/login", json={"email": "carol@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    token = login.json()["credentials"]["accessToken"]
    assert token.count(".") == 2
    me = await http.get("/v1/users/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["user"]["userId"] == registered["user"]["userId"]
    refreshed = await http.post(
        "/v1/auth/refresh",
        json={"refreshToken": login.json()["credentials"]["refreshToken"]},
    )
    assert refreshed.status_code == 200


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"email": "nope", "password": PASSWORD}, "INVALID_EMAIL"),
        ({"email": "d@example.com", "password": "short"}, "WEAK_PASSWORD"),
        ({"email": "d@example.com"}, "FIELD_REQUIRED"),
        (
            {"email": "d@example.com", "password": PASSWORD, "displayName": "x" * 500},
            "FIELD_TOO_LONG",
        ),
    ],
)
async def test_bad_registrations_are_400_with_a_reason(
    http: httpx.AsyncClient, body: dict[str, str], expected: str
) -> None:
    response = await http.post("/v1/auth/register", json=body)
    assert response.status_code == 400
    assert reason(response) == expected
    assert response.json()["message"]


async def test_status_mapping(http: httpx.AsyncClient) -> None:
    await signup(http, "erin@example.com")
    duplicate = await http.post(
        "/v1/auth/register", json={"email": "ERIN@example.com", "password": PASSWORD}
    )
    assert (duplicate.status_code, reason(duplicate)) == (409, "EMAIL_TAKEN")
    wrong = await http.post(
        "/v1/auth/login", json={"email": "erin@example.com", "password": "x" * 12}
    )
    assert (wrong.status_code, reason(wrong)) == (401, "INVALID_CREDENTIALS")
    anonymous = await http.get("/v1/users/me")
    assert (anonymous.status_code, reason(anonymous)) == (401, "MISSING_TOKEN")
    tampered = await http.get("/v1/users/me", headers={"authorization": "Bearer a.b.c"})
    assert (tampered.status_code, reason(tampered)) == (401, "INVALID_TOKEN")
    for _ in range(4):
        await http.post("/v1/auth/login", json={"email": "erin@example.com", "password": "y" * 12})
    limited = await http.post(
        "/v1/auth/login", json={"email": "erin@example.com", "password": PASSWORD}
    )
    assert (limited.status_code, reason(limited)) == (429, "RATE_LIMITED")
    retry = [d for d in limited.json()["details"] if d["@type"].endswith("RetryInfo")]
    assert retry
    assert retry[0]["retryDelay"].endswith("s")


async def test_video_routes_map_403_404_and_400(
    http: httpx.AsyncClient, gw: GatewayHarness
) -> None:
    owner = await gw.register()
    other = await signup(http, "frank@example.com")
    other_auth = {"authorization": f"Bearer {other['credentials']['accessToken']}"}
    public = await gw.ready_video(owner, video_pb2.VISIBILITY_PUBLIC, title="Hello")
    private = await gw.ready_video(owner, video_pb2.VISIBILITY_PRIVATE)

    got = await http.get(f"/v1/videos/{public.video_id}")
    assert got.status_code == 200
    assert got.json()["video"]["state"] == "STATE_READY"
    assert got.json()["video"]["title"] == "Hello"
    hidden = await http.get(f"/v1/videos/{private.video_id}", headers=other_auth)
    assert (hidden.status_code, reason(hidden)) == (404, "VIDEO_NOT_FOUND")
    patch = await http.patch(
        f"/v1/videos/{public.video_id}?updateMask=title",
        json={"title": "Mine now"},
        headers=other_auth,
    )
    assert (patch.status_code, reason(patch)) == (403, "NOT_VIDEO_OWNER")
    bad_id = await http.get("/v1/videos/not-a-uuid")
    assert (bad_id.status_code, reason(bad_id)) == (400, "INVALID_VIDEO_ID")
    negative = await http.get("/v1/videos?pageSize=-1")
    assert (negative.status_code, reason(negative)) == (400, "INVALID_PAGE_SIZE")
    feed = await http.get("/v1/videos")
    assert [v["videoId"] for v in feed.json()["videos"]] == [public.video_id]

    owner_auth = {"authorization": f"Bearer {owner.access_token}"}
    renamed = await http.patch(
        f"/v1/videos/{public.video_id}?updateMask=title,visibility",
        json={"title": "Renamed", "visibility": "VISIBILITY_UNLISTED"},
        headers=owner_auth,
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["video"]["visibility"] == "VISIBILITY_UNLISTED"
    deleted = await http.delete(f"/v1/videos/{private.video_id}", headers=owner_auth)
    assert deleted.status_code == 200
    gone = await http.get(f"/v1/videos/{private.video_id}", headers=owner_auth)
    assert gone.status_code == 404


async def test_malformed_json_and_unknown_routes(http: httpx.AsyncClient) -> None:
    malformed = await http.post(
        "/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    unknown = await http.get("/v1/nothing-here")
    assert unknown.status_code == 404


async def test_watch_streams_json_as_it_happens(
    http: httpx.AsyncClient, gw: GatewayHarness
) -> None:
    owner = await gw.register()
    video = await gw.create_video(owner)
    headers = {"authorization": f"Bearer {owner.access_token}"}
    async with http.stream("GET", f"/v1/videos/{video.video_id}:watch", headers=headers) as stream:
        assert stream.status_code == 200
        chunks = stream.aiter_text()
        received = ""
        while "STATE_UPLOADING" not in received:
            received += await anext(chunks)
        await gw.make_ready(video.video_id)
        async for chunk in chunks:
            received += chunk
    videos = [item["video"] for item in json.loads(received)]
    assert [v["state"] for v in videos] == [
        "STATE_UPLOADING",
        "STATE_QUEUED",
        "STATE_PROCESSING",
        "STATE_READY",
    ]


async def test_cors_preflight(http: httpx.AsyncClient, edge: EnvoyProxy) -> None:
    """The web app's own origin is allowed, whatever port the edge listens on."""
    own = f"http://localhost:{edge.edge.listen_port}"
    response = await http.options(
        "/v1/auth/login",
        headers={
            "origin": own,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == own
    foreign = await http.options(
        "/v1/auth/login",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in foreign.headers


async def test_grpc_through_envoy_and_internal_service_not_routed(
    edge: EnvoyProxy, gw: GatewayHarness
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{edge.edge.listen_port}") as channel:
        auth = auth_pb2_grpc.AuthServiceStub(channel)
        response = await auth.Register(
            auth_pb2.RegisterRequest(email="grace@example.com", password=PASSWORD)
        )
        assert response.user.email == "grace@example.com"
        states = video_state_pb2_grpc.VideoStateServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await states.CreateVideo(
                video_state_pb2.CreateVideoRequest(owner_id=response.user.user_id, title="t"),
                metadata=gw.service_metadata,
            )
        assert caught.value.code() != grpc.StatusCode.OK
        assert caught.value.code() in (
            grpc.StatusCode.UNIMPLEMENTED,
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.UNKNOWN,
        )
