"""Applies gateway's Alembic migrations at start-up (gateway is the only owner of tables).

The database may be away when gateway starts: a restarted PostgreSQL spends seconds to minutes
in crash recovery, and a container orchestrator starts everything at once. Gateway then waits
for it (one warning line, backoff) instead of exiting, which would only turn a database outage
into a crash loop; it does not serve until the schema is current.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from vidmesh.common.outages import outages_as_unavailable, until_acknowledged


def migrations_dir() -> Path:
    """Bundled in the wheel next to this module, or `services/gateway/migrations` in a checkout."""
    here = Path(__file__).resolve()
    for candidate in (here.parent / "migrations", here.parents[3] / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("gateway migrations not found (env.py next to the module)")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    url = make_url(database_url).set(drivername="postgresql+psycopg")
    config.set_main_option(
        "sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


async def upgrade_to_head(database_url: str, *, wait_seconds: float | None = None) -> None:
    """Bring the schema up to date, waiting up to `wait_seconds` (None: forever) for the
    database to accept connections; Alembic runs in a thread because its env starts a loop."""
    config = alembic_config(database_url)

    async def attempt() -> None:
        with outages_as_unavailable():
            await asyncio.to_thread(command.upgrade, config, "head")

    await until_acknowledged(
        attempt, what="database migration", max_delay=2.0, deadline=wait_seconds
    )
