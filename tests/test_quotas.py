"""Upload quotas on real gateway, ingest and PostgreSQL: usage, admin overrides, refusals at
creation (gRPC and tus), the 24-hour window, and no stream past its reservation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import httpx
from flows import upload_requests
from harness import Account, IngestHarness, expect_error
from media import clip

from vidmesh.v1 import ingest_pb2, quota_pb2, quota_pb2_grpc, video_pb2

Code = grpc.StatusCode
MINE = video_pb2.ListVideosRequest.SCOPE_MINE


def quotas(ing: IngestHarness) -> quota_pb2_grpc.QuotaServiceAsyncStub:
    return quota_pb2_grpc.QuotaServiceStub(ing.gw.channel)


async def limit(
    ing: IngestHarness, admin: Account, user: Account, *, storage: int = -1, daily: int = -1
) -> quota_pb2.Quota:
    answer = await quotas(ing).UpdateQuota(
        quota_pb2.UpdateQuotaRequest(
            user_id=user.user_id, storage_limit_bytes=storage, daily_limit_bytes=daily
        ),
        metadata=admin.metadata,
    )
    return answer.quota


async def own_quota(ing: IngestHarness, user: Account) -> quota_pb2.Quota:
    return (await quotas(ing).GetQuota(quota_pb2.GetQuotaRequest(), metadata=user.metadata)).quota


async def create(ing: IngestHarness, user: Account, size: int) -> ingest_pb2.CreateUploadResponse:
    return await ing.stub.CreateUpload(
        ingest_pb2.CreateUploadRequest(
            metadata=ingest_pb2.UploadMetadata(title="Big", size_bytes=size)
        ),
        metadata=user.metadata,
    )


async def my_videos(ing: IngestHarness, user: Account) -> list[video_pb2.Video]:
    listed = await ing.gw.videos.ListVideos(
        video_pb2.ListVideosRequest(scope=MINE), metadata=user.metadata
    )
    return list(listed.videos)


async def test_usage_and_limits_are_reported_and_admins_override_them(ing: IngestHarness) -> None:
    user, admin = await ing.gw.register(), await ing.gw.register("admin@example.com")
    fresh = await own_quota(ing, user)
    assert (fresh.storage_used_bytes, fresh.daily_used_bytes) == (0, 0)
    assert fresh.storage_limit_bytes == 50 * 1024**3
    assert fresh.daily_limit_bytes == 20 * 1024**3
    assert not fresh.storage_limit_overridden

    changed = await limit(ing, admin, user, storage=5000, daily=-1)
    assert (changed.storage_limit_bytes, changed.daily_limit_bytes) == (5000, -1)
    assert changed.storage_limit_overridden
    assert changed.daily_limit_overridden
    await create(ing, user, 1200)
    seen = await own_quota(ing, user)
    assert (seen.storage_used_bytes, seen.daily_used_bytes) == (1200, 1200), "reserved at once"
    as_admin = await quotas(ing).GetQuota(
        quota_pb2.GetQuotaRequest(user_id=user.user_id), metadata=admin.metadata
    )
    assert as_admin.quota == seen

    reset = await quotas(ing).UpdateQuota(
        quota_pb2.UpdateQuotaRequest(user_id=user.user_id, use_defaults=True),
        metadata=admin.metadata,
    )
    assert reset.quota.storage_limit_bytes == fresh.storage_limit_bytes
    assert not reset.quota.storage_limit_overridden


async def test_only_admins_change_quotas_or_read_other_peoples(ing: IngestHarness) -> None:
    user, other = await ing.gw.register(), await ing.gw.register()
    admin = await ing.gw.register("admin@example.com")
    stub = quotas(ing)
    await expect_error(
        stub.UpdateQuota(
            quota_pb2.UpdateQuotaRequest(user_id=user.user_id, storage_limit_bytes=-1),
            metadata=user.metadata,
        ),
        Code.PERMISSION_DENIED,
        "ADMIN_REQUIRED",
    )
    await expect_error(
        stub.GetQuota(quota_pb2.GetQuotaRequest(user_id=other.user_id), metadata=user.metadata),
        Code.PERMISSION_DENIED,
        "ADMIN_REQUIRED",
    )
    await expect_error(stub.GetQuota(quota_pb2.GetQuotaRequest()), Code.UNAUTHENTICATED)
    await expect_error(
        stub.UpdateQuota(
            quota_pb2.UpdateQuotaRequest(user_id=user.user_id, daily_limit_bytes=-5),
            metadata=admin.metadata,
        ),
        Code.INVALID_ARGUMENT,
        "INVALID_LIMIT",
    )
    await expect_error(
        stub.GetQuota(quota_pb2.GetQuotaRequest(user_id="nope"), metadata=admin.metadata),
        Code.INVALID_ARGUMENT,
        "INVALID_USER_ID",
    )
    await expect_error(
        stub.GetQuota(
            quota_pb2.GetQuotaRequest(user_id="00000000-0000-4000-8000-000000000000"),
            metadata=admin.metadata,
        ),
        Code.NOT_FOUND,
        "USER_NOT_FOUND",
    )


async def test_an_upload_past_the_storage_quota_is_refused_before_any_byte(
    ing: IngestHarness,
) -> None:
    user, admin = await ing.gw.register(), await ing.gw.register("admin@example.com")
    await limit(ing, admin, user, storage=10_000)
    await create(ing, user, 6_000)
    details = await expect_error(
        create(ing, user, 5_000), Code.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED"
    )
    assert details["metadata"] == {
        "quota": "storage",
        "used_bytes": "6000",
        "limit_bytes": "10000",
        "requested_bytes": "5000",
    }
    assert len(await my_videos(ing, user)) == 1, "a refused upload leaves no video behind"

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ing.http_port}") as http:
        refused = await http.post(
            "/v1/tus/",
            headers={
                "Tus-Resumable": "1.0.0",
                "Upload-Length": "5000",
                "Upload-Metadata": "title VG9vIG11Y2g=",
                "Authorization": f"Bearer {user.access_token}",
            },
        )
    assert refused.status_code == 413, refused.text
    assert "QUOTA_EXCEEDED" in refused.text
    assert len(await my_videos(ing, user)) == 1


async def test_two_uploads_started_at_once_cannot_both_fit_one_quota(ing: IngestHarness) -> None:
    user, admin = await ing.gw.register(), await ing.gw.register("admin@example.com")
    await limit(ing, admin, user, storage=10_000)
    results = await asyncio.gather(
        *(create(ing, user, 6_000) for _ in range(4)), return_exceptions=True
    )
    created = [r for r in results if isinstance(r, ingest_pb2.CreateUploadResponse)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(created) == 1, results
    assert len(refused) == 3, results
    assert all(error.code() == Code.RESOURCE_EXHAUSTED for error in refused)


async def test_the_daily_quota_counts_uploads_of_24_hours_even_when_deleted(
    ing: IngestHarness, media_dir: Path
) -> None:
    user, admin = await ing.gw.register(), await ing.gw.register("admin@example.com")
    data = clip(media_dir / "quota.mp4", seconds=2).read_bytes()
    await limit(ing, admin, user, daily=len(data) + 100)
    done = await ing.stub.Upload(upload_requests(data), metadata=user.metadata)
    await ing.gw.videos.DeleteVideo(
        video_pb2.DeleteVideoRequest(video_id=done.video.video_id), metadata=user.metadata
    )
    after = await own_quota(ing, user)
    assert (after.storage_used_bytes, after.daily_used_bytes) == (0, len(data))
    details = await expect_error(
        ing.stub.Upload(upload_requests(data), metadata=user.metadata),
        Code.RESOURCE_EXHAUSTED,
        "QUOTA_EXCEEDED",
    )
    assert details["metadata"]["quota"] == "daily"


async def test_no_stream_runs_past_the_length_it_reserved(
    ing: IngestHarness, media_dir: Path
) -> None:
    user, admin = await ing.gw.register(), await ing.gw.register("admin@example.com")
    data = clip(media_dir / "quota-stream.mp4", seconds=2).read_bytes()
    await limit(ing, admin, user, storage=len(data))
    # It declares half its length (what the quota was checked against), then sends it all.
    await expect_error(
        ing.stub.Upload(upload_requests(data, size_bytes=len(data) // 2), metadata=user.metadata),
        Code.INVALID_ARGUMENT,
        "SIZE_MISMATCH",
    )
    assert (await own_quota(ing, user)).storage_used_bytes <= len(data) // 2
