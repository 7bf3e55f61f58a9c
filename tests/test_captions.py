"""Captions through Envoy: WebVTT and SRT files become HLS subtitle renditions lined up with the
picture; bad files are refused with a reason; replace and delete work."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
from edge_stack import account, first_uri, upload_ready
from media import clip

from vidmesh.common.transport_stream import first_video_pts

VTT = """WEBVTT

00:00:01.000 --> 00:00:02.500 align:start
Hello <b>there</b>

NOTE a comment players never see

00:00:06.000 --> 00:00:08.000
Goodbye
"""
SRT = """1
00:00:01,000 --> 00:00:03,000
Bonjour

2
00:00:05,500 --> 00:00:07,000
Au revoir
"""


def body(language: str, content: bytes | str, **fields: object) -> dict[str, object]:
    data = content.encode() if isinstance(content, str) else content
    return {
        "captions": {"language": language, **fields},
        "content": base64.b64encode(data).decode(),
    }


async def test_captions_play_as_subtitle_renditions_aligned_with_the_video(
    http: httpx.AsyncClient, media_dir: Path
) -> None:
    owner = await account(http, "captioner@example.com")
    video_id = await upload_ready(
        http, owner, clip(media_dir / "captioned.mp4", size="640x360", seconds=9), "public"
    )
    made = await http.post(
        f"/v1/videos/{video_id}/captions",
        json=body("en", VTT, label="English", isDefault=True),
        headers=owner,
    )
    assert made.status_code == 200, made.text
    assert made.json()["captions"]["cueCount"] == 2
    srt = await http.post(
        f"/v1/videos/{video_id}/captions", json=body("fr", SRT, label="Français"), headers=owner
    )
    assert srt.status_code == 200, srt.text
    listed = (await http.get(f"/v1/videos/{video_id}/captions")).json()["captions"]
    assert [(c["language"], c["label"], c["isDefault"]) for c in listed] == [
        ("en", "English", True),
        ("fr", "Français", False),
    ]

    master = (await http.get(f"/hls/{video_id}/master.m3u8")).text
    media = [line for line in master.splitlines() if "TYPE=SUBTITLES" in line]
    assert len(media) == 2
    assert 'LANGUAGE="en"' in media[0]
    assert "DEFAULT=YES" in media[0]
    assert 'URI="subtitles/fr/index.m3u8"' in media[1]
    assert 'NAME="Français"' in media[1]
    streams = [line for line in master.splitlines() if line.startswith("#EXT-X-STREAM-INF")]
    assert streams
    assert all(line.endswith(',SUBTITLES="subs"') for line in streams)

    variant_path = first_uri(master)
    variant = (await http.get(f"/hls/{video_id}/{variant_path}")).text
    playlist = (await http.get(f"/hls/{video_id}/subtitles/en/index.m3u8")).text
    extinf = [line for line in playlist.splitlines() if line.startswith("#EXTINF")]
    assert extinf == [line for line in variant.splitlines() if line.startswith("#EXTINF")]
    first_segment = await http.get(
        f"/hls/{video_id}/{variant_path.rsplit('/', 1)[0]}/{first_uri(variant)}"
    )
    pts = first_video_pts(first_segment.content)
    assert pts is not None

    durations = [float(line[8:].rstrip(",")) for line in extinf]
    segments = [line for line in playlist.splitlines() if line.endswith(".vtt")]
    texts = []
    for uri in segments:
        answer = await http.get(f"/hls/{video_id}/subtitles/en/{uri}")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/vtt")
        assert "immutable" in answer.headers["cache-control"]
        assert answer.text.startswith(f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{pts},LOCAL:00:00:00.000\n")
        texts.append(answer.text)
    # Each cue is in exactly the segments its time overlaps; tags and notes as written are
    # rebuilt from the parsed cues (the NOTE is gone, the markup is kept).
    starts = [sum(durations[:i]) for i in range(len(durations))]
    for start, length, text in zip(starts, durations, texts, strict=True):
        assert ("Hello <b>there</b>" in text) == (start < 2.5 and start + length > 1.0)
        assert ("Goodbye" in text) == (start < 8.0 and start + length > 6.0)
        assert "NOTE" not in text
    assert "00:00:01.000 --> 00:00:02.500 align:start" in "".join(texts)
    french = (await http.get(f"/hls/{video_id}/subtitles/fr/index.m3u8")).text
    fr_texts = [
        (await http.get(f"/hls/{video_id}/subtitles/fr/{uri}")).text
        for uri in french.splitlines()
        if uri.endswith(".vtt")
    ]
    assert "00:00:01.000 --> 00:00:03.000\nBonjour" in "".join(fr_texts), "SRT became WebVTT"

    replaced = await http.put(
        f"/v1/videos/{video_id}/captions/en",
        json={
            "captions": {"label": "English (CC)", "isDefault": True},
            "content": base64.b64encode(b"WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nNew\n").decode(),
        },
        headers=owner,
    )
    assert replaced.status_code == 200, replaced.text
    again = (await http.get(f"/hls/{video_id}/subtitles/en/index.m3u8")).text
    assert again != playlist, "a new file is a new version: new segment URLs"
    assert (await http.get(f"/hls/{video_id}/subtitles/en/{segments[0]}")).status_code == 404
    assert (
        await http.delete(f"/v1/videos/{video_id}/captions/fr", headers=owner)
    ).status_code == 200
    master = (await http.get(f"/hls/{video_id}/master.m3u8")).text
    assert master.count("TYPE=SUBTITLES") == 1
    assert "English (CC)" in master


async def test_bad_caption_files_are_refused_with_a_reason(
    http: httpx.AsyncClient, media_dir: Path
) -> None:
    owner = await account(http, "bad-captions@example.com")
    stranger = await account(http, "caption-stranger@example.com")
    video_id = await upload_ready(http, owner, clip(media_dir / "plain.mp4"), "public")
    url = f"/v1/videos/{video_id}/captions"
    cases = [
        (body("en", b"\x00\x01\x02binary"), 400, "INVALID_ENCODING"),
        (body("en", "Bonjour \xe0 tous".encode("latin-1")), 400, "INVALID_ENCODING"),
        (body("en", "just some words\n"), 400, "INVALID_CAPTIONS"),
        (body("en", "WEBVTT\n\n"), 400, "INVALID_CAPTIONS"),
        (
            body("en", "WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nBackwards\n"),
            400,
            "INVALID_CAPTIONS",
        ),
        (body("en", b"WEBVTT\n\n" + b"x" * (1024 * 1024)), 400, "CAPTIONS_TOO_LARGE"),
        (body("not a language", VTT), 400, "INVALID_LANGUAGE"),
        (body("en", VTT, label="x" * 101), 400, "FIELD_TOO_LONG"),
    ]
    for payload, status, reason in cases:
        answer = await http.post(url, json=payload, headers=owner)
        assert (answer.status_code, reason in answer.text) == (status, True), answer.text
    assert (await http.post(url, json=body("en", VTT), headers=stranger)).status_code == 403
    assert (await http.post(url, json=body("en", VTT))).status_code == 401
    assert (await http.post(url, json=body("en", VTT), headers=owner)).status_code == 200
    duplicate = await http.post(url, json=body("en", SRT), headers=owner)
    assert duplicate.status_code == 409
    assert "CAPTIONS_EXIST" in duplicate.text
    missing = await http.delete(f"{url}/de", headers=owner)
    assert missing.status_code == 404
    assert "CAPTIONS_NOT_FOUND" in missing.text
    assert (await http.get(f"/hls/{video_id}/subtitles/de/index.m3u8")).status_code == 404
