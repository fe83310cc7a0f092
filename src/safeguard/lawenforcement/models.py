"""Agencies and their people, law-enforcement requests with their clocks and documents,
disclosures (prepared, approved by a second person, released once) and outbound referrals."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from safeguard.lawenforcement.request_types import RequestTypeError, request_type
from safeguard.lawenforcement.workflow import RequestState


class Agency(models.Model):
    """A police force, prosecutor or court that may ask for data, as legal staff know it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=300, unique=True)
    country = models.CharField(max_length=2)
    # e.g. "federal", "state: CA", "EU Member State: IE": where its process has force.
    jurisdiction = models.CharField(max_length=100)
    # The official e-mail domains its people write from, lower-case ("sheriff.example").
    email_domains = models.JSONField(default=list)
    # The number legal staff call back, from a published source (never one the requester gave).
    published_phone = models.CharField(max_length=50)
    phone_source = models.CharField(max_length=300)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"


class Partner(models.Model):
    """A law-enforcement partner account and the agency it belongs to."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="le_partner"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="partners")

    def __str__(self) -> str:
        return f"{self.user_id} of {self.agency_id}"


class Verification(models.Model):
    """A recorded checklist by legal staff: of an agency (partner null) or of one person.

    Each item is what was done, not a tick box alone: the e-mail domain seen, the published
    number called back and when, the legal document reviewed. It expires.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="verifications")
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="verifications"
    )
    email_domain = models.CharField(max_length=253)
    callback_number = models.CharField(max_length=50)
    callback_at = models.DateTimeField()
    document = models.ForeignKey(
        "lawenforcement.RequestDocument", on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        return (
            f"verification of {self.partner_id or self.agency_id} until {self.expires_at:%Y-%m-%d}"
        )


class LERequest(models.Model):
    """One request from law enforcement, run through workflow.EDGES to its legal deadline."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # What people say on the phone: "LE-2026-000042".
    reference = models.CharField(max_length=32, unique=True)
    request_type = models.CharField(max_length=64)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="requests")
    # Who submitted it: a partner of the agency, or legal staff entering a faxed or mailed one.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    state = models.CharField(
        max_length=24,
        choices=[(s.value, s.value) for s in RequestState],
        default=RequestState.RECEIVED,
    )
    category = models.CharField(max_length=32)
    summary = models.TextField()
    # The type's own fields (request_types.FIELDS), as submitted.
    fields = models.JSONField(default=dict)
    # The host platform's account ids the request names.
    named_accounts = models.JSONField(default=list)
    # A non-disclosure order: the account holders must not be told.
    non_disclosure = models.BooleanField(default=False)
    non_disclosure_until = models.DateField(null=True, blank=True)
    received_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The escalation intake stored for it and the case it joined (triage ranks it there).
    escalation = models.OneToOneField(
        "intake.Escalation", null=True, on_delete=models.PROTECT, related_name="le_request"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, on_delete=models.PROTECT, related_name="le_requests"
    )
    # Emergency types: the good-faith determination of a person (18 U.S.C. §2702(b)(8)).
    determined_emergency = models.BooleanField(null=True)
    determination_reasons = models.TextField(blank=True)
    determined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    determined_at = models.DateTimeField(null=True, blank=True)
    # Preservation types: the holds placed, until when, and how often extended.
    preserved_until = models.DateTimeField(null=True, blank=True)
    preservation_extensions = models.PositiveSmallIntegerField(default=0)
    platform_confirmed_at = models.DateTimeField(null=True, blank=True)
    # What the requester sees as the outcome (a rejection's reason, what was sent).
    response_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["agency", "received_at"])]

    def __str__(self) -> str:
        return f"{self.reference} ({self.request_type}, {self.state})"

    @property
    def type_label(self) -> str:
        """The request type's name for people ("US search warrant"), or that it has none yet."""
        if not self.request_type:
            return "not classified yet"
        try:
            return request_type(self.request_type).label
        except RequestTypeError:
            return self.request_type


class NamedAccount(models.Model):
    """One account a request names, indexed, so a case finds the requests about its suspects."""

    request = models.ForeignKey(LERequest, on_delete=models.PROTECT, related_name="accounts")
    platform_id = models.CharField(max_length=200, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "platform_id"], name="le_account_once")
        ]

    def __str__(self) -> str:
        return self.platform_id


class RequestDocument(models.Model):
    """A legal document of a request (the order, the warrant, a letter), bytes in the vault."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(LERequest, on_delete=models.PROTECT, related_name="documents")
    sha256 = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    media_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.media_type})"


class DisclosureState(models.TextChoices):
    PREPARED = "prepared"
    APPROVED = "approved"
    RELEASED = "released"
    DOWNLOADED = "downloaded"


class Disclosure(models.Model):
    """A package answering a request: prepared by one legal person, approved by another,
    released encrypted, downloaded once through a link that expires."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(LERequest, on_delete=models.PROTECT, related_name="disclosures")
    state = models.CharField(
        max_length=16, choices=DisclosureState.choices, default=DisclosureState.PREPARED
    )
    # What the package holds: [{"category", "content_id" | "account", "path", "sha256"}].
    items = models.JSONField(default=list)
    # Abuse material goes only under a warrant, included by legal staff with this reason.
    abuse_material_reason = models.TextField(blank=True)
    # Reviewers appear by role and pseudonym unless legal staff chose to name them.
    names_revealed = models.BooleanField(default=False)
    manifest_sha256 = models.CharField(max_length=64)
    # The vault addresses of what was prepared: the manifest, the custody records, the PDF.
    prepared_blobs = models.JSONField(default=dict)
    # The audit event that anchors the manifest in the log.
    anchor_event_id = models.BigIntegerField(null=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    # The encrypted package in the vault, the SHA-256 of its key (the key itself is shown once
    # to the releasing person, who sends it to the requester by another channel), and the
    # one-time download link's token digest and expiry.
    package_sha256 = models.CharField(max_length=64, blank=True)
    key_sha256 = models.CharField(max_length=64, blank=True)
    link_digest = models.CharField(max_length=64, blank=True, db_index=True)
    link_expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    downloaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-prepared_at"]

    def __str__(self) -> str:
        return f"disclosure {self.pk} ({self.state})"


class Referral(models.Model):
    """An outbound emergency referral of a child in danger to the police of a country."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="referrals")
    country = models.CharField(max_length=2)
    # The directory entry used, and the directory version it came from.
    agency_key = models.CharField(max_length=64)
    agency_name = models.CharField(max_length=300)
    directory_version = models.CharField(max_length=64)
    channel = models.CharField(max_length=16)
    address = models.CharField(max_length=300)
    # The structured summary sent (built from the case), and why.
    summary = models.JSONField(default=dict)
    reason = models.TextField()
    # The EU DSA Art. 18 "threat to life or safety" notification this referral makes.
    dsa_article_18 = models.BooleanField(default=False)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField()
    ack_due_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agency_reference = models.CharField(max_length=200, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"referral of {self.case_id} to {self.agency_key}"
