"""Posters an owner chooses (PlaybackService.SetPoster): an uploaded image or a frame of the
video, stored beside the ladder as `poster-<hash>.jpg` and recorded with gateway.

An uploaded file is never served as it is: Pillow reads its header first and refuses anything
but a JPEG, PNG or WebP picture of sane dimensions (so a decompression bomb is refused before a
pixel is decoded), decodes it, and a fresh JPEG is encoded from the pixels alone; metadata, ICC
tricks and whatever a polyglot hides after the picture are gone. A frame is taken by ffmpeg from
the top rung's segment that holds the time, then goes through the same encoder.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import tempfile
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from vidmesh.common.errors import FailedPrecondition, InvalidArgument
from vidmesh.common.hls_playlists import first_variant, segment_durations, segment_uris
from vidmesh.common.layout import MASTER_PLAYLIST, custom_poster, hls_key
from vidmesh.common.media import run_ffmpeg_once
from vidmesh.common.storage import MEDIA, BlobNotFound, BlobStore, check_key

MAX_BYTES = 2 * 1024 * 1024  # as YouTube; and well inside Envoy's and gRPC's 4 MiB
MAX_SIDE = 8192
MAX_PIXELS = 40_000_000
POSTER_BOX = (1920, 1080)
FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
FRAME_TIMEOUT_SECONDS = 60.0


def _invalid(reason: str, message: str) -> InvalidArgument:
    return InvalidArgument(reason, message, field="image")


def reencode(data: bytes) -> bytes:
    """A clean JPEG of the picture in `data`, at most 1920x1080; INVALID_ARGUMENT otherwise."""
    if len(data) > MAX_BYTES:
        raise _invalid("IMAGE_TOO_LARGE", f"Poster images are {MAX_BYTES} bytes at most.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data), formats=sorted(FORMATS))
            width, height = picture.size
            if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
                raise _invalid(
                    "IMAGE_TOO_LARGE", f"Poster images are {MAX_SIDE} pixels a side at most."
                )
            picture.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _invalid(
            "IMAGE_TOO_LARGE", f"Poster images are {MAX_SIDE} pixels a side at most."
        ) from None
    except UnidentifiedImageError:
        raise _invalid("INVALID_IMAGE", "This is not a JPEG, PNG or WebP picture.") from None
    except (OSError, ValueError, SyntaxError):
        raise _invalid("INVALID_IMAGE", "The picture is damaged.") from None
    clean = picture.convert("RGB")
    clean.thumbnail(POSTER_BOX)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


class Posters:
    def __init__(self, store: BlobStore, work_dir: Path) -> None:
        self._store = store
        self._work_dir = work_dir

    async def store(self, prefix: str, jpeg: bytes) -> str:
        """Store a clean JPEG beside the ladder; its name, relative to the prefix."""
        name = custom_poster(hashlib.sha256(jpeg).hexdigest())
        await self._store.put_bytes(MEDIA, check_key(f"{prefix}/{name}"), jpeg)
        return name

    async def frame(self, prefix: str, at: float) -> bytes:
        """The frame at `at` seconds of the ladder's top rung, as a clean JPEG."""
        try:
            return await self._frame(prefix, at)
        except BlobNotFound:
            raise FailedPrecondition(
                "LADDER_MISSING", "The video's renditions are missing from storage."
            ) from None

    async def _frame(self, prefix: str, at: float) -> bytes:
        master = (await self._store.read_all(MEDIA, hls_key(prefix, MASTER_PLAYLIST))).decode()
        variant_path = first_variant(master)
        if variant_path is None:
            raise _invalid("INVALID_TIME", "The video has no picture to take a frame from.")
        variant = (await self._store.read_all(MEDIA, hls_key(prefix, variant_path))).decode()
        durations = segment_durations(variant)
        start = 0.0
        for uri, length in zip(segment_uris(variant), durations, strict=False):
            if at < start + length:
                folder = variant_path.rsplit("/", 1)[0]
                segment = await self._store.read_all(MEDIA, hls_key(prefix, f"{folder}/{uri}"))
                return reencode(await self._grab(segment, at - start))
            start += length
        raise _invalid("INVALID_TIME", f"The video is {start:.3f} seconds long.")

    async def _grab(self, segment: bytes, offset: float) -> bytes:
        self._work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self._work_dir, prefix="poster-") as folder:
            source, target = Path(folder) / "segment.ts", Path(folder) / "frame.png"
            source.write_bytes(segment)
            # Decode from the segment's start (a few seconds at most): exact, and no seek in a
            # transport stream without an index.
            argv = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(source), "-ss", f"{offset:.3f}"]
            argv += ["-frames:v", "1", str(target)]
            async with asyncio.timeout(FRAME_TIMEOUT_SECONDS):
                await run_ffmpeg_once(argv, what="frame")
            if not target.exists():
                raise OSError(f"ffmpeg made no frame at {offset:.3f} s")
            return target.read_bytes()
