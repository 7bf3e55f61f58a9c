"""The supervisor of `vidmesh up`: crashed processes come back, crash loops stop the stack."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vidmesh.cli.supervisor import CrashLoop, Supervised, Supervisor
from vidmesh.devstack.process import ManagedProcess


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def crashing(tmp_path: Path, code: str) -> tuple[ManagedProcess, Supervised]:
    process = ManagedProcess(
        "worker", [sys.executable, "-c", code], log_path=tmp_path / "worker.log"
    )

    def start() -> None:
        process.start()

    return process, Supervised("worker", start, process.stop, process.running, process.log_path)


def exited(process: ManagedProcess) -> None:
    assert process.process is not None
    process.process.wait(10)


def test_a_crashed_process_is_restarted_with_growing_delays(tmp_path: Path) -> None:
    clock, said = Clock(), list[str]()
    supervisor = Supervisor(clock=clock, say=said.append)
    process, unit = crashing(tmp_path, "import time; time.sleep(30)")
    supervisor.add(unit)
    unit.start()
    first = process.pid
    process.kill()
    supervisor.check()
    assert process.running() and process.pid != first
    assert said == ["worker exited; restarting it (crash 1) …", "worker is back"]
    process.kill()
    supervisor.check()  # the second restart waits for its delay
    assert not process.running()
    clock.now += 1.0
    supervisor.check()
    assert process.running()
    process.stop()


def test_a_process_that_keeps_crashing_stops_the_stack_with_its_log(tmp_path: Path) -> None:
    clock = Clock()
    supervisor = Supervisor(clock=clock, say=lambda line: None, max_restarts=5, window=60)
    process, unit = crashing(tmp_path, "print('config is broken: no such table'); exit(3)")
    supervisor.add(unit)
    unit.start()
    for _ in range(5):
        exited(process)
        supervisor.check()  # restarts it
        clock.now += 10.0
    exited(process)
    with pytest.raises(CrashLoop) as caught:
        supervisor.check()
    message = str(caught.value)
    assert message.startswith("worker crashed 6 times within 60s")
    assert "config is broken: no such table" in message


def test_crashes_long_ago_are_forgiven(tmp_path: Path) -> None:
    clock = Clock()
    supervisor = Supervisor(clock=clock, say=lambda line: None, max_restarts=2, window=60)
    process, unit = crashing(tmp_path, "exit(1)")
    supervisor.add(unit)
    unit.start()
    for _ in range(6):
        exited(process)
        supervisor.check()  # never raises: each crash is a minute after the last
        clock.now += 61.0
    exited(process)
