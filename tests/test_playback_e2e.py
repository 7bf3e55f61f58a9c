"""End to end through Envoy only: upload, watch, playback info, and HLS that ffmpeg can play."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import grpc
import httpx
from edge_stack import account, ffmpeg_plays, upload_ready
from harness import eventually
from media import clip

from vidmesh.common.tokens import TokenCodec
from vidmesh.devstack.envoy import EnvoyProxy
from vidmesh.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    ingest_pb2,
    ingest_pb2_grpc,
    playback_pb2,
    playback_pb2_grpc,
    video_pb2,
    video_pb2_grpc,
)


async def test_upload_watch_and_play_through_envoy(
    http: httpx.AsyncClient, edge_url: str, media_dir: Path
) -> None:
    owner = await account(http, "owner@example.com")
    video_id = await upload_ready(
        http, owner, clip(media_dir / "landscape.mp4", size="640x360", seconds=9), "public"
    )
    info = await http.get(f"/v1/videos/{video_id}/playback")
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["masterPlaylistUrl"] == f"/hls/{video_id}/master.m3u8", "public: bare URLs"
    assert not body.get("token")
    assert "tokenExpireTime" not in body
    owners = (await http.get(f"/v1/videos/{video_id}/playback", headers=owner)).json()
    assert owners["masterPlaylistUrl"] == body["masterPlaylistUrl"], "the same for every viewer"
    assert [r["name"] for r in body["renditions"]] == ["360p", "240p"]
    master = await http.get(body["masterPlaylistUrl"])
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert "360p/index.m3u8\n" in master.text
    assert "token" not in master.text
    await ffmpeg_plays(edge_url + body["masterPlaylistUrl"])
    for name in ("posterUrl", "storyboardUrl", "storyboardVttUrl"):
        assert (await http.get(body[name])).status_code == 200

    media = await http.get(f"/hls/{video_id}/240p/index.m3u8")
    segment_url = f"/hls/{video_id}/240p/" + next(
        line for line in media.text.splitlines() if line and not line.startswith("#")
    )
    full = await http.get(segment_url)
    assert full.status_code == 200
    assert full.headers["content-type"] == "video/mp2t"
    assert "immutable" in full.headers["cache-control"]
    ranged = await http.get(segment_url, headers={"range": "bytes=100-199"})
    assert ranged.status_code == 206
    assert ranged.content == full.content[100:200]
    head = await http.head(segment_url)
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == len(full.content)
    cached = await http.get(segment_url, headers={"if-none-match": full.headers["etag"]})
    assert cached.status_code == 304


async def test_private_videos_play_for_their_owner_only(
    http: httpx.AsyncClient,
    edge_proxy: EnvoyProxy,
    edge_url: str,
    media_dir: Path,
    token_codec: TokenCodec,
) -> None:
    owner = await account(http, "private-owner@example.com")
    other = await account(http, "nosy@example.com")
    video_id = await upload_ready(http, owner, clip(media_dir / "plain.mp4"), "private")
    assert (await http.get(f"/v1/videos/{video_id}/playback")).status_code == 404
    assert (await http.get(f"/v1/videos/{video_id}/playback", headers=other)).status_code == 404
    mine = (await http.get(f"/v1/videos/{video_id}/playback", headers=owner)).json()
    await ffmpeg_plays(edge_url + mine["masterPlaylistUrl"])

    master = f"/hls/{video_id}/master.m3u8"
    assert (await http.get(master)).status_code == 403
    assert (await http.get(master + "?token=forged")).status_code == 403
    expired = token_codec.issue_playback(video_id, "videos/x", "someone", timedelta(seconds=-60))
    assert (await http.get(f"{master}?token={expired.token}")).status_code == 403
    unlisted = await upload_ready(http, owner, clip(media_dir / "plain.mp4"), "unlisted")
    foreign = (await http.get(f"/v1/videos/{unlisted}/playback")).json()["token"]
    assert (await http.get(f"{master}?token={foreign}")).status_code == 403, "bound to its video"

    token = mine["token"]
    for path in ("..%2F..%2Fsecret.ts", "%2e%2e/master.m3u8", "x.exe", "..%2F..%2Fetc%2Fpasswd"):
        response = await http.get(f"/hls/{video_id}/{path}?token={token}")
        assert response.status_code in (400, 403, 404), (path, response.status_code)
    # Plain dot segments are resolved by the client before sending: the request leaves /hls/.
    dotted = await http.get(f"/hls/{video_id}/../../etc/passwd?token={token}")
    assert dotted.request.url.path == "/etc/passwd"
    missing = await http.get(f"/hls/{video_id}/999p/index.m3u8?token={token}")
    assert missing.status_code == 404
    log = edge_proxy.work_dir / "envoy.log"

    async def logged() -> bool:
        return f'"path":"/hls/{video_id}/999p/index.m3u8"' in log.read_text()

    await eventually(logged, what="Envoy flushed its access log")
    assert token not in log.read_text(), "playback tokens never reach the logs"


def tus_upload_interrupted(base_url: str, token: str, source: Path) -> tuple[str, int]:
    """Send one chunk, drop the uploader, then resume with a new one from the server's offset."""
    from tusclient import client

    tus = client.TusClient(f"{base_url}/v1/tus/", headers={"Authorization": f"Bearer {token}"})
    metadata = {"title": "Via tus", "filename": source.name, "visibility": "public"}
    # Open the file ourselves: tuspy leaves the handles it opens from a path unclosed.
    with source.open("rb") as stream:
        first = tus.uploader(
            file_stream=stream, chunk_size=64 * 1024, metadata=metadata, upload_checksum=True
        )
        first.upload_chunk()
        interrupted_at = first.offset
    with source.open("rb") as stream:
        resumed = tus.uploader(
            file_stream=stream, chunk_size=256 * 1024, url=first.url, upload_checksum=True
        )
        assert resumed.offset == interrupted_at, "the new client starts from the server's offset"
        resumed.upload()
    return str(first.url), interrupted_at


async def test_tus_upload_resumes_and_plays(
    http: httpx.AsyncClient, edge_url: str, media_dir: Path
) -> None:
    owner = await account(http, "tus@example.com")
    token = owner["authorization"].split()[1]
    source = clip(media_dir / "landscape.mp4", size="640x360", seconds=9)
    url, interrupted_at = await asyncio.to_thread(tus_upload_interrupted, edge_url, token, source)
    assert 0 < interrupted_at < source.stat().st_size
    listed = await http.get("/v1/videos?scope=SCOPE_MINE", headers=owner)
    video_id = listed.json()["videos"][0]["videoId"]
    async with http.stream("GET", f"/v1/videos/{video_id}:watch", headers=owner) as stream:
        states = [m["video"]["state"] for m in json.loads(await stream.aread())]
    assert states[-1] == "STATE_READY"
    info = (await http.get(f"/v1/videos/{video_id}/playback")).json()
    await ffmpeg_plays(edge_url + info["masterPlaylistUrl"])
    done = await http.head(url.replace(edge_url, ""), headers={**owner, "Tus-Resumable": "1.0.0"})
    assert done.status_code == 200, "a finished upload stays known as complete"
    assert done.headers["Upload-Offset"] == done.headers["Upload-Length"]


async def test_tus_protocol_edges(http: httpx.AsyncClient) -> None:
    owner = await account(http, "tus-edges@example.com")
    tus = {**owner, "Tus-Resumable": "1.0.0"}
    options = await http.options("/v1/tus/")
    assert options.status_code == 204
    assert set(options.headers["tus-extension"].split(",")) >= {
        "creation",
        "termination",
        "expiration",
        "checksum",
    }
    assert (
        await http.post("/v1/tus/", headers={**owner, "Upload-Length": "10"})
    ).status_code == 412
    anonymous = await http.post(
        "/v1/tus/", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    )
    assert anonymous.status_code == 401
    title = "dGl0bGU="  # base64("title")
    created = await http.post(
        "/v1/tus/", headers={**tus, "Upload-Length": "10", "Upload-Metadata": f"title {title}"}
    )
    assert created.status_code == 201
    assert created.headers["upload-expires"]
    location = created.headers["location"]
    patch = {**tus, "Content-Type": "application/offset+octet-stream"}
    bad_sum = await http.patch(
        location,
        content=b"01234",
        headers={
            **patch,
            "Upload-Offset": "0",
            "Upload-Checksum": "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        },
    )
    assert bad_sum.status_code == 460
    head = await http.head(location, headers=tus)
    assert head.headers["upload-offset"] == "0", "a chunk with a bad checksum is dropped"
    wrong_offset = await http.patch(
        location, content=b"56789", headers={**patch, "Upload-Offset": "5"}
    )
    assert wrong_offset.status_code == 409
    other = await account(http, "tus-thief@example.com")
    assert (
        await http.head(location, headers={**other, "Tus-Resumable": "1.0.0"})
    ).status_code == 403
    assert (await http.delete(location, headers=tus)).status_code == 204
    assert (await http.head(location, headers=tus)).status_code == 404
    too_big = await http.post(
        "/v1/tus/",
        headers={**tus, "Upload-Length": str(20 * 1024**3), "Upload-Metadata": f"title {title}"},
    )
    assert too_big.status_code == 413


async def test_grpc_clients_through_envoy(edge_url: str, media_dir: Path) -> None:
    source = clip(media_dir / "plain.mp4")
    data = source.read_bytes()
    async with grpc.aio.insecure_channel(edge_url.removeprefix("http://")) as channel:
        auth = auth_pb2_grpc.AuthServiceStub(channel)
        registered = await auth.Register(
            auth_pb2.RegisterRequest(email="grpc@example.com", password="a long enough password")
        )
        metadata = (("authorization", f"Bearer {registered.credentials.access_token}"),)

        async def requests() -> AsyncIterator[ingest_pb2.UploadRequest]:
            meta = ingest_pb2.UploadMetadata(title="gRPC", size_bytes=len(data))
            yield ingest_pb2.UploadRequest(metadata=meta)
            for start in range(0, len(data), 32 * 1024):
                yield ingest_pb2.UploadRequest(chunk=data[start : start + 32 * 1024])

        uploaded = await ingest_pb2_grpc.IngestServiceStub(channel).Upload(
            requests(), metadata=metadata
        )
        video_id = uploaded.video.video_id
        stream = video_pb2_grpc.VideoServiceStub(channel).WatchVideo(
            video_pb2.WatchVideoRequest(video_id=video_id), metadata=metadata
        )
        states = [message.video.state async for message in stream]
        assert states[-1] == video_pb2.Video.STATE_READY
        info = await playback_pb2_grpc.PlaybackServiceStub(channel).GetPlaybackInfo(
            playback_pb2.GetPlaybackInfoRequest(video_id=video_id), metadata=metadata
        )
    await ffmpeg_plays(edge_url + info.master_playlist_url)


async def test_grpc_web_through_envoy(http: httpx.AsyncClient) -> None:
    message = auth_pb2.RegisterRequest(email="web@example.com", password="a long enough password")
    payload = message.SerializeToString()
    frame = b"\x00" + len(payload).to_bytes(4, "big") + payload
    response = await http.post(
        "/vidmesh.v1.AuthService/Register",
        content=frame,
        headers={"content-type": "application/grpc-web+proto", "x-grpc-web": "1"},
    )
    assert response.status_code == 200
    body = response.content
    length = int.from_bytes(body[1:5], "big")
    reply = auth_pb2.RegisterResponse.FromString(body[5 : 5 + length])
    assert reply.user.email == "web@example.com"
    assert b"grpc-status:0" in body[5 + length :].replace(b" ", b"")
