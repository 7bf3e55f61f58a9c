"""Object storage: one `BlobStore` interface, a filesystem store and an S3 store.

Objects are immutable once written and appear all at once: the filesystem store writes to a
temporary file and renames it into place; the S3 store uploads in parts that the server
assembles only on completion. Nobody ever reads half an object.

`VIDMESH_STORAGE_URL` picks the store: `file:///path/to/root` or
`s3://ACCESS:SECRET@host:port?secure=false&region=us-east-1` (buckets are the first path segment
of every key's location, e.g. `raw`, `media`).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import hashlib
import os
import shutil
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from vidmesh.common.errors import InvalidArgument

RAW = "raw"
MEDIA = "media"
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BlobInfo:
    key: str
    size: int
    etag: str
    modified: datetime | None = None


class BlobNotFound(LookupError):
    """No object at that key."""


def check_key(key: str) -> str:
    """A relative key without traversal, empty segments or backslashes."""
    if (
        not key
        or key.startswith("/")
        or "\\" in key
        or any(part in ("", ".", "..") for part in key.split("/"))
    ):
        raise InvalidArgument("INVALID_KEY", "Not a valid object key.")
    return key


class BlobStore(abc.ABC):
    """Where originals and renditions live."""

    @abc.abstractmethod
    async def put_file(self, bucket: str, key: str, source: Path, *, move: bool = False) -> None:
        """Store a local file under `key` atomically; with `move`, the file may be consumed."""

    @abc.abstractmethod
    async def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        """Store small content atomically."""

    @abc.abstractmethod
    def read(
        self, bucket: str, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """Stream bytes `start`..`end` (exclusive) of an object; raises BlobNotFound."""

    @abc.abstractmethod
    async def fetch_to(self, bucket: str, key: str, target: Path) -> Path:
        """Copy an object to a local file and return it (the original path for local stores)."""

    @abc.abstractmethod
    async def stat(self, bucket: str, key: str) -> BlobInfo | None:
        """Size and etag of an object, or None."""

    @abc.abstractmethod
    async def list(self, bucket: str, prefix: str) -> list[BlobInfo]:
        """Every object whose key starts with `prefix`, sorted by key."""

    @abc.abstractmethod
    async def delete(self, bucket: str, key: str) -> None:
        """Remove an object; missing objects are fine."""

    async def delete_prefix(self, bucket: str, prefix: str) -> int:
        """Remove every object under `prefix`; returns how many."""
        found = await self.list(bucket, prefix)
        for info in found:
            await self.delete(bucket, info.key)
        return len(found)

    async def read_all(self, bucket: str, key: str) -> bytes:
        return b"".join([chunk async for chunk in self.read(bucket, key)])

    def local_path(self, bucket: str, key: str) -> Path | None:
        """The object's file when the store is local (so ffmpeg can read it in place)."""
        return None

    def open_local(self, bucket: str, key: str) -> BinaryIO | None:
        """The object's file opened for reading when the store is local (None for a remote
        store), in one system call: playback serves files with it, once per request; raises
        BlobNotFound."""
        return None

    def presigned_url(self, bucket: str, key: str, ttl: timedelta) -> str | None:
        """A URL anyone holding it may GET the object from until `ttl` passes, without asking
        the store first (so it is no proof the object exists); None for a local store."""
        return None

    async def media_url(self, bucket: str, key: str, ttl: timedelta) -> str:
        """Where ffmpeg can read the object in place, seeking with ranged reads: its file for
        a local store, a presigned GET URL for S3; raises BlobNotFound."""
        if await self.stat(bucket, key) is None:
            raise BlobNotFound(key)
        local = self.local_path(bucket, key)
        if local is None:
            raise BlobNotFound(key)
        return str(local)


def _settle(staging: Path, target: Path) -> None:
    """Move a staged file into place; a delete that emptied and removed its folder meanwhile
    only means making the folder again."""
    for _ in range(3):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(staging, target)
            return
        except FileNotFoundError:
            if not staging.exists():
                raise
    os.replace(staging, target)


class FileBlobStore(BlobStore):
    """Objects as files under `root/<bucket>/<key>`, written via rename for atomicity."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._root = str(self.root)

    def _path(self, bucket: str, key: str) -> Path:
        return self.root / check_key(bucket) / check_key(key)

    def _staging(self, bucket: str) -> Path:
        staging = self.root / check_key(bucket) / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        return staging / uuid.uuid4().hex

    def local_path(self, bucket: str, key: str) -> Path | None:
        path = self._path(bucket, key)
        return path if path.is_file() else None

    def open_local(self, bucket: str, key: str) -> BinaryIO | None:
        try:
            # Plain strings: pathlib's joins cost more than the open itself.
            return open(f"{self._root}/{check_key(bucket)}/{check_key(key)}", "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobNotFound(key) from None

    async def put_file(self, bucket: str, key: str, source: Path, *, move: bool = False) -> None:
        target = self._path(bucket, key)

        def place() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = self._staging(bucket)
            try:
                if move:
                    try:
                        os.replace(source, staging)
                    except OSError:
                        shutil.copyfile(source, staging)
                else:
                    shutil.copyfile(source, staging)
                with staging.open("rb") as handle:
                    os.fsync(handle.fileno())
                _settle(staging, target)
            finally:
                staging.unlink(missing_ok=True)

        await asyncio.to_thread(place)

    async def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        target = self._path(bucket, key)

        def place() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = self._staging(bucket)
            try:
                with staging.open("wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                _settle(staging, target)
            finally:
                staging.unlink(missing_ok=True)

        await asyncio.to_thread(place)

    async def read(
        self, bucket: str, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self._path(bucket, key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise BlobNotFound(key) from None
        with handle:
            handle.seek(start)
            remaining = None if end is None else max(end - start, 0)
            while remaining is None or remaining > 0:
                size = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
                chunk = await asyncio.to_thread(handle.read, size)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    async def fetch_to(self, bucket: str, key: str, target: Path) -> Path:
        path = self._path(bucket, key)
        if not path.is_file():
            raise BlobNotFound(key)
        return path

    async def stat(self, bucket: str, key: str) -> BlobInfo | None:
        path = self._path(bucket, key)
        try:
            status = await asyncio.to_thread(path.stat)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not path.is_file():
            return None
        etag = hashlib.sha1(f"{status.st_size}:{status.st_mtime_ns}:{status.st_ino}".encode())
        return BlobInfo(key=key, size=status.st_size, etag=etag.hexdigest()[:20])

    async def list(self, bucket: str, prefix: str) -> list[BlobInfo]:
        base = self.root / check_key(bucket)

        def walk() -> list[str]:
            if not base.is_dir():
                return []
            keys = []
            for path in base.rglob("*"):
                relative = path.relative_to(base).as_posix()
                visible = not relative.startswith(".staging/")
                if visible and relative.startswith(prefix) and path.is_file():
                    keys.append(relative)
            return sorted(keys)

        infos = [await self.stat(bucket, key) for key in await asyncio.to_thread(walk)]
        return [info for info in infos if info is not None]

    async def delete(self, bucket: str, key: str) -> None:
        """Remove the file and the folders it leaves empty: like S3, the store has no empty
        "folders", so a removed run or video leaves nothing behind."""
        path = self._path(bucket, key)
        base = self.root / check_key(bucket)

        def remove() -> None:
            path.unlink(missing_ok=True)
            for folder in path.parents:
                if folder == base or base not in folder.parents:
                    return
                try:
                    folder.rmdir()
                except OSError:
                    return

        await asyncio.to_thread(remove)


class S3BlobStore(BlobStore):
    """Objects in an S3-compatible server through the `minio` client (run in threads)."""

    PART_SIZE = 16 * 1024 * 1024

    def __init__(self, client: Any, *, signer: Any = None) -> None:
        self._client = client
        # Presigned URLs are signed for the host viewers will ask, which may not be the one
        # the services reach (compose's `minio:9000` behind a public name).
        self._signer = signer or client
        self._ready: set[str] = set()

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        """`s3://key:secret@host:port?secure=false&region=r&public_url=https://media.example`;
        `public_url` is the endpoint presigned URLs name (default: the same host)."""
        from minio import Minio

        parsed = urllib.parse.urlsplit(url)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        access = urllib.parse.unquote(parsed.username or "")
        secret = urllib.parse.unquote(parsed.password or "")
        region = query.get("region", "us-east-1")

        def connect(endpoint: str, secure: bool) -> Minio:
            return Minio(
                endpoint, access_key=access, secret_key=secret, secure=secure, region=region
            )

        client = connect(
            f"{parsed.hostname}:{parsed.port}" if parsed.port else str(parsed.hostname),
            query.get("secure", "true").lower() == "true",
        )
        public = urllib.parse.urlsplit(query["public_url"]) if query.get("public_url") else None
        signer = connect(public.netloc, public.scheme == "https") if public else None
        return cls(client, signer=signer)

    async def _bucket(self, bucket: str) -> str:
        if bucket not in self._ready:
            exists = await asyncio.to_thread(self._client.bucket_exists, bucket)
            if not exists:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self._client.make_bucket, bucket)
            self._ready.add(bucket)
        return bucket

    async def put_file(self, bucket: str, key: str, source: Path, *, move: bool = False) -> None:
        name = await self._bucket(bucket)
        await asyncio.to_thread(
            self._client.fput_object, name, check_key(key), str(source), part_size=self.PART_SIZE
        )
        if move:
            await asyncio.to_thread(source.unlink, missing_ok=True)

    async def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        import io

        name = await self._bucket(bucket)
        await asyncio.to_thread(
            self._client.put_object, name, check_key(key), io.BytesIO(data), len(data)
        )

    async def read(
        self, bucket: str, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        from minio.error import S3Error

        name = await self._bucket(bucket)
        length = 0 if end is None else max(end - start, 0)
        if end is not None and length == 0:
            return
        try:
            response = await asyncio.to_thread(
                self._client.get_object, name, check_key(key), offset=start, length=length
            )
        except S3Error as error:
            if error.code in ("NoSuchKey", "NoSuchBucket", "InvalidRange"):
                raise BlobNotFound(key) from None
            raise
        try:
            while True:
                chunk = await asyncio.to_thread(response.read, READ_CHUNK)
                if not chunk:
                    return
                yield chunk
        finally:
            response.close()
            response.release_conn()

    def presigned_url(self, bucket: str, key: str, ttl: timedelta) -> str | None:
        return _presign(self._signer, bucket, key, ttl)

    async def media_url(self, bucket: str, key: str, ttl: timedelta) -> str:
        # For our own ffmpeg: the internal endpoint, not the one viewers are sent to.
        if await self.stat(bucket, key) is None:
            raise BlobNotFound(key)
        return _presign(self._client, bucket, key, ttl)

    async def fetch_to(self, bucket: str, key: str, target: Path) -> Path:
        from minio.error import S3Error

        name = await self._bucket(bucket)
        try:
            await asyncio.to_thread(self._client.fget_object, name, check_key(key), str(target))
        except S3Error as error:
            if error.code in ("NoSuchKey", "NoSuchBucket"):
                raise BlobNotFound(key) from None
            raise
        return target

    async def stat(self, bucket: str, key: str) -> BlobInfo | None:
        from minio.error import S3Error

        name = await self._bucket(bucket)
        try:
            found = await asyncio.to_thread(self._client.stat_object, name, check_key(key))
        except S3Error as error:
            if error.code in ("NoSuchKey", "NoSuchBucket", "NoSuchObject"):
                return None
            raise
        return BlobInfo(
            key=key,
            size=int(found.size or 0),
            etag=str(found.etag or "").strip('"'),
            modified=found.last_modified,
        )

    async def list(self, bucket: str, prefix: str) -> list[BlobInfo]:
        name = await self._bucket(bucket)

        def collect() -> list[BlobInfo]:
            objects = self._client.list_objects(name, prefix=prefix, recursive=True)
            return [
                BlobInfo(
                    key=o.object_name, size=int(o.size or 0), etag=str(o.etag or "").strip('"')
                )
                for o in objects
            ]

        return sorted(await asyncio.to_thread(collect), key=lambda info: info.key)

    async def delete(self, bucket: str, key: str) -> None:
        name = await self._bucket(bucket)
        await asyncio.to_thread(self._client.remove_object, name, check_key(key))


def _presign(client: Any, bucket: str, key: str, ttl: timedelta) -> str:
    """A presigned GET URL: local arithmetic (the region is configured), no request."""
    url: str = client.presigned_get_object(bucket, check_key(key), expires=ttl)
    return url


def open_store(url: str) -> BlobStore:
    """The store named by a `VIDMESH_STORAGE_URL`."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "file":
        return FileBlobStore(Path(urllib.parse.unquote(parsed.netloc + parsed.path)))
    if parsed.scheme in ("s3", "s3+http", "s3+https"):
        return S3BlobStore.from_url(url)
    raise ValueError(f"unsupported storage URL scheme: {parsed.scheme!r}")
