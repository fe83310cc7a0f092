"""Content items and the vault's index of stored blobs."""

from __future__ import annotations

import uuid

from django.db import models

from safeguard.evidence.enums import ContentKind


class RenderState(models.TextChoices):
    PENDING = "pending"  # the renditions are being made off the request path
    READY = "ready"
    FAILED = "failed"  # render_error says why, for the console's "preview unavailable"
    NONE = "none"  # not an image or video: opaque evidence, never rendered


class Blob(models.Model):
    """Bytes held in the vault, addressed by the SHA-256 of their plaintext.

    What the bytes are is read from them at upload (`evidence.sniff`); the type the uploader
    declared is kept as a record only and never served.
    """

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    declared_type = models.CharField(max_length=100)
    stored_at = models.DateTimeField()
    # "image" or "video" when the bytes are one the console can render; "" for opaque evidence.
    media_kind = models.CharField(max_length=8, blank=True)
    # The sniffed type from the allow-list, else application/octet-stream.
    media_type = models.CharField(max_length=100, default="application/octet-stream")
    detected = models.CharField(max_length=300, blank=True)
    # Markup inside media bytes (a polyglot): the console shows only its own re-encoding.
    markup = models.BooleanField(default=False)
    render_state = models.CharField(
        max_length=8, choices=RenderState.choices, default=RenderState.PENDING
    )
    render_error = models.CharField(max_length=300, blank=True)
    # Vault addresses of the renditions made once, off the request path (encrypted like media).
    thumbnail_sha256 = models.CharField(max_length=64, blank=True)
    display_sha256 = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return self.sha256


class ContentItem(models.Model):
    """A piece of content on a host platform, keyed by the platform and its id there."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The platform that owns the id: only its service accounts describe the item (kind, hash)
    # and upload its bytes; anyone else only references it (see intake.ContentClaim).
    platform = models.CharField(max_length=64)
    platform_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=[(k.value, k.value) for k in ContentKind])
    text = models.TextField(blank=True)
    live = models.BooleanField(default=False)
    # A livestream's links as its platform gave them: the page people open on the platform
    # (https), and, where the platform's adapter offers one, a direct video stream on one of
    # SAFEGUARD_STREAM_ORIGINS that the console plays blurred and muted until revealed.
    stream_url = models.CharField(max_length=2000, blank=True)
    viewer_url = models.CharField(max_length=2000, blank=True)
    # When the platform said the stream ended; a later description by the owner sets it.
    ended_at = models.DateTimeField(null=True, blank=True)
    # The hash the platform declared at intake; uploaded bytes must match it.
    declared_sha256 = models.CharField(max_length=64, blank=True)
    blob = models.ForeignKey(
        Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_seen_at = models.DateTimeField()
    # Whether any person has looked at the media; an outbound report must say so truthfully.
    viewed_by_person = models.BooleanField(default=False)
    first_viewed_at = models.DateTimeField(null=True, blank=True)
    # False while the item is known only from another source's reference: the owner's first
    # description then replaces the provisional kind and text.
    described_by_owner = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "platform_id"], name="content_unique_per_platform"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.platform}:{self.platform_id}"
