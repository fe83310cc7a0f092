"""The leads' bulk page: tick open cases, give one reason, reassign or re-prioritise them all.

A refusal keeps everything the lead entered (the ticks, the reason, the choices) and shows the
error beside the field at fault; nothing is changed until the whole batch can be.
"""

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from safeguard.accounts.console import console_required
from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.cases.workflow import Priority
from safeguard.triage.bulk import (
    MAX_BATCH,
    BulkRefused,
    bulk_candidates_for,
    bulk_queue_names,
    bulk_reassign_target,
    cases_bulk_reassign,
    cases_bulk_reprioritise,
)

ACTIONS = {"reassign": "Reassign", "reprioritise": "Re-prioritise"}


def _lead(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - console_required let only signed-in users in
    # A page a person may not use is one that does not exist for them.
    if not user.has_permission(Permission.CASES_CASE_ASSIGN):
        raise Http404("no such page")
    return user


@dataclass
class BulkForm:
    """What the lead entered, kept to show again when the batch is refused."""

    action: str = ""
    ticked: list[str] = field(default_factory=list)
    reason: str = ""
    to_queue: str = ""
    to_user: str = ""
    priority: str = ""


def _case_ids(raw: list[str]) -> list[uuid.UUID]:
    ids = []
    for value in raw:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            raise BulkRefused(
                f"{value[:60]!r} is not a case id; nothing was changed", field="cases"
            ) from None
    return ids


def _apply(user: User, form: BulkForm) -> str:
    """Carry out the form's change; the message for the lead, or a BulkRefused."""
    ids = _case_ids(form.ticked)
    reason = form.reason
    if form.action == "reassign":
        to_queue, to_user = bulk_reassign_target(
            to_queue=form.to_queue, to_user=form.to_user.strip()
        )
        changed = cases_bulk_reassign(
            case_ids=ids,
            actor=user,
            reason=reason,
            source=AuditSource.CONSOLE,
            to_queue=to_queue,
            to_user=to_user,
        )
        where = f"queue {to_queue.name}" if to_queue else (to_user.username if to_user else "")
        return f"Reassigned {len(changed)} case(s) to {where}."
    if form.action == "reprioritise":
        try:
            priority = Priority(form.priority)
        except ValueError:
            raise BulkRefused(
                "choose the priority to set; nothing was changed", field="priority"
            ) from None
        changed = cases_bulk_reprioritise(
            case_ids=ids, actor=user, reason=reason, priority=priority, source=AuditSource.CONSOLE
        )
        return f"Set {len(changed)} case(s) to {priority.value}."
    raise BulkRefused("choose Reassign or Re-prioritise; nothing was changed", field="action")


@never_cache
@console_required
def bulk(request: HttpRequest) -> HttpResponse:
    user = _lead(request)
    queue = request.GET.get("queue", "")
    form = BulkForm()
    errors: dict[str, str] = {}
    refused_case = ""
    status = 200
    if request.method == "POST":
        form = BulkForm(
            action=request.POST.get("action", ""),
            ticked=request.POST.getlist("cases"),
            reason=request.POST.get("reason", ""),
            to_queue=request.POST.get("to_queue", ""),
            to_user=request.POST.get("to_user", ""),
            priority=request.POST.get("priority", ""),
        )
        queue = request.POST.get("queue", queue)
        try:
            done = _apply(user, form)
        except BulkRefused as exc:
            errors[exc.field] = str(exc)
            refused_case = str(exc.case_id or "")
            status = 422
        else:
            messages.success(request, done)
            return redirect(
                f"{request.path}?{urlencode({'queue': queue})}" if queue else request.path
            )
    elif request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return render(
        request,
        "review/bulk.html",
        {
            "cases": bulk_candidates_for(user=user, queue=queue),
            "queues": bulk_queue_names(),
            "queue": queue,
            "priorities": [p.value for p in Priority],
            "actions": ACTIONS,
            "form": form,
            "errors": errors,
            "refused_case": refused_case,
            "max_batch": MAX_BATCH,
        },
        status=status,
    )
