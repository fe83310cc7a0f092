"""Writes for accounts: creating users, changing roles, issuing and revoking API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import ApiToken, User
from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record

TOKEN_PREFIX = "sg_"  # noqa: S105 - marks a string as a Safeguard token


class AccountError(Exception):
    """A request about accounts that cannot be carried out; the message says why."""


def token_digest(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is as strong as a slow one here and keeps
    # every API call's authentication to one indexed lookup.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def user_create(
    *,
    username: str,
    role: Role,
    actor: User | None,
    source: AuditSource,
    password: str | None = None,
    email: str = "",
) -> User:
    if User.objects.filter(username=username).exists():
        raise AccountError(f"a user named {username!r} already exists")
    user = User(username=username, role=role.value, email=email)
    if password:
        user.set_password(password)
    else:
        # Service accounts authenticate with tokens only.
        user.set_unusable_password()
    user.save()
    audit_record(
        event_type=AuditEventType.USER_CREATED,
        actor=actor,
        source=source,
        target_type="user",
        target_id=user.pk,
        data={"username": username, "role": role.value},
    )
    return user


@transaction.atomic
def user_set_role(*, user: User, role: Role, actor: User | None, source: AuditSource) -> User:
    previous = user.role
    user.role = role.value
    user.save(update_fields=["role"])
    audit_record(
        event_type=AuditEventType.USER_ROLE_CHANGED,
        actor=actor,
        source=source,
        target_type="user",
        target_id=user.pk,
        data={"from": previous, "to": role.value},
    )
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str


@transaction.atomic
def api_token_create(
    *, user: User, name: str, actor: User | None, source: AuditSource
) -> IssuedToken:
    """Issue a token; its plaintext is returned here once and never stored."""
    if not user.is_active:
        raise AccountError(f"user {user.username!r} is inactive")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=plaintext[:10],
        digest=token_digest(plaintext),
        created_at=timezone.now(),
    )
    audit_record(
        event_type=AuditEventType.TOKEN_CREATED,
        actor=actor,
        source=source,
        target_type="api_token",
        target_id=token.pk,
        data={"user": user.username, "name": name, "prefix": token.prefix},
    )
    return IssuedToken(token=token, plaintext=plaintext)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None, source: AuditSource) -> ApiToken:
    if token.revoked_at is not None:
        raise AccountError(f"token {token.prefix}… is already revoked")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        event_type=AuditEventType.TOKEN_REVOKED,
        actor=actor,
        source=source,
        target_type="api_token",
        target_id=token.pk,
        data={"user": token.user.username, "prefix": token.prefix},
    )
    return token
