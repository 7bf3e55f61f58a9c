"""Who the CLI is and where the platform is: addresses, tokens, saved sign-in.

`vidmesh login` keeps the refresh token in `$VIDMESH_CONFIG_DIR` (default
`~/.config/vidmesh`, mode 0600); later commands trade it for a fresh access token. CI and
scripts can instead set `VIDMESH_ACCESS_TOKEN`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import grpc

from vidmesh.common.ports import DEFAULT_PORTS, local_address
from vidmesh.v1 import auth_pb2, auth_pb2_grpc

Metadata = tuple[tuple[str, str], ...]


class CliError(Exception):
    """A problem to print to the user, without a traceback."""


def config_dir() -> Path:
    default = Path.home() / ".config" / "vidmesh"
    return Path(os.environ.get("VIDMESH_CONFIG_DIR", default))


@dataclass(frozen=True, slots=True)
class Endpoints:
    gateway: str
    ingest: str
    transcoder: str

    @classmethod
    def from_env(cls) -> Endpoints:
        return cls(
            gateway=os.environ.get("VIDMESH_GATEWAY", local_address(DEFAULT_PORTS.gateway)),
            ingest=os.environ.get("VIDMESH_INGEST", local_address(DEFAULT_PORTS.ingest)),
            transcoder=os.environ.get("VIDMESH_TRANSCODER", "127.0.0.1:50054"),
        )


def _credentials_file() -> Path:
    return config_dir() / "credentials.json"


def save_refresh_token(token: str) -> None:
    path = _credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"refresh_token": token}))


async def login(endpoints: Endpoints, email: str, password: str) -> auth_pb2.User:
    async with grpc.aio.insecure_channel(endpoints.gateway) as channel:
        response = await auth_pb2_grpc.AuthServiceStub(channel).Login(
            auth_pb2.LoginRequest(email=email, password=password)
        )
    save_refresh_token(response.credentials.refresh_token)
    return response.user


async def auth_metadata(endpoints: Endpoints) -> Metadata:
    """`authorization` metadata from VIDMESH_ACCESS_TOKEN or the saved sign-in."""
    token = os.environ.get("VIDMESH_ACCESS_TOKEN")
    if not token:
        try:
            saved = json.loads(_credentials_file().read_text())["refresh_token"]
        except (OSError, ValueError, KeyError):
            raise CliError("not signed in: run 'vidmesh login --email you@example.com'") from None
        async with grpc.aio.insecure_channel(endpoints.gateway) as channel:
            try:
                response = await auth_pb2_grpc.AuthServiceStub(channel).RefreshToken(
                    auth_pb2.RefreshTokenRequest(refresh_token=saved)
                )
            except grpc.aio.AioRpcError as error:
                raise CliError(f"sign-in expired ({error.details()}): log in again") from None
        save_refresh_token(response.credentials.refresh_token)
        token = response.credentials.access_token
    return (("authorization", f"Bearer {token}"),)
