"""Searching videos (ListVideos `query`) on a real PostgreSQL: ranking, stemming, prefixes,
stable paging, highlights, and never another user's private video."""

from __future__ import annotations

import grpc
from google.protobuf import field_mask_pb2
from harness import Account, GatewayHarness, expect_error

from vidmesh.v1 import video_pb2

Code = grpc.StatusCode
PUBLIC = video_pb2.VISIBILITY_PUBLIC
MINE = video_pb2.ListVideosRequest.SCOPE_MINE


async def publish(
    gw: GatewayHarness,
    owner: Account,
    title: str,
    description: str = "",
    visibility: video_pb2.Visibility.ValueType = PUBLIC,
) -> str:
    video = await gw.ready_video(owner, visibility, title)
    if description:
        await gw.videos.UpdateVideo(
            video_pb2.UpdateVideoRequest(
                video=video_pb2.Video(video_id=video.video_id, description=description),
                update_mask=field_mask_pb2.FieldMask(paths=["description"]),
            ),
            metadata=owner.metadata,
        )
    return video.video_id


async def search(
    gw: GatewayHarness, query: str, who: Account | None = None, **fields: object
) -> video_pb2.ListVideosResponse:
    request = video_pb2.ListVideosRequest(query=query, **fields)  # type: ignore[arg-type]
    return await gw.videos.ListVideos(request, metadata=who.metadata if who else None)


def titles(response: video_pb2.ListVideosResponse) -> list[str]:
    return [video.title for video in response.videos]


async def test_title_matches_rank_first_and_words_match_in_any_form(gw: GatewayHarness) -> None:
    owner = await gw.register()
    await publish(gw, owner, "Cooking pasta at home", "a guide for running kitchens")
    await publish(gw, owner, "Morning run along the river", "with the dog")
    await publish(gw, owner, "Holiday in Lisbon", "trams, food and running into old friends")
    await publish(gw, owner, "Cat videos", "cats being cats")

    assert titles(await search(gw, "running"))[0] == "Morning run along the river"
    assert set(titles(await search(gw, "running"))) == {
        "Morning run along the river",
        "Holiday in Lisbon",
        "Cooking pasta at home",
    }
    assert titles(await search(gw, "holi")) == ["Holiday in Lisbon"], "the last word is a prefix"
    assert titles(await search(gw, "holi ")) == [], "a finished word is a whole word"
    assert titles(await search(gw, '"old friends"')) == ["Holiday in Lisbon"]
    assert titles(await search(gw, '"friends old"')) == []
    assert set(titles(await search(gw, "running -pasta"))) == {
        "Morning run along the river",
        "Holiday in Lisbon",
    }
    assert set(titles(await search(gw, "lisbon or cats"))) == {"Holiday in Lisbon", "Cat videos"}
    assert titles(await search(gw, "the")) == [], "stop words alone find nothing"
    plain = await gw.videos.ListVideos(video_pb2.ListVideosRequest(query="   "))
    assert len(plain.videos) == 4, "a blank query is no search"
    assert not plain.highlights, "a blank query is no search"


async def test_matches_in_the_title_come_back_as_ranges(gw: GatewayHarness) -> None:
    owner = await gw.register()
    video_id = await publish(gw, owner, "Ünïcode run: running runs", "")
    found = await search(gw, "run")
    assert [h.video_id for h in found.highlights] == [video_id]
    title = found.videos[0].title
    marked = [title[r.start : r.end] for r in found.highlights[0].title_ranges]
    assert marked == ["run", "running", "runs"]


async def test_search_pages_are_stable_and_complete(gw: GatewayHarness) -> None:
    owner = await gw.register()
    expected = {await publish(gw, owner, f"Sunset number {n}") for n in range(23)}
    await publish(gw, owner, "Sunset sunset sunset over the sea")
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await search(gw, "sunset", page_size=10, page_token=token)
        seen.extend(video.video_id for video in page.videos)
        pages += 1
        token = page.next_page_token
        if not token:
            break
        # A new, better match arriving between pages changes nothing already paged past.
        if pages == 1:
            await publish(gw, owner, "Sunset sunset sunset sunset")
    assert pages == 3
    assert len(seen) == len(set(seen)) == 24
    assert expected <= set(seen)
    first = await search(gw, "sunset", page_size=1)
    assert first.videos[0].title == "Sunset sunset sunset sunset", "best match first"
    await expect_error(
        search(gw, "sunrise", page_token=first.next_page_token),
        Code.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
    )
    unsearched = await gw.videos.ListVideos(video_pb2.ListVideosRequest(page_size=1))
    await expect_error(
        search(gw, "sunset", page_token=unsearched.next_page_token),
        Code.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
    )


async def test_search_never_shows_someone_elses_private_video(gw: GatewayHarness) -> None:
    alice, bob = await gw.register(), await gw.register()
    await publish(gw, alice, "Secret garden tour", visibility=video_pb2.VISIBILITY_PRIVATE)
    await publish(gw, alice, "Unlisted garden party", visibility=video_pb2.VISIBILITY_UNLISTED)
    await publish(gw, bob, "Public garden walk")
    for who in (None, bob, alice):
        assert titles(await search(gw, "garden", who)) == ["Public garden walk"]
    assert titles(await search(gw, "garden", bob, scope=MINE)) == ["Public garden walk"]
    assert set(titles(await search(gw, "garden", alice, scope=MINE))) == {
        "Secret garden tour",
        "Unlisted garden party",
    }
    await expect_error(search(gw, "garden", scope=MINE), Code.UNAUTHENTICATED)


async def test_bad_queries_are_refused_with_a_reason(gw: GatewayHarness) -> None:
    await expect_error(search(gw, "x" * 201), Code.INVALID_ARGUMENT, "FIELD_TOO_LONG")
    await expect_error(search(gw, "a\x00b"), Code.INVALID_ARGUMENT, "INVALID_CHARACTERS")
    for odd in ('"unclosed', "-", "or", "!!!", "a & b | c", "x:*", "(((", "'"):
        assert (await search(gw, odd)).videos is not None, odd
