"""Content items and the vault's index of stored blobs."""

from __future__ import annotations

import uuid

from django.conf import settings
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


class HoldTarget(models.TextChoices):
    """What a legal hold can be placed on. Evidence knows only content items; a subject or a
    case is named by its id, and the apps that know them say which content they cover
    (evidence.hooks.hold_scope)."""

    CONTENT = "content"
    SUBJECT = "subject"
    CASE = "case"


class HoldSource(models.TextChoices):
    """Why a hold exists: a law-enforcement request (preservation), a filed report's
    preservation duty, or a legal person's own decision."""

    REQUEST = "request"
    REPORT = "report"
    MANUAL = "manual"


class LegalHold(models.Model):
    """Data that must not be deleted by any path until `ends_at` or a release."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    target_type = models.CharField(max_length=16, choices=HoldTarget.choices)
    # A content item's, subject's or case's id as a string: evidence cannot reference the
    # tables of the apps above it.
    target_id = models.CharField(max_length=64)
    reason = models.TextField()
    source = models.CharField(max_length=16, choices=HoldSource.choices)
    # What placed it, outside evidence: the law-enforcement request's or the report's id.
    source_reference = models.CharField(max_length=200, blank=True)
    # None: Safeguard placed it itself (a filed report's hold, placed by the reporting task).
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField()
    # None: until released.
    ends_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    release_reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"hold {self.pk} on {self.target_type} {self.target_id}"


class LegalHoldExtension(models.Model):
    """One extension of a hold's end date, kept so the history shows each one."""

    hold = models.ForeignKey(LegalHold, on_delete=models.PROTECT, related_name="extensions")
    previous_ends_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField()
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    extended_at = models.DateTimeField()

    class Meta:
        ordering = ["extended_at", "id"]

    def __str__(self) -> str:
        return f"{self.hold_id} extended to {self.ends_at}"


class DeletionKind(models.TextChoices):
    MANUAL = "manual"  # a person with the legal role, through the API, console or CLI
    RETENTION = "retention"  # the retention job: past its period and under no hold
    DESTRUCTION = "destruction"  # a lawful request, approved by a second legal person


class ContentTombstone(models.Model):
    """What was deleted of a content item, when, by whom and why: the hashes that were there,
    never the content. The content item row itself stays."""

    content = models.ForeignKey(ContentItem, on_delete=models.PROTECT, related_name="tombstones")
    kind = models.CharField(max_length=16, choices=DeletionKind.choices)
    deleted_at = models.DateTimeField()
    # None: Safeguard itself (the retention job).
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    # The SHA-256 of the media bytes and of the UTF-8 text that were deleted ("" for none).
    media_sha256 = models.CharField(max_length=64, blank=True)
    text_sha256 = models.CharField(max_length=64, blank=True)
    # The vault objects actually removed (media and its renditions); bytes another item still
    # references stay, and are not listed.
    vault_removed = models.JSONField(default=list)
    destruction = models.ForeignKey(
        "DestructionRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["deleted_at", "id"]

    def __str__(self) -> str:
        return f"{self.content_id} {self.kind} at {self.deleted_at}"


class DestructionRequest(models.Model):
    """A law-enforcement request to destroy reported depictions (18 U.S.C. §2258B(c)): recorded
    by one legal person, carried out only once a different legal person approves it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The law-enforcement request or document the destruction answers.
    request_reference = models.CharField(max_length=200)
    agency = models.CharField(max_length=200)
    reason = models.TextField()
    content = models.ManyToManyField(ContentItem, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"destruction {self.pk} ({self.request_reference})"


class RetentionRun(models.Model):
    """One daily run of the retention job, keyed by the moment it was due: scheduling the same
    day twice finds the row and enqueues nothing, so runs never pile up."""

    due = models.DateTimeField(unique=True)
    scheduled_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deleted = models.PositiveIntegerField(default=0)
    kept_under_hold = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"retention run due {self.due}"
