"""Delivery as CDNs and other sites see it: bare, cacheable public HLS; private HLS that no
shared cache keeps; posters that work as the API returns them."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
from edge_stack import account, first_uri, upload_ready
from harness import eventually
from media import clip

ELSEWHERE = {"origin": "https://blog.example"}


async def test_public_hls_is_shared_and_cacheable(http: httpx.AsyncClient, media_dir: Path) -> None:
    owner = await account(http, "publisher@example.com")
    video_id = await upload_ready(http, owner, clip(media_dir / "public.mp4"), "public")
    anonymous = (await http.get(f"/v1/videos/{video_id}/playback")).json()
    signed_in = (await http.get(f"/v1/videos/{video_id}/playback", headers=owner)).json()
    assert anonymous["masterPlaylistUrl"] == signed_in["masterPlaylistUrl"]
    assert anonymous["posterUrl"] == f"/hls/{video_id}/poster.jpg"

    master = await http.get(anonymous["masterPlaylistUrl"], headers=ELSEWHERE)
    assert master.status_code == 200
    assert master.headers["cache-control"] == "public, max-age=60"
    assert master.headers.get_list("access-control-allow-origin") == ["*"]
    again = await http.get(
        anonymous["masterPlaylistUrl"], headers={"if-none-match": master.headers["etag"]}
    )
    assert again.status_code == 304

    variant = await http.get(f"/hls/{video_id}/{first_uri(master.text)}")
    assert variant.status_code == 200
    assert "token" not in variant.text
    rendition = first_uri(master.text).rsplit("/", 1)[0]
    segment_url = f"/hls/{video_id}/{rendition}/{first_uri(variant.text)}"
    segment = await http.get(segment_url, headers=ELSEWHERE)
    assert segment.status_code == 200
    assert segment.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert segment.headers.get_list("access-control-allow-origin") == ["*"]
    modified = segment.headers["last-modified"]
    assert parsedate_to_datetime(modified).tzinfo is not None
    unchanged = await http.get(segment_url, headers={"if-modified-since": modified})
    assert unchanged.status_code == 304
    assert not unchanged.content

    preflight = await http.options(
        segment_url,
        headers={
            **ELSEWHERE,
            "access-control-request-method": "GET",
            "access-control-request-headers": "range",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "range" in preflight.headers["access-control-allow-headers"].lower()
    poster = await http.get(anonymous["posterUrl"])
    assert poster.status_code == 200
    assert poster.headers["cache-control"] == "public, max-age=60"


async def test_private_hls_is_signed_and_never_shared(
    http: httpx.AsyncClient, media_dir: Path
) -> None:
    owner = await account(http, "keeper@example.com")
    video_id = await upload_ready(http, owner, clip(media_dir / "private.mp4"), "private")
    unlisted = await upload_ready(http, owner, clip(media_dir / "unlisted.mp4"), "unlisted")
    for hidden in (video_id, unlisted):
        bare = await http.get(f"/hls/{hidden}/master.m3u8")
        assert bare.status_code == 403
        assert "token is required" in bare.text
        assert bare.headers["cache-control"] == "no-store"
    info = (await http.get(f"/v1/videos/{video_id}/playback", headers=owner)).json()
    assert info["token"]
    assert info["tokenExpireTime"]
    master = await http.get(info["masterPlaylistUrl"])
    assert master.headers["cache-control"].startswith("private")
    variant_url = f"/hls/{video_id}/{first_uri(master.text)}"
    assert "token=" in variant_url
    variant = await http.get(variant_url)
    rendition = first_uri(master.text).split("?")[0].rsplit("/", 1)[0]
    segment = await http.get(f"/hls/{video_id}/{rendition}/{first_uri(variant.text)}")
    assert segment.status_code == 200
    assert segment.headers["cache-control"] == "private, max-age=31536000, immutable"


async def test_feed_posters_work_as_returned(http: httpx.AsyncClient, media_dir: Path) -> None:
    owner = await account(http, "poster@example.com")
    public = await upload_ready(http, owner, clip(media_dir / "feed-public.mp4"), "public")
    private = await upload_ready(http, owner, clip(media_dir / "feed-private.mp4"), "private")
    feed = (await http.get("/v1/videos")).json()["videos"]
    listed = next(video for video in feed if video["videoId"] == public)
    assert listed["posterUrl"] == f"/hls/{public}/poster.jpg"
    mine = (await http.get("/v1/videos?scope=SCOPE_MINE", headers=owner)).json()["videos"]
    hidden = next(video for video in mine if video["videoId"] == private)
    assert "?token=" in hidden["posterUrl"]
    for url in (listed["posterUrl"], hidden["posterUrl"]):
        poster = await http.get(url)
        assert poster.status_code == 200
        assert poster.headers["content-type"] == "image/jpeg"
    one = (await http.get(f"/v1/videos/{private}", headers=owner)).json()["video"]
    assert (await http.get(one["posterUrl"])).status_code == 200
    assert (await http.get(f"/hls/{private}/poster.jpg")).status_code == 403


async def test_tokenless_access_ends_soon_after_a_video_is_hidden(
    http: httpx.AsyncClient, media_dir: Path
) -> None:
    owner = await account(http, "regret@example.com")
    video_id = await upload_ready(http, owner, clip(media_dir / "regret.mp4"), "public")
    master = f"/hls/{video_id}/master.m3u8"
    assert (await http.get(master)).status_code == 200

    async def answers(status: int) -> bool:
        return (await http.get(master)).status_code == status

    hide = {"visibility": "VISIBILITY_PRIVATE"}
    changed = await http.patch(
        f"/v1/videos/{video_id}?updateMask=visibility", json=hide, headers=owner
    )
    assert changed.status_code == 200, changed.text
    # The documented bound at the origin is 10 s (playback re-checks every 5 s).
    await eventually(lambda: answers(403), timeout=10, what="made private: bare URLs refused")
    show = {"visibility": "VISIBILITY_PUBLIC"}
    await http.patch(f"/v1/videos/{video_id}?updateMask=visibility", json=show, headers=owner)
    await eventually(lambda: answers(200), timeout=10, what="public again")
    assert (await http.delete(f"/v1/videos/{video_id}", headers=owner)).status_code == 200
    await eventually(lambda: answers(403), timeout=10, what="deleted: bare URLs refused")
