"""Console views: thin, reading through selectors."""

import uuid

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from safeguard.accounts.permissions import Permission, role_permissions
from safeguard.audit.events import AuditSource
from safeguard.cases.selectors import case_list_for
from safeguard.rota.selectors import PageNotFound, page_get_for, pages_for
from safeguard.rota.services import PageError, page_acknowledge


@never_cache
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    can_read = user.has_permission(Permission.CASES_CASE_READ)  # type: ignore[union-attr]
    cases = case_list_for(user=user, limit=25) if can_read else []  # type: ignore[arg-type]
    return render(
        request,
        "review/home.html",
        {
            "cases": cases,
            "can_read": can_read,
            "permissions": sorted(p.value for p in role_permissions(user.role)),  # type: ignore[union-attr]
        },
    )


@never_cache
@login_required
def pages(request: HttpRequest) -> HttpResponse:
    """Unacknowledged pages for the signed-in person (every open page, for a lead)."""
    user = request.user
    open_pages = (
        list(pages_for(user=user, open_only=True)[:100])  # type: ignore[arg-type]
        if user.has_permission(Permission.ROTA_PAGE_ACKNOWLEDGE)  # type: ignore[union-attr]
        else []
    )
    return render(request, "review/pages.html", {"pages": open_pages})


@require_POST
@login_required
def page_ack(request: HttpRequest, page_id: uuid.UUID) -> HttpResponse:
    try:
        page = page_get_for(user=request.user, page_id=page_id)  # type: ignore[arg-type]
        page_acknowledge(page=page, actor=request.user, source=AuditSource.CONSOLE)  # type: ignore[arg-type]
    except (PageNotFound, PageError):
        raise Http404("no such page") from None
    return redirect("pages")


def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return JsonResponse({"status": "unavailable", "database": str(exc)}, status=503)
    return JsonResponse({"status": "ok"})
