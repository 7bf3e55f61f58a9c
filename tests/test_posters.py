"""Custom posters through Envoy: an uploaded picture or a frame becomes a clean JPEG the feed,
My videos and the player use; hostile files are refused or neutralised."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import httpx
from edge_stack import account, upload_ready
from media import clip
from PIL import Image


def png(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture (a decompression bomb's opening)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def set_poster(
    http: httpx.AsyncClient, who: dict[str, str] | None, video_id: str, **source: object
) -> httpx.Response:
    return await http.post(f"/v1/videos/{video_id}/poster", json=source, headers=who or {})


def image_field(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_an_uploaded_picture_becomes_the_clean_poster_everyone_sees(
    http: httpx.AsyncClient, media_dir: Path
) -> None:
    owner = await account(http, "poster-owner@example.com")
    video_id = await upload_ready(
        http, owner, clip(media_dir / "postered.mp4", size="640x360", seconds=6), "public"
    )
    # A polyglot: a real picture with a page hidden after its end.
    hostile = png(800, 600) + b"<html><script>alert(1)</script></html>PK\x03\x04"
    answer = await set_poster(http, owner, video_id, image=image_field(hostile))
    assert answer.status_code == 200, answer.text
    url = answer.json()["posterUrl"]
    assert url.startswith(f"/hls/{video_id}/poster-")
    assert url.endswith(".jpg")
    served = await http.get(url)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.content.startswith(b"\xff\xd8")
    assert b"<script" not in served.content
    picture = Image.open(io.BytesIO(served.content))
    assert (picture.format, picture.size) == ("JPEG", (800, 600))
    red = picture.getpixel((400, 300))
    assert isinstance(red, tuple), "the picture's pixels, encoded again"
    assert red[0] > 150, "the picture's pixels, encoded again"

    shown = (await http.get(f"/v1/videos/{video_id}")).json()["video"]["posterUrl"]
    feed = (await http.get("/v1/videos")).json()["videos"]
    info = (await http.get(f"/v1/videos/{video_id}/playback")).json()
    assert shown == url
    assert info["posterUrl"] == url
    assert next(v for v in feed if v["videoId"] == video_id)["posterUrl"] == url

    big = await set_poster(http, owner, video_id, image=image_field(png(3840, 2160)))
    assert big.status_code == 200
    resized = Image.open(io.BytesIO((await http.get(big.json()["posterUrl"])).content))
    assert resized.size == (1920, 1080), "scaled down to fit 1920x1080"

    frame = await set_poster(http, owner, video_id, frameTime="3s")
    assert frame.status_code == 200, frame.text
    grabbed = Image.open(io.BytesIO((await http.get(frame.json()["posterUrl"])).content))
    assert (grabbed.format, grabbed.size) == ("JPEG", (640, 360)), "a frame of the top rung"


async def test_hostile_and_wrong_posters_are_refused_with_a_reason(
    http: httpx.AsyncClient, media_dir: Path
) -> None:
    owner = await account(http, "poster-guard@example.com")
    stranger = await account(http, "poster-stranger@example.com")
    video_id = await upload_ready(http, owner, clip(media_dir / "plain.mp4"), "public")
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    cases = [
        ({"image": image_field(png_claiming(100_000, 100_000))}, 400, "IMAGE_TOO_LARGE"),
        ({"image": image_field(png_claiming(9000, 10))}, 400, "IMAGE_TOO_LARGE"),
        ({"image": image_field(b"just text, not a picture")}, 400, "INVALID_IMAGE"),
        ({"image": image_field(gif.getvalue())}, 400, "INVALID_IMAGE"),
        ({"image": image_field(png(100, 100)[:60])}, 400, "INVALID_IMAGE"),
        ({"image": image_field(b"\x00" * (2 * 1024 * 1024 + 1))}, 400, "IMAGE_TOO_LARGE"),
        ({"frameTime": "999s"}, 400, "INVALID_TIME"),
        ({}, 400, "FIELD_REQUIRED"),
    ]
    for source, status, reason in cases:
        answer = await set_poster(http, owner, video_id, **source)
        assert (answer.status_code, reason in answer.text) == (status, True), answer.text[:300]
    refused = await set_poster(http, stranger, video_id, image=image_field(png(10, 10)))
    assert refused.status_code == 403
    assert "NOT_VIDEO_OWNER" in refused.text
    assert (
        await set_poster(http, None, video_id, image=image_field(png(10, 10)))
    ).status_code == 401
