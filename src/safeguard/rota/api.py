"""Paging endpoints: list one's pages, acknowledge one."""

import uuid
from datetime import datetime

from django.http import HttpRequest
from ninja import Router
from pydantic import BaseModel

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.rota.models import Page
from safeguard.rota.selectors import page_get_for, pages_for
from safeguard.rota.services import page_acknowledge

router = Router(tags=["paging"])


class PageOut(BaseModel):
    id: uuid.UUID
    incident: uuid.UUID
    kind: str
    case_id: uuid.UUID
    recipient: str
    round: int
    message: str
    created_at: datetime
    delivered_at: datetime | None
    acknowledged_at: datetime | None


def page_out(page: Page) -> PageOut:
    return PageOut(
        id=page.pk,
        incident=page.incident,
        kind=page.kind,
        case_id=page.case_id,
        recipient=page.recipient.username,
        round=page.round,
        message=page.message,
        created_at=page.created_at,
        delivered_at=page.delivered_at,
        acknowledged_at=page.acknowledged_at,
    )


@router.get(
    "/pages",
    response=list[PageOut],
    auth=requires(Permission.ROTA_PAGE_ACKNOWLEDGE),
    summary="Unacknowledged pages to the caller (all of them, for a lead)",
)
def page_list(request: HttpRequest) -> list[PageOut]:
    return [page_out(p) for p in pages_for(user=request.auth, open_only=True)[:100]]  # type: ignore[attr-defined]


@router.post(
    "/pages/{page_id}/ack",
    response=PageOut,
    auth=requires(Permission.ROTA_PAGE_ACKNOWLEDGE),
    summary="Acknowledge a page (answers every page of its incident)",
)
def page_ack(request: HttpRequest, page_id: uuid.UUID) -> PageOut:
    page = page_get_for(user=request.auth, page_id=page_id)  # type: ignore[attr-defined]
    return page_out(page_acknowledge(page=page, actor=request.auth, source=AuditSource.API))  # type: ignore[attr-defined]
