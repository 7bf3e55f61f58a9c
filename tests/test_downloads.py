"""Downloads through Envoy: an owner enables them, the MP4 of a rung and the M4A of the audio
are remuxed (never encoded again), play, resume with Range, keep the video's privacy, and stop
the moment they are turned off."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from edge_stack import account, upload_ready
from harness import run_command
from media import clip


async def probe(path: Path) -> dict[str, object]:
    done = await run_command(
        "ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)
    )
    assert done.code == 0, done.err
    found: dict[str, object] = json.loads(done.out)
    return found


async def set_downloads(
    http: httpx.AsyncClient, owner: dict[str, str], video_id: str, settings: dict[str, object]
) -> httpx.Response:
    return await http.patch(
        f"/v1/videos/{video_id}?updateMask=downloads",
        json={"downloads": settings},
        headers=owner,
    )


async def test_enabled_downloads_are_remuxed_mp4s_that_play_and_resume(
    http: httpx.AsyncClient, media_dir: Path, tmp_path: Path
) -> None:
    owner = await account(http, "downloader@example.com")
    video_id = await upload_ready(
        http, owner, clip(media_dir / "download.mp4", size="640x360", seconds=9), "public"
    )
    info = (await http.get(f"/v1/videos/{video_id}/playback")).json()
    assert not info.get("downloads"), "off until the owner turns them on"
    assert (await http.get(f"/hls/{video_id}/downloads/360p.mp4")).status_code == 404

    changed = await set_downloads(
        http, owner, video_id, {"enabled": True, "renditions": ["360p"], "audio": True}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["video"]["downloads"] == {
        "enabled": True,
        "renditions": ["360p"],
        "audio": True,
    }
    info = (await http.get(f"/v1/videos/{video_id}/playback")).json()
    links = {link["name"]: link for link in info["downloads"]}
    assert set(links) == {"360p", "audio"}, "only the chosen rung, and the audio"
    assert links["360p"]["url"] == f"/hls/{video_id}/downloads/360p.mp4"
    assert links["audio"]["contentType"] == "audio/mp4"
    assert (await http.get(f"/hls/{video_id}/downloads/240p.mp4")).status_code == 404

    # Several viewers ask at once for a file not made yet: one remux serves them all.
    answers = await asyncio.gather(*(http.get(links["360p"]["url"]) for _ in range(3)))
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1
    movie = answers[0]
    assert movie.headers["content-type"] == "video/mp4"
    assert movie.headers["content-disposition"].startswith('attachment; filename="')
    assert "360p" in movie.headers["content-disposition"]
    saved = tmp_path / "movie.mp4"
    saved.write_bytes(movie.content)
    facts = await probe(saved)
    streams = facts["streams"]
    assert isinstance(streams, list)
    assert sorted(s["codec_type"] for s in streams) == ["audio", "video"]
    video = next(s for s in streams if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (640, 360), "the rung itself, not re-encoded"
    format_ = facts["format"]
    assert isinstance(format_, dict)
    assert abs(float(format_["duration"]) - 9) < 0.5
    assert movie.content.find(b"moov") < movie.content.find(b"mdat"), "faststart: moov first"
    done = await run_command("ffmpeg", "-v", "error", "-i", str(saved), "-f", "null", "-")
    assert done.code == 0, done.err
    assert not done.err.strip(), done.err

    ranged = await http.get(links["360p"]["url"], headers={"range": "bytes=1000-1999"})
    assert ranged.status_code == 206
    assert ranged.content == movie.content[1000:2000]

    sound = await http.get(links["audio"]["url"])
    assert sound.status_code == 200
    assert sound.headers["content-type"] == "audio/mp4"
    saved_audio = tmp_path / "sound.m4a"
    saved_audio.write_bytes(sound.content)
    audio_streams = (await probe(saved_audio))["streams"]
    assert isinstance(audio_streams, list)
    assert [s["codec_type"] for s in audio_streams] == ["audio"]

    await set_downloads(http, owner, video_id, {"enabled": False})
    assert (await http.get(links["360p"]["url"])).status_code == 404, "off takes effect at once"
    assert not (await http.get(f"/v1/videos/{video_id}/playback")).json().get("downloads")


async def test_downloads_of_a_private_video_need_its_owners_token(
    http: httpx.AsyncClient, media_dir: Path
) -> None:
    owner = await account(http, "private-downloader@example.com")
    other = await account(http, "other-downloader@example.com")
    video_id = await upload_ready(http, owner, clip(media_dir / "plain.mp4"), "private")
    refused = await set_downloads(http, other, video_id, {"enabled": True})
    assert refused.status_code == 404
    await set_downloads(http, owner, video_id, {"enabled": True})
    mine = (await http.get(f"/v1/videos/{video_id}/playback", headers=owner)).json()
    url = mine["downloads"][0]["url"]
    assert "?token=" in url
    assert (await http.get(url)).status_code == 200
    bare = url.split("?", 1)[0]
    assert (await http.get(bare)).status_code == 403
    bad = await set_downloads(http, owner, video_id, {"enabled": True, "renditions": ["../x"]})
    assert bad.status_code == 400
    assert "INVALID_RENDITION" in bad.text
