"""Applies gateway's Alembic migrations at start-up (gateway is the only owner of tables)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from vidmesh.common.local.process import StartupError


def migrations_dir() -> Path:
    """Bundled in the wheel next to this module, or `services/gateway/migrations` in a checkout."""
    here = Path(__file__).resolve()
    for candidate in (here.parent / "migrations", here.parents[3] / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise StartupError("gateway migrations not found")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    url = make_url(database_url).set(drivername="postgresql+psycopg")
    config.set_main_option(
        "sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


async def upgrade_to_head(database_url: str) -> None:
    """Bring the schema up to date; runs in a thread because Alembic's env starts its own loop."""
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "head")
