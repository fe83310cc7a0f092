"""The search endpoint: cases the caller may see, found by a platform id, content id, hash or
escalation external id."""

import uuid
from datetime import datetime

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router
from pydantic import BaseModel, Field

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.cases.search import MAX_LIMIT, case_search_for
from safeguard.core.fields import QueryIn
from safeguard.core.openapi import answers

router = Router(tags=["cases"])


class SearchQuery(QueryIn):
    # Bounded loosely here so the search's own check gives the precise message (its length,
    # the character that is refused) rather than a generic one.
    q: str = Field(
        default="",
        max_length=10_000,
        description="a subject's or content item's platform id (exact, or a prefix of 3 or "
        "more characters), a content item's id, a SHA-256, PDQ or MD5 hash, or an "
        "escalation's external id",
    )
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)


class SearchHitOut(BaseModel):
    case_id: uuid.UUID
    priority: str | None
    state: str
    queue: str | None
    opened_at: datetime
    holder: str | None
    matched: list[str] = Field(description='what matched, e.g. "subject user:abc (suspect)"')
    console_url: str = Field(description="the case's page in the console")


@router.get(
    "/search",
    response=answers(list[SearchHitOut], 422),
    auth=requires(Permission.CASES_CASE_READ),
    summary="Find cases the caller may see by platform id, content id, hash or external id",
)
def search(request: HttpRequest, filters: Query[SearchQuery]) -> list[SearchHitOut]:
    hits = case_search_for(
        user=request.auth,  # type: ignore[attr-defined]
        query=filters.q,
        limit=filters.limit,
        source=AuditSource.API,
    )
    return [
        SearchHitOut(
            case_id=h.case.pk,
            priority=h.case.priority or None,
            state=h.case.state,
            queue=h.case.queue or None,
            opened_at=h.case.opened_at,
            holder=h.case.holder.username if h.case.holder else None,
            matched=h.matched,
            console_url=reverse("console-case", kwargs={"case_id": h.case.pk}),
        )
        for h in hits
    ]
