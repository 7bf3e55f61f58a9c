"""Async SQLAlchemy engine and session factory, built in `main()` and injected, never global."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


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
