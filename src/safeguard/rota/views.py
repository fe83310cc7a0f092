"""Console pages of the rota: the pages waiting for the signed-in person, and acknowledging one."""

from __future__ import annotations

import re
import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from safeguard.accounts.console import console_required
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.rota.models import Page
from safeguard.rota.selectors import PageNotFound, page_get_for, pages_for
from safeguard.rota.services import PageError, page_acknowledge


@never_cache
@console_required
def pages(request: HttpRequest) -> HttpResponse:
    """Unacknowledged pages for the signed-in person (every open page, for a lead)."""
    user = request.user
    open_pages = (
        list(pages_for(user=user, open_only=True)[:100])  # type: ignore[arg-type]
        if user.has_permission(Permission.ROTA_PAGE_ACKNOWLEDGE)  # type: ignore[union-attr]
        else []
    )
    return render(
        request, "rota/pages.html", {"pages": [(p, _message_parts(p)) for p in open_pages]}
    )


def _message_parts(page: Page) -> tuple[str, str]:
    """The page's message around its case id, which the page shows once, as the link to the
    case: (text before the id, text after it). A message sent and re-sent (an escalation quotes
    the first page) names the case more than once; only its first mention stays."""
    case_id = str(page.case_id)
    before, found, after = page.message.partition(case_id)
    if not found:
        return f"{page.message} — case ", ""
    # "…P0 case <id>: P0 case <id>: reason" reads "…P0 case <link>: reason".
    repeat = re.compile(rf"\s*(?:\S+ )?case {re.escape(case_id)}:?")
    return before, repeat.sub("", after).replace(case_id, "")


@require_POST
@console_required
def page_ack(request: HttpRequest, page_id: uuid.UUID) -> HttpResponse:
    try:
        page = page_get_for(user=request.user, page_id=page_id)  # type: ignore[arg-type]
        page_acknowledge(page=page, actor=request.user, source=AuditSource.CONSOLE)  # type: ignore[arg-type]
    except (PageNotFound, PageError):
        raise Http404("no such page") from None
    return redirect("pages")
