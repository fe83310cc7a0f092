"""Reviewer care: how media is shown to each person, and how much of it they saw each day."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ViewSettings(models.Model):
    """How protected media is shown. The row with no user holds the organisation's defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="view_settings",
    )
    blur_radius = models.PositiveSmallIntegerField(default=24)
    greyscale = models.BooleanField(default=True)
    thumbnail_px = models.PositiveSmallIntegerField(default=320)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(user__isnull=True),
                name="one_organisation_default",
            )
        ]

    def __str__(self) -> str:
        return f"view settings of {self.user_id or 'the organisation'}"


class ExposureDay(models.Model):
    """Per person and UTC day: sensitive items revealed (time spent holding cases in sensitive
    queues comes from cases.ClaimRecord). Shown to the person; leads see only totals and the
    spread."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    items_revealed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="exposure_once_a_day")]

    def __str__(self) -> str:
        return f"exposure of {self.user_id} on {self.day}"
