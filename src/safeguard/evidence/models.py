"""Content items and the vault's index of stored blobs."""

from __future__ import annotations

import uuid

from django.db import models

from safeguard.intake.enums import ContentKind


class Blob(models.Model):
    """Bytes held in the vault, addressed by the SHA-256 of their plaintext."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100)
    stored_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.sha256


class ContentItem(models.Model):
    """A piece of content on the host platform, keyed by its platform id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    platform_id = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=[(k.value, k.value) for k in ContentKind])
    text = models.TextField(blank=True)
    live = models.BooleanField(default=False)
    # The hash the platform declared at intake; uploaded bytes must match it.
    declared_sha256 = models.CharField(max_length=64, blank=True)
    blob = models.ForeignKey(
        Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_seen_at = models.DateTimeField()
    # Whether any person has looked at the media; an outbound report must say so truthfully.
    viewed_by_person = models.BooleanField(default=False)
    first_viewed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.platform_id}"
