"""Keeps the processes of `vidmesh up` running: a crashed one is restarted with backoff.

A process that exits is started again after a delay that doubles with each recent crash (from
half a second up to ten); one that crashes `max_restarts` times within `window` seconds is
broken, not unlucky, and stops the stack with its name and the tail of its log, so the cause
is on screen instead of a restart loop hiding it.

A restart only launches the process; whether it serves again is asked at each later check.
Waiting for one process there would leave every other crashed one down meanwhile: a gateway
waiting for its database must not keep the database from being restarted.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vidmesh.devstack.process import StartupError, tail


@dataclass
class Supervised:
    """One process of the stack: how to launch it (without waiting), whether it serves, how to
    stop it and whether it runs."""

    name: str
    launch: Callable[[], object]
    ready: Callable[[], bool]
    stop: Callable[[], None]
    running: Callable[[], bool]
    log_path: Path | None = None
    crashes: deque[float] = field(default_factory=deque)
    retry_at: float = 0.0
    returning: bool = False


class CrashLoop(StartupError):
    """A process kept crashing; the message names it and ends with its log."""


class Supervisor:
    def __init__(
        self,
        *,
        max_restarts: int = 5,
        window: float = 60.0,
        first_delay: float = 0.5,
        max_delay: float = 10.0,
        say: Callable[[str], None] = lambda line: print(line, flush=True),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.units: list[Supervised] = []
        self._max_restarts = max_restarts
        self._window = window
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._say = say
        self._clock = clock

    def add(self, unit: Supervised) -> None:
        self.units.append(unit)

    def check(self) -> None:
        """Restart whatever has exited and is due, and say which restarted ones serve again;
        raise `CrashLoop` for a broken one."""
        for unit in self.units:
            if not unit.running():
                self._recover(unit)
            if unit.returning and unit.running() and unit.ready():
                unit.returning = False
                self._say(f"{unit.name} is back")

    def _recover(self, unit: Supervised) -> None:
        now = self._clock()
        if now < unit.retry_at:
            return
        while unit.crashes and now - unit.crashes[0] > self._window:
            unit.crashes.popleft()
        if len(unit.crashes) >= self._max_restarts:
            log = tail(unit.log_path) if unit.log_path else "(no log)"
            raise CrashLoop(
                f"{unit.name} crashed {len(unit.crashes) + 1} times within "
                f"{self._window:.0f}s; stopping the stack. The end of its log:\n{log}"
            )
        unit.crashes.append(now)
        delay = min(self._first_delay * 2 ** (len(unit.crashes) - 1), self._max_delay)
        unit.retry_at = now + delay
        self._say(f"{unit.name} exited; restarting it (crash {len(unit.crashes)}) …")
        try:
            unit.launch()
        except StartupError as error:
            self._say(f"{unit.name} did not come back yet: {str(error).splitlines()[0]}")
            return
        unit.returning = True
