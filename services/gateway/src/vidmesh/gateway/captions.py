"""Captions: one language's cues per video, from WebVTT or SRT files (`webvtt-py` parses both;
SRT is converted), stored as a normalised WebVTT object that playback segments into an HLS
subtitle rendition.

A file is refused with a reason when it is not UTF-8, larger than 1 MiB, neither format, or
without a cue; what is stored is rebuilt from the parsed cues (timings, settings, text), never
the upload itself, so nothing but cues reaches players. Each new file is a new version with its
own object key: segment URLs stay immutable and cacheable, and a replaced file is deleted after
the row points at the new one.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from datetime import UTC, datetime

import webvtt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from webvtt.errors import MalformedFileError

from vidmesh.common.errors import AlreadyExists, InvalidArgument, NotFound
from vidmesh.common.layout import captions_key
from vidmesh.common.storage import MEDIA, BlobStore
from vidmesh.common.tokens import Principal
from vidmesh.common.validation import limit_text
from vidmesh.gateway.catalog import locked_for_owner, parse_video_id
from vidmesh.gateway.convert import timestamp
from vidmesh.gateway.models import CaptionTrack, Video
from vidmesh.v1 import video_pb2, video_state_pb2

MAX_BYTES = 1024 * 1024
LABEL_MAX = 100
# BCP 47 as players use it: a 2 to 3 letter language, then subtags (script, region, variant).
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}$")
_TIME = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})$")


def captions_not_found() -> NotFound:
    return NotFound("CAPTIONS_NOT_FOUND", "The video has no captions in that language.")


def parse_language(tag: str) -> str:
    if len(tag) > 35 or not _LANGUAGE.match(tag):
        raise InvalidArgument(
            "INVALID_LANGUAGE",
            "'language' must be a BCP 47 tag such as en, fr or pt-BR.",
            field="captions.language",
        )
    return tag


def _seconds(value: str) -> float:
    found = _TIME.match(value.strip())
    if found is None:
        raise MalformedFileError(f"bad time {value!r}")
    hours, minutes, secs, millis = found.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(secs) + int(millis) / 1000


def _clock(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def normalise(content: bytes) -> tuple[str, int]:
    """The cues of a WebVTT or SRT file as clean WebVTT, and how many there are."""
    if len(content) > MAX_BYTES:
        raise InvalidArgument(
            "CAPTIONS_TOO_LARGE", f"Caption files are {MAX_BYTES} bytes at most.", field="content"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArgument(
            "INVALID_ENCODING", "Caption files must be UTF-8 text.", field="content"
        ) from None
    if "\x00" in text:
        raise InvalidArgument("INVALID_ENCODING", "Caption files are text.", field="content")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        if text.lstrip().startswith("WEBVTT"):
            parsed = webvtt.from_string(text)
        else:
            parsed = webvtt.from_buffer(io.StringIO(text), format="srt")
        cues = []
        for caption in parsed.captions:
            start, end = _seconds(caption.start), _seconds(caption.end)
            body = caption.raw_text.strip()
            if end <= start or not body:
                continue
            settings = f" {caption.settings}" if getattr(caption, "settings", None) else ""
            # A blank line or an arrow would end or fake a cue in the rebuilt file.
            body = "\n".join(line for line in body.split("\n") if line.strip()).replace("-->", "→")
            cues.append(f"{_clock(start)} --> {_clock(end)}{settings}\n{body}")
    except (MalformedFileError, ValueError, IndexError):
        raise InvalidArgument(
            "INVALID_CAPTIONS", "This is not a WebVTT or SRT file.", field="content"
        ) from None
    if not cues:
        raise InvalidArgument("INVALID_CAPTIONS", "The file holds no cue.", field="content")
    return "WEBVTT\n\n" + "\n\n".join(cues) + "\n", len(cues)


def captions_to_proto(track: CaptionTrack) -> video_pb2.Captions:
    return video_pb2.Captions(
        language=track.language,
        label=track.label,
        is_default=track.is_default,
        cue_count=track.cue_count,
        update_time=timestamp(track.updated_at),
    )


def track_to_proto(track: CaptionTrack) -> video_state_pb2.CaptionTrack:
    return video_state_pb2.CaptionTrack(
        language=track.language,
        label=track.label,
        is_default=track.is_default,
        version=track.version,
    )


class CaptionStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], store: BlobStore) -> None:
        self._sessions = sessions
        self._store = store

    async def _owned(self, session: AsyncSession, video_id: str, principal: Principal) -> Video:
        key = parse_video_id(video_id)
        return await locked_for_owner(session, key, principal, what="change captions", admins=False)

    async def _check_owner(self, video_id: str, principal: Principal) -> None:
        async with self._sessions.begin() as session:
            await self._owned(session, video_id, principal)

    async def _write(self, video_id: str, language: str, content: bytes) -> tuple[str, int]:
        text, count = normalise(content)
        version = hashlib.sha256(text.encode()).hexdigest()[:16]
        key = captions_key(video_id, language, version)
        await self._store.put_bytes(MEDIA, key, text.encode())
        return version, count

    async def create(
        self, video_id: str, wanted: video_pb2.Captions, content: bytes, principal: Principal
    ) -> video_pb2.Captions:
        language = parse_language(wanted.language)
        label = limit_text(wanted.label, "captions.label", max_length=LABEL_MAX) or language
        await self._check_owner(video_id, principal)  # before anything is stored
        version, count = await self._write(str(parse_video_id(video_id)), language, content)
        async with self._sessions.begin() as session:
            video = await self._owned(session, video_id, principal)
            if await session.get(CaptionTrack, (video.id, language)) is not None:
                raise AlreadyExists(
                    "CAPTIONS_EXIST",
                    f"The video has {language} captions; replace them instead.",
                    field="captions.language",
                )
            if wanted.is_default:
                await _clear_default(session, video.id)
            track = CaptionTrack(
                video_id=video.id,
                language=language,
                label=label,
                is_default=wanted.is_default,
                version=version,
                cue_count=count,
                updated_at=datetime.now(UTC),
            )
            session.add(track)
        return captions_to_proto(track)

    async def update(
        self,
        video_id: str,
        language: str,
        wanted: video_pb2.Captions,
        content: bytes,
        principal: Principal,
    ) -> video_pb2.Captions:
        language = parse_language(language)
        replaced = None
        await self._check_owner(video_id, principal)  # before anything is stored
        fresh = await self._write(video_id, language, content) if content else None
        async with self._sessions.begin() as session:
            video = await self._owned(session, video_id, principal)
            track = await session.get(CaptionTrack, (video.id, language), with_for_update=True)
            if track is None:
                raise captions_not_found()
            if wanted.label:
                track.label = limit_text(wanted.label, "captions.label", max_length=LABEL_MAX)
            if wanted.is_default and not track.is_default:
                await _clear_default(session, video.id)
            track.is_default = wanted.is_default
            if fresh is not None and fresh[0] != track.version:
                replaced = track.version
                track.version, track.cue_count = fresh
            track.updated_at = datetime.now(UTC)
        if replaced is not None:
            await self._store.delete(MEDIA, captions_key(video_id, language, replaced))
        return captions_to_proto(track)

    async def delete(self, video_id: str, language: str, principal: Principal) -> None:
        language = parse_language(language)
        async with self._sessions.begin() as session:
            video = await self._owned(session, video_id, principal)
            track = await session.get(CaptionTrack, (video.id, language))
            if track is None:
                raise captions_not_found()
            version = track.version
            await session.delete(track)
        await self._store.delete(MEDIA, captions_key(video_id, language, version))

    async def tracks(self, video: Video) -> list[CaptionTrack]:
        async with self._sessions() as session:
            found = await session.scalars(
                select(CaptionTrack)
                .where(CaptionTrack.video_id == video.id)
                .order_by(CaptionTrack.language)
            )
            return list(found)


async def _clear_default(session: AsyncSession, video_id: uuid.UUID) -> None:
    await session.execute(
        update(CaptionTrack).where(CaptionTrack.video_id == video_id).values(is_default=False)
    )
