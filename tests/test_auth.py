"""AuthService on a real gateway and PostgreSQL: accounts, tokens, refresh rotation, rate limits."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import grpc
import jwt
import psycopg
import pytest
from harness import ADMIN_EMAIL, PASSWORD, GatewayFactory, GatewayHarness, expect_error

from vidmesh.common.tokens import Role, TokenCodec
from vidmesh.v1 import auth_pb2

Code = grpc.StatusCode


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def test_register_then_read_the_current_user(gw: GatewayHarness) -> None:
    response = await gw.auth.Register(
        auth_pb2.RegisterRequest(email="  Alice@Example.COM ", password=PASSWORD)
    )
    assert response.user.email == "alice@example.com"
    assert response.user.display_name == "alice"
    assert response.user.role == auth_pb2.User.ROLE_USER
    assert response.credentials.token_type == "Bearer"
    me = await gw.auth.GetCurrentUser(
        auth_pb2.GetCurrentUserRequest(), metadata=bearer(response.credentials.access_token)
    )
    assert me.user == response.user


async def test_login_returns_a_short_lived_jwt(gw: GatewayHarness) -> None:
    account = await gw.register()
    response = await gw.auth.Login(auth_pb2.LoginRequest(email=account.email, password=PASSWORD))
    claims = jwt.decode(response.credentials.access_token, options={"verify_signature": False})
    assert claims["sub"] == account.user_id
    assert claims["exp"] - claims["iat"] <= 15 * 60
    assert response.credentials.access_token_expire_time.ToDatetime(UTC) <= datetime.now(
        UTC
    ) + timedelta(minutes=15)


async def test_admin_emails_register_as_admins(gw: GatewayHarness) -> None:
    response = await gw.auth.Register(
        auth_pb2.RegisterRequest(email=ADMIN_EMAIL, password=PASSWORD)
    )
    assert response.user.role == auth_pb2.User.ROLE_ADMIN


@pytest.mark.parametrize(
    ("email", "password", "display_name", "reason"),
    [
        ("not-an-email", PASSWORD, "", "INVALID_EMAIL"),
        ("a@b", PASSWORD, "", "INVALID_EMAIL"),
        ("", PASSWORD, "", "FIELD_REQUIRED"),
        ("x@example.com", "", "", "FIELD_REQUIRED"),
        ("x@example.com", "short", "", "WEAK_PASSWORD"),
        ("x@example.com", "123456789", "", "WEAK_PASSWORD"),
        ("x" * 250 + "@example.com", PASSWORD, "", "FIELD_TOO_LONG"),
        ("x@example.com", "p" * 257, "", "FIELD_TOO_LONG"),
        ("x@example.com", PASSWORD, "n" * 101, "FIELD_TOO_LONG"),
    ],
)
async def test_register_rejects_bad_input(
    gw: GatewayHarness, email: str, password: str, display_name: str, reason: str
) -> None:
    request = auth_pb2.RegisterRequest(email=email, password=password, display_name=display_name)
    details = await expect_error(gw.auth.Register(request), Code.INVALID_ARGUMENT, reason)
    assert details["fields"], "a field violation names the offending field"


async def test_duplicate_email_is_already_exists_whatever_the_case(gw: GatewayHarness) -> None:
    await gw.register("bob@example.com")
    request = auth_pb2.RegisterRequest(email="BOB@example.com", password=PASSWORD)
    await expect_error(gw.auth.Register(request), Code.ALREADY_EXISTS, "EMAIL_TAKEN")


async def test_wrong_password_and_unknown_email_look_the_same(gw: GatewayHarness) -> None:
    account = await gw.register()
    wrong = auth_pb2.LoginRequest(email=account.email, password="wrong password!")
    unknown = auth_pb2.LoginRequest(email="nobody@example.com", password=PASSWORD)
    first = await expect_error(gw.auth.Login(wrong), Code.UNAUTHENTICATED, "INVALID_CREDENTIALS")
    second = await expect_error(gw.auth.Login(unknown), Code.UNAUTHENTICATED, "INVALID_CREDENTIALS")
    assert first["message"] == second["message"]


async def test_login_requires_both_fields(gw: GatewayHarness) -> None:
    await expect_error(
        gw.auth.Login(auth_pb2.LoginRequest(email="a@example.com")),
        Code.INVALID_ARGUMENT,
        "FIELD_REQUIRED",
    )
    await expect_error(
        gw.auth.Login(auth_pb2.LoginRequest(password=PASSWORD)),
        Code.INVALID_ARGUMENT,
        "FIELD_REQUIRED",
    )


async def test_missing_malformed_tampered_and_expired_tokens(
    gw: GatewayHarness, token_codec: TokenCodec
) -> None:
    account = await gw.register()
    request = auth_pb2.GetCurrentUserRequest()
    await expect_error(gw.auth.GetCurrentUser(request), Code.UNAUTHENTICATED, "MISSING_TOKEN")
    await expect_error(
        gw.auth.GetCurrentUser(request, metadata=(("authorization", "Basic abc"),)),
        Code.UNAUTHENTICATED,
        "INVALID_TOKEN",
    )
    header, payload, signature = account.access_token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    await expect_error(
        gw.auth.GetCurrentUser(request, metadata=bearer(tampered)),
        Code.UNAUTHENTICATED,
        "INVALID_TOKEN",
    )
    forged = TokenCodec(
        "another-secret-" + "y" * 32, issuer="vidmesh-test", access_ttl=timedelta(minutes=5)
    )
    await expect_error(
        gw.auth.GetCurrentUser(
            request, metadata=bearer(forged.issue_access(account.user_id, Role.USER).token)
        ),
        Code.UNAUTHENTICATED,
        "INVALID_TOKEN",
    )
    unsigned = (
        ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
            for part in ({"alg": "none", "typ": "JWT"}, {"sub": account.user_id, "role": "admin"})
        )
        + "."
    )
    await expect_error(
        gw.auth.GetCurrentUser(request, metadata=bearer(unsigned)),
        Code.UNAUTHENTICATED,
        "INVALID_TOKEN",
    )
    expired = token_codec.issue_access(
        account.user_id, Role.USER, now=datetime.now(UTC) - timedelta(hours=1)
    )
    await expect_error(
        gw.auth.GetCurrentUser(request, metadata=bearer(expired.token)),
        Code.UNAUTHENTICATED,
        "TOKEN_EXPIRED",
    )


async def test_the_service_credential_is_not_a_user(gw: GatewayHarness) -> None:
    await expect_error(
        gw.auth.GetCurrentUser(auth_pb2.GetCurrentUserRequest(), metadata=gw.service_metadata),
        Code.PERMISSION_DENIED,
        "USER_REQUIRED",
    )


async def test_refresh_rotates_and_reuse_revokes_the_family(gw: GatewayHarness) -> None:
    account = await gw.register()
    first = await gw.auth.RefreshToken(
        auth_pb2.RefreshTokenRequest(refresh_token=account.refresh_token)
    )
    assert first.credentials.refresh_token != account.refresh_token
    second = await gw.auth.RefreshToken(
        auth_pb2.RefreshTokenRequest(refresh_token=first.credentials.refresh_token)
    )
    me = await gw.auth.GetCurrentUser(
        auth_pb2.GetCurrentUserRequest(), metadata=bearer(second.credentials.access_token)
    )
    assert me.user.user_id == account.user_id

    replay = auth_pb2.RefreshTokenRequest(refresh_token=account.refresh_token)
    await expect_error(gw.auth.RefreshToken(replay), Code.UNAUTHENTICATED, "REFRESH_TOKEN_REUSED")
    latest = auth_pb2.RefreshTokenRequest(refresh_token=second.credentials.refresh_token)
    await expect_error(gw.auth.RefreshToken(latest), Code.UNAUTHENTICATED, "INVALID_REFRESH_TOKEN")


async def test_other_login_sessions_survive_a_revoked_family(gw: GatewayHarness) -> None:
    account = await gw.register()
    other = await gw.auth.Login(auth_pb2.LoginRequest(email=account.email, password=PASSWORD))
    await gw.auth.RefreshToken(auth_pb2.RefreshTokenRequest(refresh_token=account.refresh_token))
    await expect_error(
        gw.auth.RefreshToken(auth_pb2.RefreshTokenRequest(refresh_token=account.refresh_token)),
        Code.UNAUTHENTICATED,
        "REFRESH_TOKEN_REUSED",
    )
    still = await gw.auth.RefreshToken(
        auth_pb2.RefreshTokenRequest(refresh_token=other.credentials.refresh_token)
    )
    assert still.credentials.access_token


async def test_unknown_empty_and_expired_refresh_tokens(gw: GatewayHarness) -> None:
    await expect_error(
        gw.auth.RefreshToken(auth_pb2.RefreshTokenRequest()),
        Code.INVALID_ARGUMENT,
        "FIELD_REQUIRED",
    )
    await expect_error(
        gw.auth.RefreshToken(auth_pb2.RefreshTokenRequest(refresh_token="made-up")),
        Code.UNAUTHENTICATED,
        "INVALID_REFRESH_TOKEN",
    )
    account = await gw.register()
    conninfo = gw.database_url.replace("postgresql+psycopg://", "postgresql://")
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
    await expect_error(
        gw.auth.RefreshToken(auth_pb2.RefreshTokenRequest(refresh_token=account.refresh_token)),
        Code.UNAUTHENTICATED,
        "REFRESH_TOKEN_EXPIRED",
    )


async def test_failed_logins_are_rate_limited_per_account(gateway_factory: GatewayFactory) -> None:
    gw: GatewayHarness = await gateway_factory(login_max_failures_per_account=3)
    account = await gw.register()
    wrong = auth_pb2.LoginRequest(email=account.email, password="wrong password!")
    for _ in range(3):
        await expect_error(gw.auth.Login(wrong), Code.UNAUTHENTICATED, "INVALID_CREDENTIALS")
    right = auth_pb2.LoginRequest(email=account.email, password=PASSWORD)
    details = await expect_error(gw.auth.Login(right), Code.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    assert details["metadata"]["scope"] == "account"
    assert 0 < details["retry_seconds"] <= 900
    other = await gw.register()
    await gw.auth.Login(auth_pb2.LoginRequest(email=other.email, password=PASSWORD))


async def test_failed_logins_are_rate_limited_per_client_address(
    gateway_factory: GatewayFactory,
) -> None:
    gw: GatewayHarness = await gateway_factory(login_max_failures_per_address=4)
    account = await gw.register()
    from_attacker = (("x-forwarded-for", "203.0.113.7"),)
    for n in range(4):
        request = auth_pb2.LoginRequest(email=f"guess{n}@example.com", password="wrong password!")
        await expect_error(gw.auth.Login(request, metadata=from_attacker), Code.UNAUTHENTICATED)
    right = auth_pb2.LoginRequest(email=account.email, password=PASSWORD)
    details = await expect_error(
        gw.auth.Login(right, metadata=from_attacker), Code.RESOURCE_EXHAUSTED, "RATE_LIMITED"
    )
    assert details["metadata"]["scope"] == "address"
    await gw.auth.Login(right, metadata=(("x-forwarded-for", "198.51.100.1"),))


async def test_a_successful_login_clears_the_account_counter(
    gateway_factory: GatewayFactory,
) -> None:
    gw: GatewayHarness = await gateway_factory(login_max_failures_per_account=2)
    account = await gw.register()
    wrong = auth_pb2.LoginRequest(email=account.email, password="wrong password!")
    right = auth_pb2.LoginRequest(email=account.email, password=PASSWORD)
    await expect_error(gw.auth.Login(wrong), Code.UNAUTHENTICATED)
    await gw.auth.Login(right)
    await expect_error(gw.auth.Login(wrong), Code.UNAUTHENTICATED)
    await gw.auth.Login(right)
