"""The local static server for the built web app: caching, client-side routes, no escapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from vidmesh.cli.webapp import IMMUTABLE, build_app

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>app</title>")
    (root / "assets" / "index-abc123.js").write_text("console.log(1)")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside")
    async with TestClient(TestServer(build_app(root))) as test_client:
        yield test_client


async def test_hashed_assets_are_immutable_and_the_page_is_not(
    client: Client,
) -> None:
    asset = await client.get("/assets/index-abc123.js")
    assert asset.status == 200
    assert asset.headers["Cache-Control"] == IMMUTABLE
    assert "javascript" in asset.headers["Content-Type"]
    page = await client.get("/")
    assert page.status == 200
    assert page.headers["Cache-Control"] == "no-cache"
    assert "<title>app</title>" in await page.text()
    icon = await client.get("/favicon.svg")
    assert (icon.status, icon.headers["Cache-Control"]) == (200, "no-cache")


async def test_app_routes_get_the_page_and_missing_files_get_404(
    client: Client,
) -> None:
    for route in ("/watch/0b7c", "/me/videos", "/signin?next=/upload"):
        page = await client.get(route)
        assert page.status == 200, route
        assert "<title>app</title>" in await page.text()
    missing = await client.get("/assets/gone-123.js")
    assert missing.status == 404


@pytest.mark.parametrize(
    "path", ["/../secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"]
)
async def test_nothing_outside_the_root_is_served(client: Client, path: str) -> None:
    response = await client.get(path)
    assert "outside" not in await response.text()
    assert response.status in (200, 404)
