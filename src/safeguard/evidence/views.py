"""The legal-holds console page: what is held and why, placing, extending and releasing holds,
deleting stored evidence (refused under a hold), and lawful destruction with a second approver.
Views parse the form and call a service; the services decide."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from safeguard.accounts.console import console_required
from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.core.errors import DomainError
from safeguard.evidence import deletion, holds
from safeguard.evidence.models import ContentTombstone, HoldSource, HoldTarget, RetentionRun


def _user(request: HttpRequest, permission: Permission) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - console_required lets only accounts.User in
    if not user.has_permission(permission):
        raise PermissionDenied(f"{user.role} lacks {permission.value}")
    return user


def _local(value: str, field: str) -> datetime | None:
    """A datetime-local input, in the person's own time zone (the one the page shows)."""
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise holds.HoldInvalid(f"{field} {value!r} is not a date and time") from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise deletion.DeletionInvalid(f"{what} {value.strip()!r} is not an id (a UUID)") from None


@never_cache
@console_required
def holds_page(request: HttpRequest) -> HttpResponse:
    user = _user(request, Permission.EVIDENCE_HOLD_READ)
    now = timezone.now()
    listed = list(holds.holds_list_for(user=user)[:300])
    in_force = [h for h in listed if holds.hold_state(h, now) == "in force"]
    past = [(h, holds.hold_state(h, now)) for h in listed if h not in in_force][:50]
    destructions = deletion.destructions_for(user=user)
    waiting = [d for d in destructions if d.approved_at is None]
    # Whether approving would override a hold: the approver must see it before destroying.
    covered = holds.holds_covering(
        content_ids=[c.pk for d in waiting for c in d.content.all()], now=now
    )
    pending = [(d, [(c, covered.get(c.pk, [])) for c in d.content.all()]) for d in waiting]
    return render(
        request,
        "evidence/holds.html",
        {
            "in_force": in_force,
            "past": past,
            "now": now,
            "can_manage": user.has_permission(Permission.EVIDENCE_HOLD_MANAGE),
            "can_delete": user.has_permission(Permission.EVIDENCE_CONTENT_DELETE),
            "can_destroy": user.has_permission(Permission.EVIDENCE_CONTENT_DESTROY),
            "pending": pending,
            "approved": [d for d in destructions if d.approved_at is not None][:20],
            "tombstones": list(
                ContentTombstone.objects.select_related("deleted_by").order_by("-deleted_at")[:30]
            ),
            "runs": list(RetentionRun.objects.order_by("-due")[:5]),
            "targets": [t.value for t in HoldTarget],
            "sources": [s.value for s in HoldSource],
            "refused": request.session.pop("holds_refused", None),
        },
    )


def _back(request: HttpRequest, anchor: str = "") -> HttpResponse:
    return redirect(reverse("holds") + anchor)


@require_POST
@console_required
def hold_place_view(request: HttpRequest) -> HttpResponse:
    user = _user(request, Permission.EVIDENCE_HOLD_MANAGE)
    form = request.POST
    try:
        hold = holds.hold_place(
            target_type=form.get("target_type", ""),
            target_id=form.get("target_id", ""),
            reason=form.get("reason", ""),
            hold_source=form.get("source", ""),
            source_reference=form.get("source_reference", ""),
            ends_at=_local(form.get("ends_at", ""), "end"),
            actor=user,
            source=AuditSource.CONSOLE,
        )
    except DomainError as exc:
        messages.error(request, f"Hold not placed: {exc}")
        return _back(request, "#place")
    messages.success(request, f"Hold placed: {holds.hold_describe(hold)}")
    return _back(request)


@require_POST
@console_required
def hold_extend_view(request: HttpRequest, hold_id: uuid.UUID) -> HttpResponse:
    user = _user(request, Permission.EVIDENCE_HOLD_MANAGE)
    try:
        hold = holds.hold_extend(
            hold=holds.hold_get_for(user=user, hold_id=hold_id),
            ends_at=_local(request.POST.get("ends_at", ""), "new end"),
            reason=request.POST.get("reason", ""),
            actor=user,
            source=AuditSource.CONSOLE,
        )
    except DomainError as exc:
        messages.error(request, f"Hold not extended: {exc}")
        return _back(request)
    messages.success(request, f"Hold extended: {holds.hold_describe(hold)}")
    return _back(request)


@require_POST
@console_required
def hold_release_view(request: HttpRequest, hold_id: uuid.UUID) -> HttpResponse:
    user = _user(request, Permission.EVIDENCE_HOLD_MANAGE)
    try:
        hold = holds.hold_release(
            hold=holds.hold_get_for(user=user, hold_id=hold_id),
            reason=request.POST.get("reason", ""),
            actor=user,
            source=AuditSource.CONSOLE,
        )
    except DomainError as exc:
        messages.error(request, f"Hold not released: {exc}")
        return _back(request)
    messages.success(
        request, f"Hold {hold.pk} released. What it covered can now be deleted by any path."
    )
    return _back(request)


@require_POST
@console_required
def content_delete_view(request: HttpRequest) -> HttpResponse:
    user = _user(request, Permission.EVIDENCE_CONTENT_DELETE)
    try:
        tombstone = deletion.content_delete(
            content_id=_uuid(request.POST.get("content_id", ""), "content"),
            reason=request.POST.get("reason", ""),
            # One select ("media text", "media", "text"); the names are checked by parts_of.
            parts=deletion.parts_of(" ".join(request.POST.getlist("parts")).split()),
            actor=user,
            source=AuditSource.CONSOLE,
        )
    except holds.ContentHeld as exc:
        # Shown as its own panel: what is held, by which hold, and what the refusal means.
        request.session["holds_refused"] = {
            "items": [
                {"content": str(cid), "holds": [holds.hold_describe(h) for h in hs]}
                for cid, hs in exc.held.items()
            ]
        }
        return _back(request, "#refused")
    except DomainError as exc:
        messages.error(request, f"Nothing deleted: {exc}")
        return _back(request, "#delete")
    messages.success(
        request,
        f"Deleted from content {tombstone.content_id} (media sha256 "
        f"{tombstone.media_sha256 or '—'}, text sha256 {tombstone.text_sha256 or '—'}). "
        "The item stays as a tombstone.",
    )
    return _back(request, "#deletions")


@require_POST
@console_required
def destruction_request_view(request: HttpRequest) -> HttpResponse:
    user = _user(request, Permission.EVIDENCE_CONTENT_DESTROY)
    form = request.POST
    try:
        ids = [_uuid(v, "content") for v in form.get("content_ids", "").split() if v.strip()]
        recorded = deletion.destruction_request_record(
            content_ids=ids,
            request_reference=form.get("request_reference", ""),
            agency=form.get("agency", ""),
            reason=form.get("reason", ""),
            actor=user,
            source=AuditSource.CONSOLE,
        )
    except DomainError as exc:
        messages.error(request, f"Destruction request not recorded: {exc}")
        return _back(request, "#destruction")
    messages.success(
        request,
        f"Destruction request {recorded.pk} recorded. Nothing is destroyed until a different "
        "person with the legal role approves it.",
    )
    return _back(request, "#destruction")


@require_POST
@console_required
def destruction_approve_view(request: HttpRequest, destruction_id: uuid.UUID) -> HttpResponse:
    user = _user(request, Permission.EVIDENCE_CONTENT_DESTROY)
    try:
        tombstones = deletion.destruction_approve(
            request=deletion.destruction_get_for(user=user, request_id=destruction_id),
            actor=user,
            source=AuditSource.CONSOLE,
        )
    except DomainError as exc:
        messages.error(request, f"Not approved, nothing destroyed: {exc}")
        return _back(request, "#destruction")
    messages.success(
        request,
        f"Approved: {len(tombstones)} item(s) destroyed permanently, holds notwithstanding.",
    )
    return _back(request, "#deletions")
