"""Async SQLAlchemy engine and session factory, built in `main()` and injected, never global;
and which database errors mean "the database is away" (the `database` extra)."""

from __future__ import annotations

import psycopg
import psycopg.errors
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from vidmesh.common.errors import Unavailable
from vidmesh.common.outages import RETRY_AFTER_SECONDS


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An engine on psycopg 3 (async), whatever driver name the URL was written with."""
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    return create_async_engine(parsed, pool_size=pool_size, pool_pre_ping=True)


def create_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit, so results outlive the transaction."""
    return async_sessionmaker(engine, expire_on_commit=False)


def libpq_url(url: str) -> str:
    """The same database URL as plain libpq understands it (for psycopg or Alembic)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_outage(error: BaseException) -> Unavailable | None:
    """UNAVAILABLE for an error that means "the database is away", else None."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return _away("The database is briefly unavailable; try again.")
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return _away("The database connection was lost; try again.")
    # During a failover the old primary may answer as a read-only standby for a moment.
    cause = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(cause, psycopg.errors.ReadOnlySqlTransaction):
        return _away("The database is failing over; try again.")
    if isinstance(error, psycopg.OperationalError):
        return _away("The database is briefly unavailable; try again.")
    return None


def _away(message: str) -> Unavailable:
    return Unavailable("DATABASE_UNAVAILABLE", message, retry_after_seconds=RETRY_AFTER_SECONDS)
