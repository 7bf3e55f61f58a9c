"""Accounts: registration, password login with rate limiting, rotating refresh tokens."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vidmesh.common.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unauthenticated,
)
from vidmesh.common.tokens import IssuedToken, Role, TokenCodec
from vidmesh.common.validation import limit_text, require_text
from vidmesh.gateway.models import LoginFailure, RefreshToken, User, UserRole

EMAIL_MAX = 254
PASSWORD_MIN = 10
PASSWORD_MAX = 256
DISPLAY_NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """Lifetimes and limits of authentication, from gateway settings."""

    refresh_ttl: timedelta = timedelta(days=30)
    max_failures_per_account: int = 5
    max_failures_per_address: int = 20
    failure_window: timedelta = timedelta(minutes=15)
    admin_emails: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A user and the tokens just issued to them."""

    user: User
    access: IssuedToken
    refresh_token: str
    refresh_expire_time: datetime


def normalize_email(raw: str) -> str:
    """The canonical form used for uniqueness: validated, NFC, lower-case."""
    value = require_text(raw, "email", max_length=EMAIL_MAX)
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidArgument(
            "INVALID_EMAIL", f"Not a valid email address: {exc}", field="email"
        ) from None
    return checked.normalized.lower()


def check_password(password: str) -> str:
    if not password:
        raise InvalidArgument("FIELD_REQUIRED", "'password' is required.", field="password")
    limit_text(password, "password", max_length=PASSWORD_MAX)
    if len(password) < PASSWORD_MIN:
        raise InvalidArgument(
            "WEAK_PASSWORD",
            f"The password must be at least {PASSWORD_MIN} characters.",
            field="password",
            metadata={"min_length": str(PASSWORD_MIN)},
        )
    return password


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _role_of(user: User) -> Role:
    return Role.ADMIN if user.role is UserRole.ADMIN else Role.USER


class Accounts:
    """The account operations behind AuthService."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        codec: TokenCodec,
        policy: AuthPolicy,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._sessions = sessions
        self._codec = codec
        self._policy = policy
        self._hasher = hasher or PasswordHasher()
        # Verified against for unknown emails, so timing does not reveal which emails exist.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def register(self, email: str, password: str, display_name: str) -> SignedIn:
        normalized = normalize_email(email)
        check_password(password)
        name = limit_text(display_name.strip(), "display_name", max_length=DISPLAY_NAME_MAX)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        role = UserRole.ADMIN if normalized in self._policy.admin_emails else UserRole.USER
        user = User(
            id=uuid.uuid4(),
            email=normalized,
            password_hash=password_hash,
            display_name=name or normalized.split("@", 1)[0][:DISPLAY_NAME_MAX],
            role=role,
            created_at=datetime.now(UTC),
        )
        try:
            async with self._sessions.begin() as session:
                session.add(user)
                await session.flush()
                return await self._sign_in(session, user, family_id=uuid.uuid4())
        except IntegrityError:
            raise AlreadyExists(
                "EMAIL_TAKEN", "An account with this email already exists.", field="email"
            ) from None

    async def login(self, email: str, password: str, client_address: str) -> SignedIn:
        value = require_text(email, "email", max_length=EMAIL_MAX)
        if not password:
            raise InvalidArgument("FIELD_REQUIRED", "'password' is required.", field="password")
        limit_text(password, "password", max_length=PASSWORD_MAX)
        try:
            normalized = normalize_email(value)
        except InvalidArgument:
            normalized = value.lower()
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            await self._check_rate(session, normalized, client_address, now)
            user = await session.scalar(select(User).where(User.email == normalized))
        stored_hash = user.password_hash if user is not None else self._dummy_hash
        if not await asyncio.to_thread(self._verify, stored_hash, password) or user is None:
            async with self._sessions.begin() as session:
                session.add(
                    LoginFailure(email=normalized, client_address=client_address, created_at=now)
                )
                cutoff = now - self._policy.failure_window
                await session.execute(delete(LoginFailure).where(LoginFailure.created_at < cutoff))
            raise Unauthenticated("INVALID_CREDENTIALS", "Wrong email or password.")
        async with self._sessions.begin() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.email == normalized))
            if self._hasher.check_needs_rehash(user.password_hash):
                new_hash = await asyncio.to_thread(self._hasher.hash, password)
                await session.execute(
                    update(User).where(User.id == user.id).values(password_hash=new_hash)
                )
            return await self._sign_in(session, user, family_id=uuid.uuid4())

    async def refresh(self, refresh_token: str) -> SignedIn:
        if not refresh_token:
            raise InvalidArgument(
                "FIELD_REQUIRED", "'refresh_token' is required.", field="refresh_token"
            )
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            stored = await session.scalar(
                select(RefreshToken)
                .where(RefreshToken.token_hash == _hash_refresh(refresh_token))
                .with_for_update()
            )
            if stored is None or stored.revoked_at is not None:
                raise Unauthenticated("INVALID_REFRESH_TOKEN", "The refresh token is not valid.")
            if stored.used_at is not None:
                await session.execute(
                    update(RefreshToken)
                    .where(RefreshToken.family_id == stored.family_id)
                    .where(RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
            elif stored.expires_at <= now:
                raise Unauthenticated("REFRESH_TOKEN_EXPIRED", "The refresh token has expired.")
            else:
                stored.used_at = now
                user = await session.get(User, stored.user_id)
                if user is None:
                    raise Unauthenticated(
                        "INVALID_REFRESH_TOKEN", "The refresh token is not valid."
                    )
                return await self._sign_in(session, user, family_id=stored.family_id)
        # Only a replayed token gets here: its family was revoked and committed above.
        raise Unauthenticated(
            "REFRESH_TOKEN_REUSED",
            "This refresh token was already used; the session has been signed out.",
        )

    async def get_user(self, user_id: str) -> User:
        try:
            key = uuid.UUID(user_id)
        except ValueError:
            raise NotFound("USER_NOT_FOUND", "The user does not exist.") from None
        async with self._sessions() as session:
            user = await session.get(User, key)
        if user is None:
            raise NotFound("USER_NOT_FOUND", "The user does not exist.")
        return user

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    async def _check_rate(
        self, session: AsyncSession, email: str, client_address: str, now: datetime
    ) -> None:
        since = now - self._policy.failure_window
        checks: Collection[tuple[object, int, str]] = (
            (LoginFailure.email == email, self._policy.max_failures_per_account, "account"),
            (
                LoginFailure.client_address == client_address,
                self._policy.max_failures_per_address,
                "address",
            ),
        )
        for condition, limit, scope in checks:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(LoginFailure.created_at))
                    .where(condition)  # type: ignore[arg-type]
                    .where(LoginFailure.created_at >= since)
                )
            ).one()
            if count >= limit and oldest is not None:
                retry_after = max(1.0, (oldest + self._policy.failure_window - now).total_seconds())
                raise ResourceExhausted(
                    "RATE_LIMITED",
                    f"Too many failed sign-in attempts; try again in {int(retry_after)} seconds.",
                    metadata={"scope": scope},
                    retry_after_seconds=retry_after,
                )

    async def _sign_in(self, session: AsyncSession, user: User, family_id: uuid.UUID) -> SignedIn:
        now = datetime.now(UTC)
        token = secrets.token_urlsafe(32)
        expires = now + self._policy.refresh_ttl
        session.add(
            RefreshToken(
                id=uuid.uuid4(),
                family_id=family_id,
                user_id=user.id,
                token_hash=_hash_refresh(token),
                created_at=now,
                expires_at=expires,
            )
        )
        access = self._codec.issue_access(str(user.id), _role_of(user), now=now)
        return SignedIn(user=user, access=access, refresh_token=token, refresh_expire_time=expires)
