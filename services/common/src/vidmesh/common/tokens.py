"""Signed, short-lived tokens: user access tokens and the internal service credential.

Both are HS256 JWTs signed with `VIDMESH_JWT_SECRET`; they carry different audiences so a user
token can never pass for a service credential. Playback tokens (bound to one video and viewer)
ride in URLs that outlive a key change, so they are signed with their own named keys
(`VIDMESH_PLAYBACK_SIGNING_KEYS`, the key id in the JWT's `kid` header): the first key signs and
every listed key verifies, which lets operators rotate without breaking playback in progress.
"""

from __future__ import annotations

import enum
import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from vidmesh.common.config import CommonSettings
from vidmesh.common.errors import Unauthenticated

USER_AUDIENCE = "vidmesh"
SERVICE_AUDIENCE = "vidmesh-internal"
PLAYBACK_AUDIENCE = "vidmesh-playback"
_ALGORITHM = "HS256"
_LEEWAY = timedelta(seconds=5)


DEFAULT_PLAYBACK_KEY = "primary"
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def parse_signing_keys(text: str) -> list[tuple[str, str]]:
    """`id=secret,id=secret` as (id, secret) pairs, first the signing key; empty for none."""
    keys: list[tuple[str, str]] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, _, secret = item.partition("=")
        if not _KEY_ID.fullmatch(key_id) or len(secret) < 32:
            raise ValueError(
                "each playback signing key must be `id=secret` with an id of letters, digits, "
                "'.', '_' or '-' and a secret of at least 32 characters"
            )
        if any(key_id == known for known, _ in keys):
            raise ValueError(f"playback signing key id {key_id!r} is listed twice")
        keys.append((key_id, secret))
    return keys


class Role(enum.StrEnum):
    """What a principal may do."""

    USER = "user"
    ADMIN = "admin"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (`subject` is the user id) or a service (`subject` its name)."""

    subject: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_service(self) -> bool:
        return self.role is Role.SERVICE


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A signed token and when it expires."""

    token: str
    expire_time: datetime


class TokenCodec:
    """Issues and verifies the platform's JWTs."""

    @classmethod
    def from_settings(cls, settings: CommonSettings) -> TokenCodec:
        """The codec every service builds from `VIDMESH_JWT_*` and the playback keys."""
        return cls(
            settings.jwt_secret.get_secret_value(),
            issuer=settings.jwt_issuer,
            access_ttl=timedelta(seconds=settings.jwt_access_ttl_seconds),
            playback_keys=parse_signing_keys(settings.playback_signing_keys.get_secret_value()),
        )

    def __init__(
        self,
        secret: str,
        *,
        issuer: str,
        access_ttl: timedelta,
        playback_keys: Sequence[tuple[str, str]] = (),
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the JWT secret must be at least 32 characters")
        self._secret = secret
        self._issuer = issuer
        self._access_ttl = access_ttl
        keys = list(playback_keys) or [(DEFAULT_PLAYBACK_KEY, secret)]
        self._signing_key = keys[0]
        self._playback_keys = dict(keys)
        # Playback tokens already verified: token -> (video id, prefix, expiry). A player sends
        # the same token with every segment, and an HMAC check costs more than serving a small
        # segment's headers; an entry is honoured only until the token's own expiry.
        self._playback_seen: OrderedDict[str, tuple[str, str, float]] = OrderedDict()

    def issue_access(self, user_id: str, role: Role, *, now: datetime | None = None) -> IssuedToken:
        """Sign an access token for a user."""
        return self._issue(user_id, role, USER_AUDIENCE, self._access_ttl, now)

    def issue_service(
        self, service: str, *, ttl: timedelta = timedelta(hours=1), now: datetime | None = None
    ) -> IssuedToken:
        """Sign the credential one service presents to another's internal RPCs."""
        return self._issue(f"service:{service}", Role.SERVICE, SERVICE_AUDIENCE, ttl, now)

    def issue_playback(
        self, video_id: str, media_prefix: str, viewer: str, ttl: timedelta
    ) -> IssuedToken:
        """A URL token that lets its holder fetch one video's ladder until it expires."""
        now = datetime.now(UTC)
        expires = now + ttl
        claims = {
            "sub": viewer,
            "vid": video_id,
            "pfx": media_prefix,
            "aud": PLAYBACK_AUDIENCE,
            "iss": self._issuer,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        }
        key_id, key = self._signing_key
        token = jwt.encode(claims, key, algorithm=_ALGORITHM, headers={"kid": key_id})
        expire_time = datetime.fromtimestamp(int(expires.timestamp()), UTC)
        return IssuedToken(token=token, expire_time=expire_time)

    PLAYBACK_CACHE_SIZE = 10_000

    def verify_playback(self, token: str, video_id: str) -> str:
        """The media prefix a playback token grants for `video_id`; raises `Unauthenticated`."""
        now = time.time()
        seen = self._playback_seen.get(token)
        if seen is None:
            seen = self._decode_playback(token)
            self._playback_seen[token] = seen
            if len(self._playback_seen) > self.PLAYBACK_CACHE_SIZE:
                self._playback_seen.popitem(last=False)
        bound_video, prefix, expires = seen
        if now > expires + _LEEWAY.total_seconds():
            raise Unauthenticated("TOKEN_EXPIRED", "The playback token has expired.")
        if bound_video != video_id:
            raise Unauthenticated("INVALID_TOKEN", "The playback token is for another video.")
        return prefix

    def _decode_playback(self, token: str) -> tuple[str, str, float]:
        """(video id, prefix, expiry) of a correctly signed playback token; expiry is checked
        by the caller against one clock, for fresh and remembered tokens alike."""
        try:
            header = jwt.get_unverified_header(token)
            key = self._playback_keys.get(str(header.get("kid", "")))
            if key is None or header.get("alg") != _ALGORITHM:
                raise jwt.InvalidKeyError("unknown key id")
            claims = jwt.decode(
                token,
                key,
                algorithms=[_ALGORITHM],
                audience=PLAYBACK_AUDIENCE,
                issuer=self._issuer,
                options={"require": ["exp", "vid", "pfx", "aud", "iss"], "verify_exp": False},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated("INVALID_TOKEN", "The playback token is not valid.") from exc
        return str(claims["vid"]), str(claims["pfx"]), float(claims["exp"])

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid token or raise `Unauthenticated`."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != _ALGORITHM:
                raise jwt.InvalidAlgorithmError("unexpected algorithm")
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=[USER_AUDIENCE, SERVICE_AUDIENCE],
                issuer=self._issuer,
                leeway=_LEEWAY,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
            role = Role(claims["role"])
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("TOKEN_EXPIRED", "The access token has expired.") from exc
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise Unauthenticated("INVALID_TOKEN", "The access token is not valid.") from exc
        is_service_token = claims["aud"] == SERVICE_AUDIENCE
        if is_service_token != (role is Role.SERVICE):
            raise Unauthenticated("INVALID_TOKEN", "The access token is not valid.")
        return Principal(subject=str(claims["sub"]), role=role)

    def _issue(
        self, subject: str, role: Role, audience: str, ttl: timedelta, now: datetime | None
    ) -> IssuedToken:
        issued = now or datetime.now(UTC)
        expires = issued + ttl
        claims: dict[str, str | int] = {
            "sub": subject,
            "role": role.value,
            "aud": audience,
            "iss": self._issuer,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
        }
        token = jwt.encode(claims, self._secret, algorithm=_ALGORITHM)
        expire_time = datetime.fromtimestamp(int(expires.timestamp()), UTC)
        return IssuedToken(token=token, expire_time=expire_time)
