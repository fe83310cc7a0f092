"""The law-enforcement portal at /le/: partners submit and follow their agency's requests and
download what is released to them; legal staff run the queue, requests, disclosures and
agencies. Views parse the form and call a service or selector; the services decide."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, BinaryIO, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from safeguard.accounts.console import console_required, portal_required
from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission, console_allowed
from safeguard.audit.events import AuditSource
from safeguard.core.errors import DomainError
from safeguard.intake.enums import Category
from safeguard.intake.services import escalation_intake
from safeguard.lawenforcement import disclosures, forms
from safeguard.lawenforcement.models import (
    Agency,
    Disclosure,
    DisclosureState,
    LERequest,
    Partner,
    RequestDocument,
)
from safeguard.lawenforcement.request_types import (
    FIELDS,
    DataCategory,
    RequestType,
    Scope,
    UnknownRequestType,
    default_request_types,
    request_type,
)
from safeguard.lawenforcement.selectors import (
    LERequestNotFound,
    agency_get_for,
    holdings_for,
    latest_verification,
    le_request_for_staff,
    le_request_get_for,
    linked_cases,
    partner_of,
    preservation_actions,
    type_of,
    visible_requests,
)
from safeguard.lawenforcement.services import (
    agency_save,
    le_preservation_extend,
    le_request_classify,
    le_request_determine_emergency,
    le_request_document_add,
    le_request_document_read,
    le_request_transition,
    partner_attach,
    requester_unverified,
    requesters_unverified,
    verification_record,
)
from safeguard.lawenforcement.workflow import EDGES, OPEN_STATES, RequestState, RequestTransition

# What each rung of the scope ladder lets a package hold, in the words a requester reads.
SCOPE_WORDS = {
    Scope.NONE: "nothing — it preserves data, it does not disclose it",
    Scope.BASIC_SUBSCRIBER: "basic subscriber information only",
    Scope.NON_CONTENT: "subscriber information and non-content records",
    Scope.CONTENT: "content, subscriber information and records",
}
STATE_WORDS = {
    RequestState.RECEIVED: "Received",
    RequestState.VERIFYING: "Being verified",
    RequestState.IN_PROGRESS: "In progress",
    RequestState.NEEDS_INFORMATION: "Needs information from you",
    RequestState.APPROVED: "Approved",
    RequestState.RESPONDED: "Responded",
    RequestState.REJECTED: "Rejected",
}
CATEGORY_WORDS = {
    DataCategory.SUBSCRIBER: "Subscriber information (what Safeguard holds about the account)",
    DataCategory.RECORDS: "Non-content records (reports, content ids and hashes, actions)",
    DataCategory.CONTENT: "Content (text; media only under a search warrant, with a reason)",
}


# --- display helpers (words only; nothing here decides) -----------------------------------


def _span(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def clock_words(due: datetime | None, now: datetime) -> tuple[str, bool]:
    """("due in 3 h 20 min", False) or ("OVERDUE by 2 h", True); a request without a clock
    (a preservation, an unclassified request) says so."""
    if due is None:
        return "no response clock", False
    if due <= now:
        return f"OVERDUE by {_span(now - due)}", True
    return f"due in {_span(due - now)}", False


def clock_of(kind: RequestType | None) -> str:
    if kind is None:
        return "set when legal staff classify it"
    parts = []
    if kind.clock is not None:
        unit = kind.clock.unit.value
        parts.append(f"{kind.clock.amount} {unit if kind.clock.amount != 1 else unit[:-1]}")
    if kind.preservation is not None:
        rule = kind.preservation
        held = f"held {rule.days} days"
        if rule.max_extensions:
            held += f", extendable {rule.max_extensions} time(s) by {rule.extension_days} days"
        parts.append(held)
    return "; ".join(parts)


def _type_row(kind: RequestType) -> dict[str, Any]:
    return {
        "key": kind.key,
        "label": kind.label,
        "jurisdiction": kind.jurisdiction,
        "priority": kind.priority,
        "emergency": kind.emergency,
        "clock": clock_of(kind),
        "clock_note": kind.clock.note if kind.clock else "",
        "scope": SCOPE_WORDS[kind.scope],
        "citations": [c.source for c in kind.citations],
    }


def _row(found: LERequest, now: datetime) -> dict[str, Any]:
    kind = type_of(found)
    words, overdue = clock_words(found.due_at, now)
    return {
        "request": found,
        # Closed after its deadline (a response late by the type's clock).
        "late": bool(found.closed_at and found.due_at and found.closed_at > found.due_at),
        "type_label": kind.label if kind else "Not classified yet",
        "state": STATE_WORDS[RequestState(found.state)],
        "open": RequestState(found.state) in OPEN_STATES,
        "clock": words,
        "overdue": overdue,
        "priority": kind.priority if kind else "",
    }


def _person(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - the gates let only accounts.User in
    return user


def _staff(request: HttpRequest, permission: Permission) -> User:
    user = _person(request)
    if not user.has_permission(permission):
        raise PermissionDenied(f"{user.role} lacks {permission.value}")
    return user


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def _local(value: str) -> datetime | None:
    """A datetime-local input, in the zone the page shows the person."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


def _refused(request: HttpRequest, what: str, exc: DomainError) -> None:
    messages.error(request, f"{what}: {exc}")


# --- partner pages ------------------------------------------------------------------------


def _unverified_for(partner: Partner) -> list[str]:
    # The service reads only the request's agency and partner; an unsaved request of this
    # partner asks it the question for the partner's next request, without a query of its own.
    return requester_unverified(
        LERequest(agency=partner.agency, partner=partner), now=timezone.now()
    )


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """/le/: staff go to their queue; partners see their agency's requests."""
    user = request.user
    if isinstance(user, User) and console_allowed(user.role):
        return redirect("le-staff-queue")
    return _partner_home(request)


@portal_required
def _partner_home(request: HttpRequest) -> HttpResponse:
    user = _person(request)
    partner = partner_of(user)
    now = timezone.now()
    rows = [_row(r, now) for r in visible_requests(user).order_by("-received_at")[:200]]
    checks = (
        [
            latest_verification(agency=partner.agency, partner=None, now=now),
            latest_verification(agency=partner.agency, partner=partner, now=now),
        ]
        if partner
        else []
    )
    return render(
        request,
        "lawenforcement/partner_list.html",
        {
            "partner": partner,
            "unverified": _unverified_for(partner) if partner else [],
            # The sooner of the two expiries: when verification must be renewed.
            "verified_until": min((v.expires_at for v in checks if v), default=None),
            "rows": rows,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def submit(request: HttpRequest) -> HttpResponse:
    """Choose a request type, then fill in its fields; the request goes through intake."""
    user = _person(request)
    partner = partner_of(user)
    if partner is None:
        messages.error(
            request,
            "Your account is not attached to an agency yet; legal staff attach it before you "
            "can submit.",
        )
        return redirect("le-home")
    key = request.POST.get("legal_type") or request.GET.get("type") or ""
    try:
        kind = request_type(key) if key else None
    except UnknownRequestType:
        kind = None
    if kind is None:
        return render(
            request,
            "lawenforcement/partner_types.html",
            {
                "types": [_type_row(t) for t in default_request_types().values()],
                "unverified": _unverified_for(partner),
            },
        )
    if request.method == "GET":
        submission = forms.Submission(
            values={"category": Category.IMMINENT_DANGER.value if kind.emergency else ""},
            accounts=[],
        )
        return _submit_form(request, kind, partner, submission)
    submission = forms.submission_parse(data=request.POST, kind=kind, partner=partner)
    upload = request.FILES.get("document")
    if submission.payload is None:
        return _submit_form(request, kind, partner, submission, status=400)
    try:
        # One transaction: a document refused after intake accepted the request takes the
        # request back with it, so a refusal changes nothing.
        with transaction.atomic():
            accepted = escalation_intake(
                payload=submission.payload, caller=user, source=AuditSource.CONSOLE
            )
            created = LERequest.objects.get(escalation=accepted.escalation)
            if upload is not None:
                try:
                    le_request_document_add(
                        request=created,
                        upload=cast(BinaryIO, upload),
                        name=upload.name or "document",
                        actor=user,
                        source=AuditSource.CONSOLE,
                    )
                except DomainError as exc:
                    submission.errors["document"] = str(exc)
                    raise
    except DomainError as exc:
        if not submission.errors:
            submission.errors.update(forms.errors_from_refusal(str(exc), kind))
        return _submit_form(request, kind, partner, submission, status=400)
    messages.success(
        request,
        f"Request {created.reference} received. "
        + (
            "It is an emergency: the on-call team has been alerted."
            if kind.emergency
            else "Legal staff will verify it."
        ),
    )
    return redirect("le-request", request_id=created.pk)


def _submit_form(
    request: HttpRequest,
    kind: RequestType,
    partner: Partner,
    submission: forms.Submission,
    *,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "lawenforcement/partner_new.html",
        {
            "type": _type_row(kind),
            "needs_document": forms.LEGAL_DOCUMENT in kind.required_fields,
            "needs_accounts": forms.NAMED_ACCOUNTS in kind.required_fields,
            "text_fields": [
                {
                    "name": name,
                    "input": f"field_{name}",
                    "description": description,
                    "value": submission.values.get(f"field_{name}", ""),
                    "error": submission.errors.get(f"field_{name}", ""),
                }
                for name, description in forms.text_fields(kind)
            ],
            "categories": [(c.value, c.value.replace("_", " ").capitalize()) for c in Category],
            "values": submission.values,
            "errors": submission.errors,
            "partner": partner,
            "unverified": _unverified_for(partner),
        },
        status=status,
    )


@never_cache
@portal_required
def partner_request(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    user = _person(request)
    try:
        found = le_request_get_for(user=user, request_id=request_id)
    except LERequestNotFound:
        raise Http404("no such request") from None
    now = timezone.now()
    released = [
        d
        for d in found.disclosures.filter(
            state__in=[DisclosureState.RELEASED, DisclosureState.DOWNLOADED]
        )
    ]
    return render(
        request,
        "lawenforcement/partner_request.html",
        {
            "row": _row(found, now),
            "r": found,
            "kind": _type_row(k) if (k := type_of(found)) else None,
            "documents": list(found.documents.all()),
            "released": released,
            "unverified": requester_unverified(found, now=now),
            "now": now,
        },
    )


@require_POST
@portal_required
def partner_document_add(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    user = _person(request)
    try:
        found = le_request_get_for(user=user, request_id=request_id)
    except LERequestNotFound:
        raise Http404("no such request") from None
    upload = request.FILES.get("document")
    if upload is None:
        messages.error(request, "Choose a file (a PDF or an image) to send.")
        return redirect("le-request", request_id=found.pk)
    try:
        document = le_request_document_add(
            request=found,
            upload=cast(BinaryIO, upload),
            name=upload.name or "document",
            actor=user,
            source=AuditSource.CONSOLE,
        )
    except DomainError as exc:
        _refused(request, "Document not added", exc)
    else:
        messages.success(request, f"Document {document.name} added to {found.reference}.")
    return redirect("le-request", request_id=found.pk)


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def download(request: HttpRequest, token: str = "") -> HttpResponse:
    """The one download of a released package. GET (the link legal staff sent) shows the
    button; POST spends the link, so a prefetching mail scanner cannot use it up."""
    user = _person(request)
    if request.method == "GET":
        return render(request, "lawenforcement/partner_download.html", {"token": token})
    typed = request.POST.get("token", "").strip()
    try:
        disclosure, sealed = disclosures.disclosure_download(
            token=typed, actor=user, source=AuditSource.CONSOLE
        )
    except DomainError as exc:
        return render(
            request,
            "lawenforcement/partner_download.html",
            {"token": "", "error": str(exc)},
            status=exc.status,
        )
    response = HttpResponse(sealed, content_type="application/octet-stream")
    response["Content-Disposition"] = (
        f'attachment; filename="{disclosure.request.reference}-package.zip.enc"'
    )
    response["Cache-Control"] = "no-store"
    return response


# --- staff pages ----------------------------------------------------------------------------


@never_cache
@console_required
def staff_queue(request: HttpRequest) -> HttpResponse:
    """Every open request, the one due soonest (so the overdue ones) first."""
    user = _staff(request, Permission.LE_REQUEST_READ)
    now = timezone.now()
    open_requests = (
        visible_requests(user)
        .filter(state__in=[s.value for s in OPEN_STATES])
        .order_by(F("due_at").asc(nulls_last=True), "received_at")[:300]
    )
    listed = list(open_requests)
    unverified = requesters_unverified(listed, now=now)
    rows = []
    for found in listed:
        row = _row(found, now)
        row["unverified"] = unverified[found.pk]
        rows.append(row)
    return render(
        request,
        "lawenforcement/staff_queue.html",
        {"rows": rows, "overdue": sum(1 for r in rows if r["overdue"])},
    )


def _staff_request(request: HttpRequest, request_id: uuid.UUID) -> tuple[User, LERequest]:
    user = _staff(request, Permission.LE_REQUEST_READ)
    try:
        return user, le_request_for_staff(user=user, request_id=request_id)
    except LERequestNotFound:
        raise Http404("no such request") from None


def _transitions_from(state: RequestState, *, has_disclosure: bool) -> list[dict[str, str]]:
    # With a disclosure, approving and responding are the disclosure's approval and release
    # (four eyes); the buttons for them would only be refused.
    through_disclosure = (
        {RequestTransition.APPROVE, RequestTransition.RESPOND} if has_disclosure else set()
    )
    return [
        {
            "name": e.name.value,
            "label": e.name.value.replace("_", " "),
            "description": e.description,
        }
        for e in EDGES
        if state in e.sources and e.name not in through_disclosure
    ]


@never_cache
@console_required
def staff_request(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    user, found = _staff_request(request, request_id)
    return _staff_request_page(request, user, found)


def _staff_request_page(
    request: HttpRequest,
    user: User,
    found: LERequest,
    *,
    released: disclosures.Released | None = None,
) -> HttpResponse:
    now = timezone.now()
    kind = type_of(found)
    state = RequestState(found.state)
    agency = found.agency
    partner = found.partner
    listed = list(found.disclosures.select_related("prepared_by", "approved_by", "released_by"))
    return render(
        request,
        "lawenforcement/staff_request.html",
        {
            "r": found,
            "row": _row(found, now),
            "kind": _type_row(kind) if kind else None,
            "is_emergency": bool(kind and kind.emergency),
            "fields": _fields_shown(found, kind),
            "holdings": holdings_for(found),
            "cases": linked_cases(found),
            "documents": list(found.documents.all()),
            "unverified": requester_unverified(found, now=now),
            "agency_verification": latest_verification(agency=agency, partner=None, now=now),
            "person_verification": (
                latest_verification(agency=agency, partner=partner, now=now) if partner else None
            ),
            "transitions": _transitions_from(state, has_disclosure=bool(listed)),
            "preservation": preservation_actions(found),
            "disclosures": listed,
            "open_disclosure": any(
                d.state in (DisclosureState.PREPARED, DisclosureState.APPROVED) for d in listed
            ),
            "can_manage": user.has_permission(Permission.LE_REQUEST_MANAGE),
            "can_disclose": user.has_permission(Permission.LE_DISCLOSURE_MANAGE),
            "types": [_type_row(t) for t in default_request_types().values()],
            "categories": [(c.value, CATEGORY_WORDS[c]) for c in DataCategory],
            "in_progress": state is RequestState.IN_PROGRESS,
            "me": user,
            "released": released,
            "download_link": (
                request.build_absolute_uri(reverse("le-download-link", args=[released.link_token]))
                if released
                else ""
            ),
        },
    )


def _fields_shown(found: LERequest, kind: RequestType | None) -> list[tuple[str, str, str]]:
    """The request's fields, the type's required ones first. Intake copies the summary into
    `danger` on every request; on a type that does not ask for it the copy only misleads."""
    required = kind.required_fields if kind else ()
    order = sorted(
        found.fields.items(),
        key=lambda item: required.index(item[0]) if item[0] in required else len(required),
    )
    return [
        (name, FIELDS.get(name, ""), value)
        for name, value in order
        if not (name == "danger" and "danger" not in required and value == found.summary.strip())
    ]


def _staff_action(
    permission: Permission,
) -> Callable[[Callable[[HttpRequest, User, LERequest], str]], Callable[..., HttpResponse]]:
    """A POST on a request by legal staff: the action returns what to tell the person, and any
    refusal of a service is shown as a message on the request's page."""

    def wrap(action: Callable[[HttpRequest, User, LERequest], str]) -> Callable[..., HttpResponse]:
        @require_POST
        @console_required
        def view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
            _staff(request, permission)
            user, found = _staff_request(request, request_id)
            try:
                done = action(request, user, found)
            except DomainError as exc:
                _refused(request, "Not done", exc)
            else:
                messages.success(request, done)
            return redirect("le-staff-request", request_id=found.pk)

        view.__name__ = action.__name__
        view.__doc__ = action.__doc__
        return view

    return wrap


@_staff_action(Permission.LE_REQUEST_MANAGE)
def staff_classify(request: HttpRequest, user: User, found: LERequest) -> str:
    moved = le_request_classify(
        request=found,
        request_type_key=request.POST.get("request_type", ""),
        actor=user,
        source=AuditSource.CONSOLE,
    )
    return f"{moved.reference} classified as {request_type(moved.request_type).label}."


@_staff_action(Permission.LE_REQUEST_MANAGE)
def staff_transition(request: HttpRequest, user: User, found: LERequest) -> str:
    name = request.POST.get("transition", "")
    try:
        transition = RequestTransition(name)
    except ValueError:
        raise disclosures.DisclosureRefused(f"{name!r} is not a transition") from None
    note = request.POST.get("note", "")
    if transition in (RequestTransition.APPROVE, RequestTransition.RESPOND):
        # Those two follow a disclosure's approval and release (four eyes), or record a
        # response that discloses nothing, as the API does.
        moved = disclosures.approve_without_disclosure(
            request=found, transition=transition, actor=user, source=AuditSource.CONSOLE, note=note
        )
    else:
        moved = le_request_transition(
            request=found, transition=transition, actor=user, source=AuditSource.CONSOLE, note=note
        )
    now_in = STATE_WORDS[RequestState(moved.state)].lower()
    return f"{moved.reference}: {transition.value.replace('_', ' ')} — now {now_in}."


@_staff_action(Permission.LE_REQUEST_MANAGE)
def staff_determine(request: HttpRequest, user: User, found: LERequest) -> str:
    answer = request.POST.get("emergency", "")
    if answer not in ("yes", "no"):
        raise disclosures.DisclosureRefused("answer whether there is an emergency: yes or no")
    moved = le_request_determine_emergency(
        request=found,
        emergency=answer == "yes",
        reasons=request.POST.get("reasons", ""),
        actor=user,
        source=AuditSource.CONSOLE,
    )
    said = "an emergency" if moved.determined_emergency else "no emergency"
    return f"Determination recorded: {said}."


@_staff_action(Permission.LE_REQUEST_MANAGE)
def staff_extend(request: HttpRequest, user: User, found: LERequest) -> str:
    moved = le_preservation_extend(
        request=found, actor=user, source=AuditSource.CONSOLE, note=request.POST.get("note", "")
    )
    until = timezone.localtime(moved.preserved_until) if moved.preserved_until else None
    return f"Preservation extended until {until:%Y-%m-%d %H:%M %Z}." if until else "Extended."


@_staff_action(Permission.LE_DISCLOSURE_MANAGE)
def staff_prepare(request: HttpRequest, user: User, found: LERequest) -> str:
    chosen = request.POST.getlist("categories")
    categories = [c for c in DataCategory if c.value in chosen]
    prepared = disclosures.disclosure_prepare(
        request=found,
        categories=categories,
        actor=user,
        source=AuditSource.CONSOLE,
        media_reason=request.POST.get("media_reason", ""),
        names_revealed=forms.checked(request.POST, "names_revealed"),
    )
    return (
        f"Disclosure prepared ({len(prepared.items)} file(s)). A second person with the legal "
        "role must approve it before it can be released."
    )


def _disclosure_for(
    request: HttpRequest, request_id: uuid.UUID, disclosure_id: uuid.UUID
) -> tuple[User, Disclosure]:
    # Through the request, so the access check of le_request_for_staff applies.
    user, found = _staff_request(request, request_id)
    disclosure = found.disclosures.filter(pk=disclosure_id).first()
    if disclosure is None:
        raise Http404("no such disclosure")
    return user, disclosure


@require_POST
@console_required
def staff_approve(
    request: HttpRequest, request_id: uuid.UUID, disclosure_id: uuid.UUID
) -> HttpResponse:
    _staff(request, Permission.LE_DISCLOSURE_MANAGE)
    user, disclosure = _disclosure_for(request, request_id, disclosure_id)
    try:
        disclosures.disclosure_approve(
            disclosure=disclosure, actor=user, source=AuditSource.CONSOLE
        )
    except DomainError as exc:
        _refused(request, "Not approved", exc)
    else:
        messages.success(request, "Disclosure approved. It can now be released.")
    return redirect("le-staff-request", request_id=disclosure.request_id)


@never_cache
@require_POST
@console_required
def staff_release(
    request: HttpRequest, request_id: uuid.UUID, disclosure_id: uuid.UUID
) -> HttpResponse:
    """Release, then show the key and the link once: they are not stored, only their hashes."""
    _staff(request, Permission.LE_DISCLOSURE_MANAGE)
    user, disclosure = _disclosure_for(request, request_id, disclosure_id)
    try:
        released = disclosures.disclosure_release(
            disclosure=disclosure, actor=user, source=AuditSource.CONSOLE
        )
    except DomainError as exc:
        _refused(request, "Not released", exc)
        return redirect("le-staff-request", request_id=disclosure.request_id)
    found = le_request_for_staff(user=user, request_id=disclosure.request_id)
    response = _staff_request_page(request, user, found, released=released)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@console_required
def staff_document(
    request: HttpRequest, request_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponse:
    """A legal document of the request, from the vault; never cached anywhere."""
    _, found = _staff_request(request, request_id)
    document: RequestDocument | None = found.documents.filter(pk=document_id).first()
    if document is None:
        raise Http404("no such document")
    data = le_request_document_read(
        request=found, document=document, actor=_person(request), source=AuditSource.CONSOLE
    )
    response = HttpResponse(data, content_type=document.media_type)
    response["Content-Disposition"] = f'attachment; filename="{document.name}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- agencies ---------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@console_required
def agencies(request: HttpRequest) -> HttpResponse:
    user = _staff(request, Permission.LE_AGENCY_MANAGE)
    if request.method == "POST":
        form = request.POST
        try:
            saved = agency_save(
                actor=user,
                name=form.get("name", ""),
                country=form.get("country", ""),
                jurisdiction=form.get("jurisdiction", ""),
                email_domains=form.get("email_domains", "").replace(",", " ").split(),
                published_phone=form.get("published_phone", ""),
                phone_source=form.get("phone_source", ""),
                source=AuditSource.CONSOLE,
            )
        except DomainError as exc:
            _refused(request, "Agency not saved", exc)
        else:
            messages.success(request, f"Agency {saved.name} saved.")
        return redirect("le-staff-agencies")
    now = timezone.now()
    rows = []
    # Legal staff manage every agency (the permission was checked above).
    for agency in Agency.objects.order_by("name").prefetch_related("partners__user"):
        partners = list(agency.partners.all())
        rows.append(
            {
                "agency": agency,
                "verification": latest_verification(agency=agency, partner=None, now=now),
                "partners": [
                    (p, latest_verification(agency=agency, partner=p, now=now)) for p in partners
                ],
                "documents": list(
                    RequestDocument.objects.filter(request__agency=agency)
                    .select_related("request")
                    .order_by("-uploaded_at")[:30]
                ),
            }
        )
    return render(request, "lawenforcement/staff_agencies.html", {"rows": rows})


def _agency_action(
    action: Callable[[HttpRequest, User, Agency], str],
) -> Callable[..., HttpResponse]:
    @require_POST
    @console_required
    def view(request: HttpRequest, agency_id: uuid.UUID) -> HttpResponse:
        user = _staff(request, Permission.LE_AGENCY_MANAGE)
        try:
            agency = agency_get_for(user=user, agency_id=agency_id)
        except DomainError:
            raise Http404("no such agency") from None
        try:
            done = action(request, user, agency)
        except DomainError as exc:
            _refused(request, f"{agency.name}: not done", exc)
        else:
            messages.success(request, done)
        return redirect(reverse("le-staff-agencies") + f"#agency-{agency.pk}")

    view.__name__ = action.__name__
    return view


class _FormRefused(DomainError):
    """A form value that names nothing (an unknown account, a bad time)."""

    status = 422


@_agency_action
def agency_partner_attach(request: HttpRequest, user: User, agency: Agency) -> str:
    username = request.POST.get("username", "").strip()
    account = User.objects.filter(username=username, is_active=True).first()
    if account is None:
        raise _FormRefused(f"no active account {username!r}")
    partner_attach(actor=user, user=account, agency=agency, source=AuditSource.CONSOLE)
    return f"{account.username} is now a partner of {agency.name}."


@_agency_action
def agency_verify(request: HttpRequest, user: User, agency: Agency) -> str:
    form = request.POST
    partner: Partner | None = None
    username = form.get("partner", "").strip()
    if username:
        partner = agency.partners.filter(user__username=username).select_related("user").first()
        if partner is None:
            raise _FormRefused(f"{username!r} is not a partner of {agency.name}")
    called = _local(form.get("callback_at", ""))
    if called is None:
        raise _FormRefused("give the date and time of the call-back")
    document_id = _uuid(form.get("document", ""))
    document = (
        RequestDocument.objects.filter(pk=document_id, request__agency=agency)
        .select_related("request")
        .first()
        if document_id
        else None
    )
    if document is None:
        raise _FormRefused("choose the legal document you reviewed")
    verification_record(
        actor=user,
        agency=agency,
        partner=partner,
        email_domain=form.get("email_domain", ""),
        callback_number=form.get("callback_number", ""),
        callback_at=called,
        document=document,
        note=form.get("note", ""),
        source=AuditSource.CONSOLE,
    )
    who = partner.user.username if partner else agency.name
    return f"Verification of {who} recorded."
