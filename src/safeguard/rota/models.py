"""Pages: a notice to one person about one case, delivered by webhook and e-mail, acknowledged."""

from __future__ import annotations

import uuid
from enum import StrEnum

from django.conf import settings
from django.db import models


class PageKind(StrEnum):
    P0 = "p0"
    DEADLINE_WARNING = "deadline_warning"
    DEADLINE_BREACH = "deadline_breach"


class Page(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Pages sent about one P0 share an incident: acknowledging any one of them answers it.
    incident = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=32, choices=[(k.value, k.value) for k in PageKind])
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="pages")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pages"
    )
    # 0 for the first person on call, 1 for the next, and so on.
    round = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    webhook_attempts = models.PositiveSmallIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} page to {self.recipient_id} about {self.case_id}"
