"""Serve the built web app (`web/dist`) for the local stack; Envoy routes `/` here.

Hashed assets under `/assets/` are immutable; `index.html` is never cached, so a rebuilt app is
picked up on the next page load. Any other path without a file extension is a page of the app's
client-side router and gets `index.html`; a missing file with an extension is a plain 404, so a
broken asset link shows up as one instead of as HTML parsed as JavaScript.

    python -m vidmesh.cli.webapp --root web/dist --port 8090
"""

from __future__ import annotations

import argparse
from pathlib import Path, PurePosixPath

from aiohttp import web

from vidmesh.common.http import edge_middleware
from vidmesh.common.logs import configure_logging

IMMUTABLE = "public, max-age=31536000, immutable"


def _resolve(root: Path, path: str) -> Path | None:
    """The file under `root` that `path` names, or None (traversal included)."""
    parts = PurePosixPath(path).parts
    if any(part in ("..", ".") or "\\" in part for part in parts):
        return None
    candidate = (root / PurePosixPath(*parts)) if parts else root
    try:
        candidate.resolve().relative_to(root)
    except ValueError:
        return None
    return candidate if candidate.is_file() else None


def build_app(root: Path) -> web.Application:
    root = root.resolve()
    index = root / "index.html"

    async def serve(request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        found = _resolve(root, path) if path else None
        if found is not None and found != index:
            cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
            return web.FileResponse(found, headers={"Cache-Control": cache})
        if PurePosixPath(path).suffix and found is None:
            raise web.HTTPNotFound(text="Not found.\n")
        return web.FileResponse(index, headers={"Cache-Control": "no-cache"})

    app = web.Application(middlewares=[edge_middleware(None, "web")])
    app.router.add_get("/{path:.*}", serve)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    if not (args.root / "index.html").is_file():
        raise SystemExit(f"{args.root}/index.html is missing: build the app (make web)")
    configure_logging("web")
    web.run_app(build_app(args.root), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
