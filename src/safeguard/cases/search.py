"""Finding cases by what a person has in hand: a subject's or a content item's platform id, a
content item's id, a hash, or an escalation's external id; only among the cases they may see.

A case the searcher may not see never appears and changes nothing in the answer (not its
length, not its order), so searching tells nothing about it. A search that found cases is an
audit event (docs/search-and-bulk.md): a hash or an account id is itself sensitive, and who
looked for it is part of the record.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from django.db import transaction
from django.db.models import Q, QuerySet

from safeguard.accounts.models import User
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.models import Case, CaseEscalation
from safeguard.cases.selectors import visibility_for
from safeguard.core.errors import Invalid
from safeguard.core.invisible import describe, first_invisible
from safeguard.intake.models import ContentClaim, EscalationContent, EscalationSubject
from safeguard.matching.models import ContentMatch

MAX_QUERY_LENGTH: Final = 200
# A prefix shorter than this matches too much to mean anything ("u" is every "user:…").
MIN_PREFIX_LENGTH: Final = 3
MAX_LIMIT: Final = 200
# Rows read per kind of match before grouping by case: enough for any limit, bounded for a
# prefix that matches thousands of subjects.
_ROWS_PER_KIND: Final = 1000
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_UNTRIAGED = "P9"  # sorts after every priority


class SearchQueryInvalid(Invalid):
    """The search text cannot be searched for; the message says why."""


@dataclass
class SearchHit:
    """One case found, with what of it matched, as a person reads it ("subject user:abc")."""

    case: Case
    matched: list[str] = field(default_factory=list)


def search_query_clean(raw: str) -> str:
    """The text to search for: surrounding whitespace dropped, at most 200 characters, and no
    control, format or bidirectional-control character (which would hide what is searched)."""
    text = raw.strip()
    if not text:
        raise SearchQueryInvalid(
            "type something to search for: a platform id, a content id, a hash or an "
            "escalation's external id"
        )
    if len(text) > MAX_QUERY_LENGTH:
        raise SearchQueryInvalid(
            f"a search is at most {MAX_QUERY_LENGTH} characters; this one is {len(text)}"
        )
    found = first_invisible(text)
    if found is not None:
        position, char = found
        raise SearchQueryInvalid(
            f"the search contains {describe(char)} at position {position}; remove it (control, "
            "format and bidirectional-control characters hide what is searched for)"
        )
    return text


def _platform_id(column: str, text: str) -> Q:
    """Exact, or by prefix where the text is long enough to mean one account or item."""
    exact = Q(**{column: text})
    if len(text) >= MIN_PREFIX_LENGTH:
        return exact | Q(**{f"{column}__startswith": text})
    return exact


class _Found:
    """Matches gathered per case, in the order they were found, each label once."""

    def __init__(self) -> None:
        self.by_case: dict[uuid.UUID, list[str]] = {}

    def add(self, case_id: uuid.UUID, label: str) -> None:
        labels = self.by_case.setdefault(case_id, [])
        if label not in labels:
            labels.append(label)


def _subjects(found: _Found, visible: QuerySet[Case], text: str) -> None:
    rows = (
        EscalationSubject.objects.filter(
            _platform_id("subject__platform_id", text),
            escalation__case_link__case__in=visible,
        )
        .values_list("escalation__case_link__case_id", "subject__platform_id", "role")
        .order_by("subject__platform_id", "role")
        .distinct()[:_ROWS_PER_KIND]
    )
    for case_id, platform_id, role in rows:
        found.add(case_id, f"subject {platform_id} ({role})")


def _content(found: _Found, visible: QuerySet[Case], text: str) -> None:
    match = _platform_id("content__platform_id", text)
    with contextlib.suppress(ValueError):
        match |= Q(content_id=uuid.UUID(text))
    rows = (
        EscalationContent.objects.filter(match, escalation__case_link__case__in=visible)
        .values_list("escalation__case_link__case_id", "content__kind", "content__platform_id")
        .order_by("content__platform_id")
        .distinct()[:_ROWS_PER_KIND]
    )
    for case_id, kind, platform_id in rows:
        found.add(case_id, f"content {platform_id} ({kind})")


def _hashes(found: _Found, visible: QuerySet[Case], text: str) -> None:
    """A SHA-256 of an item's bytes (declared, stored or claimed by another source), or the
    hash of a bank entry an item matched (PDQ, MD5, SHA-256, a video's identity)."""
    digest = text.lower()
    if not (_HEX64.fullmatch(digest) or _HEX32.fullmatch(digest)):
        return
    if _HEX64.fullmatch(digest):
        rows = (
            EscalationContent.objects.filter(
                Q(content__declared_sha256=digest) | Q(content__blob_id=digest),
                escalation__case_link__case__in=visible,
            )
            .values_list("escalation__case_link__case_id", "content__platform_id")
            .distinct()[:_ROWS_PER_KIND]
        )
        for case_id, platform_id in rows:
            found.add(case_id, f"sha256 {digest} (content {platform_id})")
        claimed = set(
            ContentClaim.objects.filter(sha256=digest).values_list("content_id", flat=True)[
                :_ROWS_PER_KIND
            ]
        )
        for case_id, platform_id in _cases_of_content(claimed, visible):
            found.add(case_id, f"sha256 {digest} (another source's description of {platform_id})")
    matched: dict[uuid.UUID, set[str]] = {}
    for content_id, signal_type in ContentMatch.objects.filter(entry__hash=digest).values_list(
        "content_id", "signal_type"
    )[:_ROWS_PER_KIND]:
        matched.setdefault(content_id, set()).add(signal_type)
    for case_id, content_id, platform_id in _cases_of_content(set(matched), visible, with_id=True):
        for signal_type in sorted(matched[content_id]):
            found.add(case_id, f"{signal_type} {digest} (bank match on {platform_id})")


def _cases_of_content(
    content_ids: set[uuid.UUID], visible: QuerySet[Case], *, with_id: bool = False
) -> list[tuple[Any, ...]]:
    """(case id, [content id,] platform id) of the visible cases that name these items."""
    if not content_ids:
        return []
    columns = ["escalation__case_link__case_id"]
    if with_id:
        columns.append("content_id")
    columns.append("content__platform_id")
    return list(
        EscalationContent.objects.filter(
            content_id__in=content_ids, escalation__case_link__case__in=visible
        )
        .values_list(*columns)
        .distinct()[:_ROWS_PER_KIND]
    )


def _escalations(found: _Found, visible: QuerySet[Case], text: str) -> None:
    rows = (
        CaseEscalation.objects.filter(escalation__external_id=text, case__in=visible)
        .values_list("case_id", "escalation__channel", "escalation__external_id")
        .distinct()[:_ROWS_PER_KIND]
    )
    for case_id, channel, external_id in rows:
        found.add(case_id, f"escalation {external_id} ({channel})")


def case_search_for(
    *, user: User, query: str, limit: int = 50, source: AuditSource = AuditSource.API
) -> list[SearchHit]:
    """The cases `user` may see that `query` names, most urgent first, then newest; each with
    what matched. Raises `SearchQueryInvalid` for text that cannot be searched for.

    A search that found something is audited (`cases.searched`, with the query and the cases
    shown), and an auditor's sight of a case under a grant is recorded as any read of theirs is.
    """
    text = search_query_clean(query)
    limit = max(1, min(limit, MAX_LIMIT))
    visibility = visibility_for(user)
    found = _Found()
    for kind in (_subjects, _content, _hashes, _escalations):
        kind(found, visibility.cases, text)
    if not found.by_case:
        return []
    cases = list(visibility.cases.filter(pk__in=list(found.by_case)).select_related("holder"))
    cases.sort(key=lambda c: c.opened_at, reverse=True)
    cases.sort(key=lambda c: c.priority or _UNTRIAGED)
    hits = [SearchHit(case=c, matched=found.by_case[c.pk]) for c in cases[:limit]]
    with transaction.atomic():
        audit_record(
            event_type=AuditEventType.CASES_SEARCHED,
            actor=user,
            source=source,
            target_type="search",
            target_id=text,
            data={"query": text, "cases": [str(h.case.pk) for h in hits], "found": len(cases)},
        )
        visibility.record_reads([h.case for h in hits], read="search", source=source, query=text)
    return hits
