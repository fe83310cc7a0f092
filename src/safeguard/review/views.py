"""Console views: thin, reading through selectors."""

import uuid
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from safeguard.accounts.console import console_required
from safeguard.accounts.models import User
from safeguard.accounts.permission_text import permission_descriptions
from safeguard.accounts.permissions import Permission, portal_allowed, role_permissions
from safeguard.actions.selectors import ActionNotFound, action_get_for
from safeguard.actions.services import ActionError, action_reverse
from safeguard.audit.events import AuditSource
from safeguard.cases.deciding import (
    LEAD_QUEUE,
    DecisionError,
    case_decide,
    case_escalate_to_lead,
)
from safeguard.cases.decisions import (
    PLATFORM_ACTIONS,
    REVERSALS,
    ActionKind,
    DecisionLabel,
    IndustryClass,
    Referral,
)
from safeguard.cases.queues import (
    ClaimError,
    QueueNotFound,
    case_claim,
    lease_length,
    queue_claim_most_urgent,
    queue_claim_next,
    queue_get_for,
)
from safeguard.cases.selectors import (
    CaseNotFound,
    case_get_for,
    case_list_for,
)
from safeguard.cases.services import CasePermissionDenied, ReasonRequired, case_note_add
from safeguard.cases.workflow import CaseState
from safeguard.evidence.models import ContentItem
from safeguard.evidence.services import content_download
from safeguard.evidence.sniff import OPAQUE_TYPE
from safeguard.review import live, words
from safeguard.review.le_views import le_context
from safeguard.review.media import (
    VARIANTS,
    MediaUnavailable,
    download_bytes,
    full_bytes,
    media_token_check,
    preview_bytes,
    protected,
    revealed_recently,
    strip_bytes,
    unavailable,
)
from safeguard.review.playbook_views import playbook_context
from safeguard.review.selectors import (
    case_page_for,
    content_of_case,
    exposure_today,
    team_spread,
    view_settings_for,
)
from safeguard.review.services import (
    SettingsError,
    SettingsPermissionDenied,
    media_reveal,
    step_away,
    view_settings_save,
)


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """The console's home; a law-enforcement partner signing in lands on the portal instead."""
    user = request.user
    if user.is_authenticated and portal_allowed(user.role):  # type: ignore[union-attr]
        return redirect("/le/")
    return _console_home(request)


@console_required
def _console_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    can_read = user.has_permission(Permission.CASES_CASE_READ)  # type: ignore[union-attr]
    cases = (
        case_list_for(user=user, limit=25, source=AuditSource.CONSOLE)  # type: ignore[arg-type]
        if can_read
        else []
    )
    return render(
        request,
        "review/home.html",
        {
            "cases": cases,
            "can_read": can_read,
            "permissions": permission_descriptions(role_permissions(user.role)),  # type: ignore[union-attr]
        },
    )


# --- The console: queues, case pages, protected media, decisions ---------------------------


# One key per choice, shown beside it and in the help overlay (`?`).
LABEL_KEYS = {
    DecisionLabel.CSAM: "a",
    DecisionLabel.GROOMING: "g",
    DecisionLabel.SEXTORTION: "s",
    DecisionLabel.ENTICEMENT: "e",
    DecisionLabel.SELF_GENERATED: "x",
    DecisionLabel.SELF_HARM: "h",
    DecisionLabel.IMMINENT_DANGER: "d",
    DecisionLabel.TRAFFICKING: "k",
    DecisionLabel.LAW_ENFORCEMENT_REQUEST: "w",
    DecisionLabel.OTHER_VIOLATION: "o",
    DecisionLabel.NOT_VIOLATING: "0",
}
assert set(LABEL_KEYS) == set(DecisionLabel)  # noqa: S101 - a new label needs a key
ACTION_ORDER = [
    ActionKind.REMOVE_CONTENT,
    ActionKind.RESTRICT_ACCOUNT,
    ActionKind.BAN_ACCOUNT,
    ActionKind.PRESERVE,
]
ACTION_KEYS = {
    ActionKind.REMOVE_CONTENT: "m",
    ActionKind.RESTRICT_ACCOUNT: "t",
    ActionKind.BAN_ACCOUNT: "b",
    ActionKind.PRESERVE: "p",
}
assert set(ACTION_ORDER) == PLATFORM_ACTIONS  # noqa: S101 - a new action needs a key
# The longer word first: it takes the wider left column of the case page's panel.
REFERRAL_ORDER = [Referral.LAW_ENFORCEMENT, Referral.REPORTING]
assert set(REFERRAL_ORDER) == set(Referral)  # noqa: S101 - a new referral needs a place


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - console_required let only signed-in users in
    return user


@never_cache
@console_required
def queues(request: HttpRequest) -> HttpResponse:
    """The queues, most urgent first; the table refreshes itself (review.live.queues_live)."""
    facts, extra = live.queues_context(_user(request))
    return render(
        request,
        "review/queues.html",
        {"version": live.digest(facts), **extra},
    )


@require_POST
@console_required
def queue_next(request: HttpRequest) -> HttpResponse:
    """`n` with no queue chosen: claim the most urgent case in every queue the person works."""
    user = _user(request)
    try:
        case = queue_claim_most_urgent(
            actor=user, lease=lease_length(None), source=AuditSource.CONSOLE
        )
    except ClaimError as exc:
        messages.error(request, f"Not started: {exc}")
        return redirect("console-queues")
    if case is None:
        messages.info(request, "Every queue you work is empty: nothing is waiting.")
        return redirect("console-queues")
    return redirect("console-case", case_id=case.pk)


@require_POST
@console_required
def case_claim_view(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """Claim the case on the page, as when a banner or a page links a person to it."""
    user = _user(request)
    try:
        case = case_get_for(user=user, case_id=case_id, source=AuditSource.CONSOLE)
        case_claim(case=case, actor=user, lease=lease_length(None), source=AuditSource.CONSOLE)
    except CaseNotFound:
        raise Http404("no such case") from None
    except ClaimError as exc:
        messages.error(request, f"Not claimed: {exc}")
    return redirect("console-case", case_id=case_id)


@require_POST
@console_required
def queue_start(request: HttpRequest, name: str) -> HttpResponse:
    """Claim the most urgent case in the queue and open it."""
    user = _user(request)
    try:
        queue = queue_get_for(user=user, name=name)
        case = queue_claim_next(
            queue=queue, actor=user, lease=lease_length(None), source=AuditSource.CONSOLE
        )
    except (QueueNotFound, ClaimError):
        raise Http404("no such queue") from None
    if case is None:
        messages.info(request, f"The {name} queue is empty.")
        return redirect("console-queues")
    return redirect("console-case", case_id=case.pk)


@dataclass
class Entered:
    """What a person sent in a form the server refused, put back exactly as they left it, with
    the error beside the field it concerns (`errors`: field name -> message)."""

    form: str = ""  # "decide", "escalate" or "note"
    labels: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    referrals: list[str] = field(default_factory=list)
    classes: dict[str, str] = field(default_factory=dict)  # content id -> industry class
    reason: str = ""
    note: str = ""
    text: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    # The person no longer holds the case's claim: it expired, was released or was taken.
    stale: bool = False


def _entered_decision(request: HttpRequest) -> Entered:
    return Entered(
        form="decide",
        labels=request.POST.getlist("labels"),
        actions=request.POST.getlist("actions"),
        referrals=request.POST.getlist("referrals"),
        classes={
            key.removeprefix("class_"): request.POST.get(key, "")
            for key in request.POST
            if key.startswith("class_") and request.POST.get(key)
        },
        reason=request.POST.get("reason", ""),
    )


def _decision_field(exc: Exception) -> str:
    """Which field of the decide form a refusal is about, so its message sits beside it."""
    named = getattr(exc, "field", None)
    if isinstance(named, str) and named:
        return named
    text = str(exc)
    for words_, name in (
        (("reason",), "reason"),
        (("industry class", "content not in this case"), "classes"),
        (("not_violating", "label"), "labels"),
        (("action", "to act on"), "actions"),
    ):
        if any(w in text for w in words_):
            return name
    return "form"


@never_cache
@console_required
def case_page(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    return _case_response(request, case_id)


def _case_response(
    request: HttpRequest, case_id: uuid.UUID, *, entered: Entered | None = None, status: int = 200
) -> HttpResponse:
    """The case page; after a refused submit, with what the person entered and the error. A
    refusal because the person no longer holds the claim answers 409, any other 422."""
    user = _user(request)
    try:
        page = case_page_for(user=user, case_id=case_id)
    except CaseNotFound:
        raise Http404("no such case") from None
    holds = page.case.holder_id == user.pk
    entered = entered or Entered()
    if entered.form in ("decide", "escalate") and not holds:
        lead_decides = page.case.queue == LEAD_QUEUE and user.has_permission(
            Permission.CASES_CASE_ASSIGN
        )
        if not (entered.form == "decide" and lead_decides):
            entered.stale = True
            status = 409
    return render(
        request,
        "review/case.html",
        {
            "page": page,
            "labels": [
                (label.value, LABEL_KEYS[label], words.LABELS[label]) for label in DecisionLabel
            ],
            "classes": [c.value for c in IndustryClass],
            "media": [
                (c, entered.classes.get(str(c.item.pk), "")) for c in page.contents if c.is_media
            ],
            "actions": [(a.value, ACTION_KEYS[a], words.ACTIONS[a]) for a in ACTION_ORDER],
            "referrals": [(r.value, words.REFERRALS[r]) for r in REFERRAL_ORDER],
            "holds": holds,
            # A refused form stays on the page, even when the claim is gone, so nothing typed
            # is lost; submitting it again is refused until the person holds the case again.
            "show_decide": holds or entered.stale,
            "entered": entered,
            "can_reverse": user.has_permission(Permission.CASES_CASE_ASSIGN),
            "can_claim": user.has_permission(Permission.CASES_CASE_REVIEW)
            and page.case.state in (CaseState.TRIAGED, CaseState.IN_REVIEW),
            "reversible": [k.value for k in REVERSALS],
            **playbook_context(request=request, case=page.case),
            **le_context(request=request, case=page.case),
        },
        status=status,
    )


@require_POST
@console_required
def reveal(request: HttpRequest, case_id: uuid.UUID, content_id: uuid.UUID) -> HttpResponse:
    """One item at a time, by choice: audited, and the item marked as viewed by a person."""
    user = _user(request)
    try:
        item = content_of_case(user=user, case_id=case_id, content_id=content_id)
    except CaseNotFound:
        raise Http404("no such media") from None
    media_reveal(
        content=item,
        case=case_get_for(user=user, case_id=case_id),
        actor=user,
        source=AuditSource.CONSOLE,
    )
    return redirect(f"{reverse('console-case', kwargs={'case_id': case_id})}#content-{content_id}")


@never_cache
@console_required
def media(
    request: HttpRequest, case_id: uuid.UUID, content_id: uuid.UUID, variant: str
) -> HttpResponse:
    """Decrypted on the fly, for the person the URL was signed for, for five minutes."""
    user = _user(request)
    token = request.GET.get("t", "")
    if variant not in VARIANTS or not media_token_check(
        token, user=user, content_id=content_id, variant=variant
    ):
        raise Http404("no such media")
    try:
        item = content_of_case(user=user, case_id=case_id, content_id=content_id)
    except CaseNotFound:
        raise Http404("no such media") from None
    try:
        return _media_response(request, user, item, case_id, variant)
    except MediaUnavailable as exc:
        return unavailable(str(exc), content_id=item.pk)


def _media_response(
    request: HttpRequest, user: User, item: ContentItem, case_id: uuid.UUID, variant: str
) -> HttpResponse:
    view = view_settings_for(user)
    if variant == "preview":
        render = strip_bytes if item.kind == "video" else preview_bytes
        body = render(
            item, blur_radius=view.blur_radius, greyscale=view.greyscale, size=view.thumbnail_px
        )
        return protected(body, "image/png", content_id=item.pk)
    if variant == "download":
        # A deliberate, audited act of its own, for opaque evidence and exact originals alike.
        body = download_bytes(item)
        content_download(content=item, case_id=case_id, actor=user, source=AuditSource.CONSOLE)
        return protected(body, OPAQUE_TYPE, content_id=item.pk, attachment=True)
    if not revealed_recently(user=user, content=item):
        raise Http404("reveal the item first")
    if variant == "strip":
        body = strip_bytes(item, blur_radius=None, greyscale=False, size=view.thumbnail_px)
        return protected(body, "image/png", content_id=item.pk)
    body, media_type = full_bytes(item)
    return protected(body, media_type, content_id=item.pk)


@require_POST
@console_required
def decide(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    entered = _entered_decision(request)
    try:
        case = case_get_for(user=user, case_id=case_id)
        labels = [DecisionLabel(v) for v in entered.labels]
        item_labels = {key: IndustryClass(value) for key, value in entered.classes.items()}
        actions = [ActionKind(v) for v in entered.actions]
        referrals = [Referral(v) for v in entered.referrals]
        case_decide(
            case=case,
            actor=user,
            labels=labels,
            item_labels=item_labels,
            actions=actions,
            referrals=referrals,
            reason=entered.reason,
            source=AuditSource.CONSOLE,
        )
    except CaseNotFound:
        raise Http404("no such case") from None
    except ValueError as exc:
        # A value outside the form's choices: only a changed page sends one.
        entered.errors["form"] = f"Not recorded: {exc}"
        return _case_response(request, case_id, entered=entered, status=422)
    except DecisionError as exc:
        entered.errors[_decision_field(exc)] = f"Not recorded: {exc}"
        return _case_response(request, case_id, entered=entered, status=exc.status)
    messages.success(request, "Decision recorded.")
    if "next" in request.POST:
        # The most urgent case in any queue the person works, as `n` takes: a P0 elsewhere
        # comes before the next case of this queue.
        return queue_next(request)
    return redirect("console-case", case_id=case_id)


@require_POST
@console_required
def escalate(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    note = request.POST.get("note", "")
    try:
        case = case_get_for(user=user, case_id=case_id)
        case_escalate_to_lead(case=case, actor=user, note=note, source=AuditSource.CONSOLE)
    except CaseNotFound:
        raise Http404("no such case") from None
    except DecisionError as exc:
        entered = Entered(form="escalate", note=note, errors={"note": f"Not escalated: {exc}"})
        return _case_response(request, case_id, entered=entered, status=exc.status)
    messages.success(request, "Escalated to the lead queue.")
    return redirect("console-queues")


# --- Reviewer care -----------------------------------------------------------------------


@require_POST
@console_required
def step_away_view(request: HttpRequest) -> HttpResponse:
    """One action to leave: every claim goes back to its queue."""
    released = step_away(user=_user(request), source=AuditSource.CONSOLE)
    messages.success(request, f"Stepped away: {released} case(s) returned to their queues.")
    return redirect("console-wellbeing")


@never_cache
@console_required
def wellbeing(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context: dict[str, object] = {
        "today": exposure_today(user),
        "settings": view_settings_for(user),
        "perms_admin": user.has_permission(Permission.ACCOUNTS_USER_MANAGE),
    }
    if user.has_permission(Permission.CASES_CASE_ASSIGN):
        context["team"] = team_spread()
    return render(request, "review/wellbeing.html", context)


@require_POST
@console_required
def view_settings(request: HttpRequest) -> HttpResponse:
    """A person's own view settings, or the organisation's defaults (administrators)."""
    user = _user(request)
    try:
        view_settings_save(
            actor=user,
            organisation=request.POST.get("scope") == "organisation",
            blur_radius=int(request.POST.get("blur_radius", "24")),
            greyscale=request.POST.get("greyscale") == "on",
            thumbnail_px=int(request.POST.get("thumbnail_px", "320")),
            source=AuditSource.CONSOLE,
        )
    except SettingsPermissionDenied:
        raise Http404("no such setting") from None
    except (ValueError, SettingsError) as exc:
        messages.error(request, f"Not saved: {exc}")
    else:
        messages.success(request, "Saved.")
    return redirect("console-wellbeing")


@require_POST
@console_required
def note_add(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    text = request.POST.get("text", "")
    try:
        case = case_get_for(user=user, case_id=case_id)
        case_note_add(case=case, actor=user, text=text, source=AuditSource.CONSOLE)
    except CaseNotFound:
        raise Http404("no such case") from None
    except (CasePermissionDenied, ReasonRequired) as exc:
        entered = Entered(form="note", text=text, errors={"text": f"Not added: {exc}"})
        return _case_response(request, case_id, entered=entered, status=exc.status)
    messages.success(request, "Note added.")
    return redirect(f"{reverse('console-case', kwargs={'case_id': case_id})}#notes")


@require_POST
@console_required
def action_reverse_view(
    request: HttpRequest, case_id: uuid.UUID, action_id: uuid.UUID
) -> HttpResponse:
    """A lead undoes a confirmed action (restore, unban, unrestrict) with a reason."""
    user = _user(request)
    try:
        action = action_get_for(user=user, action_id=action_id)
        if action.case_id != case_id:
            raise ActionNotFound(action_id)
        action_reverse(
            action=action,
            actor=user,
            reason=request.POST.get("reason", ""),
            source=AuditSource.CONSOLE,
        )
    except ActionNotFound:
        raise Http404("no such action") from None
    except ActionError as exc:
        messages.error(request, f"Not reversed: {exc}")
    else:
        messages.success(request, "Reversal sent to the platform.")
    return redirect("console-case", case_id=case_id)
