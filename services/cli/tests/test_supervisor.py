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

    return process, Supervised(
        "worker", process.start, process.running, process.stop, process.running, process.log_path
    )


def exited(process: ManagedProcess) -> None:
    assert process.process is not None
    process.process.wait(10)


def test_a_crashed_process_is_restarted_with_growing_delays(tmp_path: Path) -> None:
    clock, said = Clock(), list[str]()
    supervisor = Supervisor(clock=clock, say=said.append)
    process, unit = crashing(tmp_path, "import time; time.sleep(30)")
    supervisor.add(unit)
    unit.launch()
    first = process.pid
    process.kill()
    supervisor.check()
    assert process.running()
    assert process.pid != first
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
    unit.launch()
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
    unit.launch()
    for _ in range(6):
        exited(process)
        supervisor.check()  # never raises: each crash is a minute after the last
        clock.now += 61.0
    exited(process)


def test_a_restart_does_not_wait_for_the_process_to_serve(tmp_path: Path) -> None:
    """A gateway waiting for its database must not keep the database from being restarted:
    both are relaunched in one check, and each is reported back once it serves."""
    said = list[str]()
    supervisor = Supervisor(say=said.append)
    serving = {"gateway": False, "database": False}
    processes = {}
    for name in serving:
        process = ManagedProcess(
            name, [sys.executable, "-c", "import time; time.sleep(30)"], log_path=tmp_path / name
        )
        processes[name] = process
        supervisor.add(
            Supervised(
                name,
                process.start,
                lambda name=name: serving[name],  # type: ignore[misc]
                process.stop,
                process.running,
            )
        )
        process.start()
    for process in processes.values():
        process.kill()
    supervisor.check()
    assert all(process.running() for process in processes.values())
    assert not [line for line in said if line.endswith("is back")]
    serving["database"] = True
    supervisor.check()
    assert said[-1] == "database is back"
    serving["gateway"] = True
    supervisor.check()
    supervisor.check()
    assert said[-1] == "gateway is back"
    assert said.count("gateway is back") == 1
    for process in processes.values():
        process.stop()
