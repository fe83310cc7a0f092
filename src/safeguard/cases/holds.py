"""What a legal hold on a case or a subject covers: the content of the escalations in the case
and of the escalations that name the subject. Registered with evidence's `hold_scope` (the one
query-style hook: evidence cannot know cases, and a hold must cover content that joins a held
case later, so it asks at deletion time)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from safeguard.evidence.hooks import HoldKey
from safeguard.intake.models import EscalationContent


def content_hold_keys(content_ids: frozenset[uuid.UUID]) -> Mapping[uuid.UUID, list[HoldKey]]:
    """Each item's cases (through the escalations that name it) and every subject those
    escalations name: a hold on any of them holds the item."""
    keys: dict[uuid.UUID, list[HoldKey]] = {}
    rows = EscalationContent.objects.filter(content_id__in=content_ids).values_list(
        "content_id", "escalation__case_link__case_id", "escalation__subjects__subject_id"
    )
    for content_id, case_id, subject_id in rows:
        entry = keys.setdefault(content_id, [])
        if case_id is not None:
            entry.append(("case", str(case_id)))
        if subject_id is not None:
            entry.append(("subject", str(subject_id)))
    return keys
