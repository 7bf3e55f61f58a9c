"""VideoService on a real gateway: who may see and change what, paging, updates and watching."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from typing import Any

import grpc
import psycopg
import pytest
from google.protobuf import field_mask_pb2
from harness import ADMIN_EMAIL, Account, GatewayHarness, expect_error

from vidmesh.common.database import libpq_url
from vidmesh.v1 import video_pb2, video_state_pb2

Code = grpc.StatusCode
V = video_pb2
PUBLIC, UNLISTED, PRIVATE = V.VISIBILITY_PUBLIC, V.VISIBILITY_UNLISTED, V.VISIBILITY_PRIVATE
OK = None

# What each viewer gets for each visibility of a READY video: None means success.
READ = {
    "owner": {PUBLIC: OK, UNLISTED: OK, PRIVATE: OK},
    "admin": {PUBLIC: OK, UNLISTED: OK, PRIVATE: OK},
    "other": {PUBLIC: OK, UNLISTED: OK, PRIVATE: (Code.NOT_FOUND, "VIDEO_NOT_FOUND")},
    "anonymous": {PUBLIC: OK, UNLISTED: OK, PRIVATE: (Code.NOT_FOUND, "VIDEO_NOT_FOUND")},
}
ADMIN_REWRITE = (Code.PERMISSION_DENIED, "ADMIN_MAY_ONLY_RESTRICT")
WRITE = {
    "owner": {PUBLIC: OK, UNLISTED: OK, PRIVATE: OK},
    "admin": {PUBLIC: OK, UNLISTED: OK, PRIVATE: OK},
    "other": {
        PUBLIC: (Code.PERMISSION_DENIED, "NOT_VIDEO_OWNER"),
        UNLISTED: (Code.PERMISSION_DENIED, "NOT_VIDEO_OWNER"),
        PRIVATE: (Code.NOT_FOUND, "VIDEO_NOT_FOUND"),
    },
    "anonymous": {
        PUBLIC: (Code.UNAUTHENTICATED, "MISSING_TOKEN"),
        UNLISTED: (Code.UNAUTHENTICATED, "MISSING_TOKEN"),
        PRIVATE: (Code.UNAUTHENTICATED, "MISSING_TOKEN"),
    },
}
VIEWERS = ["owner", "admin", "other", "anonymous"]
VISIBILITIES = [PUBLIC, UNLISTED, PRIVATE]


async def viewer_metadata(gw: GatewayHarness, owner: Account, viewer: str) -> Any:
    if viewer == "owner":
        return owner.metadata
    if viewer == "admin":
        return (await gw.register(ADMIN_EMAIL)).metadata
    if viewer == "other":
        return (await gw.register()).metadata
    return ()


async def collect(stream: AsyncIterable[video_pb2.WatchVideoResponse]) -> list[video_pb2.Video]:
    return [message.video async for message in stream]


async def read_video(stream: Any) -> video_pb2.Video:
    message = await stream.read()
    assert isinstance(message, V.WatchVideoResponse), message
    return message.video


async def run_operation(gw: GatewayHarness, operation: str, video_id: str, metadata: Any) -> object:
    if operation == "get":
        return await gw.videos.GetVideo(V.GetVideoRequest(video_id=video_id), metadata=metadata)
    if operation == "watch":
        return await collect(
            gw.videos.WatchVideo(V.WatchVideoRequest(video_id=video_id), metadata=metadata)
        )
    if operation == "update":
        request = V.UpdateVideoRequest(
            video=V.Video(video_id=video_id, title="Renamed"),
            update_mask=field_mask_pb2.FieldMask(paths=["title"]),
        )
        return await gw.videos.UpdateVideo(request, metadata=metadata)
    return await gw.videos.DeleteVideo(V.DeleteVideoRequest(video_id=video_id), metadata=metadata)


@pytest.mark.parametrize("visibility", VISIBILITIES, ids=["public", "unlisted", "private"])
@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("operation", ["get", "watch", "update", "delete"])
async def test_authorization_matrix(
    gw: GatewayHarness, operation: str, viewer: str, visibility: int
) -> None:
    owner = await gw.register()
    video = await gw.ready_video(owner, visibility)  # type: ignore[arg-type]
    metadata = await viewer_metadata(gw, owner, viewer)
    table = READ if operation in ("get", "watch") else WRITE
    expected = table[viewer][visibility]  # type: ignore[index]
    if operation == "update" and viewer == "admin":
        expected = ADMIN_REWRITE  # admins restrict, they never rewrite (test_admin_powers)
    call = run_operation(gw, operation, video.video_id, metadata)
    if expected is None:
        result = await call
        if operation == "watch":
            assert isinstance(result, list)
            assert [v.state for v in result] == [V.Video.STATE_READY]
        if operation == "delete":
            await expect_error(
                gw.videos.GetVideo(
                    V.GetVideoRequest(video_id=video.video_id), metadata=owner.metadata
                ),
                Code.NOT_FOUND,
                "VIDEO_NOT_FOUND",
            )
    else:
        await expect_error(call, *expected)
        if operation in ("update", "delete"):
            unchanged = await gw.videos.GetVideo(
                V.GetVideoRequest(video_id=video.video_id), metadata=owner.metadata
            )
            assert unchanged.video.title == video.title


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_listing_matrix(gw: GatewayHarness, viewer: str) -> None:
    owner = await gw.register()
    videos = {vis: await gw.ready_video(owner, vis) for vis in VISIBILITIES}
    metadata = await viewer_metadata(gw, owner, viewer)
    feed = await gw.videos.ListVideos(V.ListVideosRequest(), metadata=metadata)
    assert [v.video_id for v in feed.videos] == [videos[PUBLIC].video_id]
    mine = V.ListVideosRequest(scope=V.ListVideosRequest.SCOPE_MINE)
    if viewer == "anonymous":
        await expect_error(gw.videos.ListVideos(mine), Code.UNAUTHENTICATED, "MISSING_TOKEN")
        return
    listed = {v.video_id for v in (await gw.videos.ListVideos(mine, metadata=metadata)).videos}
    if viewer == "owner":
        assert listed == {v.video_id for v in videos.values()}
    else:
        assert listed == set()


async def test_videos_that_are_not_ready_are_the_owners_only(gw: GatewayHarness) -> None:
    owner = await gw.register()
    other = await gw.register()
    video = await gw.create_video(owner, PUBLIC)
    request = V.GetVideoRequest(video_id=video.video_id)
    assert (await gw.videos.GetVideo(request, metadata=owner.metadata)).video.state == (
        V.Video.STATE_UPLOADING
    )
    await expect_error(gw.videos.GetVideo(request, metadata=other.metadata), Code.NOT_FOUND)
    await expect_error(gw.videos.GetVideo(request), Code.NOT_FOUND)
    feed = await gw.videos.ListVideos(V.ListVideosRequest())
    assert feed.videos == []


@pytest.mark.parametrize(
    ("video_id", "code", "reason"),
    [
        ("", Code.INVALID_ARGUMENT, "FIELD_REQUIRED"),
        ("not-a-uuid", Code.INVALID_ARGUMENT, "INVALID_VIDEO_ID"),
        ("00000000-0000-0000-0000-000000000000", Code.NOT_FOUND, "VIDEO_NOT_FOUND"),
    ],
)
async def test_bad_and_unknown_ids(
    gw: GatewayHarness, video_id: str, code: Code, reason: str
) -> None:
    await expect_error(gw.videos.GetVideo(V.GetVideoRequest(video_id=video_id)), code, reason)


async def test_a_bad_token_is_an_error_even_where_anonymous_is_allowed(gw: GatewayHarness) -> None:
    owner = await gw.register()
    video = await gw.ready_video(owner)
    await expect_error(
        gw.videos.GetVideo(
            V.GetVideoRequest(video_id=video.video_id), metadata=(("authorization", "Bearer x"),)
        ),
        Code.UNAUTHENTICATED,
        "INVALID_TOKEN",
    )


async def test_update_follows_the_field_mask(gw: GatewayHarness) -> None:
    owner = await gw.register()
    video = await gw.ready_video(owner, PRIVATE, title="Before")
    request = V.UpdateVideoRequest(
        video=V.Video(
            video_id=video.video_id, title="After", description="ignored", visibility=PUBLIC
        ),
        update_mask=field_mask_pb2.FieldMask(paths=["title", "visibility"]),
    )
    updated = (await gw.videos.UpdateVideo(request, metadata=owner.metadata)).video
    assert (updated.title, updated.description, updated.visibility) == ("After", "", PUBLIC)
    assert updated.update_time.ToDatetime() > video.update_time.ToDatetime()

    implicit = V.UpdateVideoRequest(video=V.Video(video_id=video.video_id, description="Words"))
    updated = (await gw.videos.UpdateVideo(implicit, metadata=owner.metadata)).video
    assert (updated.title, updated.description) == ("After", "Words")


@pytest.mark.parametrize(
    ("video", "paths", "reason"),
    [
        (V.Video(title="x"), ["state"], "INVALID_UPDATE_MASK"),
        (V.Video(title="x"), ["title", "owner_id"], "INVALID_UPDATE_MASK"),
        (V.Video(), [], "INVALID_UPDATE_MASK"),
        (V.Video(title="   "), ["title"], "FIELD_REQUIRED"),
        (V.Video(title="t" * 201), ["title"], "FIELD_TOO_LONG"),
        (V.Video(description="d" * 5001), ["description"], "FIELD_TOO_LONG"),
        (V.Video(), ["visibility"], "INVALID_VISIBILITY"),
        (V.Video(visibility=42), ["visibility"], "INVALID_VISIBILITY"),  # type: ignore[arg-type]
    ],
)
async def test_update_rejects_bad_input(
    gw: GatewayHarness, video: video_pb2.Video, paths: list[str], reason: str
) -> None:
    owner = await gw.register()
    existing = await gw.ready_video(owner)
    video.video_id = existing.video_id
    request = V.UpdateVideoRequest(video=video, update_mask=field_mask_pb2.FieldMask(paths=paths))
    await expect_error(
        gw.videos.UpdateVideo(request, metadata=owner.metadata), Code.INVALID_ARGUMENT, reason
    )


async def list_all(
    gw: GatewayHarness, request: video_pb2.ListVideosRequest, metadata: Any
) -> list[list[str]]:
    pages: list[list[str]] = []
    while True:
        response = await gw.videos.ListVideos(request, metadata=metadata)
        pages.append([v.video_id for v in response.videos])
        if not response.next_page_token:
            return pages
        request.page_token = response.next_page_token


async def test_paging_has_no_duplicates_or_gaps(gw: GatewayHarness) -> None:
    owner = await gw.register()
    created = [(await gw.create_video(owner, title=f"v{n}")).video_id for n in range(23)]
    request = V.ListVideosRequest(scope=V.ListVideosRequest.SCOPE_MINE, page_size=10)
    pages = await list_all(gw, request, owner.metadata)
    assert [len(page) for page in pages] == [10, 10, 3]
    flat = [video_id for page in pages for video_id in page]
    assert flat == list(reversed(created)), "newest first, each exactly once"


async def test_page_tokens_are_stable_and_survive_new_videos(gw: GatewayHarness) -> None:
    owner = await gw.register()
    created = [(await gw.create_video(owner)).video_id for _ in range(6)]
    request = V.ListVideosRequest(scope=V.ListVideosRequest.SCOPE_MINE, page_size=3)
    first = await gw.videos.ListVideos(request, metadata=owner.metadata)
    await gw.create_video(owner)
    request.page_token = first.next_page_token
    second = await gw.videos.ListVideos(request, metadata=owner.metadata)
    again = await gw.videos.ListVideos(request, metadata=owner.metadata)
    assert second == again
    seen = [v.video_id for v in first.videos] + [v.video_id for v in second.videos]
    assert seen == list(reversed(created))
    assert second.next_page_token == ""


async def test_page_size_defaults_and_caps(gw: GatewayHarness) -> None:
    owner = await gw.register()
    for _ in range(3):
        await gw.create_video(owner)
    mine = V.ListVideosRequest.SCOPE_MINE
    default = await gw.videos.ListVideos(V.ListVideosRequest(scope=mine), metadata=owner.metadata)
    huge = await gw.videos.ListVideos(
        V.ListVideosRequest(scope=mine, page_size=10_000), metadata=owner.metadata
    )
    assert len(default.videos) == len(huge.videos) == 3


@pytest.mark.parametrize(
    ("request_fields", "reason"),
    [
        ({"page_size": -1}, "INVALID_PAGE_SIZE"),
        ({"page_token": "garbage!"}, "INVALID_PAGE_TOKEN"),
        ({"page_token": "eyJmb28iOiAxfQ"}, "INVALID_PAGE_TOKEN"),
    ],
)
async def test_bad_paging_arguments(
    gw: GatewayHarness, request_fields: dict[str, Any], reason: str
) -> None:
    owner = await gw.register()
    request = V.ListVideosRequest(scope=V.ListVideosRequest.SCOPE_MINE, **request_fields)
    await expect_error(
        gw.videos.ListVideos(request, metadata=owner.metadata), Code.INVALID_ARGUMENT, reason
    )


async def test_a_page_token_only_fits_its_own_filters(gw: GatewayHarness) -> None:
    owner = await gw.register()
    for _ in range(3):
        await gw.create_video(owner)
    request = V.ListVideosRequest(scope=V.ListVideosRequest.SCOPE_MINE, page_size=1)
    token = (await gw.videos.ListVideos(request, metadata=owner.metadata)).next_page_token
    filtered = V.ListVideosRequest(
        scope=V.ListVideosRequest.SCOPE_MINE,
        state=V.Video.STATE_READY,
        page_size=1,
        page_token=token,
    )
    await expect_error(
        gw.videos.ListVideos(filtered, metadata=owner.metadata),
        Code.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
    )
    other = await gw.register()
    await expect_error(
        gw.videos.ListVideos(
            V.ListVideosRequest(scope=V.ListVideosRequest.SCOPE_MINE, page_token=token),
            metadata=other.metadata,
        ),
        Code.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
    )


async def test_state_filter(gw: GatewayHarness) -> None:
    owner = await gw.register()
    ready = await gw.ready_video(owner)
    await gw.create_video(owner)
    request = V.ListVideosRequest(scope=V.ListVideosRequest.SCOPE_MINE, state=V.Video.STATE_READY)
    listed = await gw.videos.ListVideos(request, metadata=owner.metadata)
    assert [v.video_id for v in listed.videos] == [ready.video_id]


async def test_watch_streams_every_change_until_ready(gw: GatewayHarness) -> None:
    owner = await gw.register()
    video = await gw.create_video(owner)
    stream = gw.videos.WatchVideo(
        V.WatchVideoRequest(video_id=video.video_id), metadata=owner.metadata
    )
    seen: list[tuple[int, float]] = []

    async def next_state() -> tuple[int, float]:
        video = await read_video(stream)
        seen.append((video.state, video.progress_percent))
        return seen[-1]

    assert await next_state() == (V.Video.STATE_UPLOADING, 0.0)
    meta = gw.service_metadata
    job = f"{video.video_id}:1"
    await gw.states.MarkQueued(
        video_state_pb2.MarkQueuedRequest(video_id=video.video_id, job_id=job, generation=1),
        metadata=meta,
    )
    assert await next_state() == (V.Video.STATE_QUEUED, 0.0)
    await gw.states.MarkProcessing(
        video_state_pb2.MarkProcessingRequest(video_id=video.video_id, job_id=job, delivery=1),
        metadata=meta,
    )
    assert await next_state() == (V.Video.STATE_PROCESSING, 0.0)
    await gw.states.ReportProgress(
        video_state_pb2.ReportProgressRequest(video_id=video.video_id, job_id=job, percent=50),
        metadata=meta,
    )
    assert await next_state() == (V.Video.STATE_PROCESSING, 50.0)
    await gw.make_ready(video.video_id)
    assert await next_state() == (V.Video.STATE_READY, 100.0)
    assert await stream.read() is grpc.aio.EOF
    assert await stream.code() == Code.OK


async def test_watch_ends_when_the_video_fails(gw: GatewayHarness) -> None:
    owner = await gw.register()
    video = await gw.create_video(owner)
    stream = gw.videos.WatchVideo(
        V.WatchVideoRequest(video_id=video.video_id), metadata=owner.metadata
    )
    assert (await read_video(stream)).state == V.Video.STATE_UPLOADING
    failing = gw.states.FailTranscode(
        video_state_pb2.FailTranscodeRequest(
            video_id=video.video_id,
            failure=V.VideoFailure(reason="UNSUPPORTED_MEDIA", message="Not a video."),
        ),
        metadata=gw.service_metadata,
    )
    await failing
    last = await read_video(stream)
    assert last.state == V.Video.STATE_FAILED
    assert last.failure.reason == "UNSUPPORTED_MEDIA"
    assert await asyncio.wait_for(stream.read(), 10) is grpc.aio.EOF


async def admin_actions(gw: GatewayHarness) -> list[tuple[str, str, str, Any]]:
    async with await psycopg.AsyncConnection.connect(libpq_url(gw.database_url)) as connection:
        cursor = await connection.execute(
            "SELECT actor_id::text, video_id::text, action, detail FROM admin_actions ORDER BY id"
        )
        return [tuple(row) for row in await cursor.fetchall()]


async def test_admin_powers_respect_owners(gw: GatewayHarness) -> None:
    owner = await gw.register()
    admin = await gw.register(ADMIN_EMAIL)
    public = await gw.ready_video(owner, PUBLIC, title="Mine")
    private = await gw.ready_video(owner, PRIVATE, title="Secret")

    def change(video_id: str, **fields: Any) -> V.UpdateVideoRequest:
        return V.UpdateVideoRequest(
            video=V.Video(video_id=video_id, **fields),
            update_mask=field_mask_pb2.FieldMask(paths=list(fields)),
        )

    # Raising a private video to public, or rewriting metadata, is the owner's alone.
    for request in (
        change(private.video_id, visibility=PUBLIC),
        change(private.video_id, visibility=UNLISTED),
        change(public.video_id, title="Hijacked"),
        change(public.video_id, description="spam"),
        change(public.video_id, title="Hijacked", visibility=PRIVATE),
    ):
        await expect_error(gw.videos.UpdateVideo(request, metadata=admin.metadata), *ADMIN_REWRITE)
    feed = await gw.videos.ListVideos(V.ListVideosRequest())
    assert [v.video_id for v in feed.videos] == [public.video_id]

    # Restricting is allowed, and audited; so is deleting.
    restricted = await gw.videos.UpdateVideo(
        change(public.video_id, visibility=UNLISTED), metadata=admin.metadata
    )
    assert restricted.video.visibility == UNLISTED
    assert restricted.video.title == "Mine"
    await gw.videos.DeleteVideo(
        V.DeleteVideoRequest(video_id=private.video_id), metadata=admin.metadata
    )
    # The owner's own changes are not admin actions, even when the owner is an admin.
    mine = await gw.ready_video(admin, PRIVATE)
    await gw.videos.UpdateVideo(change(mine.video_id, visibility=PUBLIC), metadata=admin.metadata)

    assert await admin_actions(gw) == [
        (
            admin.user_id,
            public.video_id,
            "restrict",
            {"visibility": ["public", "unlisted"]},
        ),
        (admin.user_id, private.video_id, "delete", {"title": "Secret"}),
    ]
