"""Token codec: what it accepts and what it refuses."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from vidmesh.common.errors import Unauthenticated
from vidmesh.common.tokens import SERVICE_AUDIENCE, Role, TokenCodec

SECRET = "s" * 40


@pytest.fixture
def codec() -> TokenCodec:
    return TokenCodec(SECRET, issuer="vidmesh", access_ttl=timedelta(minutes=15))


def test_access_tokens_round_trip(codec: TokenCodec) -> None:
    issued = codec.issue_access("user-1", Role.ADMIN)
    principal = codec.verify(issued.token)
    assert (principal.subject, principal.role, principal.is_admin) == ("user-1", Role.ADMIN, True)
    assert issued.expire_time <= datetime.now(UTC) + timedelta(minutes=15)


def test_service_tokens_are_services(codec: TokenCodec) -> None:
    principal = codec.verify(codec.issue_service("ingest").token)
    assert principal.is_service
    assert principal.subject == "service:ingest"


def test_a_user_token_cannot_claim_the_service_role(codec: TokenCodec) -> None:
    now = datetime.now(UTC)
    claims = {
        "sub": "u",
        "role": "service",
        "aud": "vidmesh",
        "iss": "vidmesh",
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 60,
    }
    with pytest.raises(Unauthenticated) as caught:
        codec.verify(jwt.encode(claims, SECRET, algorithm="HS256"))
    assert caught.value.reason == "INVALID_TOKEN"
    claims.update(role="admin", aud=SERVICE_AUDIENCE)
    with pytest.raises(Unauthenticated):
        codec.verify(jwt.encode(claims, SECRET, algorithm="HS256"))


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b.c", jwt.encode({"sub": "u"}, "s" * 64, algorithm="HS512")],
)
def test_garbage_is_invalid(codec: TokenCodec, token: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        codec.verify(token)
    assert caught.value.reason == "INVALID_TOKEN"


def test_expired_and_foreign_tokens(codec: TokenCodec) -> None:
    old = codec.issue_access("u", Role.USER, now=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(Unauthenticated) as caught:
        codec.verify(old.token)
    assert caught.value.reason == "TOKEN_EXPIRED"
    other_issuer = TokenCodec(SECRET, issuer="someone-else", access_ttl=timedelta(minutes=1))
    with pytest.raises(Unauthenticated):
        codec.verify(other_issuer.issue_access("u", Role.USER).token)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        TokenCodec("short", issuer="x", access_ttl=timedelta(minutes=1))


def test_verified_playback_tokens_keep_their_binding_and_expiry(
    codec: TokenCodec, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = codec.issue_playback("v1", "videos/v1/attempts/1-1", "ada", timedelta(minutes=2)).token
    assert codec.verify_playback(token, "v1") == "videos/v1/attempts/1-1"
    assert codec.verify_playback(token, "v1") == "videos/v1/attempts/1-1"
    with pytest.raises(Unauthenticated) as foreign:
        codec.verify_playback(token, "v2")
    assert foreign.value.reason == "INVALID_TOKEN"
    later = time.time() + 3600
    monkeypatch.setattr("vidmesh.common.tokens.time.time", lambda: later)
    with pytest.raises(Unauthenticated) as expired:
        codec.verify_playback(token, "v1")
    assert expired.value.reason == "TOKEN_EXPIRED"


def test_the_playback_token_memory_is_bounded(codec: TokenCodec) -> None:
    codec.PLAYBACK_CACHE_SIZE = 3
    issued = [
        codec.issue_playback(f"v{i}", f"videos/v{i}", "ada", timedelta(minutes=5)).token
        for i in range(5)
    ]
    for i, token in enumerate(issued):
        assert codec.verify_playback(token, f"v{i}") == f"videos/v{i}"
    assert len(codec._playback_seen) == 3
    assert codec.verify_playback(issued[0], "v0") == "videos/v0", "evicted tokens verify again"
