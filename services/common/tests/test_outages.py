"""Outages told apart from bugs, and reports retried through them (no network)."""

from __future__ import annotations

import asyncio

import psycopg
import psycopg.errors
import pytest
from nats.errors import ConnectionReconnectingError, NoServersError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from vidmesh.common.errors import InvalidArgument, Unavailable
from vidmesh.common.outages import as_outage, periodically, until_acknowledged


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OperationalError("SELECT 1", {}, psycopg.OperationalError("refused")), "DATABASE"),
        (psycopg.errors.AdminShutdown("terminating connection"), "DATABASE"),
        (psycopg.errors.CannotConnectNow("the database system is starting up"), "DATABASE"),
        (
            DBAPIError("UPDATE", {}, psycopg.errors.ReadOnlySqlTransaction("read-only")),
            "DATABASE",
        ),
        (NoServersError(), "QUEUE"),
        (ConnectionReconnectingError(), "QUEUE"),
    ],
)
def test_outages_are_unavailable_with_a_retry_hint(error: Exception, reason: str) -> None:
    outage = as_outage(error)
    assert outage is not None
    assert outage.reason == f"{reason}_UNAVAILABLE"
    assert outage.retry_after_seconds is not None
    assert outage.retry_after_seconds > 0
    assert "SELECT" not in outage.message
    assert "UPDATE" not in outage.message


@pytest.mark.parametrize(
    "error",
    [
        ValueError("a bug"),
        KeyError("video_id"),
        IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")),
        DBAPIError("SELECT", {}, psycopg.errors.DataError("cannot contain NUL")),
    ],
)
def test_bugs_and_bad_data_are_not_outages(error: Exception) -> None:
    assert as_outage(error) is None


async def test_a_report_is_repeated_until_it_is_heard() -> None:
    answers: list[Exception | str] = [
        Unavailable("DEPENDENCY_FAILED", "away"),
        Unavailable("DEPENDENCY_FAILED", "still away"),
        "recorded",
    ]

    async def report() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await until_acknowledged(report, what="a report", first_delay=0.001) == "recorded"
    assert answers == []


async def test_a_refusal_is_not_retried_and_a_deadline_gives_up() -> None:
    calls = 0

    async def refused() -> None:
        nonlocal calls
        calls += 1
        raise InvalidArgument("BAD", "no")

    with pytest.raises(InvalidArgument):
        await until_acknowledged(refused, what="a report", first_delay=0.001)
    assert calls == 1

    async def away() -> None:
        raise Unavailable("DEPENDENCY_FAILED", "away")

    with pytest.raises(Unavailable):
        await until_acknowledged(away, what="a report", first_delay=0.01, deadline=0.05)


async def test_a_background_loop_survives_outages_and_bugs() -> None:
    seen: list[str] = []
    done = asyncio.Event()
    failures: list[Exception] = [Unavailable("DATABASE_UNAVAILABLE", "away"), ValueError("bug")]

    async def step() -> None:
        if failures:
            seen.append("failed")
            raise failures.pop(0)
        seen.append("ran")
        done.set()

    stop = asyncio.Event()
    loop = asyncio.create_task(periodically(step, 0.001, "test loop", stop))
    await asyncio.wait_for(done.wait(), 5)
    stop.set()
    await asyncio.wait_for(loop, 5)
    assert seen[:3] == ["failed", "failed", "ran"]
