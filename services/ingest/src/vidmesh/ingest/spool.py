"""Upload sessions on local disk: bytes appended at an offset and hashed as they arrive.

A session is a directory `<spool>/<upload_id>/` holding `meta.json` and `data`. The data file's
length is the offset (the truth after a crash); the running SHA-256 is kept in memory while the
process lives and rebuilt from the file when a resumed session finds none. Memory stays bounded
whatever the size: chunks go straight to disk.

The spool is also the outbox of what ingest still owes gateway. A session's `phase` says where
it stands: `receiving` bytes; `committing` (every byte arrived and passed the checks, the commit
request is in `commit.pb`, and the commit is retried until gateway and the queue take it);
`committed` (a tombstone without data, kept until it expires, so a retried PATCH or HEAD sees
the upload complete); `failing` (the bytes are gone and the failure still has to be reported).
`meta.json` is replaced atomically, so a crash leaves the old phase or the new one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vidmesh.common.errors import InvalidArgument, NotFound

_READ = 1024 * 1024
RECEIVING, COMMITTING, COMMITTED, FAILING = "receiving", "committing", "committed", "failing"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What an upload is and whose it is."""

    upload_id: str
    owner_id: str
    video_id: str
    size_bytes: int
    sha256: str
    filename: str
    created: str
    expires: str
    resumable: bool
    phase: str = "receiving"
    failure_reason: str = ""
    failure_message: str = ""

    @property
    def expire_time(self) -> datetime:
        return datetime.fromisoformat(self.expires)


class Session:
    """One upload's bytes and hash."""

    def __init__(self, directory: Path, info: SessionInfo) -> None:
        self.directory = directory
        self.info = info
        self.data_path = directory / "data"
        self.commit_path = directory / "commit.pb"
        self._hash: Any = None
        self._hashed = -1
        self.lock = asyncio.Lock()

    @property
    def receiving(self) -> bool:
        return self.info.phase == RECEIVING

    @property
    def offset(self) -> int:
        """Bytes received: the data file's length while receiving, the whole size after."""
        if not self.receiving:
            return self.info.size_bytes
        try:
            return self.data_path.stat().st_size
        except FileNotFoundError:
            return 0

    async def _hasher(self) -> Any:
        if self._hash is None or self._hashed != self.offset:
            digest = hashlib.sha256()

            def rehash() -> None:
                with self.data_path.open("rb") as handle:
                    while chunk := handle.read(_READ):
                        digest.update(chunk)

            await asyncio.to_thread(rehash)
            self._hash, self._hashed = digest, self.offset
        return self._hash

    async def append(self, chunks: AsyncIterator[bytes]) -> int:
        """Append chunks until they end; refuse bytes beyond the declared size.

        Writes go to the page cache and are cheap, so they run on the event loop: an upload
        cancelled at any await leaves a closed file whose length is exactly what was hashed.
        """
        digest = await self._hasher()
        written = self.offset
        limit = self.info.size_bytes
        handle = self.data_path.open("ab")
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                if written + len(chunk) > limit:
                    raise InvalidArgument(
                        "SIZE_MISMATCH",
                        f"More bytes arrived than the declared {limit}.",
                        metadata={"declared": str(limit)},
                    )
                handle.write(chunk)
                digest.update(chunk)
                written += len(chunk)
                self._hashed = written
        finally:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            if self.offset != self._hashed:
                self._hash = None
        return written

    def truncate(self, offset: int) -> None:
        """Drop bytes after `offset` (a chunk that failed its checksum)."""
        with self.data_path.open("r+b") as handle:
            handle.truncate(offset)
            os.fsync(handle.fileno())
        self._hash = None

    async def sha256(self) -> str:
        return str((await self._hasher()).hexdigest())


class Spool:
    """The sessions of this ingest node."""

    def __init__(self, root: Path, ttl: timedelta) -> None:
        self.root = root
        self.ttl = ttl
        self._open: dict[str, Session] = {}
        root.mkdir(parents=True, exist_ok=True)

    def create(
        self,
        *,
        owner_id: str,
        video_id: str,
        size_bytes: int,
        sha256: str,
        filename: str,
        resumable: bool,
    ) -> Session:
        now = datetime.now(UTC)
        upload_id = uuid.uuid4().hex
        info = SessionInfo(
            upload_id=upload_id,
            owner_id=owner_id,
            video_id=video_id,
            size_bytes=size_bytes,
            sha256=sha256,
            filename=filename,
            created=now.isoformat(),
            expires=(now + self.ttl).isoformat(),
            resumable=resumable,
        )
        directory = self.root / upload_id
        directory.mkdir()
        (directory / "data").touch()
        _write_atomically(directory / "meta.json", json.dumps(asdict(info)).encode())
        session = Session(directory, info)
        self._open[upload_id] = session
        return session

    def get(self, upload_id: str) -> Session:
        if upload_id in self._open:
            return self._open[upload_id]
        try:
            uuid.UUID(hex=upload_id)
            raw = (self.root / upload_id / "meta.json").read_text()
            info = SessionInfo(**json.loads(raw))
        except (ValueError, OSError, TypeError):
            raise NotFound("UPLOAD_NOT_FOUND", "No such upload (it may have expired).") from None
        session = Session(self.root / upload_id, info)
        self._open[upload_id] = session
        return session

    def touch(self, session: Session) -> None:
        """Push the expiry back: the client is still working on it."""
        self.update(session, expires=(datetime.now(UTC) + self.ttl).isoformat())

    def update(self, session: Session, **changes: str) -> None:
        """Change fields of a session's record (atomically on disk)."""
        info = SessionInfo(**{**asdict(session.info), **changes})
        _write_atomically(session.directory / "meta.json", json.dumps(asdict(info)).encode())
        session.info = info

    def prepare_commit(self, session: Session, request: bytes) -> None:
        """Every byte is here and checked: keep the commit request, then enter `committing`."""
        _write_atomically(session.commit_path, request)
        self.update(session, phase=COMMITTING)

    def tombstone(self, session: Session) -> None:
        """Committed: drop what is left of the bytes, keep the record until it expires."""
        session.data_path.unlink(missing_ok=True)
        session.commit_path.unlink(missing_ok=True)
        self.update(session, phase=COMMITTED, expires=(datetime.now(UTC) + self.ttl).isoformat())

    def failing(self, session: Session, reason: str, message: str) -> None:
        """The upload failed: drop its bytes, keep the failure until gateway has heard it."""
        session.data_path.unlink(missing_ok=True)
        session.commit_path.unlink(missing_ok=True)
        self.update(session, phase=FAILING, failure_reason=reason, failure_message=message)

    def sessions(self) -> list[Session]:
        """Every session on disk (a torn directory without a record is removed)."""
        found = []
        for directory in self.root.iterdir():
            if not directory.is_dir():
                continue
            try:
                found.append(self.get(directory.name))
            except NotFound:
                shutil.rmtree(directory, ignore_errors=True)
        return found

    def find_video(self, video_id: str) -> Session | None:
        return next((s for s in self.sessions() if s.info.video_id == video_id), None)

    def discard(self, session: Session) -> None:
        self._open.pop(session.info.upload_id, None)
        shutil.rmtree(session.directory, ignore_errors=True)

    def expired(self, now: datetime) -> list[Session]:
        """Sessions still receiving that saw no bytes for the TTL."""
        return [
            session
            for session in self.sessions()
            if session.receiving and session.info.expire_time <= now and not session.lock.locked()
        ]


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
