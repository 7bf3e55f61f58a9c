"""Instant clips through Envoy: an owner cuts a named range of a READY video, it plays as its
own HLS ladder made of the video's segments, only its range, authorized like the video."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from edge_stack import account, ffmpeg_plays, upload_ready
from harness import run_command
from media import clip


def segment_uris(playlist: str) -> list[str]:
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


async def make_clip(
    http: httpx.AsyncClient, who: dict[str, str], video_id: str, start: str, end: str
) -> httpx.Response:
    return await http.post(
        f"/v1/videos/{video_id}/clips",
        json={"name": "The good part", "startOffset": start, "endOffset": end},
        headers=who,
    )


async def test_a_clip_plays_only_its_range_from_the_videos_own_segments(
    http: httpx.AsyncClient, edge_url: str, media_dir: Path
) -> None:
    owner = await account(http, "clipper@example.com")
    video_id = await upload_ready(
        http, owner, clip(media_dir / "clipped.mp4", size="640x360", seconds=12), "public"
    )
    made = await make_clip(http, owner, video_id, "5.500s", "8s")
    assert made.status_code == 200, made.text
    created = made.json()["clip"]
    clip_id = created["clipId"]
    assert (created["startOffset"], created["endOffset"]) == ("5.500s", "8s")
    listed = (await http.get(f"/v1/videos/{video_id}/clips")).json()["clips"]
    assert [c["clipId"] for c in listed] == [clip_id]
    shared = (await http.get(f"/v1/clips/{clip_id}")).json()
    assert shared["video"]["videoId"] == video_id
    assert shared["clip"]["name"] == "The good part"

    info = (await http.get(f"/v1/videos/{video_id}/playback?clipId={clip_id}")).json()
    master_url = info["masterPlaylistUrl"]
    assert master_url == f"/hls/{video_id}/clips/{clip_id}/master.m3u8"
    whole = (await http.get(f"/hls/{video_id}/360p/index.m3u8")).text
    cut = (await http.get(f"/hls/{video_id}/clips/{clip_id}/360p/index.m3u8")).text
    # The cut holds exactly the segments the range overlaps, and they are the video's own.
    durations = [
        float(line.split(":", 1)[1].rstrip(",")) for line in whole.splitlines() if "#EXTINF" in line
    ]
    starts = [sum(durations[:i]) for i in range(len(durations))]
    overlapping = [
        uri
        for uri, begin, length in zip(segment_uris(whole), starts, durations, strict=True)
        if begin < 8 and begin + length > 5.5
    ]
    assert [u.removeprefix("../../../360p/") for u in segment_uris(cut)] == overlapping
    assert 0 < len(overlapping) < len(durations)
    first = starts[segment_uris(whole).index(overlapping[0])]
    clip_start = float(info["clipStart"].rstrip("s"))
    clip_end = float(info["clipEnd"].rstrip("s"))
    assert abs(clip_start - (5.5 - first)) < 1e-3
    assert abs(clip_end - (8 - first)) < 1e-3
    assert f"#EXT-X-START:TIME-OFFSET={5.5 - first:.3f},PRECISE=YES" in cut
    segment = await http.get(f"/hls/{video_id}/clips/{clip_id}/360p/{segment_uris(cut)[0]}")
    assert segment.status_code == 200
    assert "immutable" in segment.headers["cache-control"]
    assert "iframes" not in (await http.get(master_url)).text

    await ffmpeg_plays(edge_url + master_url)
    probed = await run_command(
        "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json",
        edge_url + f"/hls/{video_id}/clips/{clip_id}/360p/index.m3u8",
    )  # fmt: skip
    length = float(json.loads(probed.out)["format"]["duration"])
    expected = sum(
        d for d, u in zip(durations, segment_uris(whole), strict=True) if u in overlapping
    )
    assert abs(length - expected) < 0.2
    assert length < 12 - 1, "only the clip's segments, not the whole video"

    assert (await http.delete(f"/v1/clips/{clip_id}", headers=owner)).status_code == 200
    assert (await http.get(f"/v1/clips/{clip_id}")).status_code == 404
    assert (await http.get(master_url)).status_code == 404


async def test_clips_are_authorized_like_their_video_and_validated(
    http: httpx.AsyncClient, media_dir: Path
) -> None:
    owner = await account(http, "private-clipper@example.com")
    other = await account(http, "clip-stranger@example.com")
    video_id = await upload_ready(http, owner, clip(media_dir / "plain.mp4"), "private")
    assert (await make_clip(http, other, video_id, "0s", "1.5s")).status_code == 404
    made = await make_clip(http, owner, video_id, "0s", "1.5s")
    assert made.status_code == 200, made.text
    clip_id = made.json()["clip"]["clipId"]
    assert (await http.get(f"/v1/clips/{clip_id}")).status_code == 404
    assert (await http.get(f"/v1/clips/{clip_id}", headers=other)).status_code == 404
    assert (await http.delete(f"/v1/clips/{clip_id}", headers=other)).status_code == 404
    mine = (
        await http.get(f"/v1/videos/{video_id}/playback?clipId={clip_id}", headers=owner)
    ).json()
    assert "?token=" in mine["masterPlaylistUrl"]
    assert (await http.get(mine["masterPlaylistUrl"])).status_code == 200
    assert (await http.get(mine["masterPlaylistUrl"].split("?")[0])).status_code == 403
    wrong = await http.get(
        f"/v1/videos/{video_id}/playback?clipId=00000000-0000-4000-8000-000000000000",
        headers=owner,
    )
    assert wrong.status_code == 404
    assert "CLIP_NOT_FOUND" in wrong.text

    for start, end in (("2s", "1s"), ("0s", "0.5s"), ("0s", "999s"), ("-1s", "1s")):
        bad = await make_clip(http, owner, video_id, start, end)
        assert bad.status_code == 400, (start, end, bad.text)
        assert "INVALID_RANGE" in bad.text, (start, end, bad.text)
    nameless = await http.post(
        f"/v1/videos/{video_id}/clips",
        json={"startOffset": "0s", "endOffset": "1.5s"},
        headers=owner,
    )
    assert nameless.status_code == 400
    assert "FIELD_REQUIRED" in nameless.text
