"""A delivery whose run lost removes exactly its own files, in every rendition."""

from __future__ import annotations

from pathlib import Path

from vidmesh.common.layout import hls_key, segment_path
from vidmesh.common.storage import MEDIA, FileBlobStore
from vidmesh.transcoder.tasks import discard_run

PREFIX = "videos/00000000-0000-4000-8000-000000000001/generations/1"


async def test_a_lost_run_is_removed_and_nothing_else(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    for rendition in ("720p", "360p"):
        for run in ("winner", "loser"):
            key = hls_key(PREFIX, segment_path(rendition, run, 3))
            await store.put_bytes(MEDIA, key, run.encode())
    await discard_run(store, PREFIX, ["720p", "360p"], "loser")
    left = [info.key.removeprefix(f"{PREFIX}/hls/") for info in await store.list(MEDIA, PREFIX)]
    assert left == ["360p/winner/seg_00003.ts", "720p/winner/seg_00003.ts"]
    assert sorted(p.name for p in (tmp_path / MEDIA / PREFIX / "hls" / "720p").iterdir()) == [
        "winner"
    ]
