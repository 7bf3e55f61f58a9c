"""Debian's nginx as the shared cache in front of Vidmesh, or as a plain file server (bench).

`CACHE_LOCATION` is the `location /hls/` block docs/delivery.md tells operators to use; tests
put exactly this in front of Envoy, so the documented setup is the tested one. It obeys
playback's Cache-Control: segments of public videos are kept for good, their playlists and
posters for their `max-age`, and nothing `private` or `no-store` (signed URLs, refusals) is
ever stored. The cache key includes the query, so a signed URL could never serve another viewer
even if it were stored. There is deliberately no `proxy_cache_background_update`: with it, an
expired playlist whose refetch is refused (a video made private: 403, never stored) would be
served stale forever.
"""

from __future__ import annotations

import os
import pwd
import shutil
from collections.abc import Mapping
from pathlib import Path

from vidmesh.devstack.process import ManagedProcess, ServerProcess, StartupError, port_open

CACHE_LOCATION = """\
location /hls/ {
    proxy_pass http://vidmesh_edge;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_cache vidmesh_hls;
    proxy_cache_key $scheme$host$request_uri;
    proxy_cache_lock on;
    proxy_cache_revalidate on;
    proxy_cache_use_stale error timeout updating http_502 http_503 http_504;
    add_header X-Cache-Status $upstream_cache_status always;
}
"""


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in text.splitlines(True))


class Nginx(ServerProcess):
    """nginx on loopback with its whole prefix (config, temp files, cache, logs) in `work_dir`.

    With `upstream_port` it is the shared cache of `CACHE_LOCATION` in front of that port
    (everything else is passed through uncached); `static` maps URL prefixes to folders served
    as files.
    """

    def __init__(
        self,
        work_dir: Path,
        port: int,
        *,
        upstream_port: int | None = None,
        static: Mapping[str, Path] | None = None,
    ) -> None:
        binary = shutil.which("nginx") or (
            "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
        )
        if binary is None:
            raise StartupError("nginx is needed: apt-get install nginx")
        self.work_dir = work_dir.resolve()
        self.port = port
        self._upstream_port = upstream_port
        self._static = dict(static or {})
        self.config_path = self.work_dir / "nginx.conf"
        self._process = ManagedProcess(
            "nginx",
            [
                binary,
                "-p",
                str(self.work_dir),
                "-e",
                str(self.work_dir / "error.log"),
                "-c",
                str(self.config_path),
                "-g",
                "daemon off;",
            ],
            log_path=self.work_dir / "nginx.log",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def render(self) -> str:
        """The whole nginx.conf."""
        locations = [
            f"location {prefix} {{ alias {folder}/; }}\n" for prefix, folder in self._static.items()
        ]
        upstream = ""
        if self._upstream_port is not None:
            upstream = (
                f"proxy_cache_path {self.work_dir / 'cache'} levels=1:2 keys_zone=vidmesh_hls:10m"
                " max_size=1g inactive=7d use_temp_path=off;\n"
                "upstream vidmesh_edge {\n"
                f"    server 127.0.0.1:{self._upstream_port};\n"
                "    keepalive 32;\n"
                "}\n"
            )
            locations += [
                CACHE_LOCATION,
                "location / { proxy_pass http://vidmesh_edge; proxy_set_header Host $host; }\n",
            ]
        server = "".join(locations)
        temp = self.work_dir / "temp"
        return f"""\
worker_processes 2;
pid {self.work_dir / "nginx.pid"};
error_log {self.work_dir / "error.log"} warn;
{"user " + pwd.getpwuid(os.getuid()).pw_name + ";" if os.getuid() == 0 else ""}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    types {{
        video/mp2t ts;
        application/vnd.apple.mpegurl m3u8;
        image/jpeg jpg;
    }}
{_indent(upstream, 4)}    server {{
        listen 127.0.0.1:{self.port};
{_indent(server, 8)}    }}
}}
"""

    start_timeout = 30.0

    def launch(self) -> None:
        (self.work_dir / "temp").mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.render())
        self._process.start()

    def ready(self) -> bool:
        return port_open(self.port)

    def stop(self) -> None:
        self._process.stop()
