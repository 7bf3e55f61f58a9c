"""Running ffmpeg as an asyncio subprocess: progress out, stalls killed, errors kept short, each
run a span of the task's trace (with its media duration, so slow encodes stand out)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence

from vidmesh.common.tracing import child_span


class FfmpegFailed(Exception):
    """ffmpeg exited non-zero; `detail` is the end of its error output."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class FfmpegStalled(Exception):
    """ffmpeg made no progress for too long and was killed."""


ProgressCallback = Callable[[float], Awaitable[None]]


async def run_ffmpeg(
    argv: Sequence[str],
    *,
    duration: float = 0.0,
    on_progress: ProgressCallback | None = None,
    stall_seconds: float = 60.0,
) -> None:
    """Run to completion; report percent done from `-progress` lines; kill a stalled run."""
    with child_span("ffmpeg", {"vidmesh.media_seconds": duration}):
        await _run(argv, duration, on_progress, stall_seconds)


async def _run(
    argv: Sequence[str],
    duration: float,
    on_progress: ProgressCallback | None,
    stall_seconds: float,
) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    errors = asyncio.ensure_future(process.stderr.read())
    last_position = -1.0
    last_advance = time.monotonic()
    try:
        while True:
            remaining = stall_seconds - (time.monotonic() - last_advance)
            try:
                line = await asyncio.wait_for(process.stdout.readline(), max(remaining, 0.01))
            except TimeoutError:
                raise FfmpegStalled(f"no progress for {stall_seconds:.0f}s") from None
            if not line:
                break
            key, _, value = line.decode(errors="replace").strip().partition("=")
            if key != "out_time_us" or not value.lstrip("-").isdigit():
                continue
            position = int(value) / 1e6
            if position > last_position:
                last_position, last_advance = position, time.monotonic()
                if on_progress is not None and duration > 0:
                    await on_progress(min(99.0, max(0.0, 100.0 * position / duration)))
        code = await process.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    finally:
        detail = (await errors).decode(errors="replace").strip()
    if code != 0:
        raise FfmpegFailed(detail[-800:] or f"ffmpeg exited with {code}")
