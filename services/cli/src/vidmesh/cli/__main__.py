"""The `vidmesh` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from vidmesh.cli.client import add_client_commands, run_client
from vidmesh.cli.stack import LocalStack
from vidmesh.common.ports import PORT_NAMES, Ports
from vidmesh.devstack.process import StartupError


def _port(name: str, default: int) -> int:
    return int(os.environ.get(f"VIDMESH_UP_{name.upper()}_PORT", default))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vidmesh", description="Vidmesh video platform")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run the whole platform locally (Ctrl-C stops it)")
    up.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("VIDMESH_DATA_DIR", ".vidmesh"))
    )
    defaults = Ports()
    for name in PORT_NAMES:
        flag = f"--{name.replace('_', '-')}-port"
        up.add_argument(
            flag, dest=f"{name}_port", type=int, default=_port(name, getattr(defaults, name))
        )
    up.add_argument(
        "--admin-emails",
        default=os.environ.get("VIDMESH_GATEWAY_ADMIN_EMAILS", ""),
        help="comma-separated emails that register as administrators",
    )
    up.add_argument(
        "--transcoders",
        type=int,
        default=int(os.environ.get("VIDMESH_UP_TRANSCODERS", "1")),
        help="how many transcoder workers share the chunk jobs (default 1)",
    )
    up.add_argument(
        "--playback",
        dest="playbacks",
        type=int,
        default=int(os.environ.get("VIDMESH_UP_PLAYBACK", "1")),
        help="how many playback processes share the HLS port (SO_REUSEPORT; default 1)",
    )
    up.add_argument(
        "--transcoder-cpus",
        default=os.environ.get("VIDMESH_UP_TRANSCODER_CPUS", ""),
        help="comma-separated CPUs to pin the transcoders to, one each (e.g. 0,1)",
    )
    add_client_commands(commands)
    return parser


def run_up(args: argparse.Namespace) -> int:
    ports = Ports(**{name: getattr(args, f"{name}_port") for name in PORT_NAMES})
    cpus = tuple(int(cpu) for cpu in args.transcoder_cpus.split(",") if cpu.strip())
    for flag, count in (("--transcoders", args.transcoders), ("--playback", args.playbacks)):
        if count < 1:
            print(f"vidmesh up: {flag} must be at least 1", file=sys.stderr)
            return 2
    stack = LocalStack(
        args.data_dir,
        ports,
        admin_emails=args.admin_emails,
        transcoders=args.transcoders,
        transcoder_cpus=cpus,
        playbacks=args.playbacks,
    )
    print(f"Vidmesh: starting the local stack (data in {stack.data_dir})", flush=True)
    with stack.signals_handled():
        try:
            stack.start()
            print(
                f"\nVidmesh is up: http://localhost:{ports.http}\n"
                f"  REST   curl http://localhost:{ports.http}/v1/videos\n"
                f"  gRPC   grpcurl -plaintext 127.0.0.1:{ports.gateway} list\n"
                f"  metrics curl localhost:{ports.gateway_metrics}/metrics (gateway; ingest "
                f"{ports.ingest_metrics}, playback {ports.playback_metrics}, transcoder "
                f"{ports.transcoder_metrics}, Envoy {ports.envoy_admin}/stats/prometheus)\n"
                f"  logs   {stack.data_dir / 'logs'}\n"
                "Press Ctrl-C to stop.",
                flush=True,
            )
            stack.wait()
        except StartupError as error:
            if not stack.stopping:
                print(f"vidmesh up failed: {error}", file=sys.stderr, flush=True)
                return 1
        finally:
            print("Stopping …", flush=True)
            stack.stop()
            print("Stopped.", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "up":
        return run_up(args)
    return asyncio.run(run_client(args))


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
