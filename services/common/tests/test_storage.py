"""One contract for every BlobStore: the filesystem store and S3 (a real server on loopback)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from vidmesh.common.errors import InvalidArgument
from vidmesh.common.storage import BlobNotFound, BlobStore, FileBlobStore, S3BlobStore, open_store


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "file":
        yield FileBlobStore(tmp_path / "objects")
    else:
        url = request.getfixturevalue("s3_server")
        yield S3BlobStore.from_url(url)


def unique(name: str) -> str:
    return f"t-{os.urandom(4).hex()}/{name}"


async def test_put_and_read_back_with_ranges(store: BlobStore, tmp_path: Path) -> None:
    key = unique("source")
    data = os.urandom(3 * 1024 * 1024 + 17)
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    await store.put_file("raw", key, source)
    assert source.exists(), "without move the source stays"
    assert await store.read_all("raw", key) == data
    middle = b"".join([c async for c in store.read("raw", key, start=1000, end=1_500_000)])
    assert middle == data[1000:1_500_000]
    info = await store.stat("raw", key)
    assert info is not None
    assert info.size == len(data)
    assert info.etag


async def test_move_consumes_the_source(store: BlobStore, tmp_path: Path) -> None:
    key = unique("moved")
    source = tmp_path / "move.bin"
    source.write_bytes(b"payload")
    await store.put_file("raw", key, source, move=True)
    assert not source.exists()
    assert await store.read_all("raw", key) == b"payload"


async def test_missing_objects(store: BlobStore, tmp_path: Path) -> None:
    key = unique("absent")
    assert await store.stat("media", key) is None
    with pytest.raises(BlobNotFound):
        await store.read_all("media", key)
    with pytest.raises(BlobNotFound):
        await store.fetch_to("media", key, tmp_path / "x")
    await store.delete("media", key)


async def test_list_and_delete_prefix(store: BlobStore) -> None:
    prefix = unique("video/")
    for name in ("hls/master.m3u8", "hls/720p/index.m3u8", "poster.jpg"):
        await store.put_bytes("media", prefix + name, name.encode())
    await store.put_bytes("media", prefix.rstrip("/") + "-other/x", b"x")
    listed = [info.key for info in await store.list("media", prefix)]
    assert listed == sorted(
        prefix + n for n in ("hls/720p/index.m3u8", "hls/master.m3u8", "poster.jpg")
    )
    assert await store.delete_prefix("media", prefix) == 3
    assert await store.list("media", prefix) == []
    assert await store.stat("media", prefix.rstrip("/") + "-other/x") is not None


async def test_a_file_store_keeps_no_empty_folders(tmp_path: Path) -> None:
    """What a removed run leaves must not look like a run (S3 has no folders at all)."""
    store = FileBlobStore(tmp_path)
    await store.put_bytes("media", "v/hls/720p/run1/seg_00001.ts", b"a")
    await store.put_bytes("media", "v/hls/720p/run2/seg_00002.ts", b"b")
    await store.delete("media", "v/hls/720p/run1/seg_00001.ts")
    assert sorted(p.name for p in (tmp_path / "media" / "v" / "hls" / "720p").iterdir()) == ["run2"]
    await store.delete_prefix("media", "v/")
    assert not (tmp_path / "media" / "v").exists()
    assert (tmp_path / "media").is_dir()
    await store.put_bytes("media", "v/hls/720p/run3/seg_00003.ts", b"c")
    assert await store.read_all("media", "v/hls/720p/run3/seg_00003.ts") == b"c"


async def test_fetch_to_gives_a_readable_file(store: BlobStore, tmp_path: Path) -> None:
    key = unique("fetch")
    await store.put_bytes("raw", key, b"abc" * 1000)
    path = await store.fetch_to("raw", key, tmp_path / "fetched")
    assert path.read_bytes() == b"abc" * 1000


async def test_media_urls_let_ffmpeg_seek_into_an_object(store: BlobStore, tmp_path: Path) -> None:
    """Chunks read the original in place: a file path, or a presigned URL read with ranges."""
    clip = tmp_path / "clip.mp4"
    await asyncio.to_thread(
        subprocess.run,
        [
            *("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:d=4"),
            *("-c:v", "libx264", "-g", "10", str(clip)),
        ],
        check=True,
        timeout=60,
    )
    key = unique("source")
    await store.put_file("raw", key, clip)
    url = await store.media_url("raw", key, timedelta(minutes=5))
    probed = await asyncio.to_thread(
        subprocess.run,
        [
            *("ffprobe", "-v", "error", "-read_intervals", "2%+#5", "-select_streams", "v"),
            *("-show_entries", "packet=pts_time", "-of", "csv=p=0", url),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    frames = probed.stdout.split()
    assert len(frames) == 5, "it seeked"
    assert min(float(t) for t in frames) >= 1.9, "it seeked"
    with pytest.raises(BlobNotFound):
        await store.media_url("raw", unique("missing"), timedelta(minutes=5))


@pytest.mark.parametrize("key", ["../escape", "/abs", "a//b", "a/./b", "a\\b", ""])
async def test_traversal_keys_are_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidArgument):
        await store.put_bytes("raw", key, b"x")


async def test_readers_never_see_a_partial_object(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "objects")
    key = "big/object"
    first, second = b"a" * (8 * 1024 * 1024), b"b" * (8 * 1024 * 1024)
    await store.put_bytes("raw", key, first)

    async def reader() -> set[bytes]:
        seen = set()
        for _ in range(20):
            content = await store.read_all("raw", key)
            seen.add(content[:1] + content[-1:] + bytes([len(content) == len(first)]))
        return seen

    writes = asyncio.gather(*(store.put_bytes("raw", key, second) for _ in range(5)))
    seen, _ = await asyncio.gather(reader(), writes)
    assert seen <= {b"aa\x01", b"bb\x01"}, "every read is one whole object"
    assert not any((tmp_path / "objects" / "raw" / ".staging").iterdir())


def test_storage_urls(tmp_path: Path) -> None:
    local = open_store(f"file://{tmp_path}")
    assert isinstance(local, FileBlobStore)
    assert local.root == tmp_path.resolve()
    relative = open_store("file://./.vidmesh/storage")
    assert isinstance(relative, FileBlobStore)
    assert relative.root == (Path.cwd() / ".vidmesh" / "storage").resolve()
    assert isinstance(open_store("s3://k:s@127.0.0.1:9000?secure=false"), S3BlobStore)
    with pytest.raises(ValueError, match="unsupported"):
        open_store("ftp://x")


def test_presigned_urls_name_the_public_endpoint() -> None:
    """Compose reaches MinIO as `minio:9000`; viewers follow redirects to its public name."""
    internal = "s3://key:secretsecret@minio:9000?secure=false&region=us-east-1"
    public = S3BlobStore.from_url(internal + "&public_url=https://media.example")
    url = public.presigned_url("media", "videos/v/seg.ts", timedelta(minutes=5))
    assert url is not None
    assert url.startswith("https://media.example/media/videos/v/seg.ts?")
    plain = S3BlobStore.from_url(internal).presigned_url("media", "k", timedelta(minutes=5))
    assert plain is not None
    assert plain.startswith("http://minio:9000/media/k?")
    assert FileBlobStore(Path("/nonexistent")).presigned_url("media", "k", timedelta(1)) is None


async def test_open_local_reads_files_in_place_or_says_not_found(store: BlobStore) -> None:
    key = unique("segment.ts")
    await store.put_bytes("media", key, b"segment bytes")
    handle = store.open_local("media", key)
    if isinstance(store, S3BlobStore):
        assert handle is None, "a remote store has no local file"
        return
    assert handle is not None
    with handle:
        assert handle.read() == b"segment bytes"
    for missing in (unique("absent.ts"), key.rsplit("/", 1)[0], f"{key}/below"):
        with pytest.raises(BlobNotFound):
            store.open_local("media", missing)
    with pytest.raises(InvalidArgument):
        store.open_local("media", "../escape.ts")
