"""Live parts of the console: the P0 banner on every page, the queues table and a case's status,
each a small fragment that htmx polls (docs/console.md, "Live updates").

Each fragment carries a digest of the facts it shows. The poll sends the digest it has; when
nothing changed the answer is 204 and htmx swaps nothing, so a person's focus, hover and
selection stay put between real changes, and a quiet console costs one tiny answer per poll.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from safeguard.accounts.console import console_required
from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission, console_allowed
from safeguard.accounts.selectors import SecondFactorStep, second_factor_step, session_is_verified
from safeguard.cases.models import Case
from safeguard.cases.queues import SERVING_ORDER, claimable_in
from safeguard.cases.selectors import (
    CaseNotFound,
    queue_summaries_for,
    visibility_for,
    workable_queue_names,
)
from safeguard.cases.workflow import Priority
from safeguard.rota.models import Page, PageKind

# How many waiting P0s the banner names; the rest are counted.
BANNER_NAMED = 3
PAGE_KIND_TEXT = {
    PageKind.P0: "P0 page",
    PageKind.DEADLINE_WARNING: "Deadline warning",
    PageKind.DEADLINE_BREACH: "Breach notice",
}


def poll_trigger() -> str:
    """The hx-trigger of every live region (SAFEGUARD_LIVE_POLL_SECONDS, 5 by default)."""
    return f"every {getattr(settings, 'SAFEGUARD_LIVE_POLL_SECONDS', 5)}s"


def digest(facts: object) -> str:
    """A short fingerprint of what a fragment shows (its facts, not its HTML, which carries a
    fresh CSRF token on every render)."""
    text = json.dumps(facts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def console_open(request: HttpRequest) -> bool:
    """Whether this request may see the console's navigation and live regions: a signed-in
    person with a console role who has passed the second factor where their role needs one."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not console_allowed(user.role):
        return False
    step = second_factor_step(user=user, verified=session_is_verified(user))
    return step in (SecondFactorStep.NOT_NEEDED, SecondFactorStep.DONE)


def context(request: HttpRequest) -> dict[str, object]:
    """Template context for every page: whether the console is open to this request (the
    navigation, the P0 banner) and how often the live regions poll."""
    if not console_open(request):
        return {"console_open": False}
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - console_open checked it
    return {
        "console_open": True,
        "live_poll": poll_trigger(),
        "live_banner": user.has_permission(Permission.CASES_CASE_REVIEW),
        "p0_sound": user.p0_sound,
        # The navigation's links to legal holds and to the law-enforcement work.
        "nav_holds": user.has_permission(Permission.EVIDENCE_HOLD_READ),
        "nav_law_enforcement": user.has_permission(Permission.LE_REQUEST_READ),
    }


# --- Reads --------------------------------------------------------------------------------


def p0_waiting_for(user: User) -> list[Case]:
    """P0 cases nobody is working (waiting, or held on a lapsed lease) in the queues `user` may
    work, most urgent first, in the order `n` serves them."""
    if not user.has_permission(Permission.CASES_CASE_REVIEW):
        return []
    return list(
        Case.objects.filter(claimable_in(workable_queue_names(user)), priority=Priority.P0)
        .order_by(*SERVING_ORDER)
        .only("id", "queue", "opened_at", "first_action_due", "priority")
    )


def queue_rows_for(user: User) -> list[dict[str, Any]]:
    """The queues table: each queue the user may work, most urgent first (the selector's order),
    with how many of its open cases are being reviewed and how many wait."""
    rows = queue_summaries_for(user=user)
    for q in rows:
        q["waiting"] = max(q["open_cases"] - q["in_review"], 0)
    return rows


@dataclass(frozen=True)
class CaseStatus:
    case: Case
    pages: list[Page]


def case_status_for(*, user: User, case_id: uuid.UUID) -> CaseStatus:
    """A case's live status (state, priority, holder, clock, its pages and their answers) for a
    person who may see the case; the same `CaseNotFound` otherwise.

    The case page that polls this recorded the read already (an auditor's read under a grant is
    audited there); this shows no case material, so a poll is not recorded again.
    """
    case = visibility_for(user).cases.filter(pk=case_id).select_related("holder").first()
    if case is None:
        raise CaseNotFound(case_id)
    pages = list(
        Page.objects.filter(case=case)
        .select_related("recipient", "acknowledged_by")
        .order_by("created_at")
    )
    return CaseStatus(case=case, pages=pages)


# --- Views --------------------------------------------------------------------------------


def live_gate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`console_required` for a poll: where the gate would send the person elsewhere (signed
    out, or the session expired), the page that polls is reloaded instead, so it leaves the
    screen at once and the browser lands on the sign-in page; no HTML page is swapped into a
    fragment's place."""
    gated = console_required(view)

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = gated(request, *args, **kwargs)
        if 300 <= response.status_code < 400 and getattr(request, "htmx", False):
            refresh = HttpResponse(status=204)
            refresh["HX-Refresh"] = "true"
            return refresh
        return response

    return wrapper


def _fragment(
    request: HttpRequest, template: str, facts: object, extra: dict[str, object]
) -> HttpResponse:
    version = digest(facts)
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    return render(request, template, {"version": version, "live_poll": poll_trigger(), **extra})


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - the gate let only signed-in people in
    return user


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def banner_context(user: User) -> tuple[object, dict[str, object]]:
    waiting = p0_waiting_for(user)
    facts = [(str(c.pk), c.queue) for c in waiting]
    newest = max((c.opened_at for c in waiting), default=None)
    return facts, {
        "p0s": waiting[:BANNER_NAMED],
        "p0_count": len(waiting),
        "p0_more": max(len(waiting) - BANNER_NAMED, 0),
        "p0_newest": _iso(newest),
    }


@require_GET
@never_cache
@live_gate
def live_banner(request: HttpRequest) -> HttpResponse:
    """The P0 banner every console page shows while a P0 waits in one of the person's queues."""
    facts, extra = banner_context(_user(request))
    return _fragment(request, "review/_banner.html", facts, extra)


def queues_context(user: User) -> tuple[object, dict[str, object]]:
    rows = queue_rows_for(user)
    return rows, {"queues": rows}


@require_GET
@never_cache
@live_gate
def queues_live(request: HttpRequest) -> HttpResponse:
    """The queues table, for the queues page to refresh in place."""
    facts, extra = queues_context(_user(request))
    return _fragment(request, "review/_queues_table.html", facts, extra)


def case_live_context(user: User, case_id: uuid.UUID) -> tuple[object, dict[str, object]]:
    status = case_status_for(user=user, case_id=case_id)
    case = status.case
    facts = {
        "state": case.state,
        "priority": case.priority,
        "holder": case.holder_id,
        "lease_until": _iso(case.lease_until),
        "breached_at": _iso(case.breached_at),
        "first_action_at": _iso(case.first_action_at),
        "pages": [(str(p.pk), _iso(p.acknowledged_at), p.acknowledged_by_id) for p in status.pages],
    }
    return facts, {
        "case": case,
        "pages": [(PAGE_KIND_TEXT.get(PageKind(p.kind), p.kind), p) for p in status.pages],
        "holds": case.holder_id == user.pk,
        "case_url": reverse("console-case", kwargs={"case_id": case.pk}),
    }


@require_GET
@never_cache
@live_gate
def case_live(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """A case's status (priority, state, holder, clock, pages and their acknowledgements)."""
    try:
        facts, extra = case_live_context(_user(request), case_id)
    except CaseNotFound:
        raise Http404("no such case") from None
    return _fragment(request, "review/_case_live.html", facts, extra)
