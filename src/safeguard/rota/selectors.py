"""Reads for pages, with the access check."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.core.errors import NotFound
from safeguard.rota.models import Page


class PageNotFound(NotFound):
    def __init__(self, page_id: object) -> None:
        super().__init__(f"no page {page_id}")


def pages_for(*, user: User, open_only: bool = False) -> QuerySet[Page]:
    pages = Page.objects.select_related("case", "recipient")
    if not user.has_permission(Permission.CASES_CASE_ASSIGN):
        pages = pages.filter(recipient=user)
    if open_only:
        pages = pages.filter(acknowledged_at__isnull=True)
    return pages


def page_get_for(*, user: User, page_id: uuid.UUID) -> Page:
    if not user.has_permission(Permission.ROTA_PAGE_ACKNOWLEDGE):
        raise PageNotFound(page_id)
    page = pages_for(user=user).filter(pk=page_id).first()
    if page is None:
        raise PageNotFound(page_id)
    return page
