"""The caller of the RPC being served, as set by the server interceptor.

The interceptor verifies any bearer token it is given and stores the outcome in a contextvar;
handlers then say what they need (`optional_principal`, `require_user`, `require_admin`,
`require_service`). A bad token is an error even on RPCs that allow anonymous callers, so a
client with a stale token learns it instead of silently seeing less.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from vidmesh.common.errors import PermissionDenied, Unauthenticated
from vidmesh.common.tokens import Principal, Role, TokenCodec


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """What the interceptor found: a principal, an authentication error, or neither."""

    principal: Principal | None = None
    error: Unauthenticated | None = None


ANONYMOUS = CallerIdentity()
caller_var: ContextVar[CallerIdentity] = ContextVar("vidmesh_caller", default=ANONYMOUS)


def optional_principal() -> Principal | None:
    """The caller, or None when no token was sent; raises if the token sent is not valid."""
    identity = caller_var.get()
    if identity.error is not None:
        raise identity.error
    return identity.principal


def require_principal() -> Principal:
    """The caller; raises `Unauthenticated` when there is none."""
    principal = optional_principal()
    if principal is None:
        raise Unauthenticated("MISSING_TOKEN", "Sign in first: this call needs an access token.")
    return principal


def require_user() -> Principal:
    """The calling user (admins included); services are refused."""
    principal = require_principal()
    if principal.role is Role.SERVICE:
        raise PermissionDenied("USER_REQUIRED", "This call is for users, not services.")
    return principal


def require_admin() -> Principal:
    """The calling administrator."""
    principal = require_user()
    if not principal.is_admin:
        raise PermissionDenied("ADMIN_REQUIRED", "This call needs the admin role.")
    return principal


def require_service() -> Principal:
    """The calling service; anything else is refused."""
    identity = caller_var.get()
    if identity.error is not None:
        raise identity.error
    if identity.principal is None or not identity.principal.is_service:
        raise PermissionDenied(
            "SERVICE_CREDENTIAL_REQUIRED", "This internal call needs the service credential."
        )
    return identity.principal


def identify(header: str | None, codec: TokenCodec) -> CallerIdentity:
    """The caller named by an `authorization` value (gRPC metadata or HTTP header)."""
    if header is None:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        error = Unauthenticated(
            "INVALID_TOKEN", "Send the token as 'authorization: Bearer <token>'."
        )
        return CallerIdentity(error=error)
    try:
        return CallerIdentity(principal=codec.verify(token.strip()))
    except Unauthenticated as error:
        return CallerIdentity(error=error)
