"""Hash banks and their entries, matches found on content, and the record of every lookup."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Bank(models.Model):
    """A named list of hashes with provenance; an allow-list bank suppresses known false hits."""

    name = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    enabled = models.BooleanField(default=True)
    # Entries of a verified bank are confirmed abuse material (e.g. NCMEC's list): a match is
    # at least P1 and needs no person to view the media.
    verified = models.BooleanField(default=False)
    allow_list = models.BooleanField(default=False)
    # Per signal type; PDQ defaults to 31 (DESIGN.md §6).
    thresholds = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return self.name


class BankEntry(models.Model):
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="entries")
    signal_type = models.CharField(max_length=16)
    # PDQ, MD5, SHA-256: the hash itself. Video: the SHA-256 of `frames`, its identity.
    hash = models.CharField(max_length=64)
    # Video only: the per-frame hashes in their text form, compared frame by frame.
    frames = models.TextField(blank=True)
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    source = models.CharField(max_length=500, blank=True)
    external_id = models.CharField(max_length=500, blank=True)
    note = models.CharField(max_length=500, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bank", "signal_type", "hash"], name="bank_entry_once_per_bank"
            )
        ]
        indexes = [models.Index(fields=["signal_type", "hash"])]

    def __str__(self) -> str:
        return f"{self.bank_id}:{self.signal_type}:{self.hash[:16]}"


class ContentMatch(models.Model):
    """A content item's media matched a bank entry; the console shows it without the media."""

    content = models.ForeignKey(
        "evidence.ContentItem", on_delete=models.PROTECT, related_name="matches"
    )
    entry = models.ForeignKey(BankEntry, on_delete=models.PROTECT, related_name="+")
    signal_type = models.CharField(max_length=16)
    distance = models.PositiveSmallIntegerField()
    # The query's quality was below the bank's floor: a dark or low-contrast copy.
    low_confidence = models.BooleanField(default=False)
    suppressed_by = models.ForeignKey(
        BankEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalation = models.ForeignKey(
        "intake.Escalation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    found_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content", "entry"], name="content_match_once")
        ]

    def __str__(self) -> str:
        return f"{self.content_id} ~ {self.entry_id} at {self.distance}"


class MatchLookup(models.Model):
    """Who asked the matcher what, and what it found; the media itself is never kept here."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=16)
    queries = models.JSONField()
    matches = models.JSONField()
    asked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"lookup at {self.asked_at}"


class IndexGeneration(models.Model):
    """Bumped whenever an entry or bank stops (or starts again) counting, in the same
    transaction. Processes holding an index in memory compare it and rebuild when it moved;
    plain additions are picked up incrementally by entry id instead."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    generation = models.BigIntegerField(default=0)
    # Names this database in snapshot paths, so a snapshot never outlives the data it indexed.
    instance = models.UUIDField(default=uuid.uuid4)

    def __str__(self) -> str:
        return f"generation {self.generation}"
