"""VideoStateService.AuthorizePlayback: who may play what, decided by gateway in one call."""

from __future__ import annotations

import grpc
import pytest
from harness import ADMIN_EMAIL, GatewayHarness, expect_error

from vidmesh.v1 import video_pb2, video_state_pb2

Code = grpc.StatusCode
PUBLIC, UNLISTED, PRIVATE = (
    video_pb2.VISIBILITY_PUBLIC,
    video_pb2.VISIBILITY_UNLISTED,
    video_pb2.VISIBILITY_PRIVATE,
)
NOT_FOUND = (Code.NOT_FOUND, "VIDEO_NOT_FOUND")
# Who may play a READY video of each visibility (None: allowed).
MAY_PLAY: dict[str, dict[int, tuple[grpc.StatusCode, str] | None]] = {
    "owner": {PUBLIC: None, UNLISTED: None, PRIVATE: None},
    "admin": {PUBLIC: None, UNLISTED: None, PRIVATE: None},
    "other": {PUBLIC: None, UNLISTED: None, PRIVATE: NOT_FOUND},
    "anonymous": {PUBLIC: None, UNLISTED: None, PRIVATE: NOT_FOUND},
}


def ask(
    video_id: str, viewer: str = "", admin: bool = False
) -> video_state_pb2.AuthorizePlaybackRequest:
    return video_state_pb2.AuthorizePlaybackRequest(
        video_id=video_id, viewer_id=viewer, viewer_is_admin=admin
    )


@pytest.mark.parametrize("visibility", [PUBLIC, UNLISTED, PRIVATE])
async def test_who_may_play_a_ready_video(
    gw: GatewayHarness, visibility: video_pb2.Visibility.ValueType
) -> None:
    owner = await gw.register()
    admin = await gw.register(ADMIN_EMAIL)
    other = await gw.register()
    video = await gw.ready_video(owner, visibility)
    viewers = {
        "owner": (owner.user_id, False),
        "admin": (admin.user_id, True),
        "other": (other.user_id, False),
        "anonymous": ("", False),
    }
    for name, (viewer, is_admin) in viewers.items():
        call = gw.states.AuthorizePlayback(
            ask(video.video_id, viewer, is_admin), metadata=gw.service_metadata
        )
        expected = MAY_PLAY[name][visibility]
        if expected is None:
            granted = await call
            assert granted.media_prefix == f"videos/{video.video_id}/generations/1", name
            assert granted.public == (visibility == PUBLIC), name
            assert not granted.HasField("live"), "READY: stored playlists"
        else:
            await expect_error(call, *expected)


async def test_a_public_video_plays_for_anyone_once_playable_and_a_private_one_never_leaks(
    gw: GatewayHarness,
) -> None:
    owner = await gw.register()
    public = await gw.create_video(owner, PUBLIC)
    private = await gw.create_video(owner, PRIVATE)
    for video in (public, private):
        await expect_error(
            gw.states.AuthorizePlayback(ask(video.video_id), metadata=gw.service_metadata),
            *((Code.FAILED_PRECONDITION, "VIDEO_NOT_READY") if video is public else NOT_FOUND),
        )
    await expect_error(
        gw.states.AuthorizePlayback(
            ask(private.video_id, owner.user_id), metadata=gw.service_metadata
        ),
        Code.FAILED_PRECONDITION,
        "VIDEO_NOT_READY",
    )


@pytest.mark.parametrize(
    ("video_id", "viewer", "reason"),
    [
        ("", "", "FIELD_REQUIRED"),
        ("not-a-uuid", "", "INVALID_VIDEO_ID"),
        ("00000000-0000-4000-8000-000000000001", "not-a-uuid", "INVALID_USER_ID"),
    ],
)
async def test_malformed_requests_are_refused(
    gw: GatewayHarness, video_id: str, viewer: str, reason: str
) -> None:
    await expect_error(
        gw.states.AuthorizePlayback(ask(video_id, viewer), metadata=gw.service_metadata),
        Code.INVALID_ARGUMENT,
        reason,
    )


async def test_only_services_may_ask(gw: GatewayHarness) -> None:
    owner = await gw.register()
    video = await gw.ready_video(owner, PUBLIC)
    await expect_error(
        gw.states.AuthorizePlayback(ask(video.video_id), metadata=owner.metadata),
        Code.PERMISSION_DENIED,
        "SERVICE_CREDENTIAL_REQUIRED",
    )
