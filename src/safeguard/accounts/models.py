"""Staff and service accounts, and the hashed API tokens that service accounts call with."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from safeguard.accounts.permissions import Permission, Role, role_permissions


class User(AbstractUser):
    role = models.CharField(max_length=32, choices=[(r.value, r.value) for r in Role])

    def has_permission(self, permission: Permission) -> bool:
        return self.is_active and permission in role_permissions(self.role)

    @property
    def label(self) -> str:
        return f"{self.username} ({self.role})"


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals no usable token."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters identify a token in listings without revealing it.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"
