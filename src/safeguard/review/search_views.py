"""The console's search page: cases the person may see, found by what they have in hand."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from safeguard.accounts.console import console_required
from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.cases.search import MAX_QUERY_LENGTH, SearchHit, SearchQueryInvalid, case_search_for


@never_cache
@console_required
def search(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - console_required let only signed-in users in
    query = request.GET.get("q", "")
    can_read = user.has_permission(Permission.CASES_CASE_READ)
    hits: list[SearchHit] = []
    error = ""
    searched = False
    if query and can_read:
        try:
            hits = case_search_for(user=user, query=query, source=AuditSource.CONSOLE)
            searched = True
        except SearchQueryInvalid as exc:
            error = str(exc)
    return render(
        request,
        "review/search.html",
        {
            "query": query,
            "hits": hits,
            "error": error,
            "searched": searched,
            "can_read": can_read,
            "max_length": MAX_QUERY_LENGTH,
        },
        status=422 if error else 200,
    )
