"""Upload sessions on disk: offsets, hashes, declared sizes, phases and expiry."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vidmesh.common.errors import InvalidArgument, NotFound
from vidmesh.ingest.spool import COMMITTED, COMMITTING, FAILING, Session, Spool


async def chunks(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool", timedelta(hours=1))


def new_session(spool: Spool, size: int = 10) -> Session:
    return spool.create(
        owner_id="owner", video_id="video", size_bytes=size, sha256="", filename="f", resumable=True
    )


async def test_bytes_append_at_the_offset_and_the_hash_covers_them(spool: Spool) -> None:
    session = new_session(spool)
    assert session.offset == 0
    assert await session.append(chunks([b"abc", b"", b"de"])) == 5
    assert session.offset == 5
    assert await session.append(chunks([b"fghij"])) == 10
    assert await session.sha256() == hashlib.sha256(b"abcdefghij").hexdigest()


async def test_bytes_beyond_the_declared_size_are_refused_and_not_kept(spool: Spool) -> None:
    session = new_session(spool, size=4)
    with pytest.raises(InvalidArgument) as caught:
        await session.append(chunks([b"abc", b"de"]))
    assert caught.value.reason == "SIZE_MISMATCH"
    assert caught.value.metadata == {"declared": "4"}
    assert session.offset == 3, "the chunk that overflowed is not written"
    assert await session.sha256() == hashlib.sha256(b"abc").hexdigest()


async def test_an_interrupted_append_leaves_a_consistent_offset_and_hash(spool: Spool) -> None:
    session = new_session(spool)

    async def broken() -> AsyncIterator[bytes]:
        yield b"abcd"
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await session.append(broken())
    assert session.offset == 4
    await session.append(chunks([b"efghij"]))
    assert await session.sha256() == hashlib.sha256(b"abcdefghij").hexdigest()


async def test_a_truncated_chunk_is_hashed_again_from_disk(spool: Spool) -> None:
    session = new_session(spool)
    await session.append(chunks([b"abcdef"]))
    session.truncate(3)
    assert session.offset == 3
    assert await session.sha256() == hashlib.sha256(b"abc").hexdigest()


async def test_a_session_survives_a_restart_of_ingest(spool: Spool, tmp_path: Path) -> None:
    session = new_session(spool)
    await session.append(chunks([b"abc"]))
    again = Spool(tmp_path / "spool", timedelta(hours=1)).get(session.info.upload_id)
    assert again.info == session.info
    assert again.offset == 3


@pytest.mark.parametrize("upload_id", ["", "nope", "../etc", "0" * 32])
def test_unknown_or_malformed_ids_are_not_found(spool: Spool, upload_id: str) -> None:
    with pytest.raises(NotFound) as caught:
        spool.get(upload_id)
    assert caught.value.reason == "UPLOAD_NOT_FOUND"


async def test_phases_keep_the_record_and_drop_the_bytes(spool: Spool) -> None:
    session = new_session(spool, size=3)
    await session.append(chunks([b"abc"]))
    spool.prepare_commit(session, b"request")
    assert session.info.phase == COMMITTING
    assert session.offset == 3, "after receiving, the offset is the whole size"
    assert session.commit_path.read_bytes() == b"request"
    spool.tombstone(session)
    assert session.info.phase == COMMITTED
    assert not session.data_path.exists()
    assert session.offset == 3, "a retried final write is told it is complete"
    other = new_session(spool)
    spool.failing(other, "INVALID_MEDIA", "not a video")
    assert (other.info.failure_reason, other.info.phase) == ("INVALID_MEDIA", FAILING)


def test_only_receiving_sessions_past_their_ttl_expire(spool: Spool) -> None:
    stale, committed = new_session(spool), new_session(spool)
    spool.tombstone(committed)
    later = datetime.now(UTC) + timedelta(hours=2)
    assert [s.info.upload_id for s in spool.expired(later)] == [stale.info.upload_id]
    assert spool.expired(datetime.now(UTC)) == []
    spool.touch(stale)
    assert stale.info.expire_time > datetime.now(UTC) + timedelta(minutes=59)


def test_a_torn_session_directory_is_cleared(spool: Spool) -> None:
    kept = new_session(spool)
    (spool.root / ("f" * 32)).mkdir()
    assert [s.info.upload_id for s in spool.sessions()] == [kept.info.upload_id]
    assert not (spool.root / ("f" * 32)).exists()
