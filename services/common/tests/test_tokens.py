"""Token codec: what it accepts and what it refuses."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from vidmesh.common.errors import Unauthenticated
from vidmesh.common.tokens import SERVICE_AUDIENCE, Role, TokenCodec, parse_signing_keys

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


OLD_KEY = ("2026-06", "o" * 40)
NEW_KEY = ("2026-12", "n" * 40)


def test_playback_keys_rotate_without_breaking_tokens_in_use() -> None:
    before = TokenCodec(
        SECRET, issuer="vidmesh", access_ttl=timedelta(minutes=5), playback_keys=[OLD_KEY]
    )
    during = TokenCodec(
        SECRET, issuer="vidmesh", access_ttl=timedelta(minutes=5), playback_keys=[NEW_KEY, OLD_KEY]
    )
    after = TokenCodec(
        SECRET, issuer="vidmesh", access_ttl=timedelta(minutes=5), playback_keys=[NEW_KEY]
    )
    old = before.issue_playback("v1", "p1", "ada", timedelta(minutes=5)).token
    new = during.issue_playback("v1", "p1", "ada", timedelta(minutes=5)).token
    assert jwt.get_unverified_header(old)["kid"] == "2026-06"
    assert jwt.get_unverified_header(new)["kid"] == "2026-12", "the first key signs"
    assert during.verify_playback(old, "v1") == "p1", "tokens of the old key keep playing"
    assert after.verify_playback(new, "v1") == "p1"
    with pytest.raises(Unauthenticated) as retired:
        after.verify_playback(old, "v1")
    assert retired.value.reason == "INVALID_TOKEN"


def test_playback_tokens_name_a_known_key(codec: TokenCodec) -> None:
    claims = {
        "vid": "v1",
        "pfx": "p",
        "aud": "vidmesh-playback",
        "iss": "vidmesh",
        "exp": int(time.time()) + 60,
    }
    for headers in ({}, {"kid": "unknown"}):
        forged = jwt.encode(claims, SECRET, algorithm="HS256", headers=headers)
        with pytest.raises(Unauthenticated):
            codec.verify_playback(forged, "v1")
    signed = jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": "primary"})
    assert codec.verify_playback(signed, "v1") == "p", "without keys, the JWT secret is `primary`"


@pytest.mark.parametrize(
    "text", ["short=abc", "no-secret", "bad id=" + "x" * 40, f"a={'x' * 40},a={'y' * 40}"]
)
def test_malformed_signing_keys_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="signing key"):
        parse_signing_keys(text)


def test_signing_keys_parse_in_order() -> None:
    text = f" new={'n' * 40} , old={'o' * 40},"
    assert parse_signing_keys(text) == [("new", "n" * 40), ("old", "o" * 40)]
    assert parse_signing_keys("") == []
