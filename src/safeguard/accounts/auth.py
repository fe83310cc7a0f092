"""API authentication and authorisation: bearer tokens or a staff session, then a permission check.

Every operation names what it requires with `requires(...)`; the API's default is `deny_all`,
so an operation that forgets to say is refused to everyone rather than opened to anyone.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission, second_factor_required
from safeguard.accounts.selectors import session_is_verified
from safeguard.accounts.services import api_token_authenticate
from safeguard.core.errors import Forbidden


class InvalidToken(Exception):
    """A bearer token was sent but is unknown, revoked, or belongs to a disabled account."""


class PermissionDenied(Forbidden):
    def __init__(self, user: User, permissions: tuple[Permission, ...]) -> None:
        wanted = " or ".join(p.value for p in permissions) or "a permission no role holds"
        super().__init__(f"{user.username} ({user.role or 'no role'}) lacks {wanted}")


class SecondFactorRequired(PermissionDenied):
    """A session of a role that needs a second factor has not passed one yet."""

    def __init__(self, user: User) -> None:
        # Mapped to 403 as a PermissionDenied, but worded for what is missing: not a permission.
        Exception.__init__(
            self,
            f"{user.username} ({user.role}) must pass the second factor in this session first:"
            " sign in to the console and type the code from the authenticator app",
        )


def _authorise(user: User, permissions: tuple[Permission, ...], any_user: bool) -> User:
    if any_user and user.is_active:
        return user
    if any(user.has_permission(p) for p in permissions):
        return user
    raise PermissionDenied(user, permissions)


class TokenAuth(HttpBearer):
    def __init__(self, permissions: tuple[Permission, ...], any_user: bool) -> None:
        super().__init__()
        self.permissions = permissions
        self.any_user = any_user

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(plaintext=token)
        if user is None:
            raise InvalidToken
        return _authorise(user, self.permissions, self.any_user)


class StaffSessionAuth(SessionAuth):
    """A signed-in person using the API from the console; CSRF-checked on unsafe methods."""

    def __init__(self, permissions: tuple[Permission, ...], any_user: bool) -> None:
        super().__init__(csrf=True)
        self.permissions = permissions
        self.any_user = any_user

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a session cookie this is not a console request: skip the CSRF check so that
        # a caller who forgot their token hears "authentication required", not "CSRF failed".
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None:
            return None
        assert isinstance(user, User)  # noqa: S101 - AUTH_USER_MODEL is accounts.User
        # A session must have passed the same second factor as the console; a bearer token is
        # not a session, is issued by an administrator, and is not affected.
        if second_factor_required(user.role) and not session_is_verified(user):
            raise SecondFactorRequired(user)
        return _authorise(user, self.permissions, self.any_user)


def requires(*permissions: Permission) -> list[Any]:
    """Authenticate, then allow a principal holding any one of `permissions`."""
    if not permissions:
        raise ValueError("name at least one permission, or use `any_authenticated()`")
    return [TokenAuth(permissions, False), StaffSessionAuth(permissions, False)]


def any_authenticated() -> list[Any]:
    """Authenticate and allow every active principal (for `whoami`-style reads of oneself)."""
    return [TokenAuth((), True), StaffSessionAuth((), True)]


def deny_all() -> list[Any]:
    """The API's default: authenticate, then refuse everyone."""
    return [TokenAuth((), False), StaffSessionAuth((), False)]


def required_permissions(auth_callbacks: list[Any]) -> tuple[frozenset[Permission], bool]:
    """What an operation's auth callbacks demand: (permissions, any authenticated user allowed)."""
    perms: set[Permission] = set()
    any_user = False
    for callback in auth_callbacks:
        perms.update(getattr(callback, "permissions", ()))
        any_user = any_user or bool(getattr(callback, "any_user", False))
    return frozenset(perms), any_user
