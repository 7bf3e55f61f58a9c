"""Which videos play without a token, asked of gateway once per video every few seconds.

Tokenless HLS requests of a public video arrive by the hundred per viewer; asking gateway for
each would tie delivery to the database. The answer (public or not, and where the ladder is)
is remembered for `check_seconds`, so a video made private or deleted stops playing from bare
URLs at the origin within that time. Concurrent misses for one video share one call, and the
memory is bounded. When gateway cannot be reached, a remembered answer keeps being used (a
video that was public stays playable through an outage) and an unknown one is UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass

from vidmesh.common.channels import ServiceCredential, remote_errors
from vidmesh.common.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from vidmesh.v1 import video_state_pb2, video_state_pb2_grpc


@dataclass(frozen=True, slots=True)
class PublicMedia:
    """Where a public video's ladder is, and whether it is still being transcoded."""

    media_prefix: str
    live: bool


@dataclass(frozen=True, slots=True)
class _Answer:
    ladder: PublicMedia | None
    checked: float


class PublicVideos:
    """A short-lived memory of gateway's answer to "may anyone play this video?"."""

    MAX_ENTRIES = 50_000

    def __init__(
        self,
        states: video_state_pb2_grpc.VideoStateServiceAsyncStub,
        credential: ServiceCredential,
        *,
        check_seconds: float,
    ) -> None:
        self._states = states
        self._credential = credential
        self._check_seconds = check_seconds
        self._answers: OrderedDict[str, _Answer] = OrderedDict()
        self._asking: dict[str, asyncio.Future[PublicMedia | None]] = {}

    async def ladder(self, video_id: str) -> PublicMedia | None:
        """The ladder of a public, playable video; None for any other id."""
        known = self._answers.get(video_id)
        if known is not None and time.monotonic() - known.checked < self._check_seconds:
            return known.ladder
        asking = self._asking.get(video_id)
        if asking is None:
            asking = asyncio.ensure_future(self._ask(video_id, known))
            self._asking[video_id] = asking
            asking.add_done_callback(lambda _: self._asking.pop(video_id, None))
        return await asyncio.shield(asking)

    async def _ask(self, video_id: str, known: _Answer | None) -> PublicMedia | None:
        try:
            with remote_errors():
                granted = await self._states.AuthorizePlayback(
                    video_state_pb2.AuthorizePlaybackRequest(video_id=video_id),
                    metadata=self._credential.metadata(),
                )
        except (NotFound, FailedPrecondition, InvalidArgument):
            ladder = None
        except Unavailable:
            if known is None:
                raise
            return known.ladder
        else:
            ladder = (
                PublicMedia(media_prefix=granted.media_prefix, live=granted.HasField("live"))
                if granted.public
                else None
            )
        self._remember(video_id, ladder)
        return ladder

    def _remember(self, video_id: str, ladder: PublicMedia | None) -> None:
        self._answers[video_id] = _Answer(ladder=ladder, checked=time.monotonic())
        self._answers.move_to_end(video_id)
        while len(self._answers) > self.MAX_ENTRIES:
            self._answers.popitem(last=False)
