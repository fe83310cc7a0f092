"""Console views: thin, reading through selectors."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from safeguard.accounts.permissions import Permission, role_permissions
from safeguard.cases.selectors import case_list_for


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


def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return JsonResponse({"status": "unavailable", "database": str(exc)}, status=503)
    return JsonResponse({"status": "ok"})
